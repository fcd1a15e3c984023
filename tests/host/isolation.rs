//! The isolation matrix: every route of the four APIs, the plugins, the audit trail
//! and the admin API, called on workspace A with every credential that must not
//! reach it — none, another workspace's key or JWT, A's key without the route's
//! scope, A's revoked key, A's expired JWT — answers 401, 403 or 404, never shows
//! A's data, and leaves A as it was.

use std::collections::HashMap;

use reqwest::Method;
use serde_json::{json, Value};

use crate::support::{self, hs256, now, Api, Workspace};

const SECRET: &str = "MATRIX-SECRET-41c9";

const ALL_SCOPES: &[&str] = &[
    "postgres:read",
    "postgres:write",
    "workspace:view",
    "workspace:update",
    "vault:read",
    "vault:write",
    "vault:delete",
    "vault:ddl",
    "ingestion:read",
    "ingestion:admin",
    "plugins:admin",
];

/// One route: method, path (with `{ws}`, `{table}`, `{doc}`, `{key}`), body, and the
/// scope it needs (`None` for admin routes).
struct Route {
    method: Method,
    path: &'static str,
    body: Option<Value>,
    scope: Option<&'static str>,
}

fn route(
    method: Method,
    path: &'static str,
    body: Option<Value>,
    scope: Option<&'static str>,
) -> Route {
    Route {
        method,
        path,
        body,
        scope,
    }
}

fn routes() -> Vec<Route> {
    use Method as M;
    let table = json!({
        "table_name": "stolen",
        "columns": [{"name": "id", "type": "int"}],
    });
    let collection = json!({"schema": {
        "name": "stolen",
        "engine": "postgres",
        "json_schema": {"type": "object"},
    }});
    vec![
        // The Data API.
        route(
            M::GET,
            "/v1/postgres/{ws}/rows/secrets",
            None,
            Some("postgres:read"),
        ),
        route(
            M::GET,
            "/v1/postgres/{ws}/rows/secrets/1",
            None,
            Some("postgres:read"),
        ),
        route(
            M::GET,
            "/v1/postgres/{ws}/rows/secrets?select=id,secret&id=eq.1",
            None,
            Some("postgres:read"),
        ),
        route(
            M::POST,
            "/v1/postgres/{ws}/rows/secrets",
            Some(json!({"id": 9, "secret": "x"})),
            Some("postgres:write"),
        ),
        route(
            M::PATCH,
            "/v1/postgres/{ws}/rows/secrets?id=eq.1",
            Some(json!({"secret": "x"})),
            Some("postgres:write"),
        ),
        route(
            M::PATCH,
            "/v1/postgres/{ws}/rows/secrets/1",
            Some(json!({"secret": "x"})),
            Some("postgres:write"),
        ),
        route(
            M::DELETE,
            "/v1/postgres/{ws}/rows/secrets?id=eq.1",
            None,
            Some("postgres:write"),
        ),
        route(
            M::DELETE,
            "/v1/postgres/{ws}/rows/secrets/1",
            None,
            Some("postgres:write"),
        ),
        // Workspace Tables and the scoped query.
        route(M::GET, "/v1/{ws}/tables", None, Some("workspace:view")),
        route(
            M::POST,
            "/v1/{ws}/tables",
            Some(table),
            Some("workspace:update"),
        ),
        route(
            M::GET,
            "/v1/{ws}/tables/{table}",
            None,
            Some("workspace:view"),
        ),
        route(
            M::PATCH,
            "/v1/{ws}/tables/{table}",
            Some(json!({"actions": [{"op": "drop_column", "name": "note"}]})),
            Some("workspace:update"),
        ),
        route(
            M::DELETE,
            "/v1/{ws}/tables/{table}",
            None,
            Some("workspace:update"),
        ),
        route(
            M::POST,
            "/v1/{ws}/query",
            Some(json!({"sql": "SELECT * FROM notes"})),
            Some("workspace:update"),
        ),
        // The vault and its audit trail.
        route(
            M::GET,
            "/v1/workspaces/{ws}/vault/collections",
            None,
            Some("vault:read"),
        ),
        route(
            M::POST,
            "/v1/workspaces/{ws}/vault/collections",
            Some(collection),
            Some("vault:ddl"),
        ),
        route(
            M::POST,
            "/v1/workspaces/{ws}/vault/collections/docs",
            Some(json!({"record": {"secret": "x"}})),
            Some("vault:write"),
        ),
        route(
            M::GET,
            "/v1/workspaces/{ws}/vault/collections/docs/schema",
            None,
            Some("vault:read"),
        ),
        route(
            M::POST,
            "/v1/workspaces/{ws}/vault/collections/docs/query",
            Some(json!({})),
            Some("vault:read"),
        ),
        route(
            M::GET,
            "/v1/workspaces/{ws}/vault/collections/docs/count",
            None,
            Some("vault:read"),
        ),
        route(
            M::PUT,
            "/v1/workspaces/{ws}/vault/collections/docs/{doc}",
            Some(json!({"record": {"secret": "x"}})),
            Some("vault:write"),
        ),
        route(
            M::DELETE,
            "/v1/workspaces/{ws}/vault/collections/docs/{doc}",
            None,
            Some("vault:delete"),
        ),
        route(
            M::DELETE,
            "/v1/workspaces/{ws}/vault/collections/docs",
            None,
            Some("vault:ddl"),
        ),
        route(M::GET, "/v1/workspaces/{ws}/audit", None, Some("vault:ddl")),
        // Plugins.
        route(
            M::GET,
            "/v1/workspaces/{ws}/plugins",
            None,
            Some("plugins:admin"),
        ),
        route(
            M::DELETE,
            "/v1/workspaces/{ws}/plugins/row-authorizer",
            None,
            Some("plugins:admin"),
        ),
        // Customer data access (the workspace named by X-Workspace-Id).
        route(
            M::GET,
            "/api/v2/ingestion/status",
            None,
            Some("ingestion:read"),
        ),
        route(
            M::POST,
            "/api/v2/ingestion/provision",
            Some(json!({})),
            Some("ingestion:admin"),
        ),
        route(
            M::GET,
            "/api/v2/ingestion/connection-uris/metadata",
            None,
            Some("ingestion:admin"),
        ),
        route(
            M::POST,
            "/api/v2/ingestion/connection-uris/reveal",
            Some(json!({"kind": "runtime", "pooled": false})),
            Some("ingestion:admin"),
        ),
        route(
            M::POST,
            "/api/v2/ingestion/connection-uris/rotate",
            Some(json!({"kind": "runtime"})),
            Some("ingestion:admin"),
        ),
        route(
            M::POST,
            "/api/v2/ingestion/records/people",
            Some(json!({"records": []})),
            Some("ingestion:admin"),
        ),
        // The admin API.
        route(M::GET, "/v1/admin/workspaces", None, None),
        route(
            M::POST,
            "/v1/admin/workspaces",
            Some(json!({"name": "stolen"})),
            None,
        ),
        route(M::GET, "/v1/admin/workspaces/{ws}", None, None),
        route(M::GET, "/v1/admin/workspaces/{ws}/api-keys", None, None),
        route(
            M::POST,
            "/v1/admin/workspaces/{ws}/api-keys",
            Some(json!({"name": "x", "scopes": ["postgres:read"]})),
            None,
        ),
        route(
            M::DELETE,
            "/v1/admin/workspaces/{ws}/api-keys/{key}",
            None,
            None,
        ),
        route(M::GET, "/v1/admin/plugins", None, None),
        route(M::DELETE, "/v1/admin/plugins/row-authorizer", None, None),
    ]
}

/// Workspace A with a secret in each API: a row, a Workspace Table row, a vault
/// document; returns the ids the routes name.
async fn victim(a: &Workspace) -> HashMap<&'static str, String> {
    let runtime = support::try_connect(&a.reveal("runtime", false).await)
        .await
        .unwrap();
    runtime
        .batch_execute(&format!(
            "CREATE TABLE tenant_custom.secrets (id int PRIMARY KEY, secret text);
         INSERT INTO tenant_custom.secrets VALUES (1, '{SECRET}');"
        ))
        .await
        .unwrap();
    let api = a.key(ALL_SCOPES).await;
    let resp = api
        .post(
            &format!("/v1/{}/tables", a.id),
            json!({"table_name": "notes", "columns": [{"name": "note", "type": "text"}]}),
        )
        .await;
    assert_eq!(resp.status, 201, "{}", resp.body);
    let table = resp.body["id"].as_str().unwrap().to_owned();
    let resp = api
        .post(
            &format!("/v1/{}/query", a.id),
            json!({"sql": format!("INSERT INTO notes VALUES ('{SECRET}')")}),
        )
        .await;
    assert_eq!(resp.status, 200, "{}", resp.body);
    let resp = api
        .post(
            &format!("/v1/workspaces/{}/vault/collections", a.id),
            json!({"schema": {"name": "docs", "engine": "postgres", "json_schema": {"type": "object"}}}),
        )
        .await;
    assert_eq!(resp.status, 201, "{}", resp.body);
    let resp = api
        .post(
            &format!("/v1/workspaces/{}/vault/collections/docs", a.id),
            json!({"record": {"secret": SECRET}}),
        )
        .await;
    assert_eq!(resp.status, 201, "{}", resp.body);
    let doc = resp.body["document"]["_id"].as_str().unwrap().to_owned();
    let (key, key_secret) = a.key_with_id(&["postgres:read"]).await;
    HashMap::from([
        ("table", table),
        ("doc", doc),
        ("key", key),
        ("key_secret", key_secret),
    ])
}

fn path_of(template: &str, ws: &str, ids: &HashMap<&'static str, String>) -> String {
    template
        .replace("{ws}", ws)
        .replace("{table}", &ids["table"])
        .replace("{doc}", &ids["doc"])
        .replace("{key}", &ids["key"])
}

#[tokio::test]
async fn no_credential_that_is_not_workspace_as_reaches_any_route_of_it() {
    let server = support::shared();
    let a = Workspace::provisioned(server, "matrix victim").await;
    let b = Workspace::provisioned(server, "matrix attacker").await;
    let ids = victim(&a).await;

    let (revoked_id, revoked) = a.key_with_id(ALL_SCOPES).await;
    let resp = a
        .admin
        .delete(&format!(
            "/v1/admin/workspaces/{}/api-keys/{revoked_id}",
            a.id
        ))
        .await;
    assert_eq!(resp.status, 204);
    let expired = hs256(json!({
        "sub": "alice",
        "workspace_id": a.id,
        "scope": ALL_SCOPES.join(" "),
        "exp": now() - 600,
    }));
    let anonymous = server.anonymous();
    let mut credentials: Vec<(String, Api)> = vec![
        ("no credential".into(), anonymous.clone()),
        ("another workspace's key".into(), b.key(ALL_SCOPES).await),
        (
            "another workspace's JWT".into(),
            b.jwt_client("mallory", ALL_SCOPES),
        ),
        ("a revoked key".into(), anonymous.with_token(&revoked)),
        ("an expired JWT".into(), anonymous.with_token(&expired)),
    ];
    let mut without_scope: HashMap<&str, Api> = HashMap::new();
    for scope in ALL_SCOPES {
        let others: Vec<&str> = ALL_SCOPES.iter().copied().filter(|s| s != scope).collect();
        without_scope.insert(scope, a.key(&others).await);
    }
    credentials.push((
        "A's key with every scope, on an admin route".into(),
        a.key(ALL_SCOPES).await,
    ));

    let routes = routes();
    let mut checked = 0;
    for route in &routes {
        let path = path_of(route.path, &a.id, &ids);
        let mut tries: Vec<(&str, &Api)> = credentials
            .iter()
            .filter(|(name, _)| route.scope.is_none() || !name.starts_with("A's key"))
            .map(|(name, api)| (name.as_str(), api))
            .collect();
        if let Some(scope) = route.scope {
            tries.push(("A's key without the route's scope", &without_scope[scope]));
        }
        for (name, api) in tries {
            let api = api
                .with_header("X-Workspace-Id", &a.id)
                .with_header("Idempotency-Key", &uuid::Uuid::new_v4().to_string());
            let resp = api
                .send(route.method.clone(), &path, route.body.clone())
                .await;
            assert!(
                [401, 403, 404].contains(&resp.status),
                "{} {} with {name}: {} {}",
                route.method,
                route.path,
                resp.status,
                resp.body
            );
            let text = resp.body.to_string();
            assert!(
                !text.contains(SECRET),
                "{} {} with {name} leaked: {text}",
                route.method,
                route.path
            );
            assert!(
                !text.contains(&ids["doc"]),
                "{} {} with {name} leaked: {text}",
                route.method,
                route.path
            );
            checked += 1;
        }
    }
    assert!(checked >= routes.len() * 6);

    // A is as it was.
    let api = a.key(ALL_SCOPES).await;
    let resp = api
        .get(&format!("/v1/postgres/{}/rows/secrets?select=secret", a.id))
        .await;
    assert_eq!(
        resp.body["data"],
        json!([{"secret": SECRET}]),
        "{}",
        resp.body
    );
    let resp = api
        .post(
            &format!("/v1/{}/query", a.id),
            json!({"sql": "SELECT note FROM notes"}),
        )
        .await;
    assert_eq!(
        resp.body["rows"],
        json!([{"note": SECRET}]),
        "{}",
        resp.body
    );
    let resp = api
        .get(&format!(
            "/v1/workspaces/{}/vault/collections/docs/count",
            a.id
        ))
        .await;
    assert_eq!(resp.status, 200, "{}", resp.body);
    assert_eq!(resp.body["count"], 1, "{}", resp.body);
    let resp = server
        .anonymous()
        .with_token(&ids["key_secret"])
        .get(&format!("/v1/postgres/{}/rows/secrets?select=id", a.id))
        .await;
    assert_eq!(resp.status, 200, "the key was not revoked: {}", resp.body);
    let uri = a.reveal("runtime", false).await;
    assert!(
        support::try_connect(&uri).await.is_ok(),
        "the password was not rotated"
    );
}

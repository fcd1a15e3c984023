//! The admin API and the operator subcommands.

use serde_json::json;

use crate::support::{self, server::BIN, Workspace};

#[tokio::test]
async fn workspaces_are_created_listed_and_fetched() {
    let server = support::shared();
    let admin = server.admin();
    let resp = admin
        .post(
            "/v1/admin/workspaces",
            json!({ "name": "Acme", "tenant_id": "tnt_acme" }),
        )
        .await;
    assert_eq!(resp.status, 201, "{}", resp.body);
    let id = resp.body["id"].as_str().unwrap().to_owned();
    assert!(uuid::Uuid::parse_str(&id).is_ok());
    assert_eq!(resp.body["name"], "Acme");
    assert_eq!(resp.body["tenant_id"], "tnt_acme");
    assert_eq!(resp.body["status"], "active");
    assert_eq!(
        resp.body["provisioned"], false,
        "a new workspace is not provisioned"
    );

    let resp = admin.get(&format!("/v1/admin/workspaces/{id}")).await;
    assert_eq!(resp.status, 200);
    assert_eq!(resp.body["id"], id);

    let resp = admin.get("/v1/admin/workspaces?limit=1000").await;
    assert_eq!(resp.status, 200);
    assert!(resp.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .any(|w| w["id"] == id));
}

#[tokio::test]
async fn bad_workspace_input_is_refused_with_the_field_named() {
    let admin = support::shared().admin();
    let resp = admin
        .post("/v1/admin/workspaces", json!({ "name": "" }))
        .await;
    assert_eq!(resp.status, 400);
    assert!(resp.message().contains("name"), "{}", resp.body);
    let resp = admin
        .post("/v1/admin/workspaces", json!({ "nam": "x" }))
        .await;
    assert_eq!(resp.status, 400);
    assert_eq!(resp.code(), "invalid_body");
    let resp = admin
        .post(
            "/v1/admin/workspaces",
            json!({ "name": "x", "tenant_id": "a b" }),
        )
        .await;
    assert_eq!(resp.status, 400);
    let resp = admin.get("/v1/admin/workspaces/not-a-uuid").await;
    assert_eq!(resp.status, 404);
    let resp = admin
        .get(&format!("/v1/admin/workspaces/{}", uuid::Uuid::new_v4()))
        .await;
    assert_eq!(resp.status, 404);
    assert_eq!(resp.code(), "not_found");
}

#[tokio::test]
async fn api_keys_are_shown_once_and_stored_as_hashes() {
    let server = support::shared();
    let ws = Workspace::create(server, "keys").await;
    let resp = ws
        .admin
        .post(
            &format!("/v1/admin/workspaces/{}/api-keys", ws.id),
            json!({ "name": "ci", "scopes": ["postgres:read", "ingestion:read"] }),
        )
        .await;
    assert_eq!(resp.status, 201, "{}", resp.body);
    let key = resp.body["key"].as_str().unwrap().to_owned();
    assert!(key.starts_with("plk_"), "recognisable prefix: {key}");
    assert_eq!(
        resp.body["scopes"],
        json!(["ingestion:read", "postgres:read"])
    );

    let listed = ws
        .admin
        .get(&format!("/v1/admin/workspaces/{}/api-keys", ws.id))
        .await;
    assert_eq!(listed.status, 200);
    assert!(
        !listed.body.to_string().contains(&key),
        "the key is never listed"
    );

    let client = support::pg_connect(&support::shared_cluster().db_url("plinth_control")).await;
    let rows = client
        .query(
            "SELECT secret_hash FROM api_keys WHERE id = $1",
            &[&uuid::Uuid::parse_str(resp.body["id"].as_str().unwrap()).unwrap()],
        )
        .await
        .unwrap();
    let hash: Vec<u8> = rows[0].get(0);
    assert_eq!(hash.len(), 32, "a SHA-256, not the key");
    // `plk_<lookup id>_<secret>`; the secret is base64url, which may hold `_` itself.
    let secret = key.splitn(3, '_').nth(2).unwrap();
    assert!(secret.len() >= 32, "{key}");
    assert!(!String::from_utf8_lossy(&hash).contains(secret));
}

#[tokio::test]
async fn unknown_scopes_are_refused_with_the_vocabulary() {
    let server = support::shared();
    let ws = Workspace::create(server, "scopes").await;
    let resp = ws
        .admin
        .post(
            &format!("/v1/admin/workspaces/{}/api-keys", ws.id),
            json!({ "name": "bad", "scopes": ["postgres:read", "postgres:everything"] }),
        )
        .await;
    assert_eq!(resp.status, 400);
    assert!(
        resp.message().contains("postgres:everything"),
        "{}",
        resp.body
    );
    assert!(resp.body["error"]["details"]["known"]
        .as_array()
        .unwrap()
        .contains(&json!("vault:ddl")));
}

#[tokio::test]
async fn a_revoked_key_stops_working_and_revoking_twice_is_404() {
    let server = support::shared();
    let ws = Workspace::create(server, "revoke").await;
    let (key_id, key) = ws.key_with_id(&["ingestion:read"]).await;
    let client = ws.admin.with_token(&key);
    assert_eq!(client.get("/api/v2/ingestion/status").await.status, 200);
    let path = format!("/v1/admin/workspaces/{}/api-keys/{key_id}", ws.id);
    assert_eq!(ws.admin.delete(&path).await.status, 204);
    let resp = client.get("/api/v2/ingestion/status").await;
    assert_eq!(resp.status, 401);
    assert_eq!(resp.code(), "invalid_credential");
    assert_eq!(ws.admin.delete(&path).await.status, 404);
}

#[tokio::test]
async fn the_admin_api_refuses_workspace_credentials() {
    let server = support::shared();
    let ws = Workspace::create(server, "not admin").await;
    let client = ws.key(&["postgres:read", "ingestion:admin"]).await;
    let resp = client.get("/v1/admin/workspaces").await;
    assert_eq!(resp.status, 403);
    assert_eq!(resp.code(), "admin_only");
    let resp = server.anonymous().get("/v1/admin/workspaces").await;
    assert_eq!(resp.status, 401);
    assert!(resp.headers.get("www-authenticate").is_some());
}

#[tokio::test]
async fn operators_manage_workspaces_and_keys_with_subcommands() {
    let server = support::shared();
    let run = |args: &[&str]| {
        let out = std::process::Command::new(BIN)
            .args(args)
            .env("PLINTH_URL", &server.base)
            .env("PLINTH_ADMIN_TOKEN", &server.admin_token)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "plinth {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let created: serde_json::Value =
        serde_json::from_str(&run(&["workspace", "create", "--name", "from the cli"])).unwrap();
    let id = created["id"].as_str().unwrap();
    let shown: serde_json::Value = serde_json::from_str(&run(&["workspace", "show", id])).unwrap();
    assert_eq!(shown["name"], "from the cli");
    assert!(run(&["workspace", "list"]).contains(id));
    let key: serde_json::Value = serde_json::from_str(&run(&[
        "key",
        "create",
        "--workspace",
        id,
        "--name",
        "cli",
        "--scope",
        "ingestion:read",
    ]))
    .unwrap();
    let client = server.anonymous().with_token(key["key"].as_str().unwrap());
    assert_eq!(client.get("/api/v2/ingestion/status").await.status, 200);
    run(&[
        "key",
        "revoke",
        "--workspace",
        id,
        key["id"].as_str().unwrap(),
    ]);
    assert_eq!(client.get("/api/v2/ingestion/status").await.status, 401);
}

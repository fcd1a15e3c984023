//! Errors: types, constraints, parse positions, unknown and foreign tables, scopes.

use serde_json::json;

use super::{key, Fixture};
use crate::support::{self, Workspace};

#[tokio::test]
async fn a_value_of_the_wrong_type_is_400_with_the_database_message() {
    let f = Fixture::new("errors types").await;
    let resp = f.get("products", "price=gt.abc").await;
    assert_eq!(resp.status, 400);
    assert_eq!(resp.code(), "invalid_value");
    assert!(
        resp.message()
            .contains("invalid input syntax for type numeric"),
        "{}",
        resp.body
    );
    let resp = f
        .writer(&key())
        .post(&f.path("products", ""), json!({ "id": "x", "name": "n" }))
        .await;
    assert_eq!(resp.status, 400, "{}", resp.body);
}

#[tokio::test]
async fn constraint_violations_map_to_409_or_400() {
    let f = Fixture::new("errors constraints").await;
    let dup = f
        .writer(&key())
        .post(&f.path("customers", ""), json!({ "id": 1, "name": "x" }))
        .await;
    assert_eq!(dup.status, 409);
    assert_eq!(dup.code(), "unique_violation");
    let fk = f
        .writer(&key())
        .post(
            &f.path("orders", ""),
            json!({ "id": 9, "customer_id": 999 }),
        )
        .await;
    assert_eq!(fk.status, 409);
    assert_eq!(fk.code(), "foreign_key_violation");
    let not_null = f
        .writer(&key())
        .post(&f.path("customers", ""), json!({ "id": 9 }))
        .await;
    assert_eq!(not_null.status, 400);
    assert_eq!(not_null.code(), "not_null_violation");
    let check = f
        .writer(&key())
        .patch(&f.path("products", "id=eq.1"), json!({ "price": -5 }))
        .await;
    assert_eq!(check.status, 400);
    assert_eq!(check.code(), "check_violation");
}

#[tokio::test]
async fn parse_errors_say_where() {
    let f = Fixture::new("errors parse").await;
    let resp = f.get("products", "select=id&price=gtx.5").await;
    assert_eq!(resp.status, 400);
    assert_eq!(resp.code(), "invalid_query");
    assert_eq!(
        resp.body["error"]["details"],
        json!({ "parameter": "price", "position": 16 })
    );
    let resp = f.get("products", "or=(id.eq.1").await;
    assert_eq!(resp.body["error"]["details"]["parameter"], "or");
    let resp = f.get("products", "order=id.sideways").await;
    assert_eq!(resp.status, 400);
}

#[tokio::test]
async fn unknown_system_and_foreign_tables_are_404_without_reaching_the_database() {
    let f = Fixture::new("errors tables").await;
    let other = Fixture::new("errors other").await;
    let other_db = other.ws.database();
    for table in [
        "nope",
        "pg_catalog.pg_class",
        "pg_class",
        "information_schema.tables",
        "workspace_tables.t_anything",
        "dl_cache.person_enrichments",
        "public.customers",
        &format!("{other_db}.tenant_custom.customers"),
    ] {
        let resp = f.get(table, "").await;
        assert_eq!(resp.status, 404, "{table}: {}", resp.body);
        assert_eq!(resp.code(), "unknown_table");
    }
    let resp = f.get("custmers", "").await;
    assert_eq!(resp.body["error"]["hint"], "did you mean `customers`?");
}

#[tokio::test]
async fn scopes_and_workspaces_are_enforced() {
    let f = Fixture::new("errors scopes").await;
    let reader = f.ws.key(&["postgres:read"]).await;
    assert_eq!(reader.get(&f.path("products", "")).await.status, 200);
    let resp = reader
        .with_header("Idempotency-Key", &key())
        .post(&f.path("events", ""), json!({}))
        .await;
    assert_eq!(resp.status, 403);
    assert_eq!(resp.code(), "insufficient_scope");
    let writer_only = f.ws.key(&["postgres:write"]).await;
    assert_eq!(writer_only.get(&f.path("products", "")).await.status, 403);
    let stranger = Workspace::create(support::shared(), "stranger").await;
    let their_key = stranger.key(&["postgres:read"]).await;
    let resp = their_key.get(&f.path("products", "")).await;
    assert_eq!(resp.status, 403);
    assert_eq!(resp.code(), "workspace_mismatch");
    let jwt = stranger.jwt_client("u1", &["postgres:read"]);
    assert_eq!(jwt.get(&f.path("products", "")).await.status, 403);
    let resp = f
        .api
        .get(&format!("/v1/postgres/{}/rows/products", stranger.id))
        .await;
    assert_eq!(resp.status, 403);
}

#[tokio::test]
async fn an_unprovisioned_workspace_is_503() {
    let ws = Workspace::create(support::shared(), "no db yet").await;
    let client = ws.key(&["postgres:read"]).await;
    let resp = client
        .get(&format!("/v1/postgres/{}/rows/anything", ws.id))
        .await;
    assert_eq!(resp.status, 503);
    assert_eq!(resp.code(), "workspace_not_provisioned");
}

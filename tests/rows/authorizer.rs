//! The workspace's row authorizer: its predicates are ANDed into every statement;
//! the example owner-only authorizer of `plugins/` limits `notes` to the caller's rows.

use reqwest::Method;
use serde_json::json;

use super::{key, Fixture};

const OWNER_AUTHORIZER: &str = env!("PLINTH_PLUGIN_OWNER_AUTHORIZER");

async fn with_owner_authorizer(name: &str) -> Fixture {
    let f = Fixture::new(name).await;
    f.db.batch_execute(
        "CREATE TABLE tenant_custom.notes (id int PRIMARY KEY, owner_id text NOT NULL, body text);
         INSERT INTO tenant_custom.notes VALUES (1, 'alice', 'a1'), (2, 'bob', 'b1'), (3, 'alice', 'a2');",
    )
    .await
    .unwrap();
    let admin = f.ws.key(&["plugins:admin"]).await;
    let resp = admin
        .send_raw(
            Method::PUT,
            &format!("/v1/workspaces/{}/plugins/row-authorizer", f.ws.id),
            "application/wasm",
            std::fs::read(OWNER_AUTHORIZER).unwrap(),
        )
        .await;
    assert_eq!(resp.status, 201, "{}", resp.body);
    f
}

#[tokio::test]
async fn the_owner_authorizer_limits_reads_to_the_callers_rows() {
    let f = with_owner_authorizer("authz reads").await;
    let alice =
        f.ws.jwt_client("alice", &["postgres:read", "postgres:write"]);
    let resp = alice.get(&f.path("notes", "select=id&order=id")).await;
    assert_eq!(resp.status, 200, "{}", resp.body);
    assert_eq!(resp.body["data"], json!([{ "id": 1 }, { "id": 3 }]));
    assert_eq!(resp.body["pagination"]["total"], 2);
    // Other tables are left alone.
    assert_eq!(f.ids("customers", "order=id").await.len(), 4);
}

#[tokio::test]
async fn the_owner_authorizer_limits_writes_to_the_callers_rows() {
    let f = with_owner_authorizer("authz writes").await;
    let alice =
        f.ws.jwt_client("alice", &["postgres:read", "postgres:write"]);
    let resp = alice
        .with_header("Idempotency-Key", &key())
        .patch(&f.path("notes", "id=in.(1,2)"), json!({ "body": "edited" }))
        .await;
    assert_eq!(resp.body, json!({ "updated": 1 }), "only her own row");
    let resp = alice
        .with_header("Idempotency-Key", &key())
        .post(
            &f.path("notes", ""),
            json!({ "id": 4, "owner_id": "bob", "body": "forged" }),
        )
        .await;
    assert_eq!(resp.status, 403);
    assert_eq!(resp.code(), "denied_by_authorizer");
    let resp = alice
        .with_header("Idempotency-Key", &key())
        .with_header("Prefer", "return=minimal")
        .post(
            &f.path("notes", ""),
            json!({ "id": 4, "owner_id": "bob", "body": "forged" }),
        )
        .await;
    assert_eq!(
        resp.status, 403,
        "rows left out of the response are still checked: {}",
        resp.body
    );
    let resp = alice
        .with_header("Idempotency-Key", &key())
        .post(
            &f.path("notes", ""),
            json!({ "id": 4, "owner_id": "alice", "body": "mine" }),
        )
        .await;
    assert_eq!(resp.status, 201);
    let resp = alice
        .with_header("Idempotency-Key", &key())
        .patch(&f.path("notes", "id=eq.4"), json!({ "owner_id": "bob" }))
        .await;
    assert_eq!(
        resp.status, 403,
        "a row cannot be handed outside the allowed set"
    );
    let resp = alice
        .with_header("Idempotency-Key", &key())
        .with_header("Prefer", "whole-table")
        .delete(&f.path("notes", ""))
        .await;
    assert_eq!(resp.body, json!({ "deleted": 3 }), "her three rows");
    let left: i64 =
        f.db.query_one("SELECT count(*) FROM tenant_custom.notes", &[])
            .await
            .unwrap()
            .get(0);
    assert_eq!(left, 1, "bob's row is still there");
}

//! The workspace's row authorizer: its predicates are ANDed into every statement;
//! the example owner-only authorizer of `plugins/` limits `notes` to the caller's rows.

use reqwest::Method;
use serde_json::json;

use super::{key, Fixture};

async fn with_owner_authorizer(name: &str) -> Fixture {
    let f = Fixture::new(name).await;
    f.db.batch_execute(
        "CREATE TABLE tenant_custom.notes (id int PRIMARY KEY, owner_id text NOT NULL, body text);
         INSERT INTO tenant_custom.notes VALUES (1, 'alice', 'a1'), (2, 'bob', 'b1'), (3, 'alice', 'a2');",
    )
    .await
    .unwrap();
    f.ws.install_owner_authorizer().await;
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

/// The owner of each note, by id.
async fn owners(f: &Fixture) -> Vec<(i32, String, Option<String>)> {
    f.db.query(
        "SELECT id, owner_id, body FROM tenant_custom.notes ORDER BY id",
        &[],
    )
    .await
    .unwrap()
    .iter()
    .map(|r| (r.get(0), r.get(1), r.get(2)))
    .collect()
}

#[tokio::test]
async fn an_upsert_cannot_take_over_a_row_the_authorizer_does_not_let_the_caller_update() {
    let f = with_owner_authorizer("authz upsert").await;
    let before = owners(&f).await;
    let alice =
        f.ws.jwt_client("alice", &["postgres:read", "postgres:write"]);
    let upsert = |body: serde_json::Value, prefer: &'static str| {
        let alice = alice.with_header("Idempotency-Key", &key());
        let path = f.path("notes", "on_conflict=id");
        async move { alice.with_header("Prefer", prefer).post(&path, body).await }
    };
    // Bob's row 2, taken over with merge-duplicates: refused, and nothing changes.
    let resp = upsert(
        json!({ "id": 2, "owner_id": "alice", "body": "taken" }),
        "resolution=merge-duplicates",
    )
    .await;
    assert_eq!(resp.status, 403, "{}", resp.body);
    assert_eq!(resp.code(), "denied_by_authorizer");
    assert!(resp.message().contains("upsert"), "{}", resp.body);
    let resp = upsert(
        json!({ "id": 2, "owner_id": "alice", "body": "taken" }),
        "resolution=merge-duplicates,return=minimal",
    )
    .await;
    assert_eq!(
        resp.status, 403,
        "return=minimal is checked too: {}",
        resp.body
    );
    // In a batch beside an allowed row, the whole request is refused.
    let resp = upsert(
        json!([
            { "id": 1, "owner_id": "alice", "body": "mine, edited" },
            { "id": 2, "owner_id": "alice", "body": "taken" },
        ]),
        "resolution=merge-duplicates",
    )
    .await;
    assert_eq!(resp.status, 403, "{}", resp.body);
    assert_eq!(owners(&f).await, before, "nothing was written");

    // Her own row updates; a new row inserts.
    let resp = upsert(
        json!([
            { "id": 1, "owner_id": "alice", "body": "mine, edited" },
            { "id": 7, "owner_id": "alice", "body": "new" },
        ]),
        "resolution=merge-duplicates,return=representation",
    )
    .await;
    assert_eq!(resp.status, 201, "{}", resp.body);
    assert_eq!(resp.body["inserted"], 2);
    // Her own row handed to bob through the update: refused.
    let resp = upsert(
        json!({ "id": 1, "owner_id": "bob", "body": "gift" }),
        "resolution=merge-duplicates",
    )
    .await;
    assert_eq!(resp.status, 403, "{}", resp.body);
    // ignore-duplicates leaves bob's row alone and is no takeover.
    let resp = upsert(
        json!({ "id": 2, "owner_id": "alice", "body": "taken" }),
        "resolution=ignore-duplicates",
    )
    .await;
    assert_eq!(resp.status, 201, "{}", resp.body);
    assert_eq!(resp.body["inserted"], 0);
    let after = owners(&f).await;
    assert_eq!(
        after,
        vec![
            (1, "alice".into(), Some("mine, edited".into())),
            (2, "bob".into(), Some("b1".into())),
            (3, "alice".into(), Some("a2".into())),
            (7, "alice".into(), Some("new".into())),
        ]
    );
}

#[tokio::test]
async fn rows_a_write_returns_embed_only_what_the_authorizer_lets_the_caller_read() {
    let f = with_owner_authorizer("authz write embeds").await;
    f.db.batch_execute(
        "CREATE TABLE tenant_custom.tags (id int PRIMARY KEY, note_id int REFERENCES tenant_custom.notes, label text)",
    )
    .await
    .unwrap();
    let alice =
        f.ws.jwt_client("alice", &["postgres:read", "postgres:write"]);
    let resp = alice
        .with_header("Idempotency-Key", &key())
        .with_header("Prefer", "return=representation")
        .post(
            &f.path("tags", "select=id,notes(owner_id,body)"),
            json!([
                { "id": 1, "note_id": 1, "label": "hers" },
                { "id": 2, "note_id": 2, "label": "bob's" },
            ]),
        )
        .await;
    assert_eq!(resp.status, 201, "{}", resp.body);
    assert_eq!(
        resp.body["data"],
        json!([
            { "id": 1, "notes": { "owner_id": "alice", "body": "a1" } },
            { "id": 2, "notes": null },
        ]),
        "bob's note stays out of the insert's answer"
    );
    for (method, path, body) in [
        (
            Method::PATCH,
            "id=eq.2&select=id,notes(body)",
            Some(json!({ "label": "x" })),
        ),
        (Method::DELETE, "id=eq.2&select=id,notes(body)", None),
    ] {
        let resp = alice
            .with_header("Idempotency-Key", &key())
            .with_header("Prefer", "return=representation")
            .send(method.clone(), &f.path("tags", path), body)
            .await;
        assert_eq!(resp.status, 200, "{method}: {}", resp.body);
        assert_eq!(
            resp.body["data"],
            json!([{ "id": 2, "notes": null }]),
            "{method}"
        );
    }
}

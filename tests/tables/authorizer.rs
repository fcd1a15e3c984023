//! The row authorizer inside the scoped query: with the example owner-only authorizer
//! installed, a caller reads, updates and deletes only her own rows of `notes`, and
//! cannot write a row that is not hers, however the statement reaches the table.

use serde_json::{json, Value};

use super::Tables;
use crate::support::Api;

/// `notes` with two rows of alice's and one of bob's, the owner-only authorizer
/// installed, and a client for alice.
async fn owned_notes(name: &str) -> (Tables, Api) {
    let t = Tables::new(name).await;
    t.create_ok(json!({
        "table_name": "notes",
        "columns": [
            {"name": "id", "type": "bigint", "nullable": false},
            {"name": "owner_id", "type": "text", "nullable": false},
            {"name": "body", "type": "text"},
        ],
        "primary_key": ["id"],
    }))
    .await;
    t.query_ok("INSERT INTO notes VALUES (1, 'alice', 'a1'), (2, 'bob', 'b1'), (3, 'alice', 'a2')")
        .await;
    t.ws.install_owner_authorizer().await;
    let alice = t.ws.jwt_client("alice", &["workspace:update"]);
    (t, alice)
}

async fn query(api: &Api, t: &Tables, sql: &str) -> (u16, Value) {
    let resp = api
        .post(&format!("/v1/{}/query", t.ws.id), json!({ "sql": sql }))
        .await;
    (resp.status, resp.body)
}

#[tokio::test]
async fn a_scoped_query_reads_only_the_rows_the_authorizer_allows() {
    let (t, alice) = owned_notes("query authz reads").await;
    for sql in [
        "SELECT id, owner_id, body FROM notes ORDER BY id",
        "SELECT n.id, n.owner_id, n.body FROM notes AS n ORDER BY 1",
        "SELECT id, owner_id, body FROM (SELECT * FROM notes) s ORDER BY id",
        "WITH x AS (SELECT * FROM notes) SELECT id, owner_id, body FROM x ORDER BY id",
        "SELECT id, owner_id, body FROM notes WHERE id IN (SELECT id FROM notes) ORDER BY id",
        "SELECT id, owner_id, body FROM \"notes\" WHERE owner_id <> 'nobody' OR true ORDER BY id",
        // The alias Plinth gives its own filtered subquery, taken by the caller.
        "SELECT id, owner_id, body FROM notes AS pgrst_authz ORDER BY id",
        "SELECT a.id, a.owner_id, a.body FROM notes a JOIN notes pgrst_authz ON true WHERE pgrst_authz.id = a.id ORDER BY 1",
    ] {
        let (status, body) = query(&alice, &t, sql).await;
        assert_eq!(status, 200, "{sql}: {body}");
        assert_eq!(
            body["rows"],
            json!([
                {"id": "1", "owner_id": "alice", "body": "a1"},
                {"id": "3", "owner_id": "alice", "body": "a2"},
            ]),
            "{sql}"
        );
    }
    let (_, body) = query(&alice, &t, "SELECT count(*) AS n FROM notes a, notes b").await;
    assert_eq!(
        body["rows"],
        json!([{"n": "4"}]),
        "a self-join sees her rows only"
    );
    let (_, body) = query(
        &alice,
        &t,
        "SELECT (SELECT count(*) FROM notes WHERE owner_id = 'bob') AS bobs",
    )
    .await;
    assert_eq!(body["rows"], json!([{"bobs": "0"}]));
}

#[tokio::test]
async fn a_scoped_query_writes_only_the_rows_the_authorizer_allows() {
    let (t, alice) = owned_notes("query authz writes").await;
    let (status, body) = query(&alice, &t, "UPDATE notes SET body = 'edited'").await;
    assert_eq!((status, &body["row_count"]), (200, &json!(2)), "{body}");
    let (status, body) = query(&alice, &t, "DELETE FROM notes WHERE id = 2").await;
    assert_eq!(
        (status, &body["row_count"]),
        (200, &json!(0)),
        "bob's row: {body}"
    );

    // Writing a row that is not hers: refused with 403, nothing written.
    for sql in [
        "INSERT INTO notes VALUES (9, 'bob', 'forged')",
        "INSERT INTO notes (id, owner_id) SELECT 10, 'bob'",
        "INSERT INTO notes VALUES (11, 'alice', 'ok'), (12, 'bob', 'forged') RETURNING id",
        "UPDATE notes SET owner_id = 'bob' WHERE id = 1",
        "UPDATE notes SET owner_id = 'bob' RETURNING *",
        "INSERT INTO notes VALUES (2, 'alice', 'x') ON CONFLICT (id) DO UPDATE SET owner_id = 'alice'",
    ] {
        let (status, body) = query(&alice, &t, sql).await;
        assert_eq!(status, 403, "{sql}: {body}");
        assert_eq!(body["error"]["code"], "denied_by_authorizer", "{sql}: {body}");
    }
    let everything = "SELECT id, owner_id, body FROM notes ORDER BY id";
    let (_, hers) = query(&alice, &t, everything).await;
    assert_eq!(
        hers["rows"],
        json!([
            {"id": "1", "owner_id": "alice", "body": "edited"},
            {"id": "3", "owner_id": "alice", "body": "edited"},
        ])
    );
    let bob = t.ws.jwt_client("bob", &["workspace:update"]);
    let (_, his) = query(&bob, &t, everything).await;
    assert_eq!(
        his["rows"],
        json!([{"id": "2", "owner_id": "bob", "body": "b1"}])
    );

    // Reads inside a write see her rows only.
    let (status, body) = query(
        &alice,
        &t,
        "DELETE FROM notes USING notes other WHERE other.owner_id = 'bob'",
    )
    .await;
    assert_eq!((status, &body["row_count"]), (200, &json!(0)), "{body}");
    let (status, body) = query(
        &alice,
        &t,
        "UPDATE notes SET body = (SELECT max(o.body) FROM notes o WHERE o.owner_id = 'bob') WHERE id = 1 RETURNING body",
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["rows"],
        json!([{"body": null}]),
        "bob's body stays hidden"
    );

    // Her own rows insert, and the check never shows in the answer.
    let (status, body) = query(
        &alice,
        &t,
        "INSERT INTO notes VALUES (9, 'alice', 'mine') RETURNING id, body",
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["columns"], json!(["id", "body"]));
    assert_eq!(body["rows"], json!([{"id": "9", "body": "mine"}]));
    let (status, body) = query(&alice, &t, "INSERT INTO notes VALUES (10, 'alice', 'mine')").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body, json!({"columns": [], "rows": [], "row_count": 1}));
    let (status, body) = query(&alice, &t, "DELETE FROM notes").await;
    assert_eq!((status, &body["row_count"]), (200, &json!(4)), "{body}");
}

//! Row-level security: every statement runs with the tenant context set, so a policy
//! on `current_setting('app.user_id')` shows each user their own rows only (the seed's
//! `user_orders` example, end to end).

use serde_json::json;

use super::{key, Fixture};

#[tokio::test]
async fn the_seeds_user_orders_policy_shows_each_user_their_own_rows() {
    let f = Fixture::new("rls").await;
    f.db.batch_execute(
        "CREATE TABLE tenant_custom.user_orders (id int PRIMARY KEY, user_id text NOT NULL, item text);
         INSERT INTO tenant_custom.user_orders VALUES (1, 'alice', 'book'), (2, 'bob', 'lamp'), (3, 'alice', 'pen');
         ALTER TABLE tenant_custom.user_orders ENABLE ROW LEVEL SECURITY;
         CREATE POLICY user_orders ON tenant_custom.user_orders
           USING (user_id = current_setting('app.user_id'));",
    )
    .await
    .unwrap();
    let alice =
        f.ws.jwt_client("alice", &["postgres:read", "postgres:write"]);
    let bob = f.ws.jwt_client("bob", &["postgres:read", "postgres:write"]);
    let path = f.path("user_orders", "select=id,item&order=id");
    let resp = alice.get(&path).await;
    assert_eq!(resp.status, 200, "{}", resp.body);
    assert_eq!(
        resp.body["data"],
        json!([{ "id": 1, "item": "book" }, { "id": 3, "item": "pen" }])
    );
    assert_eq!(resp.body["pagination"]["total"], 2);
    let resp = bob.get(&path).await;
    assert_eq!(resp.body["data"], json!([{ "id": 2, "item": "lamp" }]));
    // Bob cannot touch Alice's rows either.
    let resp = bob
        .with_header("Idempotency-Key", &key())
        .patch(
            &f.path("user_orders", "id=eq.1"),
            json!({ "item": "stolen" }),
        )
        .await;
    assert_eq!(resp.body, json!({ "updated": 0 }));
    let resp = bob
        .with_header("Idempotency-Key", &key())
        .post(
            &f.path("user_orders", ""),
            json!({ "id": 4, "user_id": "alice", "item": "forged" }),
        )
        .await;
    assert_eq!(
        resp.status, 403,
        "the policy's check refuses rows for another user: {}",
        resp.body
    );
}

#[tokio::test]
async fn the_tenant_context_settings_are_visible_to_sql() {
    let f = Fixture::new("rls context").await;
    f.db.batch_execute(
        "CREATE VIEW tenant_custom.whoami AS SELECT 1 AS id,
            current_setting('app.tenant_id', true) AS tenant,
            current_setting('app.workspace_id', true) AS workspace,
            current_setting('app.user_id', true) AS usr,
            current_setting('request.jwt.claims', true)::jsonb ->> 'sub' AS sub;",
    )
    .await
    .unwrap();
    let client = f.ws.jwt_client("carol", &["postgres:read"]);
    let resp = client.get(&f.path("whoami", "")).await;
    assert_eq!(resp.status, 200, "{}", resp.body);
    assert_eq!(
        resp.body["data"],
        json!([{ "id": 1, "tenant": f.ws.tenant_id, "workspace": f.ws.id, "usr": "carol", "sub": "carol" }])
    );
}

/// Reads of plain tables skip the tenant-context transaction; these show that a
/// read still gets the context whenever something it touches could observe it: an
/// embedded table with a policy, or a column whose domain check reads a setting.
#[tokio::test]
async fn reads_touching_policies_or_domains_still_carry_the_context() {
    let f = Fixture::new("rls fast path").await;
    f.db.batch_execute(
        "CREATE TABLE tenant_custom.shops (id int PRIMARY KEY, name text NOT NULL);
         CREATE TABLE tenant_custom.shop_orders (id int PRIMARY KEY,
             shop_id int NOT NULL REFERENCES tenant_custom.shops (id), user_id text NOT NULL);
         INSERT INTO tenant_custom.shops VALUES (1, 'north');
         INSERT INTO tenant_custom.shop_orders VALUES (10, 1, 'alice'), (11, 1, 'bob');
         ALTER TABLE tenant_custom.shop_orders ENABLE ROW LEVEL SECURITY;
         CREATE POLICY mine ON tenant_custom.shop_orders
           USING (user_id = current_setting('app.user_id'));
         CREATE DOMAIN tenant_custom.own_name AS text
           CHECK (VALUE = current_setting('app.user_id', true));
         CREATE TABLE tenant_custom.notes (id int PRIMARY KEY, owner tenant_custom.own_name);
         INSERT INTO tenant_custom.notes VALUES (1, NULL);",
    )
    .await
    .unwrap();
    let alice = f.ws.jwt_client("alice", &["postgres:read"]);
    // The parent is a plain table, the embedded one has a policy.
    let resp = alice
        .get(&f.path("shops", "select=name,shop_orders(id)"))
        .await;
    assert_eq!(resp.status, 200, "{}", resp.body);
    assert_eq!(
        resp.body["data"],
        json!([{ "name": "north", "shop_orders": [{ "id": 10 }] }])
    );
    // The filter value is cast to the domain, whose check reads app.user_id.
    let resp = alice.get(&f.path("notes", "owner=eq.alice")).await;
    assert_eq!(resp.status, 200, "{}", resp.body);
    assert_eq!(resp.body["data"], json!([]));
    let resp = alice.get(&f.path("notes", "owner=eq.mallory")).await;
    assert_eq!(
        resp.status, 400,
        "the domain check sees alice: {}",
        resp.body
    );
}

/// A read under a policy runs in a transaction with the tenant context, and the
/// version its context statement carries is what tells the cache of DDL made
/// directly when the read names no column.
#[tokio::test]
async fn a_read_under_a_policy_sees_ddl_made_directly() {
    let f = Fixture::new("rls ddl").await;
    f.db.batch_execute(
        "CREATE TABLE tenant_custom.own_notes (id int PRIMARY KEY, user_id text NOT NULL);
         INSERT INTO tenant_custom.own_notes VALUES (1, 'dana'), (2, 'erin');
         ALTER TABLE tenant_custom.own_notes ENABLE ROW LEVEL SECURITY;
         CREATE POLICY own_notes ON tenant_custom.own_notes
           USING (user_id = current_setting('app.user_id'));",
    )
    .await
    .unwrap();
    let dana = f.ws.jwt_client("dana", &["postgres:read"]);
    let resp = dana.get(&f.path("own_notes", "")).await;
    assert_eq!(resp.status, 200, "{}", resp.body);
    assert_eq!(resp.body["data"], json!([{ "id": 1, "user_id": "dana" }]));
    for (column, value) in [("mood", "calm"), ("tone", "dry")] {
        f.db.batch_execute(&format!(
            "ALTER TABLE tenant_custom.own_notes ADD COLUMN {column} text DEFAULT '{value}'"
        ))
        .await
        .unwrap();
        let resp = dana.get(&f.path("own_notes", "")).await;
        assert_eq!(resp.status, 200, "{}", resp.body);
        assert_eq!(resp.body["data"][0][column], value, "{}", resp.body);
        assert_eq!(resp.body["data"].as_array().map(Vec::len), Some(1));
    }
}

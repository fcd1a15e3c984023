//! Exact totals reused while their table has no write (`dl_meta.table_changes`).
//!
//! To see whether a total was counted or reused, some tests write as the
//! superuser with `session_replication_role = replica`, which skips triggers: such
//! a write moves no counter, so a reused total leaves it out and a counted one
//! includes it. Only a superuser may do that; no workspace role can.

use serde_json::json;

use super::{key, Fixture};
use crate::support;

/// `pagination.total` of `GET rows/{table}?{query}` (must succeed).
async fn total(f: &Fixture, table: &str, query: &str) -> i64 {
    let resp = f.get(table, query).await;
    assert_eq!(resp.status, 200, "{table}?{query}: {}", resp.body);
    resp.body["pagination"]["total"]
        .as_i64()
        .unwrap_or_else(|| panic!("no total in {}", resp.body))
}

/// Inserts a product without firing any trigger, as the superuser.
async fn insert_unseen(superuser: &tokio_postgres::Client, id: i32, category: &str) {
    superuser
        .batch_execute(&format!(
            "SET session_replication_role = replica;
             INSERT INTO tenant_custom.products (id, name, price, category)
                 VALUES ({id}, 'unseen', 1, '{category}');
             RESET session_replication_role;"
        ))
        .await
        .unwrap();
}

#[tokio::test]
async fn a_total_is_reused_until_a_write_to_its_table_is_committed() {
    let f = Fixture::new("exact counts").await;
    let superuser = support::workspace_superuser(&f.ws).await;
    let query = "select=id&category=eq.accessories";
    assert_eq!(total(&f, "products", query).await, 3);
    // A row no trigger saw: the remembered total is answered, without counting.
    insert_unseen(&superuser, 100, "accessories").await;
    assert_eq!(total(&f, "products", query).await, 3, "reused");
    assert_eq!(
        total(&f, "products", "select=id&category=eq.accessories&limit=1").await,
        3,
        "the page does not matter, the filter does"
    );
    // Through the API: counted again, the unseen row with it.
    let resp = f
        .writer(&key())
        .post(
            &f.path("products", ""),
            json!({ "id": 101, "name": "Cable", "price": 3, "category": "accessories" }),
        )
        .await;
    assert_eq!(resp.status, 201, "{}", resp.body);
    assert_eq!(total(&f, "products", query).await, 5);
    // Outside Plinth, by the runtime role: an update, a delete, a truncate.
    f.db.batch_execute("UPDATE tenant_custom.products SET category = 'misc' WHERE id = 100")
        .await
        .unwrap();
    assert_eq!(total(&f, "products", query).await, 4);
    f.db.batch_execute("DELETE FROM tenant_custom.products WHERE id = 101")
        .await
        .unwrap();
    assert_eq!(total(&f, "products", query).await, 3);
    assert_eq!(total(&f, "events", "select=id").await, 0);
    f.db.batch_execute("INSERT INTO tenant_custom.events (kind) VALUES ('a'), ('b')")
        .await
        .unwrap();
    assert_eq!(total(&f, "events", "select=id").await, 2);
    f.db.batch_execute("TRUNCATE tenant_custom.events")
        .await
        .unwrap();
    assert_eq!(total(&f, "events", "select=id").await, 0);
}

#[tokio::test]
async fn a_write_committed_after_a_total_was_read_is_counted() {
    let f = Fixture::new("exact counts commit").await;
    let query = "select=id&category=eq.electronics";
    let before = total(&f, "products", query).await;
    // The trigger has run, the write is not committed: the read does not see it,
    // and remembers its total with the counter it saw.
    f.db.batch_execute(
        "BEGIN; INSERT INTO tenant_custom.products (id, name, price, category)
                VALUES (200, 'Pending', 5, 'electronics');",
    )
    .await
    .unwrap();
    assert_eq!(total(&f, "products", query).await, before);
    f.db.batch_execute("COMMIT").await.unwrap();
    assert_eq!(total(&f, "products", query).await, before + 1);
    // A cascade counts as a write of the table it deletes from.
    f.db.batch_execute(
        "CREATE TABLE tenant_custom.tags (id int PRIMARY KEY,
             product_id int REFERENCES tenant_custom.products ON DELETE CASCADE);
         INSERT INTO tenant_custom.tags VALUES (1, 200), (2, 200), (3, 1);",
    )
    .await
    .unwrap();
    assert_eq!(total(&f, "tags", "select=id").await, 3);
    f.db.batch_execute("DELETE FROM tenant_custom.products WHERE id = 200")
        .await
        .unwrap();
    assert_eq!(total(&f, "tags", "select=id").await, 1);
}

#[tokio::test]
async fn totals_of_untracked_inherited_and_row_secured_tables_are_always_counted() {
    let f = Fixture::new("exact counts untracked").await;
    let superuser = support::workspace_superuser(&f.ws).await;
    let query = "select=id&category=eq.accessories";
    f.db.batch_execute("ALTER TABLE tenant_custom.products DISABLE TRIGGER plinth_table_changes")
        .await
        .unwrap();
    assert_eq!(total(&f, "products", query).await, 3);
    insert_unseen(&superuser, 300, "accessories").await;
    assert_eq!(total(&f, "products", query).await, 4, "counted");
    f.db.batch_execute(
        "ALTER TABLE tenant_custom.products ENABLE TRIGGER plinth_table_changes;
         ALTER TABLE tenant_custom.products ENABLE ROW LEVEL SECURITY;
         CREATE POLICY everything ON tenant_custom.products USING (true);",
    )
    .await
    .unwrap();
    assert_eq!(total(&f, "products", query).await, 4);
    insert_unseen(&superuser, 301, "accessories").await;
    assert_eq!(total(&f, "products", query).await, 5, "counted");
    // A child table's rows change under its parent's statements, which fire the
    // parent's triggers only.
    f.db.batch_execute(
        "CREATE TABLE tenant_custom.base (id int PRIMARY KEY, tag text);
         CREATE TABLE tenant_custom.child (extra int) INHERITS (tenant_custom.base);
         INSERT INTO tenant_custom.child (id, tag) VALUES (1, 'a'), (2, 'a');",
    )
    .await
    .unwrap();
    assert_eq!(total(&f, "child", "select=id&tag=eq.a").await, 2);
    f.db.batch_execute("UPDATE tenant_custom.base SET tag = 'b' WHERE id = 1")
        .await
        .unwrap();
    assert_eq!(total(&f, "child", "select=id&tag=eq.a").await, 1, "counted");
    // An `!inner` embed filters by another table, whose writes this one's counter
    // does not see.
    f.db.batch_execute(
        "ALTER TABLE tenant_custom.products DISABLE ROW LEVEL SECURITY;
         DROP POLICY everything ON tenant_custom.products;",
    )
    .await
    .unwrap();
    let embedded = "select=id,customers!inner(id)&customers.tier=eq.gold";
    assert_eq!(total(&f, "orders", embedded).await, 2);
    superuser
        .batch_execute(
            "SET session_replication_role = replica;
             UPDATE tenant_custom.customers SET tier = 'gold' WHERE id = 2;
             RESET session_replication_role;",
        )
        .await
        .unwrap();
    assert_eq!(total(&f, "orders", embedded).await, 3, "counted");
}

#[tokio::test]
async fn counters_of_exited_backends_are_folded_into_the_next_writer_with_the_sum_kept() {
    let f = Fixture::new("exact counts fold").await;
    let superuser = support::workspace_superuser(&f.ws).await;
    let url = f.ws.reveal("runtime", false).await;
    let counters = || async {
        let row = superuser
            .query_one(
                "SELECT coalesce(sum(changes), 0)::int8, count(*) FROM dl_meta.table_changes
                 WHERE relid = 'tenant_custom.events'::regclass",
                &[],
            )
            .await
            .unwrap();
        (row.get::<_, i64>(0), row.get::<_, i64>(1))
    };
    let mut exited = Vec::new();
    for _ in 0..3 {
        let client = support::try_connect(&url).await.unwrap();
        let pid: i32 = client
            .query_one(
                "INSERT INTO tenant_custom.events (kind) VALUES ('x') RETURNING pg_backend_pid()",
                &[],
            )
            .await
            .unwrap()
            .get(0);
        exited.push(pid);
    }
    // Each first write folds the counters of the backends that had exited by then.
    assert_eq!(counters().await.0, 3);
    // Once the three backends are gone, a fourth one's first write folds them all.
    for _ in 0..200 {
        let live: i64 = superuser
            .query_one(
                "SELECT count(*) FROM pg_stat_activity WHERE pid = ANY($1)",
                &[&exited],
            )
            .await
            .unwrap()
            .get(0);
        if live == 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let fourth = support::try_connect(&url).await.unwrap();
    fourth
        .batch_execute("INSERT INTO tenant_custom.events (kind) VALUES ('y')")
        .await
        .unwrap();
    assert_eq!(counters().await, (4, 1), "one counter holds the sum");
    assert_eq!(total(&f, "events", "select=id").await, 4);
}

#[tokio::test]
async fn a_total_filtered_by_the_clock_is_counted_every_time() {
    let f = Fixture::new("exact counts clock").await;
    f.db.batch_execute(
        "INSERT INTO tenant_custom.events (kind, created_at)
         VALUES ('soon', now() + interval '1500 milliseconds')",
    )
    .await
    .unwrap();
    let query = "select=id&created_at=lt.now";
    assert_eq!(total(&f, "events", query).await, 0);
    tokio::time::sleep(std::time::Duration::from_millis(1600)).await;
    assert_eq!(total(&f, "events", query).await, 1);
}

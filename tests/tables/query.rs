//! The scoped query: allowed statements, lossless JSON, the row cap, the timeout,
//! and the 400/422 split.

use serde_json::json;

use super::Tables;
use crate::support::{self, Plinth, ServerOptions, Workspace};

async fn shop(t: &Tables) {
    t.create_ok(json!({
        "table_name": "customers",
        "columns": [
            {"name": "id", "type": "bigint", "nullable": false},
            {"name": "name", "type": "text"},
        ],
        "primary_key": ["id"],
    }))
    .await;
    t.create_ok(json!({
        "table_name": "orders",
        "columns": [
            {"name": "id", "type": "bigint", "nullable": false},
            {"name": "customer_id", "type": "bigint"},
            {"name": "total", "type": "numeric"},
        ],
        "primary_key": ["id"],
    }))
    .await;
    t.query_ok("INSERT INTO customers (id, name) VALUES (1, 'Ada'), (2, 'Grace')")
        .await;
    t.query_ok("INSERT INTO orders VALUES (10, 1, 12.50), (11, 1, 7.25), (12, 2, 100)")
        .await;
}

/// Creates `notes (body text)`; returns its physical name.
async fn notes(t: &Tables) -> String {
    let id = t
        .create_ok(json!({
            "table_name": "notes",
            "columns": [{"name": "body", "type": "text"}],
        }))
        .await;
    t.get(&id).await.body["physical_name"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn select_insert_update_delete_and_with_select() {
    let t = Tables::new("query basics").await;
    shop(&t).await;
    let body = t
        .query_ok(
            "SELECT c.name, count(o.id) AS orders, sum(o.total) AS spent
             FROM customers c JOIN orders o ON o.customer_id = c.id
             GROUP BY c.name ORDER BY c.name",
        )
        .await;
    assert_eq!(body["columns"], json!(["name", "orders", "spent"]));
    assert_eq!(
        body["rows"],
        json!([
            {"name": "Ada", "orders": "2", "spent": "19.75"},
            {"name": "Grace", "orders": "1", "spent": "100"},
        ])
    );
    assert_eq!(body["row_count"], 2);

    let body = t
        .query_ok(
            "WITH big AS (SELECT * FROM orders WHERE total > 10) SELECT id FROM big ORDER BY id",
        )
        .await;
    assert_eq!(body["rows"], json!([{"id": "10"}, {"id": "12"}]));

    let body = t
        .query_ok("UPDATE orders SET total = total * 2 WHERE customer_id = 1")
        .await;
    assert_eq!(body, json!({"columns": [], "rows": [], "row_count": 2}));
    let body = t
        .query_ok("DELETE FROM orders WHERE id = 12 RETURNING id, total")
        .await;
    assert_eq!(body["rows"], json!([{"id": "12", "total": "100"}]));
    assert_eq!(body["row_count"], 1);
    let body = t
        .query_ok("INSERT INTO customers (id) SELECT g FROM generate_series(3, 5) g")
        .await;
    assert_eq!(body["row_count"], 3);
    let body = t.query_ok("SELECT count(*) AS n FROM customers").await;
    assert_eq!(body["rows"][0]["n"], "5");
}

/// Columns qualified by the table's own name resolve, in every kind of statement
/// (the table is renamed to its storage, and keeps its name as an alias).
#[tokio::test]
async fn columns_qualified_by_their_table_name_resolve() {
    let t = Tables::new("query qualified").await;
    shop(&t).await;
    let body = t
        .query_ok(
            "SELECT customers.name, orders.total FROM customers \
             JOIN orders ON orders.customer_id = customers.id WHERE orders.id = 12",
        )
        .await;
    assert_eq!(body["rows"], json!([{"name": "Grace", "total": "100"}]));
    let body = t
        .query_ok("INSERT INTO customers (id, name) VALUES (3, 'Edsger') RETURNING customers.id")
        .await;
    assert_eq!(body["rows"], json!([{"id": "3"}]));
    let body = t
        .query_ok("UPDATE \"customers\" SET name = 'E.' WHERE \"customers\".id = 3 RETURNING customers.name")
        .await;
    assert_eq!(body["rows"], json!([{"name": "E."}]));
    let body = t
        .query_ok("DELETE FROM customers WHERE customers.id = 3")
        .await;
    assert_eq!(body["row_count"], 1);
}

/// The statement and the `COMMIT` go out together. A statement that fails leaves
/// nothing behind, and neither does one whose `COMMIT` fails (a deferred constraint),
/// whose answer is the commit's error; the connection serves the next request.
#[tokio::test]
async fn a_failed_statement_or_commit_keeps_nothing() {
    let t = Tables::new("query commit").await;
    shop(&t).await;
    let resp = t
        .query("INSERT INTO customers (id, name) SELECT 10 + g, 'x' || (1 / (3 - g)) FROM generate_series(1, 3) g")
        .await;
    assert_eq!(resp.status, 400, "{}", resp.body);
    assert_eq!(resp.code(), "invalid_value", "{}", resp.body);

    let list = t.api.get(&format!("/v1/{}/tables", t.ws.id)).await;
    let physical = list.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|table| table["table_name"] == "customers")
        .unwrap()["physical_name"]
        .as_str()
        .unwrap()
        .to_owned();
    let superuser = support::workspace_superuser(&t.ws).await;
    superuser
        .batch_execute(&format!(
            "ALTER TABLE workspace_tables.\"{physical}\" ADD CONSTRAINT names_once UNIQUE (name) DEFERRABLE INITIALLY DEFERRED"
        ))
        .await
        .unwrap();
    let resp = t
        .query("INSERT INTO customers (id, name) VALUES (20, 'twin'), (21, 'twin') RETURNING id")
        .await;
    assert_eq!(resp.status, 400, "the COMMIT failed: {}", resp.body);
    assert_eq!(resp.code(), "unique_violation", "{}", resp.body);
    for _ in 0..3 {
        let body = t.query_ok("SELECT count(*) AS n FROM customers").await;
        assert_eq!(body["rows"], json!([{"n": "2"}]), "nothing was kept");
    }
}

#[tokio::test]
async fn values_keep_their_types_and_precision() {
    let t = Tables::new("query types").await;
    let body = t
        .query_ok(
            "SELECT 9007199254740993::bigint AS big, 12345678901234567890.123456789::numeric AS exact,
                    42 AS small, 1.5::float8 AS float, true AS yes, NULL AS nothing,
                    'a\"b'::text AS quoted, '\\xdeadbeef'::bytea AS bytes,
                    '{\"k\": [1, 2.5, null]}'::jsonb AS doc,
                    '2026-11-22T10:00:00Z'::timestamptz AS at, '2026-11-22'::date AS day,
                    '00000000-0000-4000-8000-000000000001'::uuid AS id,
                    ARRAY[1, 2] AS list, 'NaN'::float8 AS nan",
        )
        .await;
    let row = &body["rows"][0];
    assert_eq!(row["big"], "9007199254740993");
    assert_eq!(row["exact"], "12345678901234567890.123456789");
    assert_eq!(row["small"], 42);
    assert_eq!(row["float"], 1.5);
    assert_eq!(row["yes"], true);
    assert_eq!(row["nothing"], serde_json::Value::Null);
    assert_eq!(row["quoted"], "a\"b");
    assert_eq!(row["bytes"], "\\xdeadbeef");
    assert_eq!(row["doc"], json!({"k": [1, 2.5, null]}));
    assert_eq!(row["at"], "2026-11-22T10:00:00+00:00");
    assert_eq!(row["day"], "2026-11-22");
    assert_eq!(row["id"], "00000000-0000-4000-8000-000000000001");
    assert_eq!(row["list"], json!([1, 2]));
    assert_eq!(row["nan"], "NaN");
    // Column order is the statement's.
    let columns: Vec<&str> = body["columns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    assert_eq!(columns[..3], ["big", "exact", "small"]);
}

#[tokio::test]
async fn results_are_capped_and_say_so() {
    let t = Tables::new("query cap").await;
    let body = t
        .query_ok("SELECT g FROM generate_series(1, 10005) g")
        .await;
    assert_eq!(body["row_count"], 10000);
    assert_eq!(body["rows"].as_array().unwrap().len(), 10000);
    assert_eq!(body["truncated"], true);
    let body = t
        .query_ok("SELECT g FROM generate_series(1, 10000) g")
        .await;
    assert!(body.get("truncated").is_none());
}

#[tokio::test]
async fn database_errors_are_400_and_structural_refusals_422() {
    let t = Tables::new("query errors").await;
    shop(&t).await;
    for (sql, code) in [
        ("SELECT 1 / 0", "invalid_value"),
        ("SELECT nope FROM orders", "database_error"),
        (
            "INSERT INTO customers (id, name) VALUES (1, 'again')",
            "unique_violation",
        ),
        ("SELECT 'abc'::int", "invalid_value"),
    ] {
        let resp = t.query(sql).await;
        assert_eq!(resp.status, 400, "{sql}: {}", resp.body);
        assert_eq!(resp.code(), code, "{sql}: {}", resp.body);
    }
    let resp = t.query("SELECT 1 / 0").await;
    assert!(resp.message().contains("division by zero"), "{}", resp.body);
    for sql in [
        "".to_owned(),
        "SELECT 1; SELECT 2".to_owned(),
        "SELEKT 1".to_owned(),
        "CREATE TABLE x (a int)".to_owned(),
        "SET ROLE postgres".to_owned(),
        "RESET ALL".to_owned(),
        "SET SESSION AUTHORIZATION postgres".to_owned(),
        format!("SELECT '{}'", "x".repeat(16_400)),
    ] {
        let resp = t.query(&sql).await;
        assert_eq!(
            resp.status,
            422,
            "{}: {}",
            &sql[..sql.len().min(40)],
            resp.body
        );
        assert!(!resp.message().is_empty());
    }
    let resp = t
        .api
        .post(
            &format!("/v1/{}/query", t.ws.id),
            json!({"query": "SELECT 1"}),
        )
        .await;
    assert_eq!(resp.status, 400, "{}", resp.body);
}

#[tokio::test]
async fn a_slow_statement_is_stopped_by_the_statement_timeout() {
    let server = Plinth::start(ServerOptions {
        database_url: Some(support::shared_cluster().url()),
        env: vec![("PLINTH_STATEMENT_TIMEOUT_MS".into(), "300".into())],
        ..Default::default()
    });
    let ws = Workspace::provisioned(&server, "query timeout").await;
    let api = ws.key(&["workspace:update"]).await;
    let started = std::time::Instant::now();
    let resp = api
        .post(
            &format!("/v1/{}/query", ws.id),
            json!({"sql": "SELECT count(*) FROM generate_series(1, 200000000) a"}),
        )
        .await;
    assert_eq!(resp.status, 400, "{}", resp.body);
    assert_eq!(resp.code(), "statement_timeout", "{}", resp.body);
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
}

#[tokio::test]
async fn the_statement_runs_with_the_tenant_context_of_its_transaction() {
    let t = Tables::new("query context").await;
    let physical = notes(&t).await;
    t.query_ok("INSERT INTO notes (body) VALUES ('a'), ('b')")
        .await;
    // Rows are visible only to a transaction whose context names this workspace.
    let db = support::workspace_superuser(&t.ws).await;
    let policy = |workspace: &str| {
        format!(
            "DROP POLICY IF EXISTS ours ON workspace_tables.{physical};
             CREATE POLICY ours ON workspace_tables.{physical}
                 USING (current_setting('app.workspace_id', true) = '{workspace}');"
        )
    };
    db.batch_execute(&format!(
        "ALTER TABLE workspace_tables.{physical} ENABLE ROW LEVEL SECURITY; {}",
        policy(&t.ws.id)
    ))
    .await
    .unwrap();
    let body = t.query_ok("SELECT count(*) AS n FROM notes").await;
    assert_eq!(body["rows"], json!([{"n": "2"}]));
    db.batch_execute(&policy(&uuid::Uuid::new_v4().to_string()))
        .await
        .unwrap();
    let body = t.query_ok("SELECT count(*) AS n FROM notes").await;
    assert_eq!(body["rows"], json!([{"n": "0"}]));
}

/// A statement run before is not inspected again while the workspace's schema stays
/// as it was, but DDL made outside Plinth makes the next run check its plan anew: a
/// table swapped for a view over `tenant_custom` is refused, not read through the
/// statement prepared before.
#[tokio::test]
async fn a_repeated_statement_is_checked_again_after_ddl() {
    let t = Tables::new("query approval ddl").await;
    let physical = notes(&t).await;
    t.query_ok("INSERT INTO notes (body) VALUES ('mine')").await;
    let select = "SELECT body FROM notes";
    for _ in 0..4 {
        assert_eq!(t.query_ok(select).await["rows"], json!([{"body": "mine"}]));
    }
    let db = support::workspace_superuser(&t.ws).await;
    db.batch_execute(&format!(
        "CREATE TABLE tenant_custom.hidden (body text);
         INSERT INTO tenant_custom.hidden VALUES ('not for the query');
         GRANT SELECT ON tenant_custom.hidden TO PUBLIC;
         ALTER TABLE workspace_tables.{physical} RENAME TO moved_away;
         CREATE VIEW workspace_tables.{physical} AS SELECT body FROM tenant_custom.hidden;
         GRANT SELECT ON workspace_tables.{physical} TO PUBLIC;"
    ))
    .await
    .unwrap();
    for _ in 0..4 {
        let resp = t.query(select).await;
        assert_eq!(resp.status, 422, "{}", resp.body);
        assert_eq!(
            resp.body["error"]["code"], "table_not_allowed",
            "{}",
            resp.body
        );
        assert!(!resp.body.to_string().contains("not for"), "{}", resp.body);
    }
}

/// `SELECT *` of a statement run before follows a column added outside Plinth.
#[tokio::test]
async fn a_repeated_select_star_follows_a_column_added_outside_plinth() {
    let t = Tables::new("query approval columns").await;
    let physical = notes(&t).await;
    t.query_ok("INSERT INTO notes (body) VALUES ('a')").await;
    let select = "SELECT * FROM notes";
    for _ in 0..4 {
        assert_eq!(t.query_ok(select).await["columns"], json!(["body"]));
    }
    support::workspace_superuser(&t.ws)
        .await
        .batch_execute(&format!(
            "ALTER TABLE workspace_tables.{physical} ADD COLUMN rank bigint DEFAULT 7"
        ))
        .await
        .unwrap();
    for _ in 0..4 {
        let body = t.query_ok(select).await;
        assert_eq!(body["columns"], json!(["body", "rank"]));
        assert_eq!(body["rows"], json!([{"body": "a", "rank": "7"}]));
    }
}

/// The scoped query caches each workspace's table names. A table registered, or
/// dropped and registered again under its name, by another replica whose message has
/// not arrived yet (simulated here: the registry changed with its triggers off) is
/// still seen as it now is; a table that is gone is refused without its physical
/// name.
#[tokio::test]
async fn table_names_changed_elsewhere_are_seen_before_their_message() {
    let t = Tables::new("query names elsewhere").await;
    for (name, column) in [("a", "x"), ("b", "y")] {
        t.create_ok(json!({
            "table_name": name,
            "columns": [{"name": column, "type": "text"}],
        }))
        .await;
    }
    t.query_ok("INSERT INTO a (x) VALUES ('ay')").await;
    t.query_ok("INSERT INTO b (y) VALUES ('bee')").await;
    // Both names are cached now.
    assert_eq!(
        t.query_ok("SELECT x FROM a").await["rows"],
        json!([{"x": "ay"}])
    );
    assert_eq!(
        t.query_ok("SELECT y FROM b").await["rows"],
        json!([{"y": "bee"}])
    );

    let ws: uuid::Uuid = t.ws.id.parse().unwrap();
    let control = support::pg_connect(&support::shared_cluster().db_url("plinth_control")).await;
    control
        .batch_execute("SET session_replication_role = replica")
        .await
        .unwrap();
    let elsewhere = |sql: &'static str| {
        let control = &control;
        async move { control.execute(sql, &[&ws]).await.unwrap() }
    };
    let physical = |name: &'static str| {
        let control = &control;
        async move {
            control
                .query_one(
                    "SELECT physical_name FROM table_registry WHERE workspace_id = $1 AND table_name = $2",
                    &[&ws, &name],
                )
                .await
                .unwrap()
                .get::<_, String>(0)
        }
    };
    let (physical_a, physical_b) = (physical("a").await, physical("b").await);

    // A name registered elsewhere: `b` is now called `c`.
    elsewhere(
        "UPDATE table_registry SET table_name = 'c' WHERE workspace_id = $1 AND table_name = 'b'",
    )
    .await;
    assert_eq!(
        t.query_ok("SELECT y FROM c").await["rows"],
        json!([{"y": "bee"}])
    );

    // `a` dropped elsewhere and its name given to the table that was `c`.
    elsewhere("DELETE FROM table_registry WHERE workspace_id = $1 AND table_name = 'a'").await;
    elsewhere(
        "UPDATE table_registry SET table_name = 'a' WHERE workspace_id = $1 AND table_name = 'c'",
    )
    .await;
    let superuser = support::workspace_superuser(&t.ws).await;
    superuser
        .batch_execute(&format!("DROP TABLE workspace_tables.\"{physical_a}\""))
        .await
        .unwrap();
    assert_eq!(
        t.query_ok("SELECT y FROM a").await["rows"],
        json!([{"y": "bee"}]),
        "the new `a`, not the dropped one"
    );
    let resp = t.query("SELECT y FROM c").await;
    assert_eq!(resp.status, 422, "{}", resp.body);
    assert_eq!(resp.body["error"]["code"], "table_not_allowed");

    // A registered table whose storage is gone: refused, and its physical name kept.
    superuser
        .batch_execute(&format!("DROP TABLE workspace_tables.\"{physical_b}\""))
        .await
        .unwrap();
    let resp = t.query("SELECT y FROM a").await;
    assert_eq!(resp.status, 422, "{}", resp.body);
    assert_eq!(resp.body["error"]["code"], "table_not_allowed");
    assert!(
        !resp.body.to_string().contains(&physical_b),
        "the physical name leaked: {}",
        resp.body
    );
}

/// Registering and removing a table announces the workspace's table names to every
/// replica (`tables:<workspace>` on the invalidation channel).
#[tokio::test]
async fn registering_and_dropping_a_table_announces_the_workspaces_names() {
    use futures::StreamExt;

    let t = Tables::new("query names message").await;
    let (client, mut connection) = tokio_postgres::connect(
        &support::shared_cluster().db_url("plinth_control"),
        tokio_postgres::NoTls,
    )
    .await
    .unwrap();
    let (sender, mut messages) = futures::channel::mpsc::unbounded();
    tokio::spawn(
        futures::stream::poll_fn(move |cx| connection.poll_message(cx))
            .map(|message| Ok(message.unwrap()))
            .forward(sender),
    );
    client
        .batch_execute("LISTEN plinth_invalidate")
        .await
        .unwrap();
    let expected = format!("tables:{}", t.ws.id);
    let id = t
        .create_ok(json!({
            "table_name": "announced",
            "columns": [{"name": "x", "type": "text"}],
        }))
        .await;
    assert!(
        announced(&mut messages, &expected).await,
        "no message on create"
    );
    let resp = t.api.delete(&format!("/v1/{}/tables/{id}", t.ws.id)).await;
    assert_eq!(resp.status, 204, "{}", resp.body);
    assert!(
        announced(&mut messages, &expected).await,
        "no message on drop"
    );
}

/// Whether `payload` arrives on the channel within 10 s.
async fn announced(
    messages: &mut futures::channel::mpsc::UnboundedReceiver<tokio_postgres::AsyncMessage>,
    payload: &str,
) -> bool {
    use futures::StreamExt;

    let wait = async {
        while let Some(message) = messages.next().await {
            if let tokio_postgres::AsyncMessage::Notification(n) = message {
                if n.payload() == payload {
                    return true;
                }
            }
        }
        false
    };
    tokio::time::timeout(std::time::Duration::from_secs(10), wait)
        .await
        .unwrap_or(false)
}

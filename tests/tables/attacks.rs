//! The scoped query's attack corpus: every statement is refused (422, or 400 from
//! the database) or harmless, and canaries prove nothing escaped: a secret in the
//! workspace's own `tenant_custom`, another workspace's table, and the workspace
//! table the attacks target all come out untouched, and no answer leaks a secret.

use serde_json::json;

use super::Tables;
use crate::support;

const SECRET: &str = "CANARY-7f3a";

async fn setup(t: &Tables, secret: &str) -> String {
    let id = t
        .create_ok(json!({
            "table_name": "notes",
            "columns": [{"name": "id", "type": "int"}, {"name": "body", "type": "text"}],
        }))
        .await;
    t.query_ok("INSERT INTO notes VALUES (1, 'one'), (2, 'two'), (3, 'three')")
        .await;
    let runtime = support::try_connect(&t.ws.reveal("runtime", false).await)
        .await
        .unwrap();
    runtime
        .batch_execute(&format!(
            "CREATE TABLE tenant_custom.canary (secret text);
             INSERT INTO tenant_custom.canary VALUES ('{secret}');"
        ))
        .await
        .unwrap();
    t.get(&id).await.body["physical_name"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// Statements that must not succeed. `{physical}` is the notes table's storage name.
const REFUSED: &[&str] = &[
    // stacked queries and comments hiding a second statement
    "SELECT * FROM notes; DROP TABLE notes",
    "SELECT * FROM notes; SELECT * FROM tenant_custom.canary",
    "SELECT 1 /* ; */ ; DELETE FROM notes",
    "SELECT 1 -- comment\n; DELETE FROM notes",
    "SELECT 1; -- hidden\nDROP TABLE notes",
    "SELECT 1 /* nested /* comment */ still */; DELETE FROM notes",
    "BEGIN; DELETE FROM notes; COMMIT",
    // catalogs and other schemas
    "SELECT * FROM pg_catalog.pg_authid",
    "SELECT * FROM pg_authid",
    "SELECT * FROM pg_shadow",
    "SELECT datname FROM pg_database",
    "SELECT rolname FROM pg_roles",
    "SELECT * FROM \"pg_catalog\".pg_class",
    "SELECT * FROM information_schema.tables",
    "SELECT table_name FROM information_schema.columns",
    "SELECT * FROM tenant_custom.canary",
    "SELECT * FROM canary",
    "SELECT * FROM workspace_tables.{physical}",
    "SELECT * FROM {physical}",
    "SELECT * FROM \"workspace_tables\".\"notes\"",
    "SELECT * FROM dl_meta.schema_state",
    "SELECT * FROM dl_resolved.people",
    "SELECT * FROM public.anything",
    "SELECT * FROM otherdb.workspace_tables.notes",
    "SELECT * FROM notes n JOIN pg_catalog.pg_namespace ns ON true",
    "SELECT (SELECT secret FROM tenant_custom.canary)",
    "SELECT id, body FROM notes UNION SELECT 1, secret FROM tenant_custom.canary",
    "SELECT * FROM notes WHERE id = (SELECT count(*) FROM pg_class)",
    "SELECT * FROM generate_series(1, 3) g, LATERAL (SELECT * FROM pg_authid) a",
    "SELECT * FROM unnest(ARRAY(SELECT secret FROM tenant_custom.canary))",
    "TABLE tenant_custom.canary",
    // writes outside the workspace's tables
    "INSERT INTO tenant_custom.canary VALUES ('x')",
    "UPDATE tenant_custom.canary SET secret = 'x'",
    "DELETE FROM tenant_custom.canary",
    "DELETE FROM notes USING tenant_custom.canary c",
    "UPDATE notes SET body = c.secret FROM tenant_custom.canary c",
    // dangerous functions
    "SELECT pg_sleep(10)",
    "SELECT pg_catalog.pg_sleep(10)",
    "SELECT pg_read_file('/etc/passwd')",
    "SELECT pg_ls_dir('.')",
    "SELECT lo_import('/etc/passwd')",
    "SELECT lo_get(1)",
    "SELECT dblink('dbname=postgres', 'select 1')",
    "SELECT set_config('role', 'postgres', false)",
    "SELECT current_setting('data_directory')",
    "SELECT pg_terminate_backend(1)",
    "SELECT version()",
    "SELECT txid_current()",
    "SELECT query_to_xml('select * from tenant_custom.canary', true, true, '')",
    "SELECT * FROM ROWS FROM (pg_sleep(1))",
    "SELECT 'pg_authid'::regclass",
    "SELECT 'tenant_custom.canary'::regclass::oid",
    "SELECT regclass 'pg_authid'",
    // commands
    "COPY notes TO '/tmp/plinth-attack'",
    "COPY (SELECT 1) TO PROGRAM 'id'",
    "DO $$ BEGIN DELETE FROM notes; END $$",
    "CALL some_procedure()",
    "SET ROLE postgres",
    "SET search_path = tenant_custom",
    "RESET ROLE",
    "SET SESSION AUTHORIZATION postgres",
    "PREPARE p AS SELECT 1",
    "EXPLAIN ANALYZE DELETE FROM notes",
    "LISTEN plinth_invalidate",
    "NOTIFY plinth_invalidate, 'all'",
    "LOCK TABLE notes",
    "SELECT * INTO stolen FROM notes",
    "CREATE TABLE evil AS SELECT 1",
    "DROP TABLE notes",
    "TRUNCATE notes",
    "ALTER TABLE notes ADD COLUMN x int",
    "GRANT ALL ON notes TO PUBLIC",
    // CTEs with writes, and CTE names aimed at the catalog
    "WITH d AS (DELETE FROM notes RETURNING *) SELECT * FROM d",
    "WITH x AS (INSERT INTO notes (body) VALUES ('x') RETURNING *) SELECT 1",
    "WITH x AS (SELECT * FROM tenant_custom.canary) SELECT * FROM x",
    "WITH pg_authid AS (SELECT 1) SELECT * FROM pg_authid",
    "WITH a AS (SELECT 1) DELETE FROM notes",
    // quoted-identifier tricks
    "SELECT * FROM \"NOTES\"",
    "SELECT * FROM \"notes\"\"; DROP TABLE notes; --\"",
    "SELECT * FROM \"notes \"",
    "SELECT * FROM U&\"\\0070\\0067_authid\"",
    "SELECT $1",
];

/// Statements that run but only touch the workspace's own data.
const HARMLESS: &[&str] = &[
    "SELECT * FROM notes WHERE body = '' OR 1=1; --'",
    "SELECT E'\\'; DELETE FROM notes; --'",
    "SELECT * FROM notes WHERE body = $$'; DROP TABLE notes; --$$",
    "SELECT 'pg_authid' AS name",
    "SELECT \"notes\".body FROM \"notes\" ORDER BY 1",
    "SELECT * FROM notes FOR UPDATE",
];

#[tokio::test]
async fn every_attack_is_refused_or_harmless_and_the_canaries_survive() {
    let t = Tables::new("query attacks").await;
    let physical = setup(&t, SECRET).await;
    let neighbour = Tables::new("query attacks neighbour").await;
    setup(&neighbour, "NEIGHBOUR-SECRET").await;
    assert!(REFUSED.len() + HARMLESS.len() >= 50);

    for template in REFUSED {
        let sql = template.replace("{physical}", &physical);
        let resp = t.query(&sql).await;
        assert!(
            resp.status == 422 || resp.status == 400,
            "not refused: {sql}\n{}",
            resp.body
        );
        assert!(
            !resp.body.to_string().contains(SECRET),
            "{sql} leaked: {}",
            resp.body
        );
        assert!(
            !resp.body.to_string().contains("NEIGHBOUR"),
            "{sql} leaked: {}",
            resp.body
        );
    }
    for sql in HARMLESS {
        let resp = t.query(sql).await;
        assert!([200, 400].contains(&resp.status), "{sql}: {}", resp.body);
        assert!(
            !resp.body.to_string().contains(SECRET),
            "{sql} leaked: {}",
            resp.body
        );
    }

    // Nothing escaped: the canaries and the targeted table are as they were.
    for (tables, secret) in [(&t, SECRET), (&neighbour, "NEIGHBOUR-SECRET")] {
        let runtime = support::try_connect(&tables.ws.reveal("runtime", false).await)
            .await
            .unwrap();
        let rows: Vec<String> = runtime
            .query("SELECT secret FROM tenant_custom.canary", &[])
            .await
            .unwrap()
            .iter()
            .map(|r| r.get(0))
            .collect();
        assert_eq!(rows, [secret]);
        let notes = tables
            .query_ok("SELECT id, body FROM notes ORDER BY id")
            .await;
        assert_eq!(
            notes["rows"],
            json!([{"id": 1, "body": "one"}, {"id": 2, "body": "two"}, {"id": 3, "body": "three"}])
        );
        let live = tables
            .api
            .get(&format!("/v1/{}/tables", tables.ws.id))
            .await;
        assert_eq!(live.body["items"].as_array().unwrap().len(), 1);
    }
    assert!(!std::path::Path::new("/tmp/plinth-attack").exists());
}

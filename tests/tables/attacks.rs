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

/// Statements that must be refused, each with the code it is refused with (always a
/// 422: the guard or the plan check refuses before PostgreSQL runs anything).
/// `{physical}` is the notes table's storage name.
const REFUSED: &[(&str, &str)] = &[
    // stacked queries and comments hiding a second statement
    (
        "SELECT * FROM notes; DROP TABLE notes",
        "statement_not_allowed",
    ),
    (
        "SELECT * FROM notes; SELECT * FROM tenant_custom.canary",
        "statement_not_allowed",
    ),
    (
        "SELECT 1 /* ; */ ; DELETE FROM notes",
        "statement_not_allowed",
    ),
    (
        "SELECT 1 -- comment\n; DELETE FROM notes",
        "statement_not_allowed",
    ),
    (
        "SELECT 1; -- hidden\nDROP TABLE notes",
        "statement_not_allowed",
    ),
    (
        "SELECT 1 /* nested /* comment */ still */; DELETE FROM notes",
        "statement_not_allowed",
    ),
    ("BEGIN; DELETE FROM notes; COMMIT", "statement_not_allowed"),
    // catalogs and other schemas
    ("SELECT * FROM pg_catalog.pg_authid", "table_not_allowed"),
    ("SELECT * FROM pg_authid", "table_not_allowed"),
    ("SELECT * FROM pg_shadow", "table_not_allowed"),
    ("SELECT datname FROM pg_database", "table_not_allowed"),
    ("SELECT rolname FROM pg_roles", "table_not_allowed"),
    ("SELECT * FROM \"pg_catalog\".pg_class", "table_not_allowed"),
    (
        "SELECT * FROM information_schema.tables",
        "table_not_allowed",
    ),
    (
        "SELECT table_name FROM information_schema.columns",
        "table_not_allowed",
    ),
    ("SELECT * FROM tenant_custom.canary", "table_not_allowed"),
    ("SELECT * FROM canary", "table_not_allowed"),
    (
        "SELECT * FROM workspace_tables.{physical}",
        "table_not_allowed",
    ),
    ("SELECT * FROM {physical}", "table_not_allowed"),
    (
        "SELECT * FROM \"workspace_tables\".\"notes\"",
        "table_not_allowed",
    ),
    ("SELECT * FROM dl_meta.schema_state", "table_not_allowed"),
    ("SELECT * FROM dl_resolved.people", "table_not_allowed"),
    ("SELECT * FROM public.anything", "table_not_allowed"),
    (
        "SELECT * FROM otherdb.workspace_tables.notes",
        "table_not_allowed",
    ),
    (
        "SELECT * FROM notes n JOIN pg_catalog.pg_namespace ns ON true",
        "table_not_allowed",
    ),
    (
        "SELECT (SELECT secret FROM tenant_custom.canary)",
        "table_not_allowed",
    ),
    (
        "SELECT id, body FROM notes UNION SELECT 1, secret FROM tenant_custom.canary",
        "table_not_allowed",
    ),
    (
        "SELECT * FROM notes WHERE id = (SELECT count(*) FROM pg_class)",
        "table_not_allowed",
    ),
    (
        "SELECT * FROM generate_series(1, 3) g, LATERAL (SELECT * FROM pg_authid) a",
        "table_not_allowed",
    ),
    (
        "SELECT * FROM unnest(ARRAY(SELECT secret FROM tenant_custom.canary))",
        "table_not_allowed",
    ),
    ("TABLE tenant_custom.canary", "invalid_sql"),
    // writes outside the workspace's tables
    (
        "INSERT INTO tenant_custom.canary VALUES ('x')",
        "table_not_allowed",
    ),
    (
        "UPDATE tenant_custom.canary SET secret = 'x'",
        "table_not_allowed",
    ),
    ("DELETE FROM tenant_custom.canary", "table_not_allowed"),
    (
        "DELETE FROM notes USING tenant_custom.canary c",
        "table_not_allowed",
    ),
    (
        "UPDATE notes SET body = c.secret FROM tenant_custom.canary c",
        "table_not_allowed",
    ),
    // dangerous functions
    ("SELECT pg_sleep(10)", "function_not_allowed"),
    ("SELECT pg_catalog.pg_sleep(10)", "function_not_allowed"),
    ("SELECT pg_read_file('/etc/passwd')", "function_not_allowed"),
    ("SELECT pg_ls_dir('.')", "function_not_allowed"),
    ("SELECT lo_import('/etc/passwd')", "function_not_allowed"),
    ("SELECT lo_get(1)", "function_not_allowed"),
    (
        "SELECT dblink('dbname=postgres', 'select 1')",
        "function_not_allowed",
    ),
    (
        "SELECT set_config('role', 'postgres', false)",
        "function_not_allowed",
    ),
    (
        "SELECT current_setting('data_directory')",
        "function_not_allowed",
    ),
    ("SELECT pg_terminate_backend(1)", "function_not_allowed"),
    ("SELECT version()", "function_not_allowed"),
    ("SELECT txid_current()", "function_not_allowed"),
    (
        "SELECT query_to_xml('select * from tenant_custom.canary', true, true, '')",
        "function_not_allowed",
    ),
    ("SELECT * FROM ROWS FROM (pg_sleep(1))", "invalid_sql"),
    ("SELECT 'pg_authid'::regclass", "type_not_allowed"),
    (
        "SELECT 'tenant_custom.canary'::regclass::oid",
        "type_not_allowed",
    ),
    ("SELECT regclass 'pg_authid'", "type_not_allowed"),
    // commands
    (
        "COPY notes TO '/tmp/plinth-attack'",
        "statement_not_allowed",
    ),
    ("COPY (SELECT 1) TO PROGRAM 'id'", "statement_not_allowed"),
    ("DO $$ BEGIN DELETE FROM notes; END $$", "invalid_sql"),
    ("CALL some_procedure()", "statement_not_allowed"),
    ("SET ROLE postgres", "statement_not_allowed"),
    ("SET search_path = tenant_custom", "statement_not_allowed"),
    ("RESET ROLE", "invalid_sql"),
    ("SET SESSION AUTHORIZATION postgres", "invalid_sql"),
    ("PREPARE p AS SELECT 1", "statement_not_allowed"),
    ("EXPLAIN ANALYZE DELETE FROM notes", "statement_not_allowed"),
    ("LISTEN plinth_invalidate", "statement_not_allowed"),
    ("NOTIFY plinth_invalidate, 'all'", "statement_not_allowed"),
    ("LOCK TABLE notes", "invalid_sql"),
    ("SELECT * INTO stolen FROM notes", "statement_not_allowed"),
    ("CREATE TABLE evil AS SELECT 1", "statement_not_allowed"),
    ("DROP TABLE notes", "statement_not_allowed"),
    ("TRUNCATE notes", "statement_not_allowed"),
    (
        "ALTER TABLE notes ADD COLUMN x int",
        "statement_not_allowed",
    ),
    ("GRANT ALL ON notes TO PUBLIC", "statement_not_allowed"),
    // CTEs with writes, and CTE names aimed at the catalog
    (
        "WITH d AS (DELETE FROM notes RETURNING *) SELECT * FROM d",
        "statement_not_allowed",
    ),
    (
        "WITH x AS (INSERT INTO notes (body) VALUES ('x') RETURNING *) SELECT 1",
        "statement_not_allowed",
    ),
    (
        "WITH x AS (SELECT * FROM tenant_custom.canary) SELECT * FROM x",
        "table_not_allowed",
    ),
    (
        "WITH pg_authid AS (SELECT 1) SELECT * FROM pg_authid",
        "construct_not_allowed",
    ),
    (
        "WITH a AS (SELECT 1) DELETE FROM notes",
        "statement_not_allowed",
    ),
    // quoted-identifier tricks
    ("SELECT * FROM \"NOTES\"", "table_not_allowed"),
    (
        "SELECT * FROM \"notes\"\"; DROP TABLE notes; --\"",
        "table_not_allowed",
    ),
    ("SELECT * FROM \"notes \"", "table_not_allowed"),
    ("SELECT * FROM U&\"\\0070\\0067_authid\"", "invalid_sql"),
    ("SELECT $1", "construct_not_allowed"),
    // OID-alias types however they are spelt, and types outside the allow-list
    ("SELECT CAST(10 AS \"regrole\")::text", "type_not_allowed"),
    ("SELECT '{10}'::\"regrole\"[]::text", "type_not_allowed"),
    (
        "SELECT format('%s', 10::oid::\"regrole\")",
        "type_not_allowed",
    ),
    (
        "SELECT r::text FROM json_to_record('{\"r\":\"postgres\"}') AS t(r regrole)",
        "type_not_allowed",
    ),
    (
        "SELECT CAST(g AS regrole)::text FROM generate_series(1, 20000) g",
        "type_not_allowed",
    ),
    ("SELECT 10::REGROLE::text", "type_not_allowed"),
    ("SELECT 10::RegRole::text", "type_not_allowed"),
    ("SELECT 10::pg_catalog.regrole::text", "type_not_allowed"),
    (
        "SELECT 10::\"pg_catalog\".\"regrole\"::text",
        "type_not_allowed",
    ),
    ("SELECT '{10}'::_regrole::text", "type_not_allowed"),
    ("SELECT '{10}'::\"_regrole\"::text", "type_not_allowed"),
    ("SELECT 10::/* hidden */regrole::text", "type_not_allowed"),
    ("SELECT 10::\nregrole::text", "type_not_allowed"),
    ("SELECT 10 :: regrole :: text", "type_not_allowed"),
    ("SELECT regrole '10'", "type_not_allowed"),
    ("SELECT 'postgres'::regrole::oid", "type_not_allowed"),
    ("SELECT 'pg_catalog'::regnamespace::oid", "type_not_allowed"),
    ("SELECT 'pg_authid'::regclass::oid", "type_not_allowed"),
    ("SELECT 'now'::regproc", "type_not_allowed"),
    ("SELECT 'int4'::regtype::text", "type_not_allowed"),
    ("SELECT 'english'::regconfig", "type_not_allowed"),
    ("SELECT 'simple'::regdictionary", "type_not_allowed"),
    ("SELECT '+'::regoper", "type_not_allowed"),
    ("SELECT '+(int,int)'::regoperator", "type_not_allowed"),
    ("SELECT 'now()'::regprocedure", "type_not_allowed"),
    ("SELECT 'C'::regcollation", "type_not_allowed"),
    ("SELECT ARRAY[10]::regrole[]::text", "type_not_allowed"),
    (
        "SELECT x FROM unnest('{10}'::regrole[]) x",
        "type_not_allowed",
    ),
    (
        "SELECT * FROM notes WHERE id = 10::regrole::oid::int",
        "type_not_allowed",
    ),
    ("SELECT (SELECT 10::regrole)::text", "type_not_allowed"),
    (
        "WITH r AS (SELECT 10::regrole AS x) SELECT x::text FROM r",
        "type_not_allowed",
    ),
    ("SELECT 10::oid", "type_not_allowed"),
    ("SELECT 'x'::pg_lsn", "type_not_allowed"),
    ("SELECT 'x'::xid", "type_not_allowed"),
    ("SELECT 'x'::aclitem", "type_not_allowed"),
    ("SELECT 'x'::name", "type_not_allowed"),
    ("SELECT 'x'::pg_node_tree", "type_not_allowed"),
    ("SELECT NULL::record", "type_not_allowed"),
    ("SELECT NULL::pg_authid", "type_not_allowed"),
    ("SELECT NULL::tenant_custom.canary", "type_not_allowed"),
    (
        "SELECT * FROM json_to_record('{}') AS t(a pg_authid)",
        "type_not_allowed",
    ),
    (
        "SELECT * FROM json_to_record('{}') AS t(a oid)",
        "type_not_allowed",
    ),
    // functions however they are spelt
    ("SELECT PG_SLEEP(1)", "function_not_allowed"),
    ("SELECT \"pg_sleep\"(1)", "function_not_allowed"),
    ("SELECT pg_catalog.\"pg_sleep\"(1)", "function_not_allowed"),
    (
        "SELECT /* x */ pg_sleep /* y */ (1)",
        "function_not_allowed",
    ),
    ("SELECT current_user", "function_not_allowed"),
    ("SELECT session_user", "function_not_allowed"),
    ("SELECT to_regrole('postgres')", "function_not_allowed"),
    ("SELECT to_regclass('pg_authid')", "function_not_allowed"),
    ("SELECT pg_get_userbyid(10)", "function_not_allowed"),
    (
        "SELECT has_database_privilege('postgres', 'CONNECT')",
        "function_not_allowed",
    ),
    ("SELECT pg_typeof(1)", "function_not_allowed"),
    ("SELECT format_type(20, NULL)", "function_not_allowed"),
    ("SELECT obj_description(1)", "function_not_allowed"),
    ("SELECT inet_server_addr()", "function_not_allowed"),
    ("SELECT pg_backend_pid()", "function_not_allowed"),
    ("SELECT current_database()", "function_not_allowed"),
    ("SELECT pg_stat_get_activity(NULL)", "function_not_allowed"),
    ("SELECT * FROM pg_stat_activity", "table_not_allowed"),
    ("SELECT * FROM pg_settings", "table_not_allowed"),
    ("SELECT * FROM pg_user", "table_not_allowed"),
    ("SELECT * FROM dl_meta.table_changes", "table_not_allowed"),
    (
        "SELECT dl_meta.authorized_row(true, 'x')",
        "function_not_allowed",
    ),
    ("SELECT nextval('x')", "function_not_allowed"),
    ("SELECT setval('x', 1)", "function_not_allowed"),
    ("SELECT lo_from_bytea(0, 'x')", "function_not_allowed"),
    ("SELECT convert_from('x', 'UTF8')", "function_not_allowed"),
    (
        "SELECT * FROM dblink('dbname=postgres', 'select 1') AS t(a int)",
        "function_not_allowed",
    ),
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
    assert!(REFUSED.len() >= 150);

    for (template, code) in REFUSED {
        let sql = template.replace("{physical}", &physical);
        let resp = t.query(&sql).await;
        assert_eq!(
            (resp.status, resp.code()),
            (422, *code),
            "{sql}\n{}",
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

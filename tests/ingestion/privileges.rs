//! The seed's privilege matrix, case by case, with the revealed URIs.

use crate::support::{self, db_message, Workspace};

/// The seed's upsert into `dl_override.person_overrides`, verbatim.
pub const SEED_UPSERT: &str = "INSERT INTO dl_override.person_overrides (
  identity_key,
  status,
  identity_payload_patch,
  raw_payload_patch,
  tombstoned,
  updated_at
) VALUES (
  $1, $2, $3::jsonb, $4::jsonb, false, now()
)
ON CONFLICT (identity_key) DO UPDATE
SET status = EXCLUDED.status,
    identity_payload_patch = EXCLUDED.identity_payload_patch,
    raw_payload_patch = EXCLUDED.raw_payload_patch,
    tombstoned = false,
    updated_at = now();";

async fn refused(client: &tokio_postgres::Client, sql: &str) -> String {
    match client.batch_execute(sql).await {
        Ok(()) => panic!("`{sql}` was allowed"),
        Err(e) => db_message(&e),
    }
}

#[tokio::test]
async fn the_read_role_reads_the_resolved_views_and_nothing_else() {
    let server = support::shared();
    let ws = Workspace::provisioned(server, "read role").await;
    let read = support::try_connect(&ws.reveal("read", false).await)
        .await
        .unwrap();
    read.batch_execute("SELECT * FROM dl_resolved.people; SELECT * FROM dl_resolved.companies;")
        .await
        .unwrap();
    for sql in [
        "SELECT * FROM dl_cache.person_enrichments",
        "SELECT * FROM dl_override.person_overrides",
        "SELECT * FROM dl_meta.tenant_settings",
        "INSERT INTO dl_override.person_overrides (identity_key) VALUES ('x')",
        "CREATE TABLE tenant_custom.nope (id int)",
        "CREATE TABLE public.nope (id int)",
    ] {
        let message = refused(&read, sql).await;
        assert!(message.contains("permission denied"), "{sql}: {message}");
    }
}

#[tokio::test]
async fn the_runtime_role_writes_overrides_with_the_seed_upsert_and_owns_tenant_custom() {
    let server = support::shared();
    let ws = Workspace::provisioned(server, "runtime role").await;
    let runtime = support::try_connect(&ws.reveal("runtime", false).await)
        .await
        .unwrap();
    for status in ["active", "inactive"] {
        runtime
            .execute(
                SEED_UPSERT,
                &[
                    &"person:1",
                    &status,
                    &serde_json::from_str::<serde_json::Value>(r#"{"title":"CTO"}"#).unwrap(),
                    &serde_json::json!({}),
                ],
            )
            .await
            .unwrap();
    }
    let row = runtime
        .query_one(
            "SELECT status FROM dl_override.person_overrides WHERE identity_key = 'person:1'",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(row.get::<_, String>(0), "inactive");
    runtime
        .batch_execute(
            "CREATE TABLE IF NOT EXISTS tenant_custom.account_segments (
               id text PRIMARY KEY,
               segment text NOT NULL,
               created_at timestamptz NOT NULL DEFAULT now()
             );
             INSERT INTO tenant_custom.account_segments (id, segment) VALUES ('a', 'smb');
             UPDATE tenant_custom.account_segments SET segment = 'ent';
             CREATE INDEX ON tenant_custom.account_segments (segment);
             ALTER TABLE tenant_custom.account_segments ADD COLUMN note text;
             DELETE FROM tenant_custom.account_segments;
             DROP TABLE tenant_custom.account_segments;",
        )
        .await
        .unwrap();
    runtime
        .batch_execute("SELECT * FROM dl_resolved.people")
        .await
        .unwrap();
    for sql in [
        "INSERT INTO dl_cache.person_enrichments (identity_key) VALUES ('x')",
        "UPDATE dl_cache.company_enrichments SET status = 'x'",
        "DELETE FROM dl_cache.person_enrichments",
        "CREATE TABLE dl_resolved.nope (id int)",
        "CREATE TABLE public.nope (id int)",
        "DROP VIEW dl_resolved.people",
    ] {
        let message = refused(&runtime, sql).await;
        assert!(
            message.contains("permission denied") || message.contains("must be owner"),
            "{sql}: {message}"
        );
    }
}

#[tokio::test]
async fn neither_role_connects_to_another_workspaces_database_or_the_control_database() {
    let server = support::shared();
    let mine = Workspace::provisioned(server, "mine").await;
    let theirs = Workspace::provisioned(server, "theirs").await;
    let their_db = theirs.database();
    for kind in ["read", "runtime"] {
        let uri = mine.reveal(kind, false).await;
        let base = uri.split('?').next().unwrap();
        let (prefix, _) = base.rsplit_once('/').unwrap();
        for db in [their_db.as_str(), "plinth_control"] {
            let err = support::try_connect(&format!("{prefix}/{db}"))
                .await
                .err()
                .unwrap_or_else(|| panic!("{kind} connected to {db}"));
            assert!(err.contains("permission denied"), "{kind} -> {db}: {err}");
        }
    }
}

#[tokio::test]
async fn psql_connects_with_a_revealed_uri() {
    let server = support::shared();
    let ws = Workspace::provisioned(server, "psql").await;
    let uri = ws.reveal("read", false).await;
    let out = std::process::Command::new("psql")
        .arg(&uri)
        .args([
            "-At",
            "-c",
            "SELECT current_user || ' ' || current_database()",
        ])
        .output()
        .expect("psql is installed");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    let simple = ws.id.replace('-', "");
    assert_eq!(text.trim(), format!("ws_{simple}_read ws_{simple}"));
}

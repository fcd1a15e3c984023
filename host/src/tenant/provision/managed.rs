//! The managed schemas of a workspace database, versioned in
//! `dl_meta.schema_migrations` and upgraded by the host.

use tokio_postgres::Client;

/// The managed-schema migrations in order; a released version is never edited.
const MIGRATIONS: &[(i32, &str, &str)] = &[
    (
        1,
        "managed_schemas",
        include_str!("managed/0001_managed_schemas.sql"),
    ),
    (
        2,
        "schema_version_constant",
        include_str!("managed/0002_schema_version_constant.sql"),
    ),
    (
        3,
        "table_changes",
        include_str!("managed/0003_table_changes.sql"),
    ),
    (
        4,
        "authorized_row",
        include_str!("managed/0004_authorized_row.sql"),
    ),
];

/// The newest managed-schema version; templates are named after it.
pub const LATEST: i32 = 4;

/// Advisory-lock key serialising managed-schema upgrades of one database ("plinthms").
const UPGRADE_LOCK: i64 = 0x706c_696e_7468_6d73;

/// Applies every migration the database lacks, each in its own transaction, under an
/// advisory lock so that replicas upgrading at once take turns. Returns the versions
/// applied.
pub async fn upgrade(client: &Client) -> Result<Vec<i32>, tokio_postgres::Error> {
    client
        .execute("SELECT pg_advisory_lock($1)", &[&UPGRADE_LOCK])
        .await?;
    let outcome = upgrade_locked(client).await;
    client
        .execute("SELECT pg_advisory_unlock($1)", &[&UPGRADE_LOCK])
        .await?;
    outcome
}

async fn upgrade_locked(client: &Client) -> Result<Vec<i32>, tokio_postgres::Error> {
    client
        .batch_execute(
            "CREATE SCHEMA IF NOT EXISTS dl_meta;
             CREATE TABLE IF NOT EXISTS dl_meta.schema_migrations (
                 version    integer PRIMARY KEY,
                 name       text NOT NULL,
                 applied_at timestamptz NOT NULL DEFAULT now()
             );",
        )
        .await?;
    let applied: Vec<i32> = client
        .query("SELECT version FROM dl_meta.schema_migrations", &[])
        .await?
        .iter()
        .map(|row| row.get(0))
        .collect();
    let mut done = Vec::new();
    for (version, name, sql) in MIGRATIONS {
        if applied.contains(version) {
            continue;
        }
        client.batch_execute("BEGIN").await?;
        let step = async {
            client.batch_execute(sql).await?;
            client
                .execute(
                    "INSERT INTO dl_meta.schema_migrations (version, name) VALUES ($1, $2)",
                    &[version, name],
                )
                .await
        }
        .await;
        match step {
            Ok(_) => client.batch_execute("COMMIT").await?,
            Err(error) => {
                let _ = client.batch_execute("ROLLBACK").await;
                return Err(error);
            }
        }
        done.push(*version);
    }
    Ok(done)
}

/// Installs the event trigger that bumps `dl_meta.schema_state` on every DDL command,
/// when the administrator is a superuser (event triggers need one). Without it the
/// Data API's schema cache refreshes on its timer only.
pub async fn install_event_trigger(client: &Client) -> Result<bool, tokio_postgres::Error> {
    let superuser: bool = client
        .query_one(
            "SELECT rolsuper FROM pg_roles WHERE rolname = current_user",
            &[],
        )
        .await?
        .get(0);
    if !superuser {
        return Ok(false);
    }
    let exists = client
        .query_opt(
            "SELECT 1 FROM pg_event_trigger WHERE evtname = 'plinth_schema_changed'",
            &[],
        )
        .await?
        .is_some();
    if !exists {
        client
            .batch_execute(
                "CREATE EVENT TRIGGER plinth_schema_changed ON ddl_command_end
                 EXECUTE FUNCTION dl_meta.bump_schema_version()",
            )
            .await?;
    }
    Ok(true)
}

//! Versioned migrations of the control database, embedded in the binary and applied
//! at start under an advisory lock, so that replicas starting together agree.

use tokio_postgres::Client;

use crate::cluster::Cluster;

use super::ControlError;

/// The control database's name.
pub const CONTROL_DB: &str = "plinth_control";

/// Advisory-lock key serialising control-database creation and migration
/// (ASCII "plinthcd").
const MIGRATION_LOCK: i64 = 0x706c_696e_7468_6364;

/// The migrations in order; a version is never edited once released.
const MIGRATIONS: &[(i32, &str, &str)] = &[
    (1, "core", include_str!("migrations/0001_core.sql")),
    (
        2,
        "workspace_roles",
        include_str!("migrations/0002_workspace_roles.sql"),
    ),
    (3, "plugins", include_str!("migrations/0003_plugins.sql")),
    (
        4,
        "tables_and_idempotency",
        include_str!("migrations/0004_tables_and_idempotency.sql"),
    ),
    (5, "replicas", include_str!("migrations/0005_replicas.sql")),
    (
        6,
        "registry_updated_at",
        include_str!("migrations/0006_registry_updated_at.sql"),
    ),
    (7, "vault", include_str!("migrations/0007_vault.sql")),
    (
        8,
        "vault_invalidation",
        include_str!("migrations/0008_vault_invalidation.sql"),
    ),
    (
        9,
        "table_names_invalidation",
        include_str!("migrations/0009_table_names_invalidation.sql"),
    ),
];

/// Creates `plinth_control` if needed and brings it to the newest version.
pub async fn prepare(cluster: &Cluster) -> Result<(), ControlError> {
    let maintenance = cluster.connect_admin(cluster.maintenance_db()).await?;
    maintenance
        .execute("SELECT pg_advisory_lock($1)", &[&MIGRATION_LOCK])
        .await?;
    let exists = maintenance
        .query_opt(
            "SELECT 1 FROM pg_database WHERE datname = $1",
            &[&CONTROL_DB],
        )
        .await?
        .is_some();
    if !exists {
        tracing::info!("creating the control database {CONTROL_DB}");
        maintenance
            .batch_execute(&format!("CREATE DATABASE {CONTROL_DB}"))
            .await?;
        // Workspace roles must not even connect to the control database.
        maintenance
            .batch_execute(&format!("REVOKE ALL ON DATABASE {CONTROL_DB} FROM PUBLIC"))
            .await?;
    }
    let control = cluster.connect_admin(CONTROL_DB).await?;
    let applied = migrate(&control).await;
    maintenance
        .execute("SELECT pg_advisory_unlock($1)", &[&MIGRATION_LOCK])
        .await?;
    applied
}

async fn migrate(client: &Client) -> Result<(), ControlError> {
    client
        .batch_execute(
            "CREATE TABLE IF NOT EXISTS plinth_migrations (
                 version    integer PRIMARY KEY,
                 name       text NOT NULL,
                 applied_at timestamptz NOT NULL DEFAULT now()
             )",
        )
        .await?;
    let done: Vec<i32> = client
        .query("SELECT version FROM plinth_migrations", &[])
        .await?
        .iter()
        .map(|row| row.get(0))
        .collect();
    for (version, name, sql) in MIGRATIONS {
        if done.contains(version) {
            continue;
        }
        tracing::info!(version, name, "applying control-database migration");
        client.batch_execute("BEGIN").await?;
        let result = async {
            client.batch_execute(sql).await?;
            client
                .execute(
                    "INSERT INTO plinth_migrations (version, name) VALUES ($1, $2)",
                    &[version, name],
                )
                .await
        }
        .await;
        match result {
            Ok(_) => client.batch_execute("COMMIT").await?,
            Err(error) => {
                let _ = client.batch_execute("ROLLBACK").await;
                return Err(ControlError::Migration {
                    version: *version,
                    message: error.to_string(),
                });
            }
        }
    }
    Ok(())
}

/// In the embedded cluster, which Plinth alone administers, no role connects to the
/// maintenance databases unless granted: workspace roles reach their own database only.
pub async fn harden_embedded(cluster: &Cluster) -> Result<(), ControlError> {
    let client = cluster.connect_admin(cluster.maintenance_db()).await?;
    client
        .batch_execute(
            "REVOKE CONNECT, TEMPORARY ON DATABASE postgres FROM PUBLIC;
             REVOKE CONNECT, TEMPORARY ON DATABASE template1 FROM PUBLIC;",
        )
        .await?;
    Ok(())
}

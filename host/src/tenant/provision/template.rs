//! The template database every workspace database is cloned from, built once per
//! managed-schema version so that provisioning is a fast `CREATE DATABASE ... TEMPLATE`.

use std::time::Duration;

use tokio_postgres::Client;

use crate::cluster::Cluster;
use crate::sql::quote_ident;

use super::{managed, roles, ProvisionError};

/// Advisory-lock key serialising template builds and group-role creation ("plinthtp").
const TEMPLATE_LOCK: i64 = 0x706c_696e_7468_7470;

/// What every template database's name starts with; the version number follows.
const PREFIX: &str = "plinth_template_v";
/// The suffix of a template while it is being built.
const BUILDING: &str = "_building";

/// The template of the current managed-schema version.
pub fn name() -> String {
    format!("{PREFIX}{}", managed::LATEST)
}

/// Makes sure the current template (and the group roles it grants to) exists.
pub async fn ensure(cluster: &Cluster, maintenance: &Client) -> Result<String, ProvisionError> {
    let template = name();
    if database_exists(maintenance, &template).await? {
        return Ok(template);
    }
    maintenance
        .execute("SELECT pg_advisory_lock($1)", &[&TEMPLATE_LOCK])
        .await?;
    let built = build(cluster, maintenance, &template).await;
    maintenance
        .execute("SELECT pg_advisory_unlock($1)", &[&TEMPLATE_LOCK])
        .await?;
    built.map(|()| template)
}

async fn build(
    cluster: &Cluster,
    maintenance: &Client,
    template: &str,
) -> Result<(), ProvisionError> {
    if database_exists(maintenance, template).await? {
        return Ok(());
    }
    roles::ensure_group_roles(maintenance).await?;
    tracing::info!(template, "building the workspace template database");
    let building = format!("{template}{BUILDING}");
    maintenance
        .batch_execute(&format!(
            "DROP DATABASE IF EXISTS {}",
            quote_ident(&building)
        ))
        .await?;
    maintenance
        .batch_execute(&format!("CREATE DATABASE {}", quote_ident(&building)))
        .await?;
    maintenance
        .batch_execute(&format!(
            "REVOKE ALL ON DATABASE {} FROM PUBLIC",
            quote_ident(&building)
        ))
        .await?;
    {
        let client = cluster.connect_admin(&building).await?;
        managed::upgrade(&client).await?;
        managed::install_event_trigger(&client).await?;
    }
    // The template's own session must be gone before it can be renamed or cloned.
    let rename = format!(
        "ALTER DATABASE {} RENAME TO {}",
        quote_ident(&building),
        quote_ident(template)
    );
    retry_while_in_use(maintenance, &rename).await?;
    drop_outdated(maintenance).await;
    Ok(())
}

/// The managed-schema version a template database of this name was built for,
/// finished or still `_building`.
fn template_version(database: &str) -> Option<i32> {
    let rest = database.strip_prefix(PREFIX)?;
    let digits = rest.strip_suffix(BUILDING).unwrap_or(rest);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// Drops the templates of earlier managed-schema versions, once the current one is
/// built: no workspace is cloned from them any more. Best effort: a template an older
/// replica is cloning right now is in use and stays (that replica rebuilds it if it
/// must); newer versions' templates belong to newer replicas and are kept.
async fn drop_outdated(maintenance: &Client) {
    let rows = match maintenance
        .query(
            "SELECT datname::text FROM pg_database WHERE starts_with(datname, $1)",
            &[&PREFIX],
        )
        .await
    {
        Ok(rows) => rows,
        Err(error) => {
            tracing::warn!(%error, "cannot list outdated template databases");
            return;
        }
    };
    for row in rows {
        let database: String = row.get(0);
        if template_version(&database).is_none_or(|v| v >= managed::LATEST) {
            continue;
        }
        let drop = format!("DROP DATABASE IF EXISTS {}", quote_ident(&database));
        match maintenance.batch_execute(&drop).await {
            Ok(()) => tracing::info!(template = database, "dropped an outdated template database"),
            Err(error) => {
                tracing::warn!(template = database, %error, "cannot drop an outdated template database yet")
            }
        }
    }
}

/// True when a database of this name exists.
pub async fn database_exists(client: &Client, name: &str) -> Result<bool, tokio_postgres::Error> {
    Ok(client
        .query_opt("SELECT 1 FROM pg_database WHERE datname = $1", &[&name])
        .await?
        .is_some())
}

/// Runs a statement, retrying while it fails with "database is being accessed by
/// other users" (SQLSTATE 55006) as a just-closed session finishes leaving.
pub async fn retry_while_in_use(client: &Client, sql: &str) -> Result<(), tokio_postgres::Error> {
    let mut attempts = 0;
    loop {
        match client.batch_execute(sql).await {
            Err(e)
                if attempts < 100
                    && e.code() == Some(&tokio_postgres::error::SqlState::OBJECT_IN_USE) =>
            {
                attempts += 1;
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            other => return other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn template_names_carry_their_version() {
        assert_eq!(template_version("plinth_template_v1"), Some(1));
        assert_eq!(template_version("plinth_template_v12_building"), Some(12));
        assert_eq!(template_version(&name()), Some(managed::LATEST));
        for other in [
            "plinth_template_v",
            "plinth_template_v_building",
            "plinth_template_v1x",
            "plinth_template_v+1",
            "plinth_control",
            "ws_plinth_template_v1",
        ] {
            assert_eq!(template_version(other), None, "{other}");
        }
    }
}

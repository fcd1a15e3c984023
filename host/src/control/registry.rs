//! The Workspace Tables registry: each table's workspace-facing name and its
//! platform-assigned physical name in the `workspace_tables` schema.

use chrono::{DateTime, Utc};
use serde::Serialize;
use tokio_postgres::Row;
use uuid::Uuid;

use super::{ControlDb, ControlError};

/// A registry entry.
#[derive(Debug, Clone, Serialize)]
pub struct TableEntry {
    /// Registry id.
    pub id: Uuid,
    /// Owning workspace.
    pub workspace_id: Uuid,
    /// Workspace-facing name.
    pub table_name: String,
    /// Platform-assigned storage name.
    pub physical_name: String,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Last change of its definition through Plinth.
    pub updated_at: DateTime<Utc>,
}

const COLUMNS: &str = "id, workspace_id, table_name, physical_name, created_at, updated_at";

impl TableEntry {
    fn from_row(row: &Row) -> Self {
        Self {
            id: row.get(0),
            workspace_id: row.get(1),
            table_name: row.get(2),
            physical_name: row.get(3),
            created_at: row.get(4),
            updated_at: row.get(5),
        }
    }
}

impl ControlDb {
    /// Every table of a workspace, newest first.
    pub async fn tables(&self, workspace: Uuid) -> Result<Vec<TableEntry>, ControlError> {
        let client = self.client().await?;
        let statement = client
            .prepare_cached(&format!(
                "SELECT {COLUMNS} FROM table_registry WHERE workspace_id = $1
                 ORDER BY created_at DESC, id"
            ))
            .await?;
        Ok(client
            .query(&statement, &[&workspace])
            .await?
            .iter()
            .map(TableEntry::from_row)
            .collect())
    }

    /// One table by registry id.
    pub async fn table(
        &self,
        workspace: Uuid,
        id: Uuid,
    ) -> Result<Option<TableEntry>, ControlError> {
        let client = self.client().await?;
        Ok(client
            .query_opt(
                &format!(
                    "SELECT {COLUMNS} FROM table_registry WHERE workspace_id = $1 AND id = $2"
                ),
                &[&workspace, &id],
            )
            .await?
            .map(|row| TableEntry::from_row(&row)))
    }
}

/// Statements on the registry that must share a transaction with other work.
pub mod tx {
    use super::*;

    /// Registers a table; `Ok(None)` when the name is taken.
    pub async fn insert(
        client: &impl deadpool_postgres::GenericClient,
        workspace: Uuid,
        table_name: &str,
        physical_name: &str,
    ) -> Result<Option<TableEntry>, tokio_postgres::Error> {
        Ok(client
            .query_opt(
                &format!(
                    "INSERT INTO table_registry (id, workspace_id, table_name, physical_name)
                     VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING RETURNING {COLUMNS}"
                ),
                &[&Uuid::new_v4(), &workspace, &table_name, &physical_name],
            )
            .await?
            .map(|row| TableEntry::from_row(&row)))
    }

    /// Records that a table's definition changed.
    pub async fn touch(
        client: &impl deadpool_postgres::GenericClient,
        workspace: Uuid,
        id: Uuid,
    ) -> Result<Option<TableEntry>, tokio_postgres::Error> {
        Ok(client
            .query_opt(
                &format!(
                    "UPDATE table_registry SET updated_at = now()
                     WHERE workspace_id = $1 AND id = $2 RETURNING {COLUMNS}"
                ),
                &[&workspace, &id],
            )
            .await?
            .map(|row| TableEntry::from_row(&row)))
    }

    /// Puts back an entry removed by [`delete`] (when the drop it went with failed).
    pub async fn restore(
        client: &impl deadpool_postgres::GenericClient,
        entry: &TableEntry,
    ) -> Result<(), tokio_postgres::Error> {
        client
            .execute(
                "INSERT INTO table_registry (id, workspace_id, table_name, physical_name, created_at, updated_at)
                 VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
                &[&entry.id, &entry.workspace_id, &entry.table_name, &entry.physical_name, &entry.created_at, &entry.updated_at],
            )
            .await?;
        Ok(())
    }

    /// Removes a table's entry; false when it was not there.
    pub async fn delete(
        client: &impl deadpool_postgres::GenericClient,
        workspace: Uuid,
        id: Uuid,
    ) -> Result<bool, tokio_postgres::Error> {
        Ok(client
            .execute(
                "DELETE FROM table_registry WHERE workspace_id = $1 AND id = $2",
                &[&workspace, &id],
            )
            .await?
            == 1)
    }
}

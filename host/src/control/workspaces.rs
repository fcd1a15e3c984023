//! Workspace records.

use chrono::{DateTime, Utc};
use serde::Serialize;
use tokio_postgres::Row;
use uuid::Uuid;

use super::{ControlDb, ControlError};

/// A workspace as the control database records it.
#[derive(Debug, Clone, Serialize)]
pub struct Workspace {
    /// Its id.
    pub id: Uuid,
    /// Display name.
    pub name: String,
    /// Owning tenant.
    pub tenant_id: String,
    /// `active` or `frozen`.
    pub status: String,
    /// Provisioning state of its database: `unprovisioned`, `provisioning`, `active`,
    /// `failed`, `frozen`.
    #[serde(skip)]
    pub plane_status: String,
    /// Its database, once provisioned.
    #[serde(skip)]
    pub database_name: Option<String>,
    /// Creation time.
    pub created_at: DateTime<Utc>,
}

const COLUMNS: &str = "id, name, tenant_id, status, plane_status, database_name, created_at";

impl Workspace {
    fn from_row(row: &Row) -> Self {
        Self {
            id: row.get("id"),
            name: row.get("name"),
            tenant_id: row.get("tenant_id"),
            status: row.get("status"),
            plane_status: row.get("plane_status"),
            database_name: row.get("database_name"),
            created_at: row.get("created_at"),
        }
    }

    /// True when its database is provisioned and serving.
    pub fn is_ready(&self) -> bool {
        self.database_name.is_some() && matches!(self.plane_status.as_str(), "active" | "frozen")
    }
}

impl ControlDb {
    /// Records a new, unprovisioned workspace.
    pub async fn create_workspace(
        &self,
        name: &str,
        tenant_id: &str,
    ) -> Result<Workspace, ControlError> {
        let client = self.client().await?;
        let row = client
            .query_one(
                &format!(
                    "INSERT INTO workspaces (id, name, tenant_id) VALUES ($1, $2, $3) RETURNING {COLUMNS}"
                ),
                &[&Uuid::new_v4(), &name, &tenant_id],
            )
            .await?;
        Ok(Workspace::from_row(&row))
    }

    /// One workspace.
    pub async fn workspace(&self, id: Uuid) -> Result<Option<Workspace>, ControlError> {
        let client = self.client().await?;
        let statement = client
            .prepare_cached(&format!("SELECT {COLUMNS} FROM workspaces WHERE id = $1"))
            .await?;
        Ok(client
            .query_opt(&statement, &[&id])
            .await?
            .map(|row| Workspace::from_row(&row)))
    }

    /// Workspaces, newest first.
    pub async fn list_workspaces(
        &self,
        limit: i64,
        offset: i64,
    ) -> Result<(Vec<Workspace>, i64), ControlError> {
        let client = self.client().await?;
        let rows = client
            .query(
                &format!(
                    "SELECT {COLUMNS}, count(*) OVER () AS total FROM workspaces
                     ORDER BY created_at DESC, id LIMIT $1 OFFSET $2"
                ),
                &[&limit, &offset],
            )
            .await?;
        let total = match rows.first() {
            Some(row) => row.get("total"),
            None => client
                .query_one("SELECT count(*) FROM workspaces", &[])
                .await?
                .get(0),
        };
        Ok((rows.iter().map(Workspace::from_row).collect(), total))
    }
}

impl ControlDb {
    /// Records the provisioning state of a workspace's database.
    pub async fn set_plane_status(
        &self,
        id: uuid::Uuid,
        plane_status: &str,
        database_name: Option<&str>,
        error: Option<&str>,
    ) -> Result<(), ControlError> {
        let client = self.client().await?;
        client
            .execute(
                "UPDATE workspaces SET plane_status = $2,
                     database_name = coalesce($3, database_name),
                     provision_error = $4,
                     provisioned_at = CASE WHEN $2 = 'active' THEN now() ELSE provisioned_at END
                 WHERE id = $1",
                &[&id, &plane_status, &database_name, &error],
            )
            .await?;
        Ok(())
    }
}

impl ControlDb {
    /// `(workspace, database)` of every workspace whose database is provisioned.
    pub async fn provisioned_databases(&self) -> Result<Vec<(uuid::Uuid, String)>, ControlError> {
        let client = self.client().await?;
        let rows = client
            .query(
                "SELECT id, database_name FROM workspaces
                 WHERE database_name IS NOT NULL AND plane_status IN ('active', 'frozen')",
                &[],
            )
            .await?;
        Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
    }
}

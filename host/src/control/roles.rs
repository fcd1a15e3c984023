//! The login roles of each workspace and their passwords, sealed at rest.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{ControlDb, ControlError};

/// Which of a workspace's login roles.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RoleKind {
    /// The customer's read-only role (`dl_tenant_read`).
    Read,
    /// The customer's runtime role (`dl_tenant_override`).
    Runtime,
    /// The host's own role for tenant requests; row-level security applies to it.
    Api,
    /// The vault adapters' role; it reaches the `vault` schema only.
    Vault,
}

impl RoleKind {
    /// Every kind.
    pub const ALL: [RoleKind; 4] = [
        RoleKind::Read,
        RoleKind::Runtime,
        RoleKind::Api,
        RoleKind::Vault,
    ];

    /// The stored and wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            RoleKind::Read => "read",
            RoleKind::Runtime => "runtime",
            RoleKind::Api => "api",
            RoleKind::Vault => "vault",
        }
    }

    /// The kinds a customer may reveal and rotate.
    pub fn parse_customer(name: &str) -> Option<Self> {
        match name {
            "read" => Some(RoleKind::Read),
            "runtime" => Some(RoleKind::Runtime),
            _ => None,
        }
    }
}

/// A stored login role.
#[derive(Debug, Clone)]
pub struct StoredRole {
    /// The PostgreSQL role name.
    pub role_name: String,
    /// The password, sealed by [`crate::secrets::SecretBox`].
    pub password_sealed: Vec<u8>,
    /// When the password was last set.
    pub rotated_at: DateTime<Utc>,
}

impl ControlDb {
    /// The stored role of a workspace.
    pub async fn role(
        &self,
        workspace: Uuid,
        kind: RoleKind,
    ) -> Result<Option<StoredRole>, ControlError> {
        let client = self.client().await?;
        let statement = client
            .prepare_cached(
                "SELECT role_name, password_sealed, rotated_at FROM workspace_roles
                 WHERE workspace_id = $1 AND kind = $2",
            )
            .await?;
        Ok(client
            .query_opt(&statement, &[&workspace, &kind.as_str()])
            .await?
            .map(|row| StoredRole {
                role_name: row.get(0),
                password_sealed: row.get(1),
                rotated_at: row.get(2),
            }))
    }

    /// Records (or replaces) a role's sealed password.
    pub async fn store_role(
        &self,
        workspace: Uuid,
        kind: RoleKind,
        role_name: &str,
        password_sealed: &[u8],
    ) -> Result<(), ControlError> {
        let client = self.client().await?;
        client
            .execute(
                "INSERT INTO workspace_roles (workspace_id, kind, role_name, password_sealed)
                 VALUES ($1, $2, $3, $4)
                 ON CONFLICT (workspace_id, kind) DO UPDATE
                 SET role_name = EXCLUDED.role_name, password_sealed = EXCLUDED.password_sealed,
                     rotated_at = now()",
                &[&workspace, &kind.as_str(), &role_name, &password_sealed],
            )
            .await?;
        Ok(())
    }
}

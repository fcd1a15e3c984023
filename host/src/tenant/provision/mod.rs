//! Provisioning a workspace (seed 000): its own database cloned from the template,
//! its login roles, and the grants that confine them. Idempotent, serialised per
//! workspace by an advisory lock, and able to recreate a database dropped by hand.

pub mod managed;
pub mod roles;
pub mod template;

use uuid::Uuid;

use crate::control::roles::RoleKind;
use crate::control::workspaces::Workspace;
use crate::control::{ControlError, CONTROL_DB};
use crate::secrets::SecretError;
use crate::sql::quote_ident;

use super::Tenancy;
use crate::names;

/// Why provisioning failed.
#[derive(Debug, thiserror::Error)]
pub enum ProvisionError {
    /// No such workspace.
    #[error("workspace {0} does not exist")]
    WorkspaceNotFound(Uuid),
    /// A statement on the cluster failed.
    #[error("database: {0}")]
    Db(#[from] tokio_postgres::Error),
    /// The control database failed.
    #[error(transparent)]
    Control(#[from] ControlError),
    /// A stored password could not be opened.
    #[error(transparent)]
    Secret(#[from] SecretError),
}

/// The database state of a workspace as seen now.
#[derive(Debug, Clone)]
pub struct DatabaseState {
    /// The record says provisioned and the database exists.
    pub provisioned: bool,
    /// The record says provisioned but the database is gone.
    pub missing: bool,
}

/// Advisory-lock key of one workspace's provisioning.
fn lock_key(workspace: Uuid) -> i64 {
    let bytes = workspace.as_bytes();
    i64::from_be_bytes([
        bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7],
    ])
}

impl Tenancy {
    /// Provisions (or repairs) the workspace's database and roles; returns the
    /// workspace as recorded afterwards.
    pub async fn provision(&self, workspace_id: Uuid) -> Result<Workspace, ProvisionError> {
        let lock = self.cluster.connect_admin(CONTROL_DB).await?;
        lock.execute("SELECT pg_advisory_lock($1)", &[&lock_key(workspace_id)])
            .await?;
        let outcome = self.provision_locked(workspace_id).await;
        if let Err(error) = &outcome {
            tracing::error!(%workspace_id, %error, "provisioning failed");
            let _ = self
                .control
                .set_plane_status(workspace_id, "failed", None, Some(&error.to_string()))
                .await;
        }
        let _ = lock
            .execute("SELECT pg_advisory_unlock($1)", &[&lock_key(workspace_id)])
            .await;
        self.directory.forget(workspace_id).await;
        outcome
    }

    async fn provision_locked(&self, workspace_id: Uuid) -> Result<Workspace, ProvisionError> {
        let workspace = self
            .control
            .workspace(workspace_id)
            .await?
            .ok_or(ProvisionError::WorkspaceNotFound(workspace_id))?;
        let database = names::database(workspace_id);
        let maintenance = self
            .cluster
            .connect_admin(self.cluster.maintenance_db())
            .await?;
        let exists = template::database_exists(&maintenance, &database).await?;
        if !(exists && workspace.plane_status == "active") {
            self.control
                .set_plane_status(workspace_id, "provisioning", None, None)
                .await?;
        }
        let template = template::ensure(&self.cluster, &maintenance).await?;
        roles::ensure_login_roles(self, &maintenance, workspace_id).await?;
        if !exists {
            tracing::info!(%workspace_id, "creating the workspace database");
            let create = format!(
                "CREATE DATABASE {} TEMPLATE {}",
                quote_ident(&database),
                quote_ident(&template)
            );
            template::retry_while_in_use(&maintenance, &create).await?;
        }
        {
            let client = self.cluster.connect_admin(&database).await?;
            let upgraded = managed::upgrade(&client).await?;
            if !upgraded.is_empty() {
                tracing::info!(%workspace_id, ?upgraded, "upgraded managed schemas");
            }
            managed::install_event_trigger(&client).await?;
            roles::grant_workspace(&client, workspace_id).await?;
        }
        let status = if workspace.status == "frozen" {
            "frozen"
        } else {
            "active"
        };
        self.control
            .set_plane_status(workspace_id, status, Some(&database), None)
            .await?;
        self.control
            .workspace(workspace_id)
            .await?
            .ok_or(ProvisionError::WorkspaceNotFound(workspace_id))
    }

    /// Whether the workspace's database exists as its record says.
    pub async fn database_state(
        &self,
        workspace: &Workspace,
    ) -> Result<DatabaseState, ProvisionError> {
        let Some(database) = &workspace.database_name else {
            return Ok(DatabaseState {
                provisioned: false,
                missing: false,
            });
        };
        let client = self.control.client().await?;
        let exists = template::database_exists(&client, database).await?;
        Ok(DatabaseState {
            provisioned: exists && workspace.plane_status != "failed",
            missing: !exists,
        })
    }

    /// Brings the managed schemas of every provisioned workspace to the newest
    /// version and its login roles to the configured limits (run in the background
    /// at start-up).
    pub async fn upgrade_all_managed_schemas(&self) {
        let databases = match self.control.provisioned_databases().await {
            Ok(list) => list,
            Err(error) => {
                tracing::warn!(%error, "cannot list workspaces to upgrade their managed schemas");
                return;
            }
        };
        let maintenance = self
            .cluster
            .connect_admin(self.cluster.maintenance_db())
            .await;
        let powers = match &maintenance {
            Ok(client) => roles::AdminPowers::of(client).await.ok(),
            Err(_) => None,
        };
        for (workspace_id, database) in databases {
            if let (Ok(maintenance), Some(powers)) = (&maintenance, powers) {
                let bounded =
                    roles::apply_limits(maintenance, workspace_id, self.limits, powers).await;
                if let Err(error) = bounded {
                    tracing::warn!(%workspace_id, error = %crate::cluster::describe(&error), "cannot set the workspace roles' limits");
                }
            }
            let upgraded = async {
                let client = self.cluster.connect_admin(&database).await?;
                managed::upgrade(&client).await
            }
            .await;
            match upgraded {
                Ok(versions) if !versions.is_empty() => {
                    tracing::info!(%workspace_id, ?versions, "upgraded managed schemas")
                }
                Ok(_) => {}
                Err(error) => {
                    tracing::warn!(%workspace_id, error = %crate::cluster::describe(&error), "managed-schema upgrade failed")
                }
            }
        }
    }

    /// Rotates the password of a customer login role.
    pub async fn rotate_password(
        &self,
        workspace_id: Uuid,
        kind: RoleKind,
    ) -> Result<(), ProvisionError> {
        let maintenance = self
            .cluster
            .connect_admin(self.cluster.maintenance_db())
            .await?;
        roles::rotate(self, &maintenance, workspace_id, kind).await
    }
}

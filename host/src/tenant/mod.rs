//! Tenancy: resolving a workspace, its pools, provisioning its database, and the one
//! function that runs tenant work in a transaction with the tenant context set.

mod batch;
mod collections;
mod directory;
mod driver;
mod lane;

mod pools;
mod prepared;
pub mod provision;
mod table_names;
mod transaction;
pub mod work;

use std::sync::Arc;

use futures::FutureExt;
use uuid::Uuid;

pub use batch::{BatchCounters, Leading, Turn};
pub use collections::Collections;
pub use directory::Directory;
pub use lane::Shared;
pub use pools::{PoolKind, PoolTarget, TenantPool, TenantPools};
pub use prepared::{prepare_bounded, MAX_PREPARED};
pub use table_names::{Names, TableNames};
pub use transaction::{
    roll_back_and_pool, set_context_with_version, Access, Session, TenantContext, Tx,
};

use crate::cluster::Cluster;
use crate::config::TenantLimits;
use crate::control::notify::{Invalidation, Invalidations};
use crate::control::roles::RoleKind;
use crate::control::workspaces::Workspace;
use crate::control::{ControlDb, ControlError};
use crate::secrets::{SecretBox, SecretError};

/// Why tenant work could not run.
#[derive(Debug, thiserror::Error)]
pub enum TenantError {
    /// No such workspace.
    #[error("workspace {0} does not exist")]
    WorkspaceNotFound(Uuid),
    /// The workspace has no database yet (or it is being provisioned).
    #[error("workspace {0} is not provisioned")]
    NotProvisioned(Uuid),
    /// The workspace database cannot be reached.
    #[error("the workspace database is unavailable: {0}")]
    Unavailable(String),
    /// The control database failed.
    #[error(transparent)]
    Control(#[from] ControlError),
    /// A stored secret could not be opened.
    #[error(transparent)]
    Secret(#[from] SecretError),
}

impl TenantError {
    /// The same error, for each request that waited on the load that met it.
    fn shared(&self) -> Self {
        match self {
            Self::WorkspaceNotFound(id) => Self::WorkspaceNotFound(*id),
            Self::NotProvisioned(id) => Self::NotProvisioned(*id),
            Self::Unavailable(detail) => Self::Unavailable(detail.clone()),
            Self::Control(error) => Self::Control(error.shared()),
            Self::Secret(error) => Self::Secret(error.clone()),
        }
    }
}

impl From<deadpool_postgres::PoolError> for TenantError {
    fn from(error: deadpool_postgres::PoolError) -> Self {
        TenantError::Unavailable(error.to_string())
    }
}

impl From<deadpool_postgres::BuildError> for TenantError {
    fn from(error: deadpool_postgres::BuildError) -> Self {
        TenantError::Unavailable(error.to_string())
    }
}

/// Everything tenant work needs, shared by all handlers.
#[derive(Clone)]
pub struct Tenancy {
    /// The control database.
    pub control: ControlDb,
    /// The cluster, as its administrator.
    pub cluster: Cluster,
    /// Cached workspace records.
    pub directory: Directory,
    /// Cached vault collection records.
    pub collections: Collections,
    /// Cached names of each workspace's tables (for the scoped query).
    pub table_names: TableNames,
    /// The pools.
    pub pools: TenantPools,
    /// The key sealing stored passwords.
    pub secrets: Arc<SecretBox>,
    /// The bounds set on each workspace's login roles.
    pub limits: TenantLimits,
}

impl Tenancy {
    /// Builds the tenancy layer and makes pools follow role changes.
    pub fn new(
        control: ControlDb,
        cluster: Cluster,
        pools: TenantPools,
        secrets: Arc<SecretBox>,
        limits: TenantLimits,
        invalidations: &Invalidations,
    ) -> Self {
        let directory = Directory::new(control.clone(), invalidations.clone());
        let collections = Collections::new(control.clone(), invalidations.clone());
        let table_names = TableNames::new(control.clone(), invalidations.clone());
        let mut receiver = invalidations.subscribe();
        let evicting = pools.clone();
        tokio::spawn(async move {
            while let Ok(message) = receiver.recv().await {
                if let Invalidation::Other(kind, id) = message {
                    if kind == "roles" {
                        if let Ok(id) = Uuid::parse_str(&id) {
                            evicting.evict(id).await;
                        }
                    }
                }
            }
        });
        Self {
            control,
            cluster,
            directory,
            collections,
            table_names,
            pools,
            secrets,
            limits,
        }
    }

    /// The workspace, or 404.
    pub async fn workspace(&self, id: Uuid) -> Result<Arc<Workspace>, TenantError> {
        self.directory
            .get(id)
            .await?
            .ok_or(TenantError::WorkspaceNotFound(id))
    }

    /// The workspace, which must be provisioned, or 404/503.
    pub async fn ready_workspace(&self, id: Uuid) -> Result<Arc<Workspace>, TenantError> {
        let workspace = self.workspace(id).await?;
        if !workspace.is_ready() {
            return Err(TenantError::NotProvisioned(id));
        }
        Ok(workspace)
    }

    /// The pool of `kind` for a provisioned workspace.
    pub async fn pool(
        &self,
        workspace: &Workspace,
        kind: PoolKind,
    ) -> Result<deadpool_postgres::Pool, TenantError> {
        Ok(self.tenant_pool(workspace, kind).await?.pool)
    }

    /// A shared connection of the workspace's API pool, for one statement that needs
    /// no session state; `None` when the lane is busy or the pool too small, and the
    /// caller takes a [`Session`] instead.
    pub async fn shared(&self, workspace: &Workspace) -> Result<Option<Shared>, TenantError> {
        let pool = self.tenant_pool(workspace, PoolKind::Api).await?;
        Ok(pool.shared().await?)
    }

    /// The workspace's API pool, with its lane and batches.
    pub async fn api_pool(&self, workspace: &Workspace) -> Result<TenantPool, TenantError> {
        self.tenant_pool(workspace, PoolKind::Api).await
    }

    /// The pool and lane of `kind`, opened with the role's login on first use.
    async fn tenant_pool(
        &self,
        workspace: &Workspace,
        kind: PoolKind,
    ) -> Result<TenantPool, TenantError> {
        if let Some(pool) = self.pools.cached(workspace.id, kind).await {
            return Ok(pool);
        }
        // Boxed: the opening future is large, and a hit should not carry it.
        self.open_pool(workspace, kind).boxed().await
    }

    /// A miss: one login and one pool for every request that misses it meanwhile.
    async fn open_pool(
        &self,
        workspace: &Workspace,
        kind: PoolKind,
    ) -> Result<TenantPool, TenantError> {
        let target = async {
            let database = workspace
                .database_name
                .clone()
                .ok_or(TenantError::NotProvisioned(workspace.id))?;
            let login = match kind {
                PoolKind::Admin => None,
                PoolKind::Vault => Some(self.login(workspace.id, RoleKind::Vault).await?),
                PoolKind::Api => Some(self.login(workspace.id, RoleKind::Api).await?),
            };
            Ok(PoolTarget { database, login })
        };
        self.pools
            .pool(workspace.id, kind, target)
            .await
            .map_err(|shared: Arc<TenantError>| shared.shared())
    }

    /// A role's name and clear password, from the control database.
    pub async fn login(
        &self,
        workspace: Uuid,
        kind: RoleKind,
    ) -> Result<(String, String), TenantError> {
        let stored = self
            .control
            .role(workspace, kind)
            .await?
            .ok_or(TenantError::NotProvisioned(workspace))?;
        let password = self.secrets.open(&stored.password_sealed)?;
        Ok((stored.role_name, password))
    }
}

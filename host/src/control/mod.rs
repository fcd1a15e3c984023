//! The control database `plinth_control`: workspaces, API-key hashes and every other
//! record that replicas share. The host keeps no state another replica would need.

pub mod api_keys;
mod audit_log;
pub mod cached;
pub mod expiry;
mod group_commit;
pub mod idempotency;
mod migrations;
pub mod notify;
pub mod plugins;
pub mod registry;
pub mod replicas;
pub mod roles;
pub mod vault;
pub mod workspaces;

use std::time::Duration;

use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod, Runtime, Timeouts};

pub use migrations::{harden_embedded, prepare, CONTROL_DB};

use crate::cluster::Cluster;

/// Connections the host keeps to the control database.
const CONTROL_POOL_SIZE: usize = 16;
/// Connections for idempotency records (see [`ControlDb::records_client`]).
const RECORDS_POOL_SIZE: usize = 8;

/// A control-database failure.
#[derive(Debug, thiserror::Error)]
pub enum ControlError {
    /// A statement failed.
    #[error("control database: {}", crate::cluster::describe(.0))]
    Db(#[from] tokio_postgres::Error),
    /// No connection could be had.
    #[error("control database pool: {0}")]
    Pool(#[from] deadpool_postgres::PoolError),
    /// A migration failed; nothing of it was applied.
    #[error("control-database migration {version} failed: {message}")]
    Migration {
        /// Its version.
        version: i32,
        /// The database's message.
        message: String,
    },
    /// The failure of a load this request waited on instead of loading itself
    /// (concurrent misses of a cache load once).
    #[error("{message}")]
    Shared {
        /// The first failure's message.
        message: String,
        /// Whether it was [`ControlError::is_unavailable`].
        unavailable: bool,
    },
}

impl ControlError {
    /// The same failure, for each request that waited on the load that met it.
    pub fn shared(&self) -> Self {
        Self::Shared {
            message: self.to_string(),
            unavailable: self.is_unavailable(),
        }
    }

    /// True when the database could not be reached (rather than refusing a statement).
    pub fn is_unavailable(&self) -> bool {
        match self {
            Self::Pool(_) => true,
            Self::Db(e) => e.is_closed() || e.code().is_none(),
            Self::Migration { .. } => false,
            Self::Shared { unavailable, .. } => *unavailable,
        }
    }
}

/// The shared handle to the control database.
#[derive(Clone)]
pub struct ControlDb {
    pool: Pool,
    records: Pool,
    audit_log: audit_log::AuditLog,
}

impl ControlDb {
    /// Opens the pools to `plinth_control` (after [`prepare`]).
    pub fn connect(cluster: &Cluster) -> Result<Self, deadpool_postgres::BuildError> {
        let pool = Self::pool(cluster.admin_config(CONTROL_DB), CONTROL_POOL_SIZE)?;
        let mut records = cluster.admin_config(CONTROL_DB);
        records.options("-c synchronous_commit=off");
        let records = Self::pool(records, RECORDS_POOL_SIZE)?;
        let audit_log = audit_log::AuditLog::new(audit_log::Appender::new(pool.clone()));
        Ok(Self {
            pool,
            records,
            audit_log,
        })
    }

    fn pool(
        config: tokio_postgres::Config,
        size: usize,
    ) -> Result<Pool, deadpool_postgres::BuildError> {
        let manager = Manager::from_config(
            config,
            tokio_postgres::NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        Pool::builder(manager)
            .max_size(size)
            .runtime(Runtime::Tokio1)
            .timeouts(Timeouts {
                wait: Some(Duration::from_secs(5)),
                create: Some(Duration::from_secs(5)),
                recycle: Some(Duration::from_secs(5)),
            })
            .build()
    }

    /// A pooled connection.
    pub async fn client(&self) -> Result<deadpool_postgres::Object, ControlError> {
        Ok(self.pool.get().await?)
    }

    /// A pooled connection whose commits do not wait for the disk
    /// (`synchronous_commit = off`), for the idempotency records of the Data API's
    /// writes. Safe because the workspace databases share the control database's
    /// cluster, and so its one write-ahead log: the write's own (synchronous) commit
    /// flushes the log up to itself, the claim made before it included. A record
    /// changed after that (the answer, a release) can be lost only if PostgreSQL
    /// itself crashes within the WAL writer's delay; the key then stays `pending`,
    /// which answers 409 until it expires and never writes twice.
    pub async fn records_client(&self) -> Result<deadpool_postgres::Object, ControlError> {
        Ok(self.records.get().await?)
    }

    /// True when a trivial statement succeeds.
    pub async fn is_reachable(&self) -> bool {
        match self.client().await {
            Ok(client) => client.simple_query("SELECT 1").await.is_ok(),
            Err(_) => false,
        }
    }

    /// Closes the pools.
    pub fn close(&self) {
        self.pool.close();
        self.records.close();
    }
}

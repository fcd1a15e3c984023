//! Connection pools per workspace database: created on first use (once, however many
//! requests need it at the same moment), evicted when idle, and all of them together
//! held under one ceiling of server connections.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod, Runtime, Timeouts};
use moka::future::Cache;
use tokio::sync::{Notify, Semaphore};
use tokio::task::JoinHandle;
use uuid::Uuid;

use super::batch::{BatchCounters, Batches, Turn, Unanswered};
use super::driver::OneTurnLate;
use super::lane::{Lane, Shared, MIN_POOL_FOR_LANE};
use crate::cluster::Cluster;
use crate::config::PoolSettings;
use crate::sql::statement::{BatchStatement, Statement};

type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// How often idle connections are closed.
const JANITOR_PERIOD: Duration = Duration::from_secs(10);
/// How often a connection waiting at the ceiling asks the janitor again to trim.
const TRIM_RETRY: Duration = Duration::from_millis(100);

/// Which pool of a workspace.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PoolKind {
    /// The API role, which row-level security applies to: every tenant request.
    Api,
    /// The administrator: DDL of Workspace Tables, base-record loads, migrations.
    Admin,
    /// The vault role: the SQL capability of the `postgres` vault adapter.
    Vault,
}

/// Credentials for one pool (the password is never logged).
#[derive(Clone)]
pub struct PoolTarget {
    /// The workspace database.
    pub database: String,
    /// `Some((role, password))` for a role login, `None` for the administrator.
    pub login: Option<(String, String)>,
}

/// One pool of a workspace, with the shared lane over it when it is an API pool
/// large enough to lend connections to one. The lane lives and dies with its pool.
#[derive(Clone)]
pub struct TenantPool {
    /// The pool.
    pub pool: Pool,
    lane: Option<Arc<Lane>>,
    batches: Option<Arc<Batches>>,
}

impl TenantPool {
    fn new(kind: PoolKind, pool: Pool, counters: &Arc<BatchCounters>) -> Self {
        let lane = (kind == PoolKind::Api && pool.status().max_size >= MIN_POOL_FOR_LANE)
            .then(|| Arc::new(Lane::new(pool.clone())));
        let batches = lane
            .as_ref()
            .map(|lane| Arc::new(Batches::new(lane.clone(), pool.clone(), counters.clone())));
        Self {
            pool,
            lane,
            batches,
        }
    }

    /// The turn of a context-free read, grouped by `key` (see [`super::batch`]): its
    /// own statement at once when the pool has no lane.
    pub async fn read_turn(
        &self,
        key: &str,
        statement: Statement,
        batch: impl FnOnce() -> Option<BatchStatement>,
    ) -> Result<Turn, Unanswered> {
        match &self.batches {
            Some(batches) => batches.turn(key, statement, batch).await,
            None => Ok(Turn::Own(statement, None)),
        }
    }

    /// A shared connection of the lane, for one statement that needs no session
    /// state; `None` when the pool has no lane or the lane is busy.
    pub async fn shared(&self) -> Result<Option<Shared>, deadpool_postgres::PoolError> {
        match &self.lane {
            Some(lane) => lane.acquire().await,
            None => Ok(None),
        }
    }
}

/// The per-workspace pools under a global ceiling.
#[derive(Clone)]
pub struct TenantPools {
    pools: Cache<(Uuid, PoolKind), TenantPool>,
    permits: Arc<Semaphore>,
    trim: Arc<Notify>,
    batch_counters: Arc<BatchCounters>,
    cluster: Cluster,
    settings: PoolSettings,
}

impl TenantPools {
    /// Creates the pool set and its janitor.
    pub fn new(cluster: Cluster, settings: PoolSettings) -> Self {
        let pools = Cache::builder()
            .time_to_idle(settings.idle)
            .eviction_listener(|_key, entry: TenantPool, _cause| entry.pool.close())
            .build();
        let this = Self {
            pools,
            permits: Arc::new(Semaphore::new(settings.max_server_connections)),
            trim: Arc::new(Notify::new()),
            batch_counters: Arc::default(),
            cluster,
            settings,
        };
        let janitor = this.clone();
        tokio::spawn(async move { janitor.run_janitor().await });
        this
    }

    /// The pool of `workspace` of `kind` if it is open already.
    pub async fn cached(&self, workspace: Uuid, kind: PoolKind) -> Option<TenantPool> {
        self.pools.get(&(workspace, kind)).await
    }

    /// The pool of `workspace` of `kind`. On first use it is built with the target
    /// that `target` resolves to; concurrent first uses wait for one build, and a
    /// failure is not kept.
    pub async fn pool<E>(
        &self,
        workspace: Uuid,
        kind: PoolKind,
        target: impl Future<Output = Result<PoolTarget, E>>,
    ) -> Result<TenantPool, Arc<E>>
    where
        E: From<deadpool_postgres::BuildError> + Send + Sync + 'static,
    {
        self.pools
            .try_get_with((workspace, kind), async {
                let pool = self.build(kind, target.await?)?;
                Ok(TenantPool::new(kind, pool, &self.batch_counters))
            })
            .await
    }

    /// Closes and forgets a workspace's pools (after a password rotation or a drop).
    pub async fn evict(&self, workspace: Uuid) {
        for kind in [PoolKind::Api, PoolKind::Admin, PoolKind::Vault] {
            if let Some(entry) = self.pools.remove(&(workspace, kind)).await {
                entry.pool.close();
            }
        }
    }

    /// Closes every pool (shutdown).
    pub fn close_all(&self) {
        for (_, entry) in self.pools.iter() {
            entry.pool.close();
        }
        self.pools.invalidate_all();
    }

    /// Server connections open now, across all pools.
    pub fn open_connections(&self) -> usize {
        self.settings.max_server_connections - self.permits.available_permits()
    }

    /// Batched reads since start, across workspaces.
    pub fn batch_counters(&self) -> &BatchCounters {
        &self.batch_counters
    }

    /// The configured ceiling.
    pub fn ceiling(&self) -> usize {
        self.settings.max_server_connections
    }

    /// Pools open now.
    pub fn pool_count(&self) -> u64 {
        self.pools.entry_count()
    }

    /// Per-pool (size, available) for the metrics endpoint.
    pub fn pool_stats(&self) -> Vec<(Uuid, PoolKind, usize, usize)> {
        self.pools
            .iter()
            .map(|(key, entry)| {
                let status = entry.pool.status();
                (key.0, key.1, status.size, status.available)
            })
            .collect()
    }

    fn build(
        &self,
        kind: PoolKind,
        target: PoolTarget,
    ) -> Result<Pool, deadpool_postgres::BuildError> {
        let mut config = match &target.login {
            Some((user, password)) => self.cluster.role_config(&target.database, user, password),
            None => self.cluster.admin_config(&target.database),
        };
        // JIT off: the APIs' statements are short, where compiling them would cost
        // tens of milliseconds more than it saves, and a batch of reads (see
        // `super::batch`) multiplies a read's estimated cost by its size, which
        // would cross the JIT threshold for statements that take a millisecond.
        config.options(format!(
            "-c statement_timeout={} -c TimeZone=UTC -c jit=off",
            self.settings.statement_timeout_ms
        ));
        let manager = Manager::from_connect(
            config,
            CappedConnect {
                permits: self.permits.clone(),
                trim: self.trim.clone(),
            },
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let size = match kind {
            PoolKind::Api => self.settings.workspace_pool_size,
            PoolKind::Admin => 2,
            PoolKind::Vault => self.settings.workspace_pool_size.min(8),
        };
        let timeout = Some(self.settings.checkout_timeout);
        Pool::builder(manager)
            .max_size(size)
            .runtime(Runtime::Tokio1)
            .timeouts(Timeouts {
                wait: timeout,
                create: timeout,
                recycle: timeout,
            })
            .build()
    }

    async fn run_janitor(self) {
        loop {
            let pressed = tokio::select! {
                _ = tokio::time::sleep(JANITOR_PERIOD) => false,
                _ = self.trim.notified() => true,
            };
            let idle = if pressed {
                Duration::ZERO
            } else {
                self.settings.idle
            };
            if pressed {
                // Lanes hold their connections checked out: give them back so the
                // idle ones can close (a busy workspace opens its lane again).
                for (_, entry) in self.pools.iter() {
                    if let Some(lane) = &entry.lane {
                        lane.release();
                    }
                }
            }
            for (_, entry) in self.pools.iter() {
                entry.pool.retain(|_, metrics| metrics.last_used() < idle);
            }
            self.pools.run_pending_tasks().await;
        }
    }
}

/// Opens a connection only under a permit of the global ceiling; the permit lives as
/// long as the connection's driver task, so closing a connection frees it.
struct CappedConnect {
    permits: Arc<Semaphore>,
    trim: Arc<Notify>,
}

impl deadpool_postgres::Connect for CappedConnect {
    fn connect(
        &self,
        pg_config: &tokio_postgres::Config,
    ) -> BoxFuture<'_, Result<(tokio_postgres::Client, JoinHandle<()>), tokio_postgres::Error>>
    {
        let config = pg_config.clone();
        Box::pin(async move {
            let permit = match self.permits.clone().try_acquire_owned() {
                Ok(permit) => Some(permit),
                Err(_) => loop {
                    // At the ceiling: ask the janitor to close idle connections
                    // elsewhere, and ask again while none is freed (connections still
                    // busy at the last trim may be idle by now).
                    self.trim.notify_one();
                    tokio::select! {
                        permit = self.permits.clone().acquire_owned() => break permit.ok(),
                        () = tokio::time::sleep(TRIM_RETRY) => {}
                    }
                },
            };
            let (client, connection) = config.connect(tokio_postgres::NoTls).await?;
            let task = tokio::spawn(async move {
                let _permit = permit;
                if let Err(error) = OneTurnLate::new(connection).await {
                    tracing::debug!(%error, "workspace connection closed");
                }
            });
            Ok((client, task))
        })
    }
}

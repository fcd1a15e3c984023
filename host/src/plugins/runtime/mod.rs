//! The plugin runtime: one `Engine` (component model, pooling allocator, epoch
//! interruption driven by a [`Ticker`] while calls run), the linker that grants WASI with nothing
//! in it, and the call path every world goes through — check out a warm instance (or
//! instantiate one under the kind's permit), arm the run budget, call (metered, so
//! only time the guest runs counts against it), and either
//! return the instance or drop it and say what the guest did.

use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use uuid::Uuid;
use wasmtime::component::Linker;
use wasmtime::{
    Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig, Store, UpdateDeadline,
};

use super::cache::{CacheCounters, CompileCache, CompilersBusy};
use super::clock::{wall_ceiling, Metered};
use super::error::{classify, DeadlineExceeded, PluginError, PluginFault};
use super::instances::{Checkout, InstancePool, Warm, WarmKey};
use super::linking::{add_stdio_to_linker, imports_nothing, ungranted_imports};
use super::registry::{Exports, Origin, Plugin, Registry};
use super::shares::{per_workspace, split, Shares};
use super::state::HostState;
use super::ticker::Ticker;
use super::PluginKind;
use crate::config::{PluginLimits, PluginSettings};
use crate::control::notify::Invalidations;
use crate::control::ControlDb;

/// Period of the epoch ticker: the granularity of deadlines and of yields to tokio.
pub const EPOCH_TICK: Duration = Duration::from_millis(1);
/// Linear memory any one instance may ever have (the pool's slot size).
const MAX_MEMORY_SLOT_BYTES: usize = 256 << 20;

/// The boxed future of one guest call.
pub type CallFuture<'a, R> = Pin<Box<dyn Future<Output = wasmtime::Result<R>> + Send + 'a>>;

/// The plugin runtime, shared by all requests.
pub struct PluginRuntime {
    engine: Engine,
    /// WASI, for validation policies.
    linker: Linker<HostState>,
    /// Stdio only, for the worlds that import nothing ([`super::linking`]).
    stdio_linker: Linker<HostState>,
    /// WASI plus the vault capabilities, for engine adapters only.
    vault_linker: Linker<HostState>,
    pub(crate) cache: CompileCache,
    /// Per kind: instances of the built-in plugins.
    pools: [InstancePool; 4],
    /// Per kind: instances of installed plugins, and each workspace's share of them.
    installed: [(InstancePool, Shares); 4],
    settings: PluginSettings,
    pub(crate) registry: Registry,
    pub(crate) parsed: super::filter::ParseCache,
    /// Advances the epoch while calls run.
    ticker: Ticker,
}

/// A runtime that could not be built.
#[derive(Debug, thiserror::Error)]
#[error("plugin runtime: {0}")]
pub struct RuntimeError(String);

fn pool_index(kind: PluginKind) -> usize {
    match kind {
        PluginKind::FilterParser => 0,
        PluginKind::ValidationPolicy => 1,
        PluginKind::RowAuthorizer => 2,
        PluginKind::VaultAdapter => 3,
    }
}

impl PluginRuntime {
    /// Builds the runtime. `cache_dir` keeps compiled artifacts across restarts;
    /// `control` (with `invalidations`) enables installed plugins.
    pub async fn new(
        settings: &PluginSettings,
        cache_dir: Option<PathBuf>,
        control: Option<ControlDb>,
        invalidations: Option<&Invalidations>,
    ) -> Result<Arc<Self>, RuntimeError> {
        let engine =
            Engine::new(&engine_config(settings)).map_err(|e| RuntimeError(e.to_string()))?;
        let mut linker = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_async(&mut linker)
            .map_err(|e| RuntimeError(e.to_string()))?;
        let mut stdio_linker = Linker::new(&engine);
        add_stdio_to_linker(&mut stdio_linker).map_err(|e| RuntimeError(e.to_string()))?;
        let mut vault_linker = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_async(&mut vault_linker)
            .map_err(|e| RuntimeError(e.to_string()))?;
        super::vault::add_to_linker(&mut vault_linker).map_err(|e| RuntimeError(e.to_string()))?;
        let cache =
            CompileCache::new(&engine, cache_dir).map_err(|e| RuntimeError(e.to_string()))?;
        let weak = engine.weak();
        let ticker = Ticker::start(EPOCH_TICK, move || match weak.upgrade() {
            Some(engine) => {
                engine.increment_epoch();
                true
            }
            None => false,
        })
        .map_err(|e| RuntimeError(format!("cannot start the epoch ticker: {e}")))?;
        let runtime = Arc::new(Self {
            pools: [
                settings.filter,
                settings.validation,
                settings.authorizer,
                settings.vault,
            ]
            .map(|limits| InstancePool::new(split(limits.max_instances).0)),
            installed: [
                settings.filter,
                settings.validation,
                settings.authorizer,
                settings.vault,
            ]
            .map(|limits| {
                let installed = split(limits.max_instances).1;
                (
                    InstancePool::new(installed),
                    Shares::new(per_workspace(installed)),
                )
            }),
            registry: Registry::new(control, invalidations),
            parsed: super::filter::ParseCache::default(),
            ticker,
            engine,
            linker,
            stdio_linker,
            vault_linker,
            cache,
            settings: settings.clone(),
        });
        runtime
            .registry
            .load_builtins(&runtime)
            .await
            .map_err(|e| RuntimeError(e.to_string()))?;
        let sweeper = Arc::downgrade(&runtime);
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_secs(30)).await;
                let Some(runtime) = sweeper.upgrade() else {
                    break;
                };
                runtime.pools.iter().for_each(InstancePool::sweep);
                for (pool, shares) in &runtime.installed {
                    pool.sweep();
                    shares.sweep();
                }
            }
        });
        Ok(runtime)
    }

    /// The limits of a kind.
    pub fn limits(&self, kind: PluginKind) -> PluginLimits {
        match kind {
            PluginKind::FilterParser => self.settings.filter,
            PluginKind::ValidationPolicy => self.settings.validation,
            PluginKind::RowAuthorizer => self.settings.authorizer,
            PluginKind::VaultAdapter => self.settings.vault,
        }
    }

    /// Compile-cache counters (compilations, disk loads, refused artifacts).
    pub fn cache_counters(&self) -> Arc<CacheCounters> {
        self.cache.counters.clone()
    }

    /// Idle warm instances of a kind.
    pub fn idle_instances(&self, kind: PluginKind) -> usize {
        self.pools[pool_index(kind)].idle_count() + self.installed[pool_index(kind)].0.idle_count()
    }

    /// Compiles (or fetches) a component and checks it against its kind's world:
    /// its imports must be satisfiable by what the host grants, and it must export
    /// the world's interface.
    pub async fn load(
        &self,
        kind: PluginKind,
        name: &str,
        origin: Origin,
        wasm: Arc<Vec<u8>>,
    ) -> Result<Arc<Plugin>, PluginError> {
        let invalid = |message: String| PluginError::new(kind, name, PluginFault::Invalid(message));
        let digest = super::cache::digest(&wasm);
        let (component, _) = self
            .cache
            .component(&self.engine, wasm)
            .await
            .map_err(|e| match e.downcast_ref::<CompilersBusy>() {
                Some(_) => PluginError::new(kind, name, PluginFault::Busy),
                None => invalid(format!("not a valid WebAssembly component: {e:#}")),
            })?;
        let linker = match kind {
            PluginKind::VaultAdapter => &self.vault_linker,
            _ => &self.linker,
        };
        let pre = linker.instantiate_pre(&component).map_err(|e| {
            invalid(format!(
                "imports something the {kind} world does not grant: {e:#}"
            ))
        })?;
        let exports = super::registry::ExportIndices::new(kind, &pre)
            .map_err(|e| invalid(format!("does not export the {kind} interface: {e:#}")))?;
        let pre = if imports_nothing(kind) {
            let ungranted = ungranted_imports(&self.engine, &component, kind);
            if !ungranted.is_empty() {
                return Err(invalid(format!(
                    "imports {}, which the {kind} world does not grant: it imports nothing (only standard output and error are linked)",
                    ungranted
                        .iter()
                        .map(|name| format!("`{name}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                )));
            }
            self.stdio_linker
                .instantiate_pre(&component)
                .map_err(|e| invalid(format!("cannot be linked with stdio only: {e:#}")))?
        } else {
            pre
        };
        Ok(Arc::new(Plugin {
            kind,
            name: name.to_owned(),
            digest,
            origin,
            pre,
            exports,
        }))
    }

    /// Runs one call of `plugin` for `workspace` under its kind's limits.
    pub(crate) async fn invoke<R, F>(
        &self,
        plugin: &Arc<Plugin>,
        workspace: Option<Uuid>,
        call: F,
    ) -> Result<R, PluginError>
    where
        R: Send,
        F: for<'a> FnOnce(&'a mut Store<HostState>, &'a Exports) -> CallFuture<'a, R>,
    {
        let limits = self.limits(plugin.kind);
        let fail = |fault| PluginError::new(plugin.kind, &plugin.name, fault);
        let (pool, _share) = match (plugin.origin, workspace) {
            (Origin::BuiltIn, _) => (&self.pools[pool_index(plugin.kind)], None),
            (_, workspace) => {
                let (pool, shares) = &self.installed[pool_index(plugin.kind)];
                let share = match workspace {
                    Some(workspace) => Some(
                        shares
                            .acquire(workspace, checkout_wait(limits))
                            .await
                            .ok_or_else(|| fail(PluginFault::Busy))?,
                    ),
                    None => None,
                };
                (pool, share)
            }
        };
        let key = WarmKey {
            digest: plugin.digest,
            workspace,
        };
        let _ticking = self.ticker.running();
        let mut warm = match pool.checkout(key, checkout_wait(limits)).await {
            Some(Checkout::Warm(warm)) => *warm,
            Some(Checkout::Permit(permit)) => {
                let mut store = self.new_store(limits);
                let instance = plugin
                    .pre
                    .instantiate_async(&mut store)
                    .await
                    .map_err(|e| fail(classify(&e, &store.data().stderr_text())))?;
                let exports = plugin
                    .exports
                    .load(&mut store, &instance)
                    .map_err(|e| fail(PluginFault::Invalid(e.to_string())))?;
                Warm::new(store, instance, exports, permit)
            }
            None => return Err(fail(PluginFault::Busy)),
        };
        warm.store.data_mut().arm(limits.deadline);
        warm.store.set_epoch_deadline(1);
        let clock = warm.store.data().clock.clone();
        let Warm { store, exports, .. } = &mut warm;
        // The run budget counts the guest's own time; this bounds the whole call,
        // time spent waiting on the host included (a guest that sleeps).
        let whole_call = wall_ceiling(limits.deadline);
        match tokio::time::timeout(whole_call, Metered::new(call(store, exports), clock)).await {
            Err(_) => {
                tracing::warn!(plugin = %plugin.name, kind = %plugin.kind, "plugin call outlasted its wall-clock bound; its instance is dropped");
                Err(fail(PluginFault::Deadline))
            }
            Ok(Ok(value)) => {
                pool.checkin(key, warm);
                Ok(value)
            }
            Ok(Err(error)) => {
                let fault = classify(&error, &warm.store.data().stderr_text());
                tracing::warn!(plugin = %plugin.name, kind = %plugin.kind, ?fault, "plugin call failed; its instance is dropped");
                Err(fail(fault))
            }
        }
    }

    fn new_store(&self, limits: PluginLimits) -> Store<HostState> {
        let mut store = Store::new(&self.engine, HostState::new(limits.memory_bytes));
        store.limiter(|state| &mut state.ceiling);
        store.epoch_deadline_callback(|context| {
            if context.data().exhausted() {
                Err(DeadlineExceeded.into())
            } else {
                Ok(UpdateDeadline::Yield(1))
            }
        });
        // Instantiation is not metered: only its wall-clock ceiling applies.
        store.data_mut().arm(limits.deadline);
        store.set_epoch_deadline(1);
        store
    }
}

/// How long a call waits for a free instance slot: as long as a call holding a slot
/// can last. Run budgets count CPU time, so on a loaded machine a stuck call takes up
/// to its wall ceiling to be stopped; waiting less would answer "busy" to a caller a
/// slot was about to free up for. The request timeout bounds the wait as a whole.
fn checkout_wait(limits: PluginLimits) -> Duration {
    wall_ceiling(limits.deadline)
}

fn engine_config(settings: &PluginSettings) -> Config {
    let instances: u32 = [
        settings.filter,
        settings.validation,
        settings.authorizer,
        settings.vault,
    ]
    .iter()
    .map(|l| {
        let (builtin, installed) = split(l.max_instances);
        builtin + installed
    })
    .sum();
    let max_memory = [
        settings.filter,
        settings.validation,
        settings.authorizer,
        settings.vault,
    ]
    .iter()
    .map(|l| l.memory_bytes)
    .max()
    .unwrap_or(MAX_MEMORY_SLOT_BYTES)
    .min(MAX_MEMORY_SLOT_BYTES);
    let mut pooling = PoolingAllocationConfig::default();
    pooling
        .total_component_instances(instances)
        .total_core_instances(instances * 8)
        .total_memories(instances * 2)
        .total_tables(instances * 4)
        .total_stacks(instances)
        .max_core_instances_per_component(16)
        .max_memories_per_component(4)
        .max_tables_per_component(8)
        .max_memory_size(max_memory.next_multiple_of(64 << 10));
    let mut config = Config::new();
    config
        .wasm_component_model(true)
        .epoch_interruption(true)
        .max_wasm_stack(512 << 10)
        .allocation_strategy(InstanceAllocationStrategy::Pooling(pooling));
    config
}

#[cfg(test)]
mod tests;

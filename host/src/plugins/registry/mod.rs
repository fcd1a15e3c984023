//! Which plugin a workspace uses: its own (installed with `plugins:admin`), else the
//! platform's (installed by the operator), else the built-in one. Resolutions are
//! cached per workspace and dropped when any replica installs or removes a plugin;
//! requests already running keep the version they started with. Concurrent first
//! requests of a workspace resolve (and load its component) once.

use std::sync::Arc;

use futures::FutureExt;
use moka::future::Cache;
use uuid::Uuid;
use wasmtime::component::{Instance, InstancePre};
use wasmtime::Store;

use super::bindings::exports::plinth::authorizer::authorizer as authorizer_exports;
use super::bindings::exports::plinth::filter::parser as filter_exports;
use super::bindings::exports::plinth::validation::policy as validation_exports;
use super::bindings::exports::plinth::vault::adapter as vault_exports;
use super::runtime::PluginRuntime;
use super::state::HostState;
use super::{builtin, PluginError, PluginFault, PluginKind};
use crate::control::notify::{Dropping, Invalidation, Invalidations};
use crate::control::ControlDb;

mod installs;

/// Where a plugin comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Origin {
    /// Embedded in the binary.
    BuiltIn,
    /// Installed by the operator for every workspace.
    Platform,
    /// Installed by a workspace for itself.
    Workspace(Uuid),
}

impl Origin {
    /// `builtin`, `platform` or `workspace`.
    pub fn as_str(self) -> &'static str {
        match self {
            Origin::BuiltIn => "builtin",
            Origin::Platform => "platform",
            Origin::Workspace(_) => "workspace",
        }
    }
}

/// The export indices of a world, found once per plugin.
pub(crate) enum ExportIndices {
    Filter(filter_exports::GuestIndices),
    Validation(validation_exports::GuestIndices),
    Authorizer(authorizer_exports::GuestIndices),
    Vault(vault_exports::GuestIndices),
}

/// The exports of one instance.
pub enum Exports {
    /// A filter parser.
    Filter(filter_exports::Guest),
    /// A validation policy.
    Validation(validation_exports::Guest),
    /// A row authorizer.
    Authorizer(authorizer_exports::Guest),
    /// A vault engine adapter.
    Vault(vault_exports::Guest),
}

impl ExportIndices {
    pub(crate) fn new(kind: PluginKind, pre: &InstancePre<HostState>) -> wasmtime::Result<Self> {
        Ok(match kind {
            PluginKind::FilterParser => Self::Filter(filter_exports::GuestIndices::new(pre)?),
            PluginKind::ValidationPolicy => {
                Self::Validation(validation_exports::GuestIndices::new(pre)?)
            }
            PluginKind::RowAuthorizer => {
                Self::Authorizer(authorizer_exports::GuestIndices::new(pre)?)
            }
            PluginKind::VaultAdapter => Self::Vault(vault_exports::GuestIndices::new(pre)?),
        })
    }

    pub(crate) fn load(
        &self,
        store: &mut Store<HostState>,
        instance: &Instance,
    ) -> wasmtime::Result<Exports> {
        Ok(match self {
            Self::Filter(i) => Exports::Filter(i.load(store, instance)?),
            Self::Validation(i) => Exports::Validation(i.load(store, instance)?),
            Self::Authorizer(i) => Exports::Authorizer(i.load(store, instance)?),
            Self::Vault(i) => Exports::Vault(i.load(store, instance)?),
        })
    }
}

/// A loaded plugin, ready to instantiate.
pub struct Plugin {
    /// Its world.
    pub kind: PluginKind,
    /// Its name.
    pub name: String,
    /// SHA-256 of its bytes.
    pub digest: [u8; 32],
    /// Where it comes from.
    pub origin: Origin,
    pub(crate) pre: InstancePre<HostState>,
    pub(crate) exports: ExportIndices,
}

impl Plugin {
    /// True for the built-in row authorizer, whose answer is known without asking
    /// it: allow, with no predicates. The request path answers for it natively;
    /// installed authorizers are always called.
    pub fn is_builtin_allow_all(&self) -> bool {
        self.kind == PluginKind::RowAuthorizer && self.origin == Origin::BuiltIn
    }
}

type LoadedKey = (PluginKind, [u8; 32], String, Origin);

/// Plugin resolution and installation.
pub struct Registry {
    control: Option<ControlDb>,
    invalidations: Option<Invalidations>,
    builtins: std::sync::RwLock<Vec<Arc<Plugin>>>,
    resolved: Cache<(PluginKind, Option<Uuid>), Arc<Plugin>>,
    /// Loaded plugins by kind, content, name and origin: the same bytes installed
    /// under two names (or by two workspaces) are two plugins that share the
    /// compiled component.
    loaded: Cache<LoadedKey, Arc<Plugin>>,
}

/// An installed plugin as listed.
#[derive(Debug, Clone, serde::Serialize)]
pub struct PluginInfo {
    /// The world.
    pub kind: &'static str,
    /// Its name.
    pub name: String,
    /// `builtin`, `platform` or `workspace`.
    pub origin: &'static str,
    /// SHA-256 of its bytes, hex.
    pub sha256: String,
}

impl Registry {
    pub(crate) fn new(control: Option<ControlDb>, invalidations: Option<&Invalidations>) -> Self {
        let resolved: Cache<(PluginKind, Option<Uuid>), Arc<Plugin>> =
            Cache::builder().max_capacity(100_000).build();
        if let Some(invalidations) = invalidations {
            invalidations.follow(&resolved, |message| match message {
                Invalidation::Other(kind, id) if kind == "plugins" => match Uuid::parse_str(id) {
                    Ok(workspace) => Dropping::Keys(resolutions_of(workspace).collect()),
                    // A platform plugin changed: it may apply to every workspace.
                    Err(_) => Dropping::Everything,
                },
                _ => Dropping::Nothing,
            });
        }
        Self {
            control,
            invalidations: invalidations.cloned(),
            builtins: std::sync::RwLock::new(Vec::new()),
            resolved,
            loaded: Cache::builder().max_capacity(1_000).build(),
        }
    }

    pub(crate) async fn load_builtins(&self, runtime: &PluginRuntime) -> Result<(), PluginError> {
        let mut builtins = Vec::new();
        for kind in PluginKind::ALL
            .into_iter()
            .chain([PluginKind::VaultAdapter])
        {
            let (name, bytes) = builtin::for_kind(kind);
            builtins.push(
                runtime
                    .load(kind, name, Origin::BuiltIn, Arc::new(bytes.to_vec()))
                    .await?,
            );
        }
        builtins.push(
            runtime
                .load(
                    PluginKind::VaultAdapter,
                    builtin::CLICKHOUSE_ADAPTER_NAME,
                    Origin::BuiltIn,
                    Arc::new(builtin::CLICKHOUSE_ADAPTER.to_vec()),
                )
                .await?,
        );
        if let Ok(mut slot) = self.builtins.write() {
            *slot = builtins;
        }
        Ok(())
    }

    /// A built-in plugin by name (the vault adapters share one kind).
    pub(crate) fn builtin_named(
        &self,
        kind: PluginKind,
        name: &str,
    ) -> Result<Arc<Plugin>, PluginError> {
        self.builtins
            .read()
            .ok()
            .and_then(|b| b.iter().find(|p| p.kind == kind && p.name == name).cloned())
            .ok_or_else(|| {
                PluginError::new(
                    kind,
                    name,
                    PluginFault::Host("no such built-in plugin".into()),
                )
            })
    }

    pub(crate) fn builtin(&self, kind: PluginKind) -> Result<Arc<Plugin>, PluginError> {
        self.builtins
            .read()
            .ok()
            .and_then(|b| b.iter().find(|p| p.kind == kind).cloned())
            .ok_or_else(|| {
                PluginError::new(
                    kind,
                    "builtin",
                    PluginFault::Host("built-in plugins are not loaded".into()),
                )
            })
    }

    fn trusted_cache(&self) -> bool {
        self.invalidations
            .as_ref()
            .map(Invalidations::is_listening)
            .unwrap_or(true)
    }
}

impl PluginRuntime {
    /// The plugin of `kind` that applies to `workspace`.
    pub async fn resolve(
        &self,
        kind: PluginKind,
        workspace: Option<Uuid>,
    ) -> Result<Arc<Plugin>, PluginError> {
        let trusted = self.registry.trusted_cache();
        if trusted {
            if let Some(hit) = self.registry.resolved.get(&(kind, workspace)).await {
                return Ok(hit);
            }
        }
        // Boxed: the loading future is large, and a hit should not carry it.
        self.resolve_missed(kind, workspace, trusted).boxed().await
    }

    /// A miss: one resolution for every request that misses it meanwhile.
    async fn resolve_missed(
        &self,
        kind: PluginKind,
        workspace: Option<Uuid>,
        trusted: bool,
    ) -> Result<Arc<Plugin>, PluginError> {
        let registry = &self.registry;
        let fresh = self.resolve_uncached(kind, workspace);
        if !trusted {
            return fresh.await;
        }
        let key = (kind, workspace);
        let cached = async {
            registry
                .resolved
                .try_get_with(key, self.resolve_uncached(kind, workspace))
                .await
                .map_err(|shared| (*shared).clone())
        };
        match &registry.invalidations {
            Some(invalidations) => {
                invalidations
                    .guard(cached, registry.resolved.invalidate(&key), fresh)
                    .await
            }
            // No other replica: only this process's installs change plugins.
            None => cached.await,
        }
    }

    /// Which plugin applies, asked of the control database; its component comes from
    /// the cache of loaded plugins, which concurrent first uses fill once.
    async fn resolve_uncached(
        &self,
        kind: PluginKind,
        workspace: Option<Uuid>,
    ) -> Result<Arc<Plugin>, PluginError> {
        let registry = &self.registry;
        let host_error = |e: crate::control::ControlError| {
            PluginError::new(kind, "(resolving)", PluginFault::Host(e.to_string()))
        };
        let Some(control) = &registry.control else {
            return registry.builtin(kind);
        };
        let Some(row) = control
            .effective_plugin(kind.as_str(), workspace)
            .await
            .map_err(host_error)?
        else {
            return registry.builtin(kind);
        };
        let digest: [u8; 32] = row.digest.as_slice().try_into().unwrap_or([0; 32]);
        let origin = match row.workspace_id {
            Some(ws) => Origin::Workspace(ws),
            None => Origin::Platform,
        };
        let key = (kind, digest, row.name.clone(), origin);
        registry
            .loaded
            .try_get_with(key, async {
                let wasm = control.plugin_wasm(row.id).await.map_err(host_error)?;
                self.load(kind, &row.name, origin, Arc::new(wasm)).await
            })
            .await
            .map_err(|shared| (*shared).clone())
    }
}

/// The keys of a workspace's resolutions, one per kind.
pub(super) fn resolutions_of(workspace: Uuid) -> impl Iterator<Item = (PluginKind, Option<Uuid>)> {
    PluginKind::ALL
        .into_iter()
        .map(move |kind| (kind, Some(workspace)))
}

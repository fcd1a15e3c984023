//! Installing, replacing and removing plugins, and listing the ones in effect: each
//! change is checked against its world, recorded in the control database, and
//! announced so that every replica resolves again.

use std::sync::Arc;

use uuid::Uuid;

use super::{resolutions_of, Origin, Plugin, PluginInfo};
use crate::control::ControlDb;
use crate::plugins::runtime::PluginRuntime;
use crate::plugins::{PluginError, PluginFault, PluginKind};

impl PluginRuntime {
    /// Installs (or replaces) a plugin for a workspace, or platform-wide when
    /// `workspace` is none, after checking it against its world. The next request
    /// uses it, on every replica.
    pub async fn install(
        &self,
        kind: PluginKind,
        workspace: Option<Uuid>,
        name: &str,
        wasm: Vec<u8>,
    ) -> Result<PluginInfo, PluginError> {
        let control = self.registry.control.as_ref().ok_or_else(|| {
            PluginError::new(kind, name, PluginFault::Host("no control database".into()))
        })?;
        let origin = match workspace {
            Some(ws) => Origin::Workspace(ws),
            None => Origin::Platform,
        };
        let wasm = Arc::new(wasm);
        let plugin = self.load(kind, name, origin, wasm.clone()).await?;
        let replaced = control
            .store_plugin(kind.as_str(), workspace, name, &plugin.digest, &wasm)
            .await
            .map_err(|e| PluginError::new(kind, name, PluginFault::Host(e.to_string())))?;
        if let Some(old) = replaced.filter(|old| old.as_slice() != plugin.digest) {
            self.evict_unused(control, &old).await;
        }
        self.registry
            .loaded
            .insert(
                (kind, plugin.digest, name.to_owned(), origin),
                plugin.clone(),
            )
            .await;
        self.forget(workspace).await;
        Ok(info(&plugin))
    }

    /// Removes a workspace's (or the platform's) plugin of `kind`; false when there
    /// was none.
    pub async fn uninstall(
        &self,
        kind: PluginKind,
        workspace: Option<Uuid>,
    ) -> Result<bool, PluginError> {
        let control = self.registry.control.as_ref().ok_or_else(|| {
            PluginError::new(kind, "", PluginFault::Host("no control database".into()))
        })?;
        let removed = control
            .remove_plugin(kind.as_str(), workspace)
            .await
            .map_err(|e| PluginError::new(kind, "", PluginFault::Host(e.to_string())))?;
        self.forget(workspace).await;
        if let Some(digest) = &removed {
            self.evict_unused(control, digest).await;
        }
        Ok(removed.is_some())
    }

    /// Drops the compiled artifact of a removed or replaced plugin, from memory and
    /// the cache directory, unless another installed plugin has the same content.
    /// Requests in flight keep the component they hold.
    pub(super) async fn evict_unused(&self, control: &ControlDb, digest: &[u8]) {
        let Ok(digest) = <[u8; 32]>::try_from(digest) else {
            return;
        };
        match control.plugin_digest_in_use(&digest).await {
            Ok(false) => self.cache.evict(&digest),
            Ok(true) => {}
            Err(error) => {
                tracing::warn!(%error, "cannot tell whether a plugin's artifact is still used; kept")
            }
        }
    }

    /// The effective plugin of every kind for a workspace.
    pub async fn effective(&self, workspace: Option<Uuid>) -> Result<Vec<PluginInfo>, PluginError> {
        let mut out = Vec::new();
        for kind in PluginKind::ALL {
            let plugin = self.resolve(kind, workspace).await?;
            out.push(info(&plugin));
        }
        Ok(out)
    }

    pub(super) async fn forget(&self, workspace: Option<Uuid>) {
        match workspace {
            Some(ws) => {
                for key in resolutions_of(ws) {
                    self.registry.resolved.invalidate(&key).await;
                }
            }
            None => self.registry.resolved.invalidate_all(),
        }
    }
}

fn info(plugin: &Plugin) -> PluginInfo {
    PluginInfo {
        kind: plugin.kind.as_str(),
        name: plugin.name.clone(),
        origin: plugin.origin.as_str(),
        sha256: hex::encode(plugin.digest),
    }
}

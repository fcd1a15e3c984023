//! The plugin runtime: real components through the real wasmtime runtime, natively
//! and over HTTP.

mod cache;
mod hostile;
mod install;
mod runtime;

use std::sync::Arc;
use std::time::Duration;

use plinth::config::{PluginLimits, PluginSettings};
use plinth::plugins::{Origin, Plugin, PluginKind, PluginRuntime};

/// The built-in components: three hooks (filter parser, validation policy, row
/// authorizer) and two vault engine adapters.
pub const BUILTINS: u64 = 5;

/// Path of the test-only hostile filter parser.
pub const HOSTILE: &str = env!("PLINTH_PLUGIN_HOSTILE");
/// The test filter parser that imports the clock its world does not grant.
pub const NAPPER: &str = env!("PLINTH_PLUGIN_NAPPER");
/// Path of the built-in JSON Schema policy.
pub const JSONSCHEMA_POLICY: &str = env!("PLINTH_PLUGIN_JSONSCHEMA_POLICY");

/// Limits used by the native tests: a short deadline and a small memory ceiling.
pub fn limits(deadline_ms: u64, max_instances: u32) -> PluginSettings {
    PluginSettings::uniform(PluginLimits {
        deadline: Duration::from_millis(deadline_ms),
        memory_bytes: 16 << 20,
        max_instances,
    })
}

/// A runtime without a control database (built-in plugins and explicit loads). With
/// no `cache_dir`, the run's shared artifact cache saves recompiling the built-ins
/// in every test.
pub async fn runtime(
    settings: &PluginSettings,
    cache_dir: Option<std::path::PathBuf>,
) -> Arc<PluginRuntime> {
    let dir = cache_dir.unwrap_or_else(|| crate::support::plugin_cache_dir().clone());
    PluginRuntime::new(settings, Some(dir), None, None)
        .await
        .expect("the plugin runtime starts")
}

/// Loads the hostile filter parser into a runtime.
pub async fn hostile(runtime: &PluginRuntime) -> Arc<Plugin> {
    let bytes = std::fs::read(HOSTILE).expect("the hostile plugin is built");
    runtime
        .load(
            PluginKind::FilterParser,
            "hostile",
            Origin::Platform,
            Arc::new(bytes),
        )
        .await
        .expect("the hostile plugin loads")
}

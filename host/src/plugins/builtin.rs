//! The built-in plugins, compiled from `plugins/` by the build script and embedded in
//! the binary, so `plinth` runs with no plugin files around it.

use super::PluginKind;

/// The PostgREST-compatible filter parser.
pub const FILTER_PARSER: &[u8] = include_bytes!(env!("PLINTH_PLUGIN_FILTER_PARSER"));
/// JSON Schema validation.
pub const JSONSCHEMA_POLICY: &[u8] = include_bytes!(env!("PLINTH_PLUGIN_JSONSCHEMA_POLICY"));
/// The allow-all row authorizer.
pub const ALLOW_ALL_AUTHORIZER: &[u8] = include_bytes!(env!("PLINTH_PLUGIN_ALLOW_ALL_AUTHORIZER"));

/// The `postgres` vault engine adapter.
pub const POSTGRES_ADAPTER: &[u8] = include_bytes!(env!("PLINTH_PLUGIN_POSTGRES_ADAPTER"));

/// The `clickhouse` vault engine adapter.
pub const CLICKHOUSE_ADAPTER: &[u8] = include_bytes!(env!("PLINTH_PLUGIN_CLICKHOUSE_ADAPTER"));
/// The names of the built-in vault adapters, by engine.
pub const POSTGRES_ADAPTER_NAME: &str = "builtin:postgres-adapter";
/// See [`POSTGRES_ADAPTER_NAME`].
pub const CLICKHOUSE_ADAPTER_NAME: &str = "builtin:clickhouse-adapter";

/// The built-in plugin of a kind: its name and bytes.
pub fn for_kind(kind: PluginKind) -> (&'static str, &'static [u8]) {
    match kind {
        PluginKind::FilterParser => ("builtin:postgrest-grammar", FILTER_PARSER),
        PluginKind::ValidationPolicy => ("builtin:jsonschema", JSONSCHEMA_POLICY),
        PluginKind::RowAuthorizer => ("builtin:allow-all", ALLOW_ALL_AUTHORIZER),
        PluginKind::VaultAdapter => (POSTGRES_ADAPTER_NAME, POSTGRES_ADAPTER),
    }
}

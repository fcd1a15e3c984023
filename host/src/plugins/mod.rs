//! Plugins: sandboxed WebAssembly components loaded against the WIT worlds in
//! `wit/`. The runtime owns one `Engine`, compiles each component once (cached in
//! memory and on disk), keeps warm instances of the stateless worlds per workspace,
//! and runs every call under a run-time budget and a memory ceiling. A misbehaving plugin
//! costs its own request a clear error, never the server.
//!
//! - [`runtime`]: the engine and the per-call machinery;
//! - [`ticker`]: the epoch ticker, running while calls run;
//! - [`clock`]: a call's run-time budget (time the guest runs, not time it waits);
//! - [`cache`]: compiled components, in memory and as verified artifacts on disk;
//! - [`instances`]: warm instances under a per-kind ceiling;
//! - [`state`]: what each store holds (WASI with nothing granted, limits, deadline);
//! - [`registry`]: which plugin a workspace uses, and installing new ones;
//! - one module per world: [`filter`], [`validation`], [`authorizer`], [`vault`].

pub mod authorizer;
mod bindings;
pub mod builtin;
pub mod cache;
pub mod clock;
mod error;
pub mod filter;
pub mod instances;
pub mod linking;
pub mod registry;
pub mod runtime;
pub mod shares;
pub mod state;
pub mod ticker;
pub mod validation;
pub mod vault;

pub use bindings::plinth::authorizer::types as authorizer_types;
pub use bindings::plinth::filter::types as filter_types;
pub use bindings::plinth::validation::types as validation_types;
pub use bindings::plinth::vault::types as vault_types;
pub use error::{PluginError, PluginFault};
pub use registry::{Origin, Plugin};
pub use runtime::PluginRuntime;

/// The plugin worlds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PluginKind {
    /// `plinth:filter/filter-parser`.
    FilterParser,
    /// `plinth:validation/validation-policy`.
    ValidationPolicy,
    /// `plinth:authorizer/row-authorizer`.
    RowAuthorizer,
    /// `plinth:vault/postgres-adapter` or `plinth:vault/clickhouse-adapter`: built in
    /// only, not installable.
    VaultAdapter,
}

impl PluginKind {
    /// Every kind a workspace or the platform may install.
    pub const ALL: [PluginKind; 3] = [
        PluginKind::FilterParser,
        PluginKind::ValidationPolicy,
        PluginKind::RowAuthorizer,
    ];

    /// The wire name, as in `PUT /v1/workspaces/{ws}/plugins/{kind}`.
    pub fn as_str(self) -> &'static str {
        match self {
            PluginKind::FilterParser => "filter-parser",
            PluginKind::ValidationPolicy => "validation-policy",
            PluginKind::RowAuthorizer => "row-authorizer",
            PluginKind::VaultAdapter => "vault-adapter",
        }
    }

    /// Parses a wire name.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == name)
    }
}

impl std::fmt::Display for PluginKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

//! The one scope vocabulary of all four APIs.

use std::fmt;

/// A permission a credential may carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scope {
    /// Data API reads.
    PostgresRead,
    /// Data API inserts, updates, deletes.
    PostgresWrite,
    /// Workspace Tables list and get.
    WorkspaceView,
    /// Workspace Tables create, alter, drop, and the scoped query.
    WorkspaceUpdate,
    /// Vault list, schema, query, count.
    VaultRead,
    /// Vault record create and update.
    VaultWrite,
    /// Vault record delete.
    VaultDelete,
    /// Vault collection create and drop.
    VaultDdl,
    /// Ingestion status.
    IngestionRead,
    /// Provisioning, connection URIs, rotation, base-record loads.
    IngestionAdmin,
    /// Installing the workspace's own plugins.
    PluginsAdmin,
}

impl Scope {
    /// Every scope, in documentation order.
    pub const ALL: [Scope; 11] = [
        Scope::PostgresRead,
        Scope::PostgresWrite,
        Scope::WorkspaceView,
        Scope::WorkspaceUpdate,
        Scope::VaultRead,
        Scope::VaultWrite,
        Scope::VaultDelete,
        Scope::VaultDdl,
        Scope::IngestionRead,
        Scope::IngestionAdmin,
        Scope::PluginsAdmin,
    ];

    /// The scope's wire name, e.g. `postgres:read`.
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::PostgresRead => "postgres:read",
            Scope::PostgresWrite => "postgres:write",
            Scope::WorkspaceView => "workspace:view",
            Scope::WorkspaceUpdate => "workspace:update",
            Scope::VaultRead => "vault:read",
            Scope::VaultWrite => "vault:write",
            Scope::VaultDelete => "vault:delete",
            Scope::VaultDdl => "vault:ddl",
            Scope::IngestionRead => "ingestion:read",
            Scope::IngestionAdmin => "ingestion:admin",
            Scope::PluginsAdmin => "plugins:admin",
        }
    }

    /// Parses a wire name.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == name)
    }

    fn bit(self) -> u16 {
        1 << (self as u16)
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A set of scopes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ScopeSet(u16);

impl ScopeSet {
    /// Every scope (the admin token).
    pub fn all() -> Self {
        Self::from_iter(Scope::ALL)
    }

    /// True when `scope` is in the set.
    pub fn contains(self, scope: Scope) -> bool {
        self.0 & scope.bit() != 0
    }

    /// The set from wire names, ignoring names that are not scopes.
    pub fn from_names<'a>(names: impl IntoIterator<Item = &'a str>) -> Self {
        names.into_iter().filter_map(Scope::parse).collect()
    }

    /// The wire names of the set.
    pub fn names(self) -> Vec<&'static str> {
        Scope::ALL
            .into_iter()
            .filter(|s| self.contains(*s))
            .map(Scope::as_str)
            .collect()
    }
}

impl FromIterator<Scope> for ScopeSet {
    fn from_iter<I: IntoIterator<Item = Scope>>(iter: I) -> Self {
        Self(iter.into_iter().fold(0, |acc, s| acc | s.bit()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_scope_round_trips_through_its_name() {
        for scope in Scope::ALL {
            assert_eq!(Scope::parse(scope.as_str()), Some(scope));
        }
    }

    #[test]
    fn unknown_names_are_ignored_in_sets() {
        let set = ScopeSet::from_names(["postgres:read", "bogus", "vault:ddl"]);
        assert!(set.contains(Scope::PostgresRead));
        assert!(set.contains(Scope::VaultDdl));
        assert!(!set.contains(Scope::PostgresWrite));
        assert_eq!(set.names(), vec!["postgres:read", "vault:ddl"]);
    }
}

//! The plain types of the schema cache.

use std::collections::HashMap;
use std::sync::Arc;

/// A column.
#[derive(Debug, Clone)]
pub struct Column {
    /// Its name (shared with the plans that refer to it).
    pub name: Arc<str>,
    /// `format_type` of its type with modifiers (`numeric(10,2)`), for display.
    pub sql_type: String,
    /// Its type without modifiers (`numeric`, `text[]`): what bound values are cast to.
    pub cast_type: Arc<str>,
    /// Nullable.
    pub nullable: bool,
    /// Has a default (or is an identity column).
    pub has_default: bool,
    /// Generated (cannot be written).
    pub generated: bool,
}

/// Table or view.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RelKind {
    /// A table.
    Table,
    /// A view or materialized view.
    View,
}

/// A relation the Data API exposes.
#[derive(Debug, Clone)]
pub struct Relation {
    /// Its catalog oid.
    pub oid: u32,
    /// Its schema.
    pub schema: String,
    /// Its catalog name (the physical name of a Workspace Table).
    pub name: String,
    /// The name clients use (`orders`, `dl_resolved.people`).
    pub exposed: String,
    /// Table or view.
    pub kind: RelKind,
    /// True for the managed read-only views (`dl_resolved`).
    pub read_only: bool,
    /// Columns in order.
    pub columns: Vec<Column>,
    /// Primary-key columns in order.
    pub primary_key: Vec<String>,
    /// A plain table without row-level security whose columns are all of base or
    /// enum types: reading it cannot observe the tenant context settings (no policy,
    /// view body or domain check to call `current_setting`), so a read touching only
    /// such tables may skip the transaction that sets them.
    pub context_free: bool,
    /// A plain table without row-level security, parent or child tables (a write to
    /// a parent changes its children's rows under the parent's triggers) whose every write
    /// statement counts itself in `dl_meta.table_changes` (managed schemas 3: an
    /// enabled `plinth_table_changes` trigger on insert, update, delete and
    /// truncate): an exact count of it holds while that count has not moved.
    pub changes_tracked: bool,
}

impl Relation {
    /// A column by name.
    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|c| &*c.name == name)
    }

    /// The column name nearest to `name`, for "did you mean" hints.
    pub fn nearest_column(&self, name: &str) -> Option<&str> {
        self.columns
            .iter()
            .map(|c| (strsim::jaro_winkler(&c.name, name), &*c.name))
            .filter(|(score, _)| *score > 0.7)
            .max_by(|a, b| a.0.total_cmp(&b.0))
            .map(|(_, n)| n)
    }
}

/// A foreign key between exposed relations.
#[derive(Debug, Clone)]
pub struct ForeignKey {
    /// The constraint's name.
    pub name: String,
    /// The referencing relation (oid).
    pub from: u32,
    /// Its columns.
    pub from_columns: Vec<String>,
    /// The referenced relation (oid).
    pub to: u32,
    /// Its columns.
    pub to_columns: Vec<String>,
}

/// Where a statement reads the workspace's schema version from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum VersionSource {
    /// `dl_meta.schema_state`, in the statement's snapshot: a table scan per execution.
    #[default]
    Table,
    /// `dl_meta.schema_version()`, an immutable function whose body every DDL command
    /// replaces: the planner folds it into the plan as a literal, and the replacement
    /// invalidates every cached plan that used it.
    Constant,
}

impl VersionSource {
    /// The SQL expression of the version.
    pub fn expression(self) -> &'static str {
        match self {
            Self::Table => "(SELECT version FROM dl_meta.schema_state)",
            Self::Constant => "dl_meta.schema_version()",
        }
    }
}

/// One workspace's exposed schema.
#[derive(Debug, Clone, Default)]
pub struct SchemaCache {
    /// `dl_meta.schema_state.version` when loaded.
    pub version: i64,
    /// How statements read the version to compare with [`Self::version`].
    pub version_source: VersionSource,
    /// The oid of the workspace's database: a database dropped and provisioned
    /// again under the same workspace has another.
    pub database: u32,
    relations: Vec<Arc<Relation>>,
    by_name: HashMap<String, usize>,
    by_oid: HashMap<u32, usize>,
    /// Foreign keys between exposed relations.
    pub foreign_keys: Vec<ForeignKey>,
}

impl SchemaCache {
    /// Builds the lookup tables.
    pub fn new(
        version: i64,
        version_source: VersionSource,
        database: u32,
        relations: Vec<Relation>,
        foreign_keys: Vec<ForeignKey>,
    ) -> Self {
        let relations: Vec<Arc<Relation>> = relations.into_iter().map(Arc::new).collect();
        let mut by_name = HashMap::new();
        let mut by_oid = HashMap::new();
        for (i, r) in relations.iter().enumerate() {
            by_oid.insert(r.oid, i);
            by_name.insert(r.exposed.clone(), i);
            if r.schema == "tenant_custom" {
                by_name.insert(format!("tenant_custom.{}", r.name), i);
            }
        }
        // An unqualified name means the Workspace Tables entry, else the tenant_custom
        // table: registry names are inserted last so that they win.
        for (i, r) in relations.iter().enumerate() {
            if r.schema == crate::names::TABLES_SCHEMA {
                by_name.insert(r.exposed.clone(), i);
            }
        }
        let oids: std::collections::HashSet<u32> = by_oid.keys().copied().collect();
        let foreign_keys = foreign_keys
            .into_iter()
            .filter(|fk| oids.contains(&fk.from) && oids.contains(&fk.to))
            .collect();
        Self {
            version,
            version_source,
            database,
            relations,
            by_name,
            by_oid,
            foreign_keys,
        }
    }

    /// The relation a client names (`orders`, `tenant_custom.orders`, `dl_resolved.people`).
    pub fn relation(&self, name: &str) -> Option<&Arc<Relation>> {
        self.by_name.get(name).map(|i| &self.relations[*i])
    }

    /// A relation by oid.
    pub fn by_oid(&self, oid: u32) -> Option<&Arc<Relation>> {
        self.by_oid.get(&oid).map(|i| &self.relations[*i])
    }

    /// Every exposed relation.
    pub fn relations(&self) -> &[Arc<Relation>] {
        &self.relations
    }

    /// The exposed name nearest to `name`.
    pub fn nearest_relation(&self, name: &str) -> Option<&str> {
        self.by_name
            .keys()
            .map(|k| (strsim::jaro_winkler(k, name), k.as_str()))
            .filter(|(score, _)| *score > 0.7)
            .max_by(|a, b| a.0.total_cmp(&b.0))
            .map(|(_, n)| n)
    }
}

//! The schema cache: each workspace's exposed relations, their columns, keys and
//! foreign keys, read from the live catalog. A value swapped whole; each request's
//! transaction compares its version with the workspace's (`dl_meta.schema_state`,
//! bumped by an event trigger on every DDL, or `dl_meta.schema_version()`, which the
//! same trigger replaces: see [`VersionSource`]), so DDL made directly is seen on the
//! next request. A workspace's first requests read the catalog once between them.

mod load;
mod types;

use std::sync::Arc;
use std::time::Duration;

use moka::future::Cache;
use uuid::Uuid;

pub use load::{load, VERSION_QUERY};
pub use types::{Column, ForeignKey, RelKind, Relation, SchemaCache, VersionSource};

/// How long a workspace's schema stays cached without use.
const IDLE: Duration = Duration::from_secs(600);

/// The caches of every workspace.
#[derive(Clone)]
pub struct SchemaCaches {
    cache: Cache<Uuid, Arc<SchemaCache>>,
}

impl Default for SchemaCaches {
    fn default() -> Self {
        Self::new()
    }
}

impl SchemaCaches {
    /// An empty set of caches.
    pub fn new() -> Self {
        Self {
            cache: Cache::builder()
                .max_capacity(10_000)
                .time_to_idle(IDLE)
                .build(),
        }
    }

    /// The cached schema of a workspace, if any.
    pub async fn get(&self, workspace: Uuid) -> Option<Arc<SchemaCache>> {
        self.cache.get(&workspace).await
    }

    /// The cached schema of a workspace, or the one `load` reads; concurrent misses
    /// of one workspace wait for a single load, and a failed load is not kept.
    pub async fn get_or_load<E>(
        &self,
        workspace: Uuid,
        load: impl std::future::Future<Output = Result<Arc<SchemaCache>, E>>,
    ) -> Result<Arc<SchemaCache>, Arc<E>>
    where
        E: Send + Sync + 'static,
    {
        self.cache.try_get_with(workspace, load).await
    }

    /// Replaces a workspace's schema.
    pub async fn put(&self, workspace: Uuid, schema: Arc<SchemaCache>) {
        self.cache.insert(workspace, schema).await;
    }

    /// Forgets a workspace's schema (after DDL made through Plinth).
    pub async fn invalidate(&self, workspace: Uuid) {
        self.cache.invalidate(&workspace).await;
    }
}

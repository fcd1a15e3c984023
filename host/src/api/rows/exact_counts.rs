//! Exact counts that are answered again without counting. A read's `total` is an
//! exact `count(*)` of its filter, which on a large table costs PostgreSQL more than
//! the page itself. For a relation whose every write statement counts itself in
//! `dl_meta.table_changes` (managed schemas 3), the host remembers each count with
//! the sum of that table's counters read in the same snapshot. The next read of the
//! same filter sends the sum it knows; PostgreSQL compares it with the sum in the
//! read's own snapshot, and runs the count only if they differ.
//!
//! Why equal sums mean an equal count is argued in `docs/performance.md`.
//!
//! Never reused (the read counts every time): relations with row-level security,
//! parents and children of inheritance, views, tables whose tracking trigger is
//! missing or disabled, filters through an `!inner` embed (another table's writes),
//! and filters on the clock (`now`, `today`, ...).

use std::sync::Arc;
use std::time::Duration;

use moka::sync::Cache;
use prometheus_client::metrics::counter::Counter;
use uuid::Uuid;

use crate::sql::statement::Param;

/// Most bytes of count statements (text and parameters) kept for all workspaces.
const MAX_BYTES: u64 = 16 * 1024 * 1024;

/// How long a count is kept without use.
const IDLE: Duration = Duration::from_secs(600);

/// What a count is remembered under.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CountKey {
    /// The workspace.
    pub workspace: Uuid,
    /// Its database's oid (see [`crate::schema_cache::SchemaCache::database`]).
    pub database: u32,
    /// The schema version the read was planned at.
    pub schema_version: i64,
    /// The count's statement (`SELECT count(*) FROM … WHERE …`), which names the
    /// relation.
    pub text: String,
    /// Its parameters.
    pub params: Vec<Param>,
}

impl CountKey {
    fn weight(&self) -> u32 {
        let params: usize = self
            .params
            .iter()
            .map(|p| match p {
                Param::Text(v) => v.len(),
                Param::TextArray(v) => v.iter().map(|s| s.len() + 8).sum(),
                Param::Int(_) => 8,
            })
            .sum();
        u32::try_from(self.text.len() + params).unwrap_or(u32::MAX)
    }
}

/// A count and the table's write counter in the snapshot it was read in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Counted {
    /// `sum(changes)` of the table in `dl_meta.table_changes`.
    pub changes: i64,
    /// The rows the filter matched.
    pub total: i64,
}

/// The remembered counts of every workspace, bounded by the text they hold.
#[derive(Clone)]
pub struct ExactCounts {
    cache: Cache<Arc<CountKey>, Counted>,
    reused: Counter,
    counted: Counter,
}

impl ExactCounts {
    /// An empty set, reporting reads answered from it to `reused` and counts the
    /// database had to run to `counted`.
    pub fn new(reused: Counter, counted: Counter) -> Self {
        Self {
            cache: Cache::builder()
                .weigher(|key: &Arc<CountKey>, _: &Counted| key.weight())
                .max_capacity(MAX_BYTES)
                .time_to_idle(IDLE)
                .build(),
            reused,
            counted,
        }
    }

    /// The count last read for `key`.
    pub fn get(&self, key: &Arc<CountKey>) -> Option<Counted> {
        self.cache.get(key)
    }

    /// Notes a read whose count was answered from `known`.
    pub fn reused(&self) {
        self.reused.inc();
    }

    /// Records a count the database ran.
    pub fn record(&self, key: Arc<CountKey>, counted: Counted) {
        self.counted.inc();
        self.cache.insert(key, counted);
    }
}

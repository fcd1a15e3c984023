//! Scoped queries whose plan has passed the check, per workspace and statement, with
//! the schema version they were checked at. A statement seen again while the
//! workspace's schema is still at that version runs without being explained and
//! described again, from a statement prepared once per connection: the same work
//! PostgreSQL does for pgbench's `-M prepared`. Any DDL in the workspace database
//! (through Plinth or not) moves the version (`dl_meta.schema_state`, bumped by the
//! managed event trigger), and the next run checks the plan anew.
//!
//! The version is read in the query's transaction just before the statement runs.
//! DDL committed in the instant between the two would run the statement on a
//! catalog whose plan was not inspected; only a role that may change the
//! workspace's schema can do that, and such a role can read those relations itself.

use std::sync::Arc;
use std::time::Duration;

use moka::sync::Cache;
use postgres_types::Type;
use uuid::Uuid;

/// Most text (statements and their wrapped forms, in bytes) kept for all workspaces.
const MAX_BYTES: u64 = 32 * 1024 * 1024;

/// How long an approval is kept without use.
const IDLE: Duration = Duration::from_secs(600);

/// A statement whose plan passed the check.
#[derive(Debug)]
pub struct Approval {
    /// `dl_meta.schema_state.version` read in the transaction that checked it.
    pub version: i64,
    /// Its result columns, named and typed.
    pub columns: Vec<(String, Type)>,
    /// What runs: the statement wrapped so that PostgreSQL builds each row as JSON,
    /// or the statement itself when it returns no columns.
    pub runs: String,
}

/// The approvals of every workspace, bounded by the text they hold.
#[derive(Clone)]
pub struct Approvals {
    cache: Cache<(Uuid, String), Arc<Approval>>,
}

impl Default for Approvals {
    fn default() -> Self {
        Self::new()
    }
}

impl Approvals {
    /// An empty set.
    pub fn new() -> Self {
        Self {
            cache: Cache::builder()
                .weigher(|(_, sql): &(Uuid, String), approval: &Arc<Approval>| {
                    u32::try_from(sql.len() + approval.runs.len()).unwrap_or(u32::MAX)
                })
                .max_capacity(MAX_BYTES)
                .time_to_idle(IDLE)
                .build(),
        }
    }

    /// The approval of `sql` (the checked, rewritten statement) in `workspace`.
    pub fn get(&self, workspace: Uuid, sql: &str) -> Option<Arc<Approval>> {
        self.cache.get(&(workspace, sql.to_owned()))
    }

    /// Records the approval of `sql` in `workspace`.
    pub fn insert(&self, workspace: Uuid, sql: &str, approval: Arc<Approval>) {
        self.cache.insert((workspace, sql.to_owned()), approval);
    }
}

//! Reads batched on a workspace's lane. When concurrent requests run the same
//! context-free read (a read by key, say) with different values, those that arrive
//! while [`max_running`] of them are already in flight wait, and go out together as
//! one statement over `unnest` of their values ([`crate::sql::rows::read_batch`]):
//! the server then runs one transaction, one executor start and one round trip for
//! the lot instead of one each, which makes each read several times cheaper for
//! PostgreSQL (the figures are in `bench/RESULTS.md`).
//!
//! A request that finds fewer than [`max_running`] in flight runs its own statement
//! at once, as it would without batching, so a lone request waits no longer than
//! before; what queued meanwhile goes out when it is done, from a task that keeps
//! going while requests keep queueing (the pattern of `control::group_commit`). A
//! batch that fails (one request's value is not a number, say) is not retried as a
//! batch: each of its requests runs its own statement, so every error stays with
//! its request. (Hand-written: a queue and a loop around one statement; no crate
//! batches tokio-postgres reads.)

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use deadpool_postgres::{ClientWrapper, Pool};
use tokio::sync::oneshot;
use tokio_postgres::types::ToSql;
use tokio_postgres::Row;

use super::lane::Lane;
use crate::sql::statement::{BatchStatement, Statement};

/// Statements of one text in flight at once before requests queue for a batch: one
/// per core (at least two), so that batches keep as many of the server's backends
/// busy as there are cores to run them.
pub fn max_running() -> usize {
    static MAX_RUNNING: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *MAX_RUNNING
        .get_or_init(|| std::thread::available_parallelism().map_or(2, |cores| cores.get().max(2)))
}
/// Most requests in one batch.
pub const MAX_BATCH: usize = 64;

/// Batches sent and reads they answered since start, across workspaces (for
/// `GET /metrics`).
#[derive(Debug, Default)]
pub struct BatchCounters {
    /// Batch statements that answered.
    pub batches: AtomicU64,
    /// Reads answered by them.
    pub reads: AtomicU64,
}

/// The batches of one workspace's API pool.
pub struct Batches {
    lane: Arc<Lane>,
    pool: Pool,
    groups: Mutex<HashMap<Arc<str>, Group>>,
    counters: Arc<BatchCounters>,
}

/// The requests running and waiting with one statement text.
struct Group {
    key: Arc<str>,
    running: usize,
    waiting: Vec<Waiting>,
    batch: BatchShape,
}

/// The statement that runs a group's waiting requests together.
enum BatchShape {
    /// Not asked yet: built by the first request that queues.
    Unknown,
    /// The read cannot be batched: requests run their own statements.
    None,
    /// Built.
    Built(Arc<BatchStatement>),
}

/// A queued request: its statement, handed back if no batch answers it.
struct Waiting {
    statement: Statement,
    answer: oneshot::Sender<Turn>,
}

/// What a request does with its read.
pub enum Turn {
    /// Runs its own statement, as without batching. With [`Leading`], it counts as
    /// running, and dropping that sends what queued meanwhile.
    Own(Statement, Option<Leading>),
    /// Its row, from a batch: [`crate::sql::rows::read`]'s columns and one more.
    Row(Row),
}

/// A batch whose task stopped before it answered.
#[derive(Debug, thiserror::Error)]
#[error("a batched read gave no answer")]
pub struct Unanswered;

/// A request's own statement, counted as running until dropped.
pub struct Leading {
    batches: Arc<Batches>,
    key: Arc<str>,
}

impl Drop for Leading {
    fn drop(&mut self) {
        if let Some((batch, statement)) = self.batches.next_batch(&self.key) {
            let batches = self.batches.clone();
            let key = self.key.clone();
            tokio::spawn(async move { batches.drain(key, batch, statement).await });
        }
    }
}

impl Batches {
    /// Batches over `lane`, which lends connections of `pool`, counted in `counters`.
    pub fn new(lane: Arc<Lane>, pool: Pool, counters: Arc<BatchCounters>) -> Self {
        Self {
            lane,
            pool,
            groups: Mutex::new(HashMap::new()),
            counters,
        }
    }

    /// The turn of a read whose statement is `statement`, grouped with the reads of
    /// the same `key` (its text and whatever its batch statement shares, see
    /// [`BatchStatement::shared`]); `batch` builds the statement that runs it
    /// together with others (`None` when it cannot be).
    pub async fn turn(
        self: &Arc<Self>,
        key: &str,
        statement: Statement,
        batch: impl FnOnce() -> Option<BatchStatement>,
    ) -> Result<Turn, Unanswered> {
        let answer = {
            let mut groups = self.lock();
            let group = match groups.get_mut(key) {
                Some(group) => group,
                None => {
                    let key: Arc<str> = Arc::from(key);
                    let group = Group {
                        key: key.clone(),
                        running: 0,
                        waiting: Vec::new(),
                        batch: BatchShape::Unknown,
                    };
                    groups.entry(key).or_insert(group)
                }
            };
            if group.running < max_running() {
                group.running += 1;
                let leading = Leading {
                    batches: self.clone(),
                    key: group.key.clone(),
                };
                return Ok(Turn::Own(statement, Some(leading)));
            }
            if let BatchShape::Unknown = group.batch {
                group.batch = match batch() {
                    Some(built) => BatchShape::Built(Arc::new(built)),
                    None => BatchShape::None,
                };
            }
            if let BatchShape::None = group.batch {
                return Ok(Turn::Own(statement, None));
            }
            let (answer, answered) = oneshot::channel();
            group.waiting.push(Waiting { statement, answer });
            answered
        };
        answer.await.map_err(|_| Unanswered)
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<Arc<str>, Group>> {
        self.groups
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The next batch of `key` and its statement, still counted as running; or
    /// `None`, one fewer running, and the group forgotten once nothing runs or waits.
    fn next_batch(&self, key: &str) -> Option<(Vec<Waiting>, Arc<BatchStatement>)> {
        let mut groups = self.lock();
        let group = groups.get_mut(key)?;
        if let (false, BatchShape::Built(statement)) = (group.waiting.is_empty(), &group.batch) {
            let statement = statement.clone();
            let take = group.waiting.len().min(MAX_BATCH);
            return Some((group.waiting.drain(..take).collect(), statement));
        }
        group.running -= 1;
        if group.running == 0 && group.waiting.is_empty() {
            groups.remove(key);
        }
        None
    }

    /// Runs the waiting requests of `key` in batches until none wait.
    async fn drain(
        self: Arc<Self>,
        key: Arc<str>,
        mut batch: Vec<Waiting>,
        mut statement: Arc<BatchStatement>,
    ) {
        loop {
            self.run(batch, &statement).await;
            match self.next_batch(&key) {
                Some((next, next_statement)) => (batch, statement) = (next, next_statement),
                None => return,
            }
        }
    }

    /// Answers every request of `batch`: with its row, or with its own statement back
    /// when the batch could not run (or holds one request, which runs alone as well).
    async fn run(&self, batch: Vec<Waiting>, statement: &BatchStatement) {
        let rows = if batch.len() > 1 {
            self.query(&batch, statement).await
        } else {
            None
        };
        match rows {
            Some(rows) => {
                self.counters.batches.fetch_add(1, Ordering::Relaxed);
                let reads = batch.len() as u64;
                self.counters.reads.fetch_add(reads, Ordering::Relaxed);
                for (waiting, row) in batch.into_iter().zip(rows) {
                    let _ = waiting.answer.send(Turn::Row(row));
                }
            }
            None => {
                for waiting in batch {
                    let _ = waiting.answer.send(Turn::Own(waiting.statement, None));
                }
            }
        }
    }

    /// The rows of `batch`'s requests, in its order; `None` when the statement failed
    /// or did not answer one row for each.
    async fn query(&self, batch: &[Waiting], statement: &BatchStatement) -> Option<Vec<Row>> {
        let reads: Vec<&Statement> = batch.iter().map(|w| &w.statement).collect();
        let values = statement.values(&reads)?;
        let values: Vec<&(dyn ToSql + Sync)> = values.iter().map(|v| v.as_ref() as _).collect();
        // A lane connection if one is free, else one of the pool's for this statement.
        let shared = self.lane.acquire().await.ok()?;
        let pooled;
        let client: &ClientWrapper = match &shared {
            Some(shared) => shared.client(),
            None => {
                pooled = self.pool.get().await.ok()?;
                &pooled
            }
        };
        let prepared = client
            .prepare_typed_cached(&statement.text, &statement.types)
            .await
            .ok()?;
        let rows = client.query(&prepared, &values).await.ok()?;
        in_request_order(rows, batch.len())
    }
}

/// `rows` ordered by their last column, the request's 1-based position; `None`
/// unless there is exactly one for each of `count` requests.
fn in_request_order(rows: Vec<Row>, count: usize) -> Option<Vec<Row>> {
    if rows.len() != count {
        return None;
    }
    let mut ordered: Vec<Option<Row>> = (0..count).map(|_| None).collect();
    for row in rows {
        let position: i64 = row.try_get(row.len() - 1).ok()?;
        let slot = usize::try_from(position - 1)
            .ok()
            .and_then(|i| ordered.get_mut(i))?;
        if slot.replace(row).is_some() {
            return None;
        }
    }
    ordered.into_iter().collect()
}

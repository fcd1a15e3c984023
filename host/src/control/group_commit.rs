//! Group commit for the control database's per-request records (the vault audit
//! trail). Records of concurrent requests are
//! written in one statement and one commit, and every request still waits until its
//! own record is committed before it answers, so nothing is less durable than one
//! commit per record, at a fraction of the database's work per record (a tenth of a
//! row's cost in batches of ten, measured with pgbench).
//!
//! One write runs at a time. A request that finds none running writes its own record
//! at once, on its own task, so a lone request waits no longer than before; records
//! that arrive meanwhile queue, and are written together as soon as it is done, by a
//! task that keeps going while records keep arriving. (Hand-written because it is a
//! queue and a loop around one statement; no crate does group commit over
//! tokio-postgres.)

use std::future::Future;
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::sync::oneshot;

use super::ControlError;

/// Most records in one write.
const MAX_BATCH: usize = 512;

/// How a kind of record is written.
pub trait Writer: Send + Sync + 'static {
    /// One record.
    type Record: Send + Sync + 'static;

    /// Writes `records` in one transaction if it can; answers for each, in order.
    fn write<'a>(
        &'a self,
        records: &'a [&'a Self::Record],
    ) -> impl Future<Output = Vec<Result<(), ControlError>>> + Send + 'a;
}

/// One record and the request waiting for it.
struct Pending<R> {
    record: R,
    committed: oneshot::Sender<Result<(), ControlError>>,
}

/// Records waiting for the write that runs.
struct Queue<R> {
    waiting: Vec<Pending<R>>,
    writing: bool,
}

/// Writes the records of concurrent requests together.
pub struct GroupCommit<W: Writer> {
    writer: Arc<W>,
    queue: Arc<Mutex<Queue<W::Record>>>,
}

impl<W: Writer> Clone for GroupCommit<W> {
    fn clone(&self) -> Self {
        Self {
            writer: Arc::clone(&self.writer),
            queue: Arc::clone(&self.queue),
        }
    }
}

impl<W: Writer> GroupCommit<W> {
    /// Group commit through `writer`.
    pub fn new(writer: W) -> Self {
        Self {
            writer: Arc::new(writer),
            queue: Arc::new(Mutex::new(Queue {
                waiting: Vec::new(),
                writing: false,
            })),
        }
    }

    /// Writes `record`; returns once it is committed (or its write failed).
    pub async fn write(&self, record: W::Record) -> Result<(), ControlError> {
        let waiting = {
            let mut queue = self.lock();
            if queue.writing {
                let (committed, outcome) = oneshot::channel();
                queue.waiting.push(Pending { record, committed });
                Err(outcome)
            } else {
                queue.writing = true;
                Ok(record)
            }
        };
        match waiting {
            Ok(record) => {
                // Hands what queued meanwhile on even if this request is cancelled.
                let _next = HandOver(self);
                let mut outcomes = self.writer.write(&[&record]).await;
                outcomes.pop().unwrap_or_else(|| Err(unanswered()))
            }
            Err(outcome) => outcome.await.unwrap_or_else(|_| Err(unanswered())),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Queue<W::Record>> {
        self.queue
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The next batch, or `None` (and no write running) when nothing waits.
    fn next_batch(&self) -> Option<Vec<Pending<W::Record>>> {
        let mut queue = self.lock();
        if queue.waiting.is_empty() {
            queue.writing = false;
            return None;
        }
        let take = queue.waiting.len().min(MAX_BATCH);
        Some(queue.waiting.drain(..take).collect())
    }

    /// Writes the waiting records in batches until none wait.
    async fn drain(self, mut batch: Vec<Pending<W::Record>>) {
        loop {
            let records: Vec<&W::Record> = batch.iter().map(|p| &p.record).collect();
            let outcomes = self.writer.write(&records).await;
            let mut outcomes = outcomes.into_iter();
            for pending in batch {
                let outcome = outcomes.next().unwrap_or_else(|| Err(unanswered()));
                let _ = pending.committed.send(outcome);
            }
            match self.next_batch() {
                Some(next) => batch = next,
                None => return,
            }
        }
    }
}

/// Ends a request's own write: the records that queued meanwhile go to a task.
struct HandOver<'a, W: Writer>(&'a GroupCommit<W>);

impl<W: Writer> Drop for HandOver<'_, W> {
    fn drop(&mut self) {
        if let Some(batch) = self.0.next_batch() {
            tokio::spawn(self.0.clone().drain(batch));
        }
    }
}

/// A record whose write gave no answer (its task was stopped).
fn unanswered() -> ControlError {
    ControlError::Shared {
        message: "the record's write gave no answer".to_owned(),
        unavailable: true,
    }
}

/// The answers for `count` records all written by one statement's `outcome`.
pub fn each(outcome: Result<(), ControlError>, count: usize) -> Vec<Result<(), ControlError>> {
    match outcome {
        Ok(()) => (0..count).map(|_| Ok(())).collect(),
        Err(error) => (0..count).map(|_| Err(error.shared())).collect(),
    }
}

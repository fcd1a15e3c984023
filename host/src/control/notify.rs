//! The invalidation listener: one connection per process that `LISTEN`s on
//! `plinth_invalidate` and hands each `<kind>:<id>` message to the caches, inline,
//! before anything else sees it. While the listener is down the caches are
//! bypassed, so a revocation is never missed.

use std::future::Future;
use std::hash::Hash;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use futures::future::BoxFuture;
use futures::{FutureExt, StreamExt};
use tokio::sync::broadcast;
use tokio_postgres::AsyncMessage;

use uuid::Uuid;

use crate::cluster::Cluster;

use super::{ControlDb, CONTROL_DB};

/// The channel name.
pub const CHANNEL: &str = "plinth_invalidate";

/// One invalidation message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Invalidation {
    /// An API key changed (by lookup id).
    Key(String),
    /// A workspace record changed (by id).
    Workspace(String),
    /// Something else, by kind and id; subsystems match what they own.
    Other(String, String),
    /// The listener reconnected: everything cached may be stale.
    All,
}

impl Invalidation {
    fn parse(payload: &str) -> Self {
        match payload.split_once(':') {
            Some(("key", id)) => Self::Key(id.to_owned()),
            Some(("workspace", id)) => Self::Workspace(id.to_owned()),
            Some((kind, id)) => Self::Other(kind.to_owned(), id.to_owned()),
            None => Self::All,
        }
    }
}

/// A cache's reaction to a message: a future the listener awaits before it
/// acknowledges or broadcasts the message.
type Handler = Box<dyn Fn(&Invalidation) -> BoxFuture<'static, ()> + Send + Sync>;

/// What one message drops from one cache.
pub enum Dropping<K> {
    /// Nothing: the message is about something else.
    Nothing,
    /// These entries.
    Keys(Vec<K>),
    /// Every entry.
    Everything,
}

/// Fan-out of invalidations to the caches of this process.
#[derive(Clone)]
pub struct Invalidations {
    sender: broadcast::Sender<Invalidation>,
    listening: Arc<AtomicBool>,
    stopping: Arc<AtomicBool>,
    epoch: Epoch,
    handlers: Arc<RwLock<Vec<Handler>>>,
    replica: Uuid,
    control: ControlDb,
}

impl Invalidations {
    /// Starts the listener task for this replica (and its heartbeat).
    pub fn start(cluster: Cluster, control: ControlDb) -> Self {
        let (sender, _) = broadcast::channel(1024);
        let this = Self {
            sender,
            listening: Arc::new(AtomicBool::new(false)),
            stopping: Arc::new(AtomicBool::new(false)),
            epoch: Epoch::default(),
            handlers: Arc::new(RwLock::new(Vec::new())),
            replica: Uuid::new_v4(),
            control,
        };
        let task = this.clone();
        tokio::spawn(async move { task.run(cluster).await });
        let beating = this.clone();
        tokio::spawn(async move {
            while !beating.stopping.load(Ordering::Acquire) {
                if let Err(error) = beating.control.heartbeat(beating.replica).await {
                    tracing::debug!(%error, "replica heartbeat failed");
                }
                tokio::time::sleep(super::replicas::HEARTBEAT).await;
            }
        });
        this
    }

    /// Stops listening and heartbeating before shutdown, so that the database going
    /// away is not reported as a lost connection.
    pub fn stop(&self) {
        self.stopping.store(true, Ordering::Release);
    }

    /// This replica's id in the control database.
    pub fn replica(&self) -> Uuid {
        self.replica
    }

    /// Keeps a cache in step with the messages: `select` names what each message
    /// drops from it, and a reconnect ([`Invalidation::All`]) drops everything. The
    /// listener task applies it before the message is acknowledged or broadcast.
    pub fn follow<K, V>(
        &self,
        cache: &moka::future::Cache<K, V>,
        select: impl Fn(&Invalidation) -> Dropping<K> + Send + Sync + 'static,
    ) where
        K: Hash + Eq + Send + Sync + 'static,
        V: Clone + Send + Sync + 'static,
    {
        let cache = cache.clone();
        let handler: Handler = Box::new(move |message| {
            let cache = cache.clone();
            let dropping = match message {
                Invalidation::All => Dropping::Everything,
                other => select(other),
            };
            async move {
                match dropping {
                    Dropping::Nothing => {}
                    Dropping::Keys(keys) => {
                        for key in keys {
                            cache.invalidate(&key).await;
                        }
                    }
                    Dropping::Everything => cache.invalidate_all(),
                }
            }
            .boxed()
        });
        if let Ok(mut handlers) = self.handlers.write() {
            handlers.push(handler);
        }
    }

    /// A cache's answer that cannot outlive an invalidation it overlapped. A load
    /// that read the control database just before a change, and put what it read in
    /// the cache just after the change's handler dropped the entry, would keep the
    /// old value there until its TTL (a revoked key that still works). So when any
    /// message was dispatched while `cached` ran, the entry is dropped with `forget`
    /// and `fresh` answers instead. Messages are rare; the extra lookup is too.
    pub async fn guard<T, E>(
        &self,
        cached: impl Future<Output = Result<T, E>>,
        forget: impl Future<Output = ()>,
        fresh: impl Future<Output = Result<T, E>>,
    ) -> Result<T, E> {
        self.epoch.guard(cached, forget, fresh).await
    }

    async fn dispatch(&self, message: Invalidation) {
        self.epoch.advance();
        let applying: Vec<_> = match self.handlers.read() {
            Ok(handlers) => handlers.iter().map(|handler| handler(&message)).collect(),
            Err(_) => Vec::new(),
        };
        for applied in applying {
            applied.await;
        }
        // Revocations are acknowledged once applied, so the revoker can wait for all.
        if let Invalidation::Key(lookup) = &message {
            let (control, replica, payload) =
                (self.control.clone(), self.replica, format!("key:{lookup}"));
            tokio::spawn(async move {
                if let Err(error) = control.acknowledge(replica, &payload).await {
                    tracing::warn!(%error, "could not acknowledge an invalidation");
                }
            });
        }
        let _ = self.sender.send(message);
    }

    /// True while notifications are being received, i.e. caches may be trusted.
    pub fn is_listening(&self) -> bool {
        self.listening.load(Ordering::Acquire)
    }

    /// A receiver of every invalidation from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Invalidation> {
        self.sender.subscribe()
    }

    async fn run(self, cluster: Cluster) {
        while !self.stopping.load(Ordering::Acquire) {
            let outcome = self.listen_once(&cluster).await;
            self.listening.store(false, Ordering::Release);
            if self.stopping.load(Ordering::Acquire) {
                break;
            }
            if let Err(error) = outcome {
                tracing::warn!(%error, "invalidation listener lost its connection; caches are bypassed until it is back");
            }
            self.dispatch(Invalidation::All).await;
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }

    async fn listen_once(&self, cluster: &Cluster) -> Result<(), tokio_postgres::Error> {
        let (client, mut connection) = cluster
            .admin_config(CONTROL_DB)
            .connect(tokio_postgres::NoTls)
            .await?;
        let mut messages = futures::stream::poll_fn(move |cx| connection.poll_message(cx));
        let statement = format!("LISTEN {CHANNEL}");
        let listen = client.batch_execute(&statement);
        tokio::pin!(listen);
        // Drive the connection until LISTEN is acknowledged.
        loop {
            tokio::select! {
                done = &mut listen => { done?; break; }
                message = messages.next() => match message {
                    Some(Ok(_)) => {}
                    Some(Err(e)) => return Err(e),
                    None => return Ok(()),
                }
            }
        }
        // Anything cached before this point may have missed a message.
        self.dispatch(Invalidation::All).await;
        self.listening.store(true, Ordering::Release);
        while let Some(message) = messages.next().await {
            if let AsyncMessage::Notification(note) = message? {
                self.dispatch(Invalidation::parse(note.payload())).await;
            }
        }
        Ok(())
    }
}

/// Messages dispatched so far, advanced before their handlers run: what lets a load
/// tell that one overlapped it.
#[derive(Clone, Default)]
struct Epoch(Arc<AtomicU64>);

impl Epoch {
    fn advance(&self) {
        self.0.fetch_add(1, Ordering::AcqRel);
    }

    /// See [`Invalidations::guard`].
    async fn guard<T, E>(
        &self,
        cached: impl Future<Output = Result<T, E>>,
        forget: impl Future<Output = ()>,
        fresh: impl Future<Output = Result<T, E>>,
    ) -> Result<T, E> {
        let seen = self.0.load(Ordering::Acquire);
        let answer = cached.await;
        if self.0.load(Ordering::Acquire) == seen {
            return answer;
        }
        forget.await;
        fresh.await
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicBool;

    use super::*;

    #[tokio::test]
    async fn a_load_that_overlapped_an_invalidation_is_dropped_and_asked_again() {
        let epoch = Epoch::default();
        let forgot = AtomicBool::new(false);
        let forget = || async { forgot.store(true, Ordering::Release) };
        let quiet = epoch
            .guard(async { Ok::<_, ()>("cached") }, forget(), async {
                Ok("fresh")
            })
            .await;
        assert_eq!(quiet, Ok("cached"));
        assert!(!forgot.load(Ordering::Acquire));

        let overlapped = epoch
            .guard(
                async {
                    // A message is dispatched while the load runs.
                    epoch.advance();
                    Ok::<_, ()>("stale")
                },
                forget(),
                async { Ok("fresh") },
            )
            .await;
        assert_eq!(overlapped, Ok("fresh"));
        assert!(forgot.load(Ordering::Acquire));
    }
}

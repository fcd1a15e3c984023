//! The invalidation listener: one connection per process that `LISTEN`s on
//! `plinth_invalidate` and hands each `<kind>:<id>` message to the caches, inline,
//! before anything else sees it. While the listener is down the caches are
//! bypassed, so a revocation is never missed.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use futures::StreamExt;
use tokio::sync::broadcast;
use tokio_postgres::AsyncMessage;

use crate::cluster::Cluster;

use super::CONTROL_DB;

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

type Handler = Box<dyn Fn(&Invalidation) + Send + Sync>;

/// Fan-out of invalidations to the caches of this process.
#[derive(Clone)]
pub struct Invalidations {
    sender: broadcast::Sender<Invalidation>,
    listening: Arc<AtomicBool>,
    handlers: Arc<RwLock<Vec<Handler>>>,
}

impl Invalidations {
    /// Starts the listener task.
    pub fn start(cluster: Cluster) -> Self {
        let (sender, _) = broadcast::channel(1024);
        let this = Self {
            sender,
            listening: Arc::new(AtomicBool::new(false)),
            handlers: Arc::new(RwLock::new(Vec::new())),
        };
        let task = this.clone();
        tokio::spawn(async move { task.run(cluster).await });
        this
    }

    /// Registers a cache's handler; it runs on the listener task for every message,
    /// before the message is broadcast, so it must be quick and must not block.
    pub fn on_invalidation(&self, handler: impl Fn(&Invalidation) + Send + Sync + 'static) {
        if let Ok(mut handlers) = self.handlers.write() {
            handlers.push(Box::new(handler));
        }
    }

    /// Waits (up to `limit`) until this process has applied `wanted`, received on a
    /// receiver subscribed before the change was committed. Every replica listens on
    /// the same channel, so once our own listener has it the others have it too,
    /// give or take the moment their task takes to run; callers that must be sure
    /// add a short grace after this.
    pub async fn wait_for(
        &self,
        receiver: &mut broadcast::Receiver<Invalidation>,
        wanted: &Invalidation,
        limit: Duration,
    ) -> bool {
        if !self.is_listening() {
            return true; // caches are bypassed anyway
        }
        tokio::time::timeout(limit, async {
            loop {
                match receiver.recv().await {
                    Ok(message) if &message == wanted || message == Invalidation::All => return,
                    Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => {}
                    Err(broadcast::error::RecvError::Closed) => return,
                }
            }
        })
        .await
        .is_ok()
    }

    fn dispatch(&self, message: Invalidation) {
        if let Ok(handlers) = self.handlers.read() {
            for handler in handlers.iter() {
                handler(&message);
            }
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
        loop {
            if let Err(error) = self.listen_once(&cluster).await {
                tracing::warn!(%error, "invalidation listener lost its connection; caches are bypassed until it is back");
            }
            self.listening.store(false, Ordering::Release);
            self.dispatch(Invalidation::All);
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
        self.dispatch(Invalidation::All);
        self.listening.store(true, Ordering::Release);
        while let Some(message) = messages.next().await {
            if let AsyncMessage::Notification(note) = message? {
                self.dispatch(Invalidation::parse(note.payload()));
            }
        }
        Ok(())
    }
}

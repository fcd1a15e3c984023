//! Workspace resolution: the control database's workspace records, cached per process
//! and dropped at once when any replica changes one. Concurrent misses of one
//! workspace (a cold start, an expiry under load) wait for a single lookup.

use std::sync::Arc;
use std::time::Duration;

use futures::FutureExt;
use moka::future::Cache;
use uuid::Uuid;

use crate::control::expiry::JitteredTtl;
use crate::control::notify::{Dropping, Invalidation, Invalidations};
use crate::control::workspaces::Workspace;
use crate::control::{ControlDb, ControlError};

/// How long a workspace record is trusted without a notification (at most).
const TTL: Duration = Duration::from_secs(300);

/// Cached workspace lookups.
#[derive(Clone)]
pub struct Directory {
    control: ControlDb,
    cache: Cache<Uuid, Arc<Workspace>>,
    invalidations: Invalidations,
}

impl Directory {
    /// Builds the directory and subscribes it to invalidations.
    pub fn new(control: ControlDb, invalidations: Invalidations) -> Self {
        let cache = Cache::builder()
            .max_capacity(100_000)
            .expire_after(JitteredTtl::new(TTL))
            .build();
        let this = Self {
            control,
            cache,
            invalidations,
        };
        this.invalidations
            .follow(&this.cache, |message| match message {
                Invalidation::Workspace(id) => match Uuid::parse_str(id) {
                    Ok(id) => Dropping::Keys(vec![id]),
                    Err(_) => Dropping::Nothing,
                },
                _ => Dropping::Nothing,
            });
        this
    }

    /// The workspace, or `None` when there is no such workspace (which is not cached:
    /// it may be created the next moment).
    pub async fn get(&self, id: Uuid) -> Result<Option<Arc<Workspace>>, ControlError> {
        if !self.invalidations.is_listening() {
            return Ok(self.control.workspace(id).await?.map(Arc::new));
        }
        if let Some(hit) = self.cache.get(&id).await {
            return Ok(Some(hit));
        }
        // Boxed: the loading future is large, and a hit should not carry it.
        self.load(id).boxed().await
    }

    /// A miss: one lookup for every request that misses `id` meanwhile.
    async fn load(&self, id: Uuid) -> Result<Option<Arc<Workspace>>, ControlError> {
        let cached = async {
            let loaded = self
                .cache
                .try_get_with(id, async {
                    match self.control.workspace(id).await {
                        Ok(Some(found)) => Ok(Arc::new(found)),
                        Ok(None) => Err(Miss::Absent),
                        Err(error) => Err(Miss::Failed(error)),
                    }
                })
                .await;
            match loaded {
                Ok(found) => Ok(Some(found)),
                Err(miss) => match &*miss {
                    Miss::Absent => Ok(None),
                    Miss::Failed(error) => Err(error.shared()),
                },
            }
        };
        let fresh = async { Ok(self.control.workspace(id).await?.map(Arc::new)) };
        self.invalidations
            .guard(cached, self.cache.invalidate(&id), fresh)
            .await
    }

    /// Forgets a workspace in this process (the trigger tells the others).
    pub async fn forget(&self, id: Uuid) {
        self.cache.invalidate(&id).await;
    }
}

/// Why a lookup put nothing in the cache.
enum Miss {
    /// There is no such workspace.
    Absent,
    /// The control database failed.
    Failed(ControlError),
}

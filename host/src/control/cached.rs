//! Control-database records cached per process: each cache follows the invalidation
//! messages, so an entry is dropped at once when any replica changes its record.
//! Concurrent misses of one key wait for a single lookup; an absent record is not
//! cached (it may be created the next moment); while the listener is down the cache
//! is bypassed.

use std::future::Future;
use std::hash::Hash;
use std::sync::Arc;
use std::time::Duration;

use futures::FutureExt;
use moka::future::Cache;

use super::expiry::JitteredTtl;
use super::notify::{Dropping, Invalidation, Invalidations};
use super::ControlError;

/// Most entries of one cache.
const CAPACITY: u64 = 100_000;

/// Records by key, each trusted for at most its TTL without a notification.
#[derive(Clone)]
pub struct Cached<K, V> {
    cache: Cache<K, Arc<V>>,
    invalidations: Invalidations,
}

impl<K, V> Cached<K, V>
where
    K: Hash + Eq + Clone + Send + Sync + 'static,
    V: Send + Sync + 'static,
{
    /// A cache whose entries `select` names for each message.
    pub fn new(
        ttl: Duration,
        invalidations: Invalidations,
        select: impl Fn(&Invalidation) -> Dropping<K> + Send + Sync + 'static,
    ) -> Self {
        let cache = Cache::builder()
            .max_capacity(CAPACITY)
            .expire_after(JitteredTtl::new(ttl))
            .build();
        invalidations.follow(&cache, select);
        Self {
            cache,
            invalidations,
        }
    }

    /// The record of `key`, which `read` fetches from the control database on a miss.
    pub async fn get<'a, F, Fut>(&'a self, key: K, read: F) -> Result<Option<Arc<V>>, ControlError>
    where
        F: Fn() -> Fut + Send + Sync + 'a,
        Fut: Future<Output = Result<Option<V>, ControlError>> + Send + 'a,
    {
        if !self.invalidations.is_listening() {
            return Ok(read().await?.map(Arc::new));
        }
        if let Some(hit) = self.cache.get(&key).await {
            return Ok(Some(hit));
        }
        // Boxed: the loading future is large, and a hit should not carry it.
        self.load(key, read).boxed().await
    }

    /// A miss: one lookup for every request that misses `key` meanwhile.
    async fn load<F, Fut>(&self, key: K, read: F) -> Result<Option<Arc<V>>, ControlError>
    where
        F: Fn() -> Fut,
        Fut: Future<Output = Result<Option<V>, ControlError>>,
    {
        let cached = async {
            let loaded = self
                .cache
                .try_get_with_by_ref(&key, async {
                    match read().await {
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
        let fresh = async { Ok(read().await?.map(Arc::new)) };
        self.invalidations
            .guard(cached, self.cache.invalidate(&key), fresh)
            .await
    }

    /// Forgets `key` in this process (the change's trigger tells the others).
    pub async fn forget(&self, key: &K) {
        self.cache.invalidate(key).await;
    }
}

/// Why a lookup put nothing in the cache.
enum Miss {
    /// There is no such record.
    Absent,
    /// The control database failed.
    Failed(ControlError),
}

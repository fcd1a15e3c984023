//! Vault collection records, cached per process like the workspace records (see
//! `directory.rs`) and dropped at once when any replica removes one, so a vault call
//! does not ask the control database which collection it is about.

use std::sync::Arc;
use std::time::Duration;

use futures::FutureExt;
use moka::future::Cache;
use uuid::Uuid;

use crate::control::expiry::JitteredTtl;
use crate::control::notify::{Dropping, Invalidation, Invalidations};
use crate::control::vault::CollectionEntry;
use crate::control::{ControlDb, ControlError};

/// How long a collection record is trusted without a notification (at most).
const TTL: Duration = Duration::from_secs(300);

/// The kind of the invalidation message of a collection (`collection:<ws>/<name>`).
const KIND: &str = "collection";

type Key = (Uuid, String);

/// Cached collection lookups.
#[derive(Clone)]
pub struct Collections {
    control: ControlDb,
    cache: Cache<Key, Arc<CollectionEntry>>,
    invalidations: Invalidations,
}

impl Collections {
    /// Builds the cache and subscribes it to invalidations.
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
                Invalidation::Other(kind, id) if kind == KIND => match parse(id) {
                    Some(key) => Dropping::Keys(vec![key]),
                    None => Dropping::Nothing,
                },
                _ => Dropping::Nothing,
            });
        this
    }

    /// The collection, or `None` when the workspace has none of that name (which is
    /// not cached: it may be created the next moment).
    pub async fn get(
        &self,
        workspace: Uuid,
        name: &str,
    ) -> Result<Option<Arc<CollectionEntry>>, ControlError> {
        if !self.invalidations.is_listening() {
            return self.read(workspace, name).await;
        }
        let key = (workspace, name.to_owned());
        if let Some(hit) = self.cache.get(&key).await {
            return Ok(Some(hit));
        }
        // Boxed: the loading future is large, and a hit should not carry it.
        self.load(key).boxed().await
    }

    async fn read(
        &self,
        workspace: Uuid,
        name: &str,
    ) -> Result<Option<Arc<CollectionEntry>>, ControlError> {
        Ok(self
            .control
            .collection(workspace, name)
            .await?
            .map(Arc::new))
    }

    /// A miss: one lookup for every request that misses `key` meanwhile.
    async fn load(&self, key: Key) -> Result<Option<Arc<CollectionEntry>>, ControlError> {
        let (workspace, name) = (key.0, key.1.as_str());
        let cached = async {
            let loaded = self
                .cache
                .try_get_with_by_ref(&key, async {
                    match self.control.collection(workspace, name).await {
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
        self.invalidations
            .guard(
                cached,
                self.cache.invalidate(&key),
                self.read(workspace, name),
            )
            .await
    }

    /// Forgets a collection in this process (the trigger tells the others).
    pub async fn forget(&self, workspace: Uuid, name: &str) {
        self.cache.invalidate(&(workspace, name.to_owned())).await;
    }
}

/// `<workspace>/<name>` of an invalidation message.
fn parse(id: &str) -> Option<Key> {
    let (workspace, name) = id.split_once('/')?;
    Some((Uuid::parse_str(workspace).ok()?, name.to_owned()))
}

/// Why a lookup put nothing in the cache.
enum Miss {
    /// There is no such collection.
    Absent,
    /// The control database failed.
    Failed(ControlError),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_message_names_the_workspace_and_the_collection() {
        let id = Uuid::new_v4();
        assert_eq!(
            parse(&format!("{id}/items")),
            Some((id, "items".to_owned()))
        );
        assert_eq!(parse("items"), None);
        assert_eq!(parse("not-a-uuid/items"), None);
    }
}

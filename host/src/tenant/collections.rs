//! Vault collection records, cached per process (see [`Cached`]) and dropped at once
//! when any replica removes one, so a vault call does not ask the control database
//! which collection it is about.

use std::sync::Arc;
use std::time::Duration;

use uuid::Uuid;

use crate::control::cached::Cached;
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
    cache: Cached<Key, CollectionEntry>,
}

impl Collections {
    /// Builds the cache and subscribes it to invalidations.
    pub fn new(control: ControlDb, invalidations: Invalidations) -> Self {
        let cache = Cached::new(TTL, invalidations, |message| match message {
            Invalidation::Other(kind, id) if kind == KIND => match parse(id) {
                Some(key) => Dropping::Keys(vec![key]),
                None => Dropping::Nothing,
            },
            _ => Dropping::Nothing,
        });
        Self { control, cache }
    }

    /// The collection, or `None` when the workspace has none of that name.
    pub async fn get(
        &self,
        workspace: Uuid,
        name: &str,
    ) -> Result<Option<Arc<CollectionEntry>>, ControlError> {
        self.cache
            .get((workspace, name.to_owned()), || {
                self.control.collection(workspace, name)
            })
            .await
    }

    /// Forgets a collection in this process (the trigger tells the others).
    pub async fn forget(&self, workspace: Uuid, name: &str) {
        self.cache.forget(&(workspace, name.to_owned())).await;
    }
}

/// `<workspace>/<name>` of an invalidation message.
fn parse(id: &str) -> Option<Key> {
    let (workspace, name) = id.split_once('/')?;
    Some((Uuid::parse_str(workspace).ok()?, name.to_owned()))
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

//! The names of each workspace's tables (`table_name` → physical name), cached per
//! process for the scoped query (see [`Cached`]): dropped at once when any replica
//! registers or removes a table (the trigger's `tables:<workspace>`). The query
//! reads them again before it refuses a name the cached ones lack, so a table
//! created a moment ago on another replica, before its message arrived, is found.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use uuid::Uuid;

use crate::control::cached::Cached;
use crate::control::notify::{Dropping, Invalidation, Invalidations};
use crate::control::{ControlDb, ControlError};

/// How long a workspace's names are trusted without a notification (at most).
const TTL: Duration = Duration::from_secs(300);

/// The kind of the invalidation message of a workspace's tables (`tables:<ws>`).
const KIND: &str = "tables";

/// `table_name` → physical name, of one workspace.
pub type Names = HashMap<String, String>;

/// Cached table names.
#[derive(Clone)]
pub struct TableNames {
    control: ControlDb,
    cache: Cached<Uuid, Names>,
}

impl TableNames {
    /// Builds the cache and subscribes it to invalidations.
    pub fn new(control: ControlDb, invalidations: Invalidations) -> Self {
        let cache = Cached::new(TTL, invalidations, |message| match message {
            Invalidation::Other(kind, id) if kind == KIND => match Uuid::parse_str(id) {
                Ok(workspace) => Dropping::Keys(vec![workspace]),
                Err(_) => Dropping::Nothing,
            },
            _ => Dropping::Nothing,
        });
        Self { control, cache }
    }

    /// The workspace's table names, from the cache when it has them.
    pub async fn get(&self, workspace: Uuid) -> Result<Arc<Names>, ControlError> {
        let names = self
            .cache
            .get(workspace, || async move {
                let entries = self.control.tables(workspace).await?;
                Ok(Some(
                    entries
                        .into_iter()
                        .map(|t| (t.table_name, t.physical_name))
                        .collect::<Names>(),
                ))
            })
            .await?;
        Ok(names.unwrap_or_default())
    }

    /// The workspace's table names as the control database has them now.
    pub async fn fresh(&self, workspace: Uuid) -> Result<Arc<Names>, ControlError> {
        self.forget(workspace).await;
        self.get(workspace).await
    }

    /// Forgets a workspace's names in this process (the trigger tells the others).
    pub async fn forget(&self, workspace: Uuid) {
        self.cache.forget(&workspace).await;
    }
}

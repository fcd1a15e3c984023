//! Workspace resolution: the control database's workspace records, cached per process
//! and dropped at once when any replica changes one.

use std::sync::Arc;
use std::time::Duration;

use moka::sync::Cache;
use uuid::Uuid;

use crate::control::notify::{Invalidation, Invalidations};
use crate::control::workspaces::Workspace;
use crate::control::{ControlDb, ControlError};

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
            .time_to_live(TTL)
            .build();
        let this = Self {
            control,
            cache,
            invalidations,
        };
        let cache = this.cache.clone();
        this.invalidations
            .on_invalidation(move |message| match message {
                Invalidation::Workspace(id) => {
                    if let Ok(id) = Uuid::parse_str(id) {
                        cache.invalidate(&id);
                    }
                }
                Invalidation::All => cache.invalidate_all(),
                _ => {}
            });
        this
    }

    /// The workspace, or `None` when there is no such workspace.
    pub async fn get(&self, id: Uuid) -> Result<Option<Arc<Workspace>>, ControlError> {
        let listening = self.invalidations.is_listening();
        if listening {
            if let Some(hit) = self.cache.get(&id) {
                return Ok(Some(hit));
            }
        }
        let found = self.control.workspace(id).await?.map(Arc::new);
        if let (Some(ws), true) = (&found, listening) {
            self.cache.insert(id, ws.clone());
        }
        Ok(found)
    }

    /// Forgets a workspace in this process (the trigger tells the others).
    pub fn forget(&self, id: Uuid) {
        self.cache.invalidate(&id);
    }
}

//! Workspace resolution: the control database's workspace records, cached per process
//! and dropped at once when any replica changes one (see [`Cached`]).

use std::sync::Arc;
use std::time::Duration;

use uuid::Uuid;

use crate::control::cached::Cached;
use crate::control::notify::{Dropping, Invalidation, Invalidations};
use crate::control::workspaces::Workspace;
use crate::control::{ControlDb, ControlError};

/// How long a workspace record is trusted without a notification (at most).
const TTL: Duration = Duration::from_secs(300);

/// Cached workspace lookups.
#[derive(Clone)]
pub struct Directory {
    control: ControlDb,
    cache: Cached<Uuid, Workspace>,
}

impl Directory {
    /// Builds the directory and subscribes it to invalidations.
    pub fn new(control: ControlDb, invalidations: Invalidations) -> Self {
        let cache = Cached::new(TTL, invalidations, |message| match message {
            Invalidation::Workspace(id) => match Uuid::parse_str(id) {
                Ok(id) => Dropping::Keys(vec![id]),
                Err(_) => Dropping::Nothing,
            },
            _ => Dropping::Nothing,
        });
        Self { control, cache }
    }

    /// The workspace, or `None` when there is no such workspace.
    pub async fn get(&self, id: Uuid) -> Result<Option<Arc<Workspace>>, ControlError> {
        self.cache.get(id, || self.control.workspace(id)).await
    }

    /// Forgets a workspace in this process (the trigger tells the others).
    pub async fn forget(&self, id: Uuid) {
        self.cache.forget(&id).await;
    }
}

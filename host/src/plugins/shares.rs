//! Fair shares of the sandbox. A kind's instances are split in two: most are kept
//! for the built-in plugins, which every workspace uses, and the rest serve
//! installed plugins, of which one workspace may hold only a bounded share at once.
//! So a workspace whose plugin stalls waits for its own calls only: another
//! workspace's request on the built-in plugins never waits for it, and one on its
//! own installed plugins finds capacity the stalled one cannot take.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use uuid::Uuid;

/// A kind's `max_instances` split into the instances of built-in plugins and those
/// of installed ones (a quarter), each at least one.
pub fn split(max_instances: u32) -> (u32, u32) {
    let installed = (max_instances / 4).max(1);
    (max_instances.saturating_sub(installed).max(1), installed)
}

/// The instances of installed plugins one workspace may hold at once: a quarter of
/// their capacity, at least one.
pub fn per_workspace(installed: u32) -> u32 {
    (installed / 4).max(1)
}

/// Each workspace's concurrent calls of installed plugins of one kind.
pub struct Shares {
    per_workspace: u32,
    by_workspace: Mutex<HashMap<Uuid, Arc<Semaphore>>>,
}

impl Shares {
    /// Shares of `per_workspace` calls each.
    pub fn new(per_workspace: u32) -> Self {
        Self {
            per_workspace,
            by_workspace: Mutex::new(HashMap::new()),
        }
    }

    /// A slot of `workspace`'s share, waiting up to `wait`; `None` when its share
    /// stayed taken (by its own calls) that long.
    pub async fn acquire(&self, workspace: Uuid, wait: Duration) -> Option<OwnedSemaphorePermit> {
        let semaphore = {
            let mut map = self.by_workspace.lock().ok()?;
            map.entry(workspace)
                .or_insert_with(|| Arc::new(Semaphore::new(self.per_workspace as usize)))
                .clone()
        };
        tokio::time::timeout(wait, semaphore.acquire_owned())
            .await
            .ok()?
            .ok()
    }

    /// Forgets the shares nobody holds.
    pub fn sweep(&self) {
        if let Ok(mut map) = self.by_workspace.lock() {
            let full = self.per_workspace as usize;
            map.retain(|_, s| Arc::strong_count(s) > 1 || s.available_permits() < full);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn one_workspace_cannot_take_another_workspaces_share() {
        let shares = Shares::new(2);
        let (a, b) = (Uuid::new_v4(), Uuid::new_v4());
        let wait = Duration::from_millis(20);
        let held = [
            shares.acquire(a, wait).await.unwrap(),
            shares.acquire(a, wait).await.unwrap(),
        ];
        assert!(
            shares.acquire(a, wait).await.is_none(),
            "a's share is spent"
        );
        assert!(shares.acquire(b, wait).await.is_some(), "b's is untouched");
        drop(held);
        assert!(shares.acquire(a, wait).await.is_some());
        shares.sweep();
        assert!(shares.by_workspace.lock().unwrap().is_empty());
    }
}

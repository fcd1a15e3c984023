//! Warm instances. Instantiating a component costs tens of microseconds, too much per
//! request, so instances of the stateless worlds are kept and reused — per plugin
//! and per workspace (never shared between workspaces), a bounded number of times,
//! and never after a trap (a trapped instance cannot be entered again). Every live
//! instance of a kind, warm or busy, holds one of that kind's permits: when all are
//! taken, a caller first evicts an idle instance of another key, then waits.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore};
use uuid::Uuid;
use wasmtime::component::Instance;
use wasmtime::Store;

use super::registry::Exports;
use super::state::HostState;

/// Calls one instance serves before it is retired.
pub const MAX_REUSES: u32 = 10_000;
/// Idle instances kept per (plugin, workspace).
pub const MAX_IDLE_PER_KEY: usize = 8;
/// Idle instances unused this long are dropped.
pub const IDLE_TTL: Duration = Duration::from_secs(120);

/// Who may reuse an instance: the same plugin content for the same workspace.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct WarmKey {
    /// The plugin's content digest.
    pub digest: [u8; 32],
    /// The workspace (none for calls outside any workspace).
    pub workspace: Option<Uuid>,
}

/// A live instance with its store.
pub struct Warm {
    /// The store.
    pub store: Store<HostState>,
    /// The instance.
    pub instance: Instance,
    /// Its world's exports, loaded once.
    pub exports: Exports,
    /// Calls served.
    pub uses: u32,
    _permit: OwnedSemaphorePermit,
}

impl Warm {
    /// Wraps a fresh instance holding `permit`.
    pub fn new(
        store: Store<HostState>,
        instance: Instance,
        exports: Exports,
        permit: OwnedSemaphorePermit,
    ) -> Self {
        Self {
            store,
            instance,
            exports,
            uses: 0,
            _permit: permit,
        }
    }
}

/// The warm instances of one plugin kind.
pub struct InstancePool {
    permits: Arc<Semaphore>,
    idle: Mutex<HashMap<WarmKey, Vec<(Warm, Instant)>>>,
    /// Woken whenever an instance is parked idle: a waiter for another key may now
    /// evict it (idle instances keep their permits, so no permit is freed by that).
    parked: Notify,
}

/// What [`InstancePool::checkout`] found.
pub enum Checkout {
    /// A warm instance to reuse.
    Warm(Box<Warm>),
    /// A permit to create a new instance with.
    Permit(OwnedSemaphorePermit),
}

impl InstancePool {
    /// A pool allowing `max_instances` live instances.
    pub fn new(max_instances: u32) -> Self {
        Self {
            permits: Arc::new(Semaphore::new(max_instances as usize)),
            idle: Mutex::new(HashMap::new()),
            parked: Notify::new(),
        }
    }

    /// A warm instance for `key`, or a permit to create one (waiting up to `wait`).
    ///
    /// A permit is freed when an instance is dropped; an instance that finishes its
    /// call is parked idle and keeps its permit. So a waiter wakes on either, and on
    /// a park it evicts that idle instance (when it is not one of its own) and takes
    /// the permit — otherwise callers of new keys would starve behind parked ones.
    pub async fn checkout(&self, key: WarmKey, wait: Duration) -> Option<Checkout> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let parked = self.parked.notified();
            tokio::pin!(parked);
            parked.as_mut().enable();
            if let Some(warm) = self.take_idle(key) {
                return Some(Checkout::Warm(Box::new(warm)));
            }
            if let Ok(permit) = self.permits.clone().try_acquire_owned() {
                return Some(Checkout::Permit(permit));
            }
            if self.evict_one() {
                if let Ok(permit) = self.permits.clone().try_acquire_owned() {
                    return Some(Checkout::Permit(permit));
                }
                // Another caller took the freed permit first: look again.
                continue;
            }
            tokio::select! {
                permit = self.permits.clone().acquire_owned() => {
                    return permit.ok().map(Checkout::Permit);
                }
                () = &mut parked => {}
                () = tokio::time::sleep_until(deadline) => return None,
            }
        }
    }

    /// Returns an instance after a successful call.
    pub fn checkin(&self, key: WarmKey, mut warm: Warm) {
        warm.uses += 1;
        if warm.uses >= MAX_REUSES {
            return;
        }
        let Ok(mut idle) = self.idle.lock() else {
            return;
        };
        let slot = idle.entry(key).or_default();
        if slot.len() < MAX_IDLE_PER_KEY {
            slot.push((warm, Instant::now()));
            drop(idle);
            self.parked.notify_waiters();
        }
    }

    fn take_idle(&self, key: WarmKey) -> Option<Warm> {
        let mut idle = self.idle.lock().ok()?;
        let slot = idle.get_mut(&key)?;
        while let Some((warm, since)) = slot.pop() {
            if since.elapsed() < IDLE_TTL {
                return Some(warm);
            }
        }
        None
    }

    /// Drops the oldest idle instance of any key; false when none is idle.
    fn evict_one(&self) -> bool {
        let Ok(mut idle) = self.idle.lock() else {
            return false;
        };
        let oldest = idle
            .iter()
            .filter_map(|(key, slot)| slot.first().map(|(_, since)| (*key, *since)))
            .min_by_key(|(_, since)| *since);
        match oldest {
            Some((key, _)) => {
                if let Some(slot) = idle.get_mut(&key) {
                    slot.remove(0);
                    if slot.is_empty() {
                        idle.remove(&key);
                    }
                }
                true
            }
            None => false,
        }
    }

    /// Idle instances now.
    pub fn idle_count(&self) -> usize {
        self.idle
            .lock()
            .map(|idle| idle.values().map(Vec::len).sum())
            .unwrap_or(0)
    }

    /// Drops idle instances that have waited longer than [`IDLE_TTL`].
    pub fn sweep(&self) {
        if let Ok(mut idle) = self.idle.lock() {
            for slot in idle.values_mut() {
                slot.retain(|(_, since)| since.elapsed() < IDLE_TTL);
            }
            idle.retain(|_, slot| !slot.is_empty());
        }
    }
}

//! A workspace's shared lane: a few API-role connections that many requests use at
//! once, for statements that need no session state (reads of context-free tables,
//! each its own implicit transaction, with no tenant context and no `BEGIN`).
//!
//! tokio-postgres pipelines concurrent queries on one connection, each with its own
//! `Sync`, so an error stays with its query. Under load the server finds the next
//! statement already waiting and the host writes many in one system call (the
//! connection's driver runs one scheduler turn late for that, see `driver.rs`): fewer
//! round trips and wakeups than one connection per request. A connection that
//! already has [`LANE_DEPTH`] statements in flight takes no more, so one slow
//! statement delays at most that many; beyond that, requests take an exclusive
//! session from the pool as before.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use deadpool_postgres::{ClientWrapper, Object, Pool, PoolError};

/// Most connections of a lane: a lane takes at most a quarter of its pool, and
/// this many from pools of 16 and more.
pub const MAX_LANE_CONNECTIONS: usize = 4;
/// Statements in flight on one lane connection before requests go to the pool.
/// Four connections of 8 rather than two of 16: the same throughput with a lower p99,
/// because a backend the kernel preempts holds up 8 requests instead of 16 (the A/B
/// figures are in `bench/RESULTS.md`).
pub const LANE_DEPTH: usize = 8;
/// The smallest pool that gives connections to a lane (two of its eight).
pub const MIN_POOL_FOR_LANE: usize = 8;

/// Connections of a lane over a pool of `pool_size`.
fn lane_connections(pool_size: usize) -> usize {
    (pool_size / 4).clamp(1, MAX_LANE_CONNECTIONS)
}

/// The shared connections of one workspace's API pool.
pub struct Lane {
    pool: Pool,
    slots: Vec<Slot>,
}

#[derive(Default)]
struct Slot {
    client: Mutex<Option<Arc<Object>>>,
    in_flight: AtomicUsize,
}

/// A shared connection, held for one statement or a few; it counts as in flight
/// until dropped.
pub struct Shared {
    client: Arc<Object>,
    _in_flight: InFlight,
}

impl Shared {
    /// The connection. Never open a transaction or change a setting on it.
    pub fn client(&self) -> &ClientWrapper {
        &self.client
    }
}

impl Lane {
    /// A lane over `pool`'s connections.
    pub fn new(pool: Pool) -> Self {
        let connections = lane_connections(pool.status().max_size);
        Self {
            pool,
            slots: (0..connections).map(|_| Slot::default()).collect(),
        }
    }

    /// The least busy connection, opened on first use; `Ok(None)` when every one has
    /// [`LANE_DEPTH`] statements in flight.
    pub async fn acquire(self: &Arc<Self>) -> Result<Option<Shared>, PoolError> {
        let Some((index, slot)) = self
            .slots
            .iter()
            .enumerate()
            .min_by_key(|(_, slot)| slot.in_flight.load(Ordering::Acquire))
        else {
            return Ok(None);
        };
        if slot.in_flight.fetch_add(1, Ordering::AcqRel) >= LANE_DEPTH {
            slot.in_flight.fetch_sub(1, Ordering::AcqRel);
            return Ok(None);
        }
        // From here the count is ours: `Shared` gives it back, or the guard on error.
        let in_flight = InFlight {
            lane: self.clone(),
            slot: index,
        };
        let client = match self.open_client(slot) {
            Some(client) => client,
            None => {
                let opened = Arc::new(self.pool.get().await?);
                let mut current = lock(slot);
                match current.as_ref().filter(|c| !c.is_closed()) {
                    // Another request opened it meanwhile: ours goes back to the pool.
                    Some(existing) => existing.clone(),
                    None => {
                        *current = Some(opened.clone());
                        opened
                    }
                }
            }
        };
        Ok(Some(Shared {
            client,
            _in_flight: in_flight,
        }))
    }

    /// Lets go of the lane's connections: each goes back to the pool once the
    /// statements in flight on it finish, and the next request opens the lane again.
    /// Called when the server-connection ceiling is reached, so that connections a
    /// quiet workspace's lane holds can be closed for a busy one.
    pub fn release(&self) {
        for slot in &self.slots {
            lock(slot).take();
        }
    }

    fn open_client(&self, slot: &Slot) -> Option<Arc<Object>> {
        let mut current = lock(slot);
        match current.as_ref() {
            Some(client) if !client.is_closed() => Some(client.clone()),
            Some(_) => {
                // The server closed it: forget it; the next request opens another.
                *current = None;
                None
            }
            None => None,
        }
    }
}

fn lock(slot: &Slot) -> std::sync::MutexGuard<'_, Option<Arc<Object>>> {
    slot.client
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// One statement's place on a lane connection, given back when dropped.
struct InFlight {
    lane: Arc<Lane>,
    slot: usize,
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.lane.slots[self.slot]
            .in_flight
            .fetch_sub(1, Ordering::AcqRel);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lane_takes_at_most_a_quarter_of_its_pool_and_four_connections() {
        assert_eq!(lane_connections(MIN_POOL_FOR_LANE), 2);
        assert_eq!(lane_connections(15), 3);
        assert_eq!(lane_connections(16), MAX_LANE_CONNECTIONS);
        assert_eq!(lane_connections(100), MAX_LANE_CONNECTIONS);
    }
}

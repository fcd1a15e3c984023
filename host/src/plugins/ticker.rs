//! The epoch ticker: a thread that advances the engine's epoch every
//! [`EPOCH_TICK`](super::runtime::EPOCH_TICK) while plugin calls run, and sleeps
//! when none has run for a while.
//!
//! Deadlines and yields to tokio only need ticks while a guest runs. A ticker that
//! ran always would wake a thousand times a second on an idle server and, on a busy
//! one whose requests call no plugin (a read whose filter parse is cached, say),
//! would take a core from a request or a database backend at every tick. It lingers
//! for [`LINGER_TICKS`] after the last call so that calls in quick succession do not
//! each pay for waking it.

use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

/// Ticks the ticker goes on after the last call ends before it sleeps.
pub const LINGER_TICKS: u32 = 100;

/// Starts and stops the ticker thread; calls hold a [`Ticking`] while they run.
pub struct Ticker {
    shared: Arc<Shared>,
}

#[derive(Default)]
struct Shared {
    state: Mutex<State>,
    wake: Condvar,
}

#[derive(Default)]
struct State {
    /// Calls running now.
    running: usize,
    /// Ticks since the last call ended, while none runs.
    idle_ticks: u32,
    /// The thread waits on `wake` (no call has run for [`LINGER_TICKS`]).
    asleep: bool,
    /// The ticker was dropped: the thread ends.
    stopped: bool,
}

/// Held while a call runs: the ticker ticks for as long as any is held.
pub struct Ticking<'a> {
    shared: &'a Shared,
}

impl Ticker {
    /// Starts the thread, which calls `tick` every `period` while calls run, and ends
    /// when `tick` returns false (its engine is gone) or the ticker is dropped.
    pub fn start(
        period: Duration,
        mut tick: impl FnMut() -> bool + Send + 'static,
    ) -> std::io::Result<Self> {
        let shared = Arc::new(Shared::default());
        let thread_shared = shared.clone();
        std::thread::Builder::new()
            .name("plinth-epoch".into())
            .spawn(move || {
                while thread_shared.wait_for_calls() {
                    std::thread::sleep(period);
                    if !tick() {
                        break;
                    }
                }
            })?;
        Ok(Self { shared })
    }

    /// Marks a call as running until the returned guard is dropped.
    pub fn running(&self) -> Ticking<'_> {
        let mut state = self.shared.lock();
        state.running += 1;
        state.idle_ticks = 0;
        if state.asleep {
            state.asleep = false;
            self.shared.wake.notify_one();
        }
        Ticking {
            shared: &self.shared,
        }
    }
}

impl Drop for Ticker {
    fn drop(&mut self) {
        self.shared.lock().stopped = true;
        self.shared.wake.notify_one();
    }
}

impl Drop for Ticking<'_> {
    fn drop(&mut self) {
        self.shared.lock().running -= 1;
    }
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Before each tick: returns at once while calls run or linger, sleeps until a
    /// call starts otherwise; false once the ticker is dropped.
    fn wait_for_calls(&self) -> bool {
        let mut state = self.lock();
        if state.running == 0 {
            state.idle_ticks = state.idle_ticks.saturating_add(1);
            if state.idle_ticks > LINGER_TICKS {
                state.asleep = true;
            }
        }
        while state.asleep && !state.stopped {
            state = self
                .wake
                .wait(state)
                .unwrap_or_else(PoisonError::into_inner);
        }
        !state.stopped
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU64, Ordering};

    fn counting() -> (Ticker, Arc<AtomicU64>) {
        let ticks = Arc::new(AtomicU64::new(0));
        let counter = ticks.clone();
        let ticker = Ticker::start(Duration::from_millis(1), move || {
            counter.fetch_add(1, Ordering::SeqCst);
            true
        })
        .expect("ticker thread");
        (ticker, ticks)
    }

    fn settle() {
        // Past the linger: the thread is asleep.
        std::thread::sleep(Duration::from_millis(u64::from(LINGER_TICKS) * 3 + 200));
    }

    #[test]
    fn the_ticker_sleeps_without_calls_and_ticks_while_one_runs() {
        let (ticker, ticks) = counting();
        settle();
        let idle = ticks.load(Ordering::SeqCst);
        std::thread::sleep(Duration::from_millis(100));
        assert_eq!(ticks.load(Ordering::SeqCst), idle, "ticked with no call");

        let call = ticker.running();
        std::thread::sleep(Duration::from_millis(100));
        let during = ticks.load(Ordering::SeqCst) - idle;
        assert!(during >= 10, "only {during} ticks during a 100 ms call");
        drop(call);

        settle();
        let after = ticks.load(Ordering::SeqCst);
        std::thread::sleep(Duration::from_millis(100));
        assert_eq!(ticks.load(Ordering::SeqCst), after, "ticked after the call");
    }

    #[test]
    fn the_ticker_thread_ends_when_the_ticker_is_dropped_or_its_engine_is_gone() {
        let (ticker, ticks) = counting();
        let call = ticker.running();
        drop(call);
        drop(ticker);
        std::thread::sleep(Duration::from_millis(50));
        let stopped = ticks.load(Ordering::SeqCst);
        std::thread::sleep(Duration::from_millis(50));
        assert_eq!(ticks.load(Ordering::SeqCst), stopped);

        let ticks = Arc::new(AtomicU64::new(0));
        let counter = ticks.clone();
        let ticker = Ticker::start(Duration::from_millis(1), move || {
            counter.fetch_add(1, Ordering::SeqCst) < 2
        })
        .expect("ticker thread");
        let _call = ticker.running();
        std::thread::sleep(Duration::from_millis(100));
        assert_eq!(
            ticks.load(Ordering::SeqCst),
            3,
            "ticked on after tick said stop"
        );
    }
}

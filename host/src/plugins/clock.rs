//! The budget of one plugin call: how long the guest has *run*, not how long ago the
//! call began. A call's future is polled by a tokio worker; between polls (after a
//! yield at an epoch tick, or while a vault adapter waits on its engine) the guest
//! is not running, and on a loaded host that wait can be far longer than the work.
//! Counting it would turn host load into plugin timeouts for well-behaved plugins.
//! So [`Metered`] adds up the time spent inside polls, and the epoch callback stops
//! the guest when that passes the budget — or when a generous wall-clock ceiling
//! passes, so that no call lives unbounded.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

/// The wall-clock ceiling of a call is this many times its run budget...
pub const WALL_CEILING_FACTOR: u32 = 20;
/// ...and never less than this.
pub const MIN_WALL_CEILING: Duration = Duration::from_secs(1);

/// Marks "not inside a poll" in [`RunClock::running_since_ns`].
const IDLE: u64 = u64::MAX;

/// Time a call has spent running, shared by the metered future (which starts and
/// stops it around each poll) and the epoch callback (which reads it).
#[derive(Debug)]
pub struct RunClock {
    origin: Instant,
    spent_ns: AtomicU64,
    running_since_ns: AtomicU64,
}

impl Default for RunClock {
    fn default() -> Self {
        Self {
            origin: Instant::now(),
            spent_ns: AtomicU64::new(0),
            running_since_ns: AtomicU64::new(IDLE),
        }
    }
}

impl RunClock {
    fn now_ns(&self) -> u64 {
        u64::try_from(self.origin.elapsed().as_nanos()).unwrap_or(IDLE - 1)
    }

    /// Starts a new call: nothing spent yet.
    pub fn reset(&self) {
        self.spent_ns.store(0, Ordering::Relaxed);
        self.running_since_ns.store(IDLE, Ordering::Relaxed);
    }

    fn resume(&self) {
        self.running_since_ns
            .store(self.now_ns(), Ordering::Relaxed);
    }

    fn pause(&self) {
        let since = self.running_since_ns.swap(IDLE, Ordering::Relaxed);
        if since != IDLE {
            let ran = self.now_ns().saturating_sub(since);
            self.spent_ns.fetch_add(ran, Ordering::Relaxed);
        }
    }

    /// Time run so far, including the poll in progress.
    pub fn spent(&self) -> Duration {
        let mut ns = self.spent_ns.load(Ordering::Relaxed);
        let since = self.running_since_ns.load(Ordering::Relaxed);
        if since != IDLE {
            ns += self.now_ns().saturating_sub(since);
        }
        Duration::from_nanos(ns)
    }
}

/// The limits armed for one call.
#[derive(Debug, Clone, Copy)]
pub struct CallBudget {
    /// Time the guest may run.
    pub run: Duration,
    /// When the call is stopped however little it ran.
    pub wall_deadline: Instant,
}

impl CallBudget {
    /// A budget of `run`, with its wall-clock ceiling counted from now.
    pub fn starting_now(run: Duration) -> Self {
        let ceiling = (run * WALL_CEILING_FACTOR).max(MIN_WALL_CEILING);
        Self {
            run,
            wall_deadline: Instant::now() + ceiling,
        }
    }

    /// Whether a call that has run `spent` must stop now.
    pub fn exhausted(&self, spent: Duration) -> bool {
        spent >= self.run || Instant::now() >= self.wall_deadline
    }
}

/// A call's future with its running time measured.
pub struct Metered<F> {
    call: F,
    clock: Arc<RunClock>,
}

impl<F> Metered<F> {
    /// Meters `call` on `clock`.
    pub fn new(call: F, clock: Arc<RunClock>) -> Self {
        Self { call, clock }
    }
}

impl<F: Future + Unpin> Future for Metered<F> {
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        self.clock.resume();
        let polled = Pin::new(&mut self.call).poll(cx);
        self.clock.pause();
        polled
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn time_between_polls_is_not_counted() {
        let clock = Arc::new(RunClock::default());
        clock.reset();
        // Pending once, then ready: the sleep in between is spent outside any poll.
        let mut first = true;
        let call = std::future::poll_fn(|cx| {
            if std::mem::take(&mut first) {
                let waker = cx.waker().clone();
                std::thread::spawn(move || {
                    std::thread::sleep(Duration::from_millis(50));
                    waker.wake();
                });
                Poll::Pending
            } else {
                Poll::Ready(())
            }
        });
        let started = Instant::now();
        Metered::new(call, clock.clone()).await;
        assert!(started.elapsed() >= Duration::from_millis(50));
        assert!(
            clock.spent() < Duration::from_millis(25),
            "{:?}",
            clock.spent()
        );
    }

    #[tokio::test]
    async fn time_inside_a_poll_is_counted() {
        let clock = Arc::new(RunClock::default());
        let call = std::future::poll_fn(|_| {
            std::thread::sleep(Duration::from_millis(20));
            Poll::Ready(())
        });
        Metered::new(call, clock.clone()).await;
        assert!(clock.spent() >= Duration::from_millis(20));
    }

    #[test]
    fn a_budget_ends_at_its_run_time_or_its_wall_ceiling() {
        let budget = CallBudget::starting_now(Duration::from_millis(50));
        assert!(!budget.exhausted(Duration::from_millis(49)));
        assert!(budget.exhausted(Duration::from_millis(50)));
        let expired = CallBudget {
            run: Duration::from_secs(10),
            wall_deadline: Instant::now(),
        };
        assert!(expired.exhausted(Duration::ZERO));
    }
}

//! The budget of one plugin call: how long the guest has *run*, not how long ago the
//! call began. On a loaded host a call waits — for a tokio worker after a yield at an
//! epoch tick, for a core when its thread is preempted, on its engine for a vault
//! adapter — and counting those waits would turn host load into timeouts of
//! well-behaved plugins. So the guest's time is counted as CPU time of the thread
//! that runs it:
//!
//! - [`Metered`] opens a *segment* at the start of each poll of the call's future and
//!   closes it at the end; time between polls is never counted.
//! - A segment with no epoch tick in it is short (under a tick of guest work) and is
//!   counted by the wall clock, capped at [`SHORT_SEGMENT_CAP`]: reading a thread's
//!   CPU clock is a system call (about 1 µs here), too dear for every call.
//! - From a segment's first tick on, the epoch callback reads the thread's CPU clock
//!   and counts exactly what the thread ran.
//!
//! The epoch callback stops the guest when the count passes the budget, or when a
//! generous wall-clock ceiling passes, so that no call lives unbounded.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use nix::time::{clock_gettime, ClockId};

use super::runtime::EPOCH_TICK;

/// The wall-clock ceiling of a call is this many times its run budget...
pub const WALL_CEILING_FACTOR: u32 = 20;
/// ...and never less than this.
pub const MIN_WALL_CEILING: Duration = Duration::from_secs(1);
/// Most wall time a segment without a tick counts for: a guest runs at most about a
/// tick before the next tick interrupts it, so more than two ticks is time the thread
/// spent preempted.
pub const SHORT_SEGMENT_CAP: Duration = Duration::from_nanos(2 * EPOCH_TICK.as_nanos() as u64);

/// The longest a call with a run budget of `run` can last, however it is scheduled.
pub fn wall_ceiling(run: Duration) -> Duration {
    (run * WALL_CEILING_FACTOR).max(MIN_WALL_CEILING)
}

/// "None" for the segment fields.
const NONE: u64 = u64::MAX;

/// Time a call has run, shared by the metered future (which opens and closes a
/// segment around each poll) and the epoch callback (which counts and reads it).
#[derive(Debug)]
pub struct RunClock {
    origin: Instant,
    /// Time counted so far, in nanoseconds.
    spent_ns: AtomicU64,
    /// Wall time (since `origin`) the open segment began, or [`NONE`].
    segment_wall_ns: AtomicU64,
    /// The thread's CPU clock at the open segment's last tick, or [`NONE`] before
    /// its first tick.
    segment_cpu_ns: AtomicU64,
}

impl Default for RunClock {
    fn default() -> Self {
        Self {
            origin: Instant::now(),
            spent_ns: AtomicU64::new(0),
            segment_wall_ns: AtomicU64::new(NONE),
            segment_cpu_ns: AtomicU64::new(NONE),
        }
    }
}

fn nanos(duration: Duration) -> u64 {
    u64::try_from(duration.as_nanos()).unwrap_or(NONE - 1)
}

/// CPU time of the calling thread, if the system tells.
fn thread_cpu_ns() -> Option<u64> {
    let now = clock_gettime(ClockId::CLOCK_THREAD_CPUTIME_ID).ok()?;
    Some(nanos(Duration::from(now)))
}

impl RunClock {
    fn wall_ns(&self) -> u64 {
        nanos(self.origin.elapsed())
    }

    /// Starts a new call: nothing counted, no segment open.
    pub fn reset(&self) {
        self.spent_ns.store(0, Ordering::Relaxed);
        self.segment_wall_ns.store(NONE, Ordering::Relaxed);
        self.segment_cpu_ns.store(NONE, Ordering::Relaxed);
    }

    fn open_segment(&self) {
        self.segment_cpu_ns.store(NONE, Ordering::Relaxed);
        self.segment_wall_ns
            .store(self.wall_ns(), Ordering::Relaxed);
    }

    /// Counts the open segment up to now; with `keep_open`, it goes on from here.
    fn count_segment(&self, keep_open: bool) {
        let began = self.segment_wall_ns.load(Ordering::Relaxed);
        if began == NONE {
            return;
        }
        let last_cpu = self.segment_cpu_ns.load(Ordering::Relaxed);
        let cpu_now = if keep_open || last_cpu != NONE {
            thread_cpu_ns()
        } else {
            None
        };
        let ran = match (last_cpu, cpu_now) {
            (NONE, _) | (_, None) => {
                nanos(SHORT_SEGMENT_CAP).min(self.wall_ns().saturating_sub(began))
            }
            (last, Some(now)) => now.saturating_sub(last),
        };
        self.spent_ns.fetch_add(ran, Ordering::Relaxed);
        if keep_open {
            self.segment_cpu_ns
                .store(cpu_now.unwrap_or(NONE), Ordering::Relaxed);
            self.segment_wall_ns
                .store(self.wall_ns(), Ordering::Relaxed);
        } else {
            self.segment_wall_ns.store(NONE, Ordering::Relaxed);
            self.segment_cpu_ns.store(NONE, Ordering::Relaxed);
        }
    }

    fn close_segment(&self) {
        self.count_segment(false);
    }

    /// At an epoch tick: counts the open segment so far and returns the total.
    pub fn tick(&self) -> Duration {
        self.count_segment(true);
        self.spent()
    }

    /// Time counted so far (up to the last tick or the last closed segment).
    pub fn spent(&self) -> Duration {
        Duration::from_nanos(self.spent_ns.load(Ordering::Relaxed))
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
        Self {
            run,
            wall_deadline: Instant::now() + wall_ceiling(run),
        }
    }

    /// Whether a call that has run `spent` must stop now.
    pub fn exhausted(&self, spent: Duration) -> bool {
        spent >= self.run || Instant::now() >= self.wall_deadline
    }
}

/// A call's future with its running time counted on a [`RunClock`].
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
        self.clock.open_segment();
        let polled = Pin::new(&mut self.call).poll(cx);
        self.clock.close_segment();
        polled
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Burns `duration` of this thread's CPU.
    fn spin(duration: Duration) {
        let until = thread_cpu_ns().unwrap() + nanos(duration);
        while thread_cpu_ns().unwrap() < until {}
    }

    #[tokio::test]
    async fn time_between_polls_is_not_counted() {
        let clock = Arc::new(RunClock::default());
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
            clock.spent() <= 2 * SHORT_SEGMENT_CAP,
            "{:?}",
            clock.spent()
        );
    }

    #[tokio::test]
    async fn a_thread_that_sleeps_inside_a_poll_is_counted_by_its_cpu_time() {
        // Like a preempted thread: wall time passes, the thread's CPU clock does not.
        let clock = Arc::new(RunClock::default());
        let ticking = clock.clone();
        let call = std::future::poll_fn(|_| {
            ticking.tick();
            std::thread::sleep(Duration::from_millis(30));
            ticking.tick();
            Poll::Ready(())
        });
        Metered::new(call, clock.clone()).await;
        assert!(
            clock.spent() < Duration::from_millis(10),
            "{:?}",
            clock.spent()
        );
    }

    #[tokio::test]
    async fn work_between_ticks_is_counted() {
        let clock = Arc::new(RunClock::default());
        let ticking = clock.clone();
        let call = std::future::poll_fn(|_| {
            ticking.tick();
            spin(Duration::from_millis(20));
            ticking.tick();
            spin(Duration::from_millis(10));
            Poll::Ready(())
        });
        Metered::new(call, clock.clone()).await;
        assert!(
            clock.spent() >= Duration::from_millis(30),
            "{:?}",
            clock.spent()
        );
    }

    #[test]
    fn a_short_segment_counts_at_most_its_cap() {
        let clock = RunClock::default();
        clock.open_segment();
        std::thread::sleep(Duration::from_millis(10));
        clock.close_segment();
        assert_eq!(clock.spent(), SHORT_SEGMENT_CAP);
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

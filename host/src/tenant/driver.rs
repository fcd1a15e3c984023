//! How a workspace connection's driver task is polled: one scheduler turn after it is
//! woken, so that the statements of every request that runs in that turn go out in
//! one write.
//!
//! tokio-postgres sends a statement when its connection task next runs. A request
//! that queues a statement wakes that task, and tokio runs a task woken from a running
//! one next (its LIFO slot): without this, the driver wrote each request's statement
//! on its own, one system call and one server wake-up per request, while the other
//! requests ready in the same turn waited behind it. Deferred by one turn, the
//! requests ready now queue theirs first, and the server reads them all at once and
//! finds the next one waiting (see `lane.rs`).

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

/// A future that, each time it is woken, first lets the tasks already queued on its
/// worker run, and then polls `inner`.
pub struct OneTurnLate<F> {
    inner: Pin<Box<F>>,
    deferred: bool,
}

impl<F: Future> OneTurnLate<F> {
    /// Wraps a connection's driver future.
    pub fn new(inner: F) -> Self {
        Self {
            inner: Box::pin(inner),
            deferred: false,
        }
    }
}

impl<F: Future> Future for OneTurnLate<F> {
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        if !self.deferred {
            // Waking itself while running puts the task at the back of its worker's
            // queue (not in the LIFO slot), behind every task ready now.
            self.deferred = true;
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        self.deferred = false;
        self.inner.as_mut().poll(cx)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    use super::*;

    #[tokio::test(flavor = "current_thread")]
    async fn the_inner_future_runs_after_the_tasks_ready_before_it() {
        let done = Arc::new(AtomicUsize::new(0));
        let seen_by_driver = {
            let done = done.clone();
            tokio::spawn(OneTurnLate::new(async move { done.load(Ordering::SeqCst) }))
        };
        let workers: Vec<_> = (0..3)
            .map(|_| {
                let done = done.clone();
                tokio::spawn(async move {
                    done.fetch_add(1, Ordering::SeqCst);
                })
            })
            .collect();
        for worker in workers {
            worker.await.expect("a task ran");
        }
        assert_eq!(seen_by_driver.await.expect("the driver ran"), 3);
    }

    #[tokio::test(flavor = "current_thread")]
    async fn it_completes_with_the_inner_output_and_waits_like_it() {
        let (send, receive) = tokio::sync::oneshot::channel::<u32>();
        let waiting = tokio::spawn(OneTurnLate::new(receive));
        tokio::task::yield_now().await;
        assert!(!waiting.is_finished());
        send.send(7).expect("the receiver waits");
        assert_eq!(waiting.await.expect("joined").expect("received"), 7);
    }
}

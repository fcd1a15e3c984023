//! How long a cached control record is trusted without a notification: a fixed
//! lifetime shortened by a random fifth per entry, so that entries cached together
//! (at start-up, after a reconnect) do not all expire, and hit the control database,
//! in the same second.

use std::time::{Duration, Instant};

/// The fraction of the lifetime an entry may lose, at most.
const SPREAD: f64 = 0.2;

/// A [`moka::Expiry`] giving every entry, on insert and on replacement, a lifetime
/// between `(1 - SPREAD) * ttl` and `ttl`.
#[derive(Debug, Clone, Copy)]
pub struct JitteredTtl {
    ttl: Duration,
}

impl JitteredTtl {
    /// Lifetimes of at most `ttl`.
    pub const fn new(ttl: Duration) -> Self {
        Self { ttl }
    }

    /// One entry's lifetime.
    fn draw(&self) -> Duration {
        self.ttl.mul_f64(1.0 - SPREAD * rand::random::<f64>())
    }
}

impl<K, V> moka::Expiry<K, V> for JitteredTtl {
    fn expire_after_create(&self, _key: &K, _value: &V, _created_at: Instant) -> Option<Duration> {
        Some(self.draw())
    }

    fn expire_after_update(
        &self,
        _key: &K,
        _value: &V,
        _updated_at: Instant,
        _duration_until_expiry: Option<Duration>,
    ) -> Option<Duration> {
        Some(self.draw())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lifetimes_stay_within_a_fifth_below_the_ttl_and_differ() {
        let ttl = Duration::from_secs(300);
        let expiry = JitteredTtl::new(ttl);
        let draws: Vec<Duration> = (0..1000).map(|_| expiry.draw()).collect();
        assert!(draws.iter().all(|d| *d <= ttl && *d >= ttl.mul_f64(0.8)));
        let earliest = draws.iter().min().copied().unwrap_or_default();
        let latest = draws.iter().max().copied().unwrap_or_default();
        assert!(
            latest - earliest > Duration::from_secs(30),
            "the lifetimes spread over most of a minute, not {:?}",
            latest - earliest
        );
    }

    #[test]
    fn a_cache_expires_its_entries_by_it() {
        let cache: moka::sync::Cache<u32, u32> = moka::sync::Cache::builder()
            .expire_after(JitteredTtl::new(Duration::from_millis(50)))
            .build();
        cache.insert(1, 1);
        assert_eq!(cache.get(&1), Some(1));
        std::thread::sleep(Duration::from_millis(80));
        assert_eq!(cache.get(&1), None, "expired after at most its ttl");
    }
}

//! Token buckets keyed by who asks (a node id, an IP address): cheap
//! protection for calls that make the satellite work for strangers, like
//! the check-in's dial-back.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Most keys remembered; when full, the map starts over (every key gets a
/// full bucket again), which bounds memory whatever the key space.
const MAX_KEYS: usize = 65_536;

/// `per_minute` calls per key and minute, in bursts of up to `burst`.
pub struct RateLimiter<K> {
    per_second: f64,
    burst: f64,
    buckets: Mutex<HashMap<K, (f64, Instant)>>,
}

impl<K: Eq + Hash> RateLimiter<K> {
    /// A limiter allowing `per_minute` calls per key, `burst` at once.
    pub fn new(per_minute: u32, burst: u32) -> Self {
        RateLimiter {
            per_second: f64::from(per_minute) / 60.0,
            burst: f64::from(burst.max(1)),
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes one token for `key`; `Err(wait)` says how long until one is free.
    pub fn check(&self, key: K) -> Result<(), Duration> {
        self.check_at(key, Instant::now())
    }

    fn check_at(&self, key: K, now: Instant) -> Result<(), Duration> {
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        if buckets.len() >= MAX_KEYS && !buckets.contains_key(&key) {
            buckets.clear();
        }
        let (tokens, last) = buckets.entry(key).or_insert((self.burst, now));
        let elapsed = now.saturating_duration_since(*last).as_secs_f64();
        *tokens = (*tokens + elapsed * self.per_second).min(self.burst);
        *last = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            Ok(())
        } else if self.per_second > 0.0 {
            Err(Duration::from_secs_f64((1.0 - *tokens) / self.per_second))
        } else {
            Err(Duration::MAX)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bursts_then_refills_per_key() {
        let l = RateLimiter::new(60, 3);
        let t0 = Instant::now();
        for _ in 0..3 {
            l.check_at("a", t0).unwrap();
        }
        let wait = l.check_at("a", t0).unwrap_err();
        assert!(wait <= Duration::from_secs(1) && wait > Duration::ZERO);
        // Another key has its own bucket.
        l.check_at("b", t0).unwrap();
        // One token back per second.
        l.check_at("a", t0 + Duration::from_millis(1100)).unwrap();
        assert!(l.check_at("a", t0 + Duration::from_millis(1100)).is_err());
    }
}

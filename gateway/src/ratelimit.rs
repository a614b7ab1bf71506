//! A small token-bucket rate limiter per client address, plus one for all
//! clients together (for registration: a client with many addresses still
//! meets the global bucket).

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// One bucket: `tokens` refilled at `per_minute` per minute, up to
/// `per_minute`.
#[derive(Clone, Copy, Debug)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

impl Bucket {
    fn full(capacity: f64, now: Instant) -> Self {
        Bucket {
            tokens: capacity,
            at: now,
        }
    }

    /// Takes one token; the wait until one is available otherwise.
    fn take(&mut self, capacity: f64, now: Instant) -> Result<(), Duration> {
        let per_sec = capacity / 60.0;
        let elapsed = now.saturating_duration_since(self.at).as_secs_f64();
        self.tokens = (self.tokens + elapsed * per_sec).min(capacity);
        self.at = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64((1.0 - self.tokens) / per_sec))
        }
    }
}

/// Limits events per client address and overall.
#[derive(Debug)]
pub struct RateLimiter {
    per_client: f64,
    overall: f64,
    state: Mutex<(Bucket, HashMap<IpAddr, Bucket>)>,
}

/// Addresses remembered at most (old entries are dropped beyond it).
const MAX_CLIENTS: usize = 10_000;

impl RateLimiter {
    /// `per_minute` events per client address, ten times that overall.
    pub fn new(per_minute: u32) -> Self {
        let per_client = f64::from(per_minute.max(1));
        let overall = per_client * 10.0;
        RateLimiter {
            per_client,
            overall,
            state: Mutex::new((Bucket::full(overall, Instant::now()), HashMap::new())),
        }
    }

    /// Counts one event of `client`; `Err(wait)` when over the limit.
    pub fn check(&self, client: IpAddr) -> Result<(), Duration> {
        self.check_at(client, Instant::now())
    }

    fn check_at(&self, client: IpAddr, now: Instant) -> Result<(), Duration> {
        let Ok(mut guard) = self.state.lock() else {
            return Err(Duration::from_secs(60));
        };
        let (overall, clients) = &mut *guard;
        if clients.len() >= MAX_CLIENTS && !clients.contains_key(&client) {
            let cap = self.per_client;
            clients.retain(|_, b| {
                now.saturating_duration_since(b.at).as_secs_f64() < 60.0 * (cap - b.tokens) / cap
            });
            if clients.len() >= MAX_CLIENTS {
                clients.clear();
            }
        }
        let mine = clients
            .entry(client)
            .or_insert_with(|| Bucket::full(self.per_client, now));
        // Check the client's bucket on a copy first: a refused event takes
        // no token from anyone.
        let mut trial = *mine;
        trial.take(self.per_client, now)?;
        overall.take(self.overall, now)?;
        *mine = trial;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_client_gets_its_burst_then_waits_others_are_separate() {
        let limiter = RateLimiter::new(3);
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        let b: IpAddr = "10.0.0.2".parse().unwrap();
        let t0 = Instant::now();
        for _ in 0..3 {
            limiter.check_at(a, t0).unwrap();
        }
        let wait = limiter.check_at(a, t0).unwrap_err();
        assert!(wait > Duration::from_secs(19) && wait <= Duration::from_secs(20));
        limiter.check_at(b, t0).unwrap();
        // 20 s later one more token.
        limiter.check_at(a, t0 + Duration::from_secs(20)).unwrap();
        assert!(limiter.check_at(a, t0 + Duration::from_secs(20)).is_err());
    }

    #[test]
    fn the_overall_bucket_holds_against_many_addresses() {
        let limiter = RateLimiter::new(1);
        let t0 = Instant::now();
        let mut ok = 0;
        for i in 0..100u8 {
            if limiter.check_at(IpAddr::from([10, 0, 1, i]), t0).is_ok() {
                ok += 1;
            }
        }
        assert_eq!(ok, 10);
    }
}

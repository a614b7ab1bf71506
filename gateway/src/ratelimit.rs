//! A small token-bucket rate limiter per client address, plus one for all
//! clients together (for registration: a client with many addresses still
//! meets the global bucket).

use std::net::IpAddr;
use std::time::{Duration, Instant};

use satstore_common::ratelimit::RateLimiter as Buckets;

/// Limits events per client address and overall.
#[derive(Debug)]
pub struct RateLimiter {
    per_client: Buckets<IpAddr>,
    overall: Buckets<()>,
}

impl RateLimiter {
    /// `per_minute` events per client address, ten times that overall
    /// (bursts of as many).
    pub fn new(per_minute: u32) -> Self {
        let per_minute = per_minute.max(1);
        let overall = per_minute.saturating_mul(10);
        RateLimiter {
            per_client: Buckets::new(per_minute, per_minute),
            overall: Buckets::new(overall, overall),
        }
    }

    /// Counts one event of `client`; `Err(wait)` when over the limit.
    pub fn check(&self, client: IpAddr) -> Result<(), Duration> {
        self.check_at(client, Instant::now())
    }

    fn check_at(&self, client: IpAddr, now: Instant) -> Result<(), Duration> {
        self.per_client.check_at(client, now)?;
        self.overall.check_at((), now)
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

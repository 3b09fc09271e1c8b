//! The rate-limit budget: one governor per endpoint class, a bound on
//! requests in flight, and what GitHub's 403/429 answers say to wait.
//!
//! GitHub's secondary limits (docs: "Rate limits for the REST API") are
//! per endpoint and counted in points: about 900 a minute, a GET costing 1
//! and a mutating request 5, so at most about 180 POSTs a minute, and no
//! more than 100 requests at once. Runner registration has a bucket of its
//! own. Everything in one process shares one [`Limits`].

use std::num::NonZeroU32;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use serde::Serialize;
use tokio::sync::Semaphore;
use tokio::time::Instant;

/// What GitHub counts a request against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EndpointClass {
    /// Registration and removal tokens, JIT configurations.
    Registration,
    /// Any other mutating request (POST, DELETE, PUT, PATCH).
    Write,
    /// GET.
    Read,
}

impl EndpointClass {
    const ALL: [EndpointClass; 3] = [Self::Registration, Self::Write, Self::Read];

    fn index(self) -> usize {
        match self {
            Self::Registration => 0,
            Self::Write => 1,
            Self::Read => 2,
        }
    }

    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::Registration => "registration",
            Self::Write => "write",
            Self::Read => "read",
        }
    }
}

/// How fast this process may call GitHub.
#[derive(Debug, Clone, Copy)]
pub struct Budget {
    /// Registration requests a minute (registration and removal tokens, JIT configs).
    pub registrations_per_minute: NonZeroU32,
    /// Other mutating requests a minute.
    pub writes_per_minute: NonZeroU32,
    /// GET requests a minute.
    pub reads_per_minute: NonZeroU32,
    /// Requests of any kind at once.
    pub max_in_flight: usize,
    /// How long to wait after a rate-limit answer that says nothing of
    /// when to come back (doubled on each further one).
    pub unspecified_wait: Duration,
    /// The longest wait this process accepts before giving up on a request.
    pub max_wait: Duration,
    /// Attempts at one request that keeps being throttled.
    pub max_attempts: u32,
}

impl Default for Budget {
    fn default() -> Self {
        Budget {
            registrations_per_minute: NonZeroU32::new(180).expect("non-zero"),
            writes_per_minute: NonZeroU32::new(180).expect("non-zero"),
            reads_per_minute: NonZeroU32::new(900).expect("non-zero"),
            max_in_flight: 8,
            unspecified_wait: Duration::from_mins(1),
            max_wait: Duration::from_mins(15),
            max_attempts: 5,
        }
    }
}

/// Counts of what the client did, for logs, metrics and tests.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Stats {
    pub requests: u64,
    pub registration_requests: u64,
    pub write_requests: u64,
    pub read_requests: u64,
    /// Rate-limit answers (403/429) received.
    pub throttled: u64,
    /// Requests sent again after a throttle or a failed idempotent request.
    pub retried: u64,
    /// Milliseconds spent waiting on GitHub's rate limits.
    pub throttled_wait_ms: u64,
}

#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub(crate) by_class: [AtomicU64; 3],
    pub(crate) throttled: AtomicU64,
    pub(crate) retried: AtomicU64,
    pub(crate) throttled_wait_ms: AtomicU64,
}

impl Counters {
    pub(crate) fn snapshot(&self) -> Stats {
        let by = |c: EndpointClass| self.by_class[c.index()].load(Ordering::Relaxed);
        Stats {
            requests: EndpointClass::ALL.iter().map(|&c| by(c)).sum(),
            registration_requests: by(EndpointClass::Registration),
            write_requests: by(EndpointClass::Write),
            read_requests: by(EndpointClass::Read),
            throttled: self.throttled.load(Ordering::Relaxed),
            retried: self.retried.load(Ordering::Relaxed),
            throttled_wait_ms: self.throttled_wait_ms.load(Ordering::Relaxed),
        }
    }

    pub(crate) fn count(&self, class: EndpointClass) {
        self.by_class[class.index()].fetch_add(1, Ordering::Relaxed);
    }
}

/// The shared limiters.
pub(crate) struct Limits {
    pub(crate) budget: Budget,
    rates: [DefaultDirectRateLimiter; 3],
    pub(crate) in_flight: Semaphore,
    /// A class told to wait by GitHub stays paused for every caller.
    paused_until: [Mutex<Option<Instant>>; 3],
}

impl Limits {
    pub(crate) fn new(budget: Budget) -> Limits {
        // A burst of one: requests are spread evenly over the minute, as
        // GitHub asks of mutating requests, instead of 180 at once.
        let quota = |per_minute: NonZeroU32| {
            Quota::with_period(Duration::from_mins(1) / per_minute.get())
                .expect("a positive period")
                .allow_burst(NonZeroU32::MIN)
        };
        Limits {
            rates: [
                RateLimiter::direct(quota(budget.registrations_per_minute)),
                RateLimiter::direct(quota(budget.writes_per_minute)),
                RateLimiter::direct(quota(budget.reads_per_minute)),
            ],
            in_flight: Semaphore::new(budget.max_in_flight.max(1)),
            paused_until: Default::default(),
            budget,
        }
    }

    /// Waits until `class` may send one more request.
    pub(crate) async fn turn(&self, class: EndpointClass) {
        loop {
            let until = *self.paused_until[class.index()]
                .lock()
                .expect("lock poisoned");
            match until {
                Some(until) if until > Instant::now() => tokio::time::sleep_until(until).await,
                _ => break,
            }
        }
        self.rates[class.index()].until_ready().await;
    }

    /// Holds every request of `class` back for `wait`.
    pub(crate) fn pause(&self, class: EndpointClass, wait: Duration) {
        let until = Instant::now() + wait;
        let mut paused = self.paused_until[class.index()]
            .lock()
            .expect("lock poisoned");
        if paused.is_none_or(|p| p < until) {
            *paused = Some(until);
        }
    }
}

/// What a response says about rate limits: `None` when it is not a
/// rate-limit answer, else how long to wait before trying again.
///
/// GitHub's documented order: `retry-after` (seconds) first; else, when
/// `x-ratelimit-remaining` is 0, until `x-ratelimit-reset` (epoch
/// seconds); else, for a 429 or a 403 whose message names a rate limit,
/// at least a minute, growing with each further one (`unspecified`).
/// A 403 that names no rate limit is a permission error, not a throttle.
#[must_use]
pub fn throttle_wait(
    status: u16,
    headers: &http::HeaderMap,
    body: &str,
    now_epoch: i64,
    unspecified: Duration,
) -> Option<Duration> {
    if status != 403 && status != 429 {
        return None;
    }
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
    };
    if let Some(seconds) = header("retry-after").and_then(|v| v.parse::<u64>().ok()) {
        return Some(Duration::from_secs(seconds));
    }
    if header("x-ratelimit-remaining") == Some("0")
        && let Some(reset) = header("x-ratelimit-reset").and_then(|v| v.parse::<i64>().ok())
    {
        // One second more: the reset time is rounded down.
        let wait = u64::try_from(reset.saturating_sub(now_epoch)).unwrap_or(0) + 1;
        return Some(Duration::from_secs(wait));
    }
    let names_rate_limit = body.to_ascii_lowercase().contains("rate limit");
    (status == 429 || names_rate_limit).then_some(unspecified)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> http::HeaderMap {
        let mut map = http::HeaderMap::new();
        for (k, v) in pairs {
            map.insert(*k, v.parse().unwrap());
        }
        map
    }

    const MIN: Duration = Duration::from_mins(1);

    #[test]
    fn retry_after_comes_first() {
        let h = headers(&[
            ("retry-after", "7"),
            ("x-ratelimit-remaining", "0"),
            ("x-ratelimit-reset", "2000"),
        ]);
        assert_eq!(
            throttle_wait(403, &h, "", 1000, MIN),
            Some(Duration::from_secs(7))
        );
    }

    #[test]
    fn exhausted_primary_limit_waits_for_the_reset() {
        let h = headers(&[
            ("x-ratelimit-remaining", "0"),
            ("x-ratelimit-reset", "1030"),
        ]);
        assert_eq!(
            throttle_wait(403, &h, "API rate limit exceeded", 1000, MIN),
            Some(Duration::from_secs(31))
        );
        // A reset already past still waits a moment rather than spinning.
        assert_eq!(
            throttle_wait(429, &h, "", 2000, MIN),
            Some(Duration::from_secs(1))
        );
    }

    #[test]
    fn secondary_limit_without_headers_waits_the_default() {
        let body = r#"{"message":"You have exceeded a secondary rate limit. Please wait a few minutes before you try again."}"#;
        assert_eq!(throttle_wait(403, &headers(&[]), body, 0, MIN), Some(MIN));
        assert_eq!(throttle_wait(429, &headers(&[]), "", 0, MIN), Some(MIN));
    }

    #[test]
    fn a_plain_forbidden_is_not_a_throttle() {
        let h = headers(&[("x-ratelimit-remaining", "4999")]);
        let body = r#"{"message":"Resource not accessible by integration"}"#;
        assert_eq!(throttle_wait(403, &h, body, 0, MIN), None);
        assert_eq!(
            throttle_wait(500, &headers(&[("retry-after", "1")]), "", 0, MIN),
            None
        );
    }
}

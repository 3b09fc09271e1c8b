//! The one retry pause of the workspace: exponential, capped, with random
//! jitter so that many clients failing together (a matrix of consumers, a
//! fleet of runners) do not retry in step.

use std::time::Duration;

/// `first`, doubled each attempt up to `max`, then up to half as much
/// again at random.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    pub first: Duration,
    pub max: Duration,
}

impl Backoff {
    #[must_use]
    pub const fn new(first: Duration, max: Duration) -> Self {
        Backoff { first, max }
    }

    /// The pause before retry `attempt` (0 for the first retry).
    #[must_use]
    pub fn delay(&self, attempt: u32) -> Duration {
        let [byte] = crate::random_bytes::<1>();
        self.delay_with(attempt, f64::from(byte) / 255.0)
    }

    /// The pause with a given jitter fraction, in `[0, 1]`.
    fn delay_with(&self, attempt: u32, jitter: f64) -> Duration {
        let base = self
            .first
            .saturating_mul(1 << attempt.min(16))
            .min(self.max);
        base.mul_f64(1.0 + 0.5 * jitter.clamp(0.0, 1.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const B: Backoff = Backoff::new(Duration::from_millis(100), Duration::from_secs(5));

    #[test]
    fn doubles_up_to_the_cap_then_adds_at_most_half() {
        let ms = |d: Duration| d.as_millis();
        assert_eq!(ms(B.delay_with(0, 0.0)), 100);
        assert_eq!(ms(B.delay_with(3, 0.0)), 800);
        assert_eq!(ms(B.delay_with(6, 0.0)), 5_000);
        assert_eq!(ms(B.delay_with(u32::MAX, 0.0)), 5_000);
        assert_eq!(ms(B.delay_with(0, 1.0)), 150);
        assert_eq!(ms(B.delay_with(9, 1.0)), 7_500);
    }

    #[test]
    fn random_delays_stay_in_bounds_and_differ() {
        let delays: Vec<Duration> = (0..64).map(|_| B.delay(2)).collect();
        for d in &delays {
            assert!(
                *d >= Duration::from_millis(400) && *d <= Duration::from_millis(600),
                "{d:?}"
            );
        }
        assert!(
            delays.iter().any(|d| *d != delays[0]),
            "no jitter: {delays:?}"
        );
    }
}

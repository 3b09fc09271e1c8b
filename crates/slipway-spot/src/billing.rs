//! What an instance costs under EC2's rules for Linux: billed per second
//! with a 60-second minimum. (A spot instance that EC2 itself interrupts in
//! its first hour is not charged; `interrupted_by_ec2` applies that.)

/// The charge for running `seconds` at `price_per_hour`.
#[must_use]
#[expect(
    clippy::cast_precision_loss,
    reason = "seconds of runtime fit f64 exactly"
)]
pub fn charge(seconds: i64, price_per_hour: f64) -> f64 {
    if seconds <= 0 {
        return 0.0;
    }
    seconds.max(60) as f64 * price_per_hour / 3600.0
}

/// Like [`charge`], for a spot instance: nothing when EC2 interrupted it
/// within its first hour.
#[must_use]
pub fn spot_charge(seconds: i64, price_per_hour: f64, interrupted_by_ec2: bool) -> f64 {
    if interrupted_by_ec2 && seconds < 3600 {
        return 0.0;
    }
    charge(seconds, price_per_hour)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn per_second_with_a_minute_minimum() {
        assert!(
            (charge(1, 3.6) - 0.06).abs() < 1e-12,
            "one second bills a minute"
        );
        assert!((charge(60, 3.6) - 0.06).abs() < 1e-12);
        assert!((charge(61, 3.6) - 0.061).abs() < 1e-12, "then per second");
        assert!((charge(3600, 0.5) - 0.5).abs() < 1e-12);
        assert!(charge(0, 1.0).abs() < f64::EPSILON);
        assert!(spot_charge(3599, 1.0, true).abs() < f64::EPSILON);
        assert!((spot_charge(3600, 1.0, true) - 1.0).abs() < 1e-12);
        assert!((spot_charge(100, 1.0, false) - 100.0 / 3600.0).abs() < 1e-12);
    }
}

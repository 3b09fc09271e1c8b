//! The compression level, following the links: the compressor compresses
//! each frame once for everyone, at a level that rises while consumers are
//! slower than it (the frames wait in the spool: CPU is spare and bytes
//! are dear) and falls back to
//! `--level` as soon as a consumer catches up with it (the frames are then
//! sent raw ahead of it, and a slower compressor would only widen that).

use std::sync::atomic::{AtomicBool, AtomicI32, AtomicU64, Ordering};

/// Frames the compressor must be ahead of a consumer before the level
/// rises, and between two rises.
const LEAD: u64 = 4;

pub(crate) struct Level {
    base: i32,
    most: i32,
    now: AtomicI32,
    /// The frame count at the last rise.
    raised_at: AtomicU64,
    /// A consumer is being sent frames raw ahead of the compressor, which
    /// then yields the CPU to the sending.
    yielding: AtomicBool,
}

impl Level {
    /// `base` (from `--level`); with `adapt` (zstd), rising to at most 6.
    pub(crate) fn new(base: i32, adapt: bool) -> Level {
        Level {
            base,
            most: if adapt { base.max(6) } else { base },
            now: AtomicI32::new(base),
            raised_at: AtomicU64::new(0),
            yielding: AtomicBool::new(false),
        }
    }

    pub(crate) fn get(&self) -> i32 {
        self.now.load(Ordering::Relaxed)
    }

    /// Whether the compressor should yield the CPU to the sending.
    pub(crate) fn yielding(&self) -> bool {
        self.yielding.load(Ordering::Relaxed)
    }

    /// A consumer waits for the compressor (its link has a queue): the
    /// compressor must not yield.
    pub(crate) fn waited(&self) {
        self.yielding.store(false, Ordering::Relaxed);
    }

    /// A consumer was sent frame `index` from the spool, which holds
    /// `made` frames (`finished`: all of them): a lead of `LEAD` frames
    /// while there is still work raises the level by one, at most once per
    /// `LEAD` frames made. (A consumer as fast as the compressor would
    /// have caught up and been sent frames raw.)
    pub(crate) fn slow_link(&self, index: u64, made: u64, finished: bool) {
        if finished || made < index + LEAD {
            return;
        }
        let last = self.raised_at.load(Ordering::Relaxed);
        if made < last + LEAD
            || self
                .raised_at
                .compare_exchange(last, made, Ordering::Relaxed, Ordering::Relaxed)
                .is_err()
        {
            return;
        }
        let before = self.get();
        if before < self.most {
            self.now.store(before + 1, Ordering::Relaxed);
            tracing::info!(
                level = before + 1,
                "compression level raised: the consumers' links are slower than the compressor"
            );
        }
    }

    /// A consumer caught up with the compressor: back to `--level`, and
    /// the compressor yields to the sending.
    pub(crate) fn caught_up(&self) {
        self.yielding.store(true, Ordering::Relaxed);
        if self.now.swap(self.base, Ordering::Relaxed) != self.base {
            tracing::info!(
                level = self.base,
                "compression level lowered: a consumer caught up with the compressor"
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Level;

    #[test]
    fn the_level_rises_with_a_lead_and_falls_when_caught_up() {
        let level = Level::new(1, true);
        level.slow_link(0, 2, true);
        assert_eq!(level.get(), 1, "a lead of two frames is not enough");
        level.slow_link(0, 5, true);
        assert_eq!(level.get(), 1, "nothing left to compress");
        level.slow_link(0, 5, false);
        assert_eq!(level.get(), 2);
        level.slow_link(1, 6, false);
        assert_eq!(level.get(), 2, "one rise per four frames made");
        for made in (9..100).step_by(4) {
            level.slow_link(0, made, false);
        }
        assert_eq!(level.get(), 6, "at most 6");
        level.caught_up();
        assert_eq!(level.get(), 1);
        let fixed = Level::new(3, false);
        fixed.slow_link(0, 50, false);
        assert_eq!(fixed.get(), 3, "gzip keeps --level");
    }
}

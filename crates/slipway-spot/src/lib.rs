//! Honest EC2 Spot pricing, on data alone (no AWS SDK types here, so it is
//! tested on recorded and generated histories).
//!
//! Each pool's price history is a step function: a price holds until the
//! next change. [`window_stats`] integrates it over a window; [`rank`]
//! scores pools by expected cost per job, with the interruption risk the
//! Spot Instance Advisor reports, and explains every exclusion.
//!
//! ```
//! use slipway_spot::window_stats;
//!
//! // 1.00 for 90 seconds, then 3.00 for 10: the time-weighted mean is 1.20,
//! // while averaging the two records would say 2.00.
//! let stats = window_stats(&[(0, 1.0), (90, 3.0)], 0, 100).unwrap();
//! assert!((stats.mean - 1.2).abs() < 1e-9);
//! assert!((stats.record_average - 2.0).abs() < 1e-9);
//! ```

pub mod billing;
mod history;
mod score;
pub mod time;

#[cfg(test)]
mod recorded;

pub use history::{
    Pool, PoolStats, PriceChange, by_pool, linux_pools, parse_history, window_stats,
};
pub use score::{Advisor, Candidate, OnDemand, Scoring, interruption_probability, rank};

/// Input that cannot be used; the message says where.
#[derive(Debug, thiserror::Error)]
pub enum SpotError {
    #[error("invalid JSON at line {line}, column {column}: {message}")]
    Json {
        line: usize,
        column: usize,
        message: String,
    },
    #[error("record {index}: {message}")]
    Record { index: usize, message: String },
}

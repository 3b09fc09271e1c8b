//! What `spot-leaser` prints: the types are the contract in
//! `slipway_contract::spot` (snapshot-tested in `tests/it/spot/contract.rs`);
//! here, the conversions into them and the printing.

use serde::Serialize;
pub use slipway_contract::spot::*;

/// A plan row from a scored pool.
pub(crate) fn candidate(c: slipway_spot::Candidate) -> Candidate {
    Candidate {
        availability_zone: c.availability_zone,
        availability_zone_id: c.availability_zone_id,
        instance_type: c.instance_type,
        current_price: c.current_price,
        mean_price: c.mean_price,
        stddev: c.stddev,
        changes: c.changes,
        expected_job_cost: c.expected_job_cost,
        score: c.score,
        eligible: c.eligible,
        excluded_reason: c.excluded_reason,
        interruption: c.interruption,
        on_demand_price: c.on_demand_price,
        placement_score: c.placement_score,
        record_average: c.record_average,
    }
}

/// A queue row from GitHub's count.
pub(crate) fn label_depth(d: slipway_github::queue::LabelDepth) -> LabelDepth {
    LabelDepth {
        labels: d.labels,
        queued: d.queued,
    }
}

/// Serializes an output for stdout.
///
/// # Panics
///
/// Never: these types (strings, numbers, lists, enums as strings) always
/// serialize.
#[must_use]
pub(crate) fn to_json<T: Serialize>(output: &T) -> String {
    let mut text = serde_json::to_string_pretty(output).expect("outputs always serialize");
    text.push('\n');
    text
}

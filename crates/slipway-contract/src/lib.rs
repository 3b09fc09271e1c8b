//! The JSON every Slipway tool prints, as owned types that serialize and
//! deserialize: the tools print them, and `xtask`, the tests and any other
//! program read them back through the same types.
//!
//! Each top-level output carries a `version`; within a version fields are
//! only added, never renamed or removed. Kinds are enums, serialized as
//! the lower-case words the README documents. With the `schema` feature,
//! [`schemas`] gives each output's JSON Schema; the files under
//! `docs/schema/` are those, and a test fails when they differ.
//!
//! ```
//! use slipway_contract::matrix::{Matrix, MatrixEntry};
//!
//! let printed = r#"{"include":[{"package":"web","path":"apps/web"}]}"#;
//! let matrix: Matrix<MatrixEntry> = serde_json::from_str(printed).unwrap();
//! assert_eq!(matrix.include[0].path, "apps/web");
//! assert_eq!(serde_json::to_string(&matrix).unwrap(), printed);
//! ```

/// `Display` through each kind's `as_str`, the word it serializes as.
macro_rules! display_as_str {
    ($($kind:ty),*) => {$(
        impl std::fmt::Display for $kind {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    )*};
}

pub mod art;
pub mod graph;
pub mod matrix;
pub mod report;
pub mod spot;

/// Every output's JSON Schema, by the file name it has under
/// `docs/schema/`.
#[cfg(feature = "schema")]
#[must_use]
pub fn schemas() -> Vec<(&'static str, serde_json::Value)> {
    use schemars::schema_for;
    let all = [
        (
            "ci-matrix-matrix.json",
            schema_for!(matrix::Matrix<matrix::MatrixEntry>),
        ),
        (
            "ci-matrix-sharded-matrix.json",
            schema_for!(matrix::Matrix<matrix::ShardEntry>),
        ),
        ("ci-matrix-report.json", schema_for!(report::Report)),
        ("ci-matrix-graph.json", schema_for!(graph::GraphDocument)),
        ("art-stream-summary.json", schema_for!(art::StreamSummary)),
        ("art-consume-summary.json", schema_for!(art::ConsumeSummary)),
        ("spot-leaser-plan.json", schema_for!(spot::Plan)),
        ("spot-leaser-launch.json", schema_for!(spot::Launched)),
        ("spot-leaser-reap.json", schema_for!(spot::Reaped)),
        ("spot-leaser-cost.json", schema_for!(spot::Costs)),
        ("spot-leaser-queue.json", schema_for!(spot::Queue)),
        ("spot-leaser-rerun.json", schema_for!(spot::Rerun)),
        ("spot-leaser-watch.json", schema_for!(spot::Watched)),
    ];
    all.into_iter()
        .map(|(name, schema)| (name, schema.to_value()))
        .collect()
}

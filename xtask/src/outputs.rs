//! The tools' outputs, read through their contract types
//! (`slipway-contract`), the version checked: a renamed field or a new
//! version fails here instead of reading as zero.

use anyhow::{Context as _, ensure};
use slipway_contract::art::{ART_SUMMARY_VERSION, ConsumeSummary, StreamSummary};
use slipway_contract::matrix::{Matrix, MatrixEntry};
use slipway_contract::report::{REPORT_VERSION, Report};

/// `ci-matrix --format json`.
pub(crate) fn report(text: &str) -> anyhow::Result<Report> {
    let report: Report = serde_json::from_str(text).context("ci-matrix printed no JSON report")?;
    ensure!(
        report.version == REPORT_VERSION,
        "ci-matrix's report is version {}, this xtask reads {REPORT_VERSION}",
        report.version
    );
    Ok(report)
}

/// The matrix, one entry per job.
pub(crate) fn matrix(text: &str) -> anyhow::Result<Matrix<MatrixEntry>> {
    serde_json::from_str(text).context("the matrix is not a matrix of one entry per job")
}

/// `art-stream`'s summary line.
pub(crate) fn stream_summary(text: &str) -> anyhow::Result<StreamSummary> {
    let line: StreamSummary =
        serde_json::from_str(text.trim()).context("art-stream printed no summary line")?;
    ensure!(
        line.version == ART_SUMMARY_VERSION,
        "art-stream's summary is version {}",
        line.version
    );
    Ok(line)
}

/// `art-consume`'s summary line.
pub(crate) fn consume_summary(text: &str) -> anyhow::Result<ConsumeSummary> {
    let line: ConsumeSummary =
        serde_json::from_str(text.trim()).context("art-consume printed no summary line")?;
    ensure!(
        line.version == ART_SUMMARY_VERSION,
        "art-consume's summary is version {}",
        line.version
    );
    Ok(line)
}

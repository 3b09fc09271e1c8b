//! The tail both art tools share once an artifact is moved: the one-line
//! JSON summary on stdout, the metrics pushed to a Pushgateway, the step
//! summary and the step outputs under GitHub Actions.

use std::path::Path;

use crate::github::{self, Actions};
use crate::metrics::{self, Metrics};

/// One finished transfer, as either side saw it.
pub struct Transfer<'a> {
    /// `art-stream` or `art-consume`: the metrics job and the summary's title.
    pub tool: &'static str,
    /// The artifact: the file served, or `--out`.
    pub path: &'a Path,
    pub bytes: u64,
    pub wire_bytes: u64,
    /// The whole content's SHA-256, in hexadecimal.
    pub sha256: &'a str,
    pub seconds: f64,
    /// What this side adds to the summary line (`frames`, `consumers`,
    /// `resumes`), each also a metric.
    pub counts: Vec<Count>,
    /// The step summary's heading after the path (`served to 2 consumers`).
    pub headline: String,
    /// On the consumer: the content's bytes that came over the stream and
    /// from the store's fallback copy, pushed as the origin article's
    /// `artifact_stream_bytes_total{transport}`.
    pub by_transport: Option<(u64, u64)>,
}

/// A count one side adds to the summary line and to the metrics.
pub struct Count {
    /// The key in the summary line.
    pub key: &'static str,
    pub value: u64,
    /// The metric it is pushed as (`name`, help, whether a counter), if any.
    pub metric: Option<(&'static str, &'static str, bool)>,
}

impl Transfer<'_> {
    /// Pushes the metrics (when a gateway is given), writes the step
    /// summary and outputs (under Actions), then the summary line.
    pub fn finish(
        &self,
        pushgateway: Option<&str>,
        line: &impl serde::Serialize,
    ) -> Result<(), TransferError> {
        if let Some(gateway) = pushgateway {
            let grouping = metrics::transfer_grouping(self.path);
            let grouping: Vec<(&str, &str)> =
                grouping.iter().map(|(k, v)| (*k, v.as_str())).collect();
            self.metrics().push_if(Some(gateway), &grouping);
        }
        let actions = Actions::from_env();
        if let Some(file) = &actions.summary {
            github::append(file, &self.markdown())
                .map_err(|source| TransferError::new("the step summary", file, source))?;
        }
        if let Some(file) = &actions.output {
            let outputs = [
                ("sha256", self.sha256.to_owned()),
                ("bytes", self.bytes.to_string()),
            ];
            github::append_outputs(file, &outputs)
                .map_err(|source| TransferError::new("the GitHub outputs", file, source))?;
        }
        let line = serde_json::to_string(line).map_err(|e| {
            TransferError::new("the summary", Path::new("stdout"), std::io::Error::other(e))
        })?;
        crate::write_stdout(&format!("{line}\n"))
            .map_err(|source| TransferError::new("the summary", Path::new("stdout"), source))
    }

    #[expect(clippy::cast_precision_loss, reason = "a rate for people to read")]
    fn mb_per_s(&self) -> f64 {
        self.bytes as f64 / self.seconds.max(1e-9) / 1e6
    }

    /// The seconds to the millisecond, as the summary line gives them.
    #[must_use]
    pub fn seconds_rounded(&self) -> f64 {
        (self.seconds * 1000.0).round() / 1000.0
    }

    /// The rate in MB/s to one decimal, as the summary line gives it.
    #[must_use]
    pub fn mb_per_s_rounded(&self) -> f64 {
        (self.mb_per_s() * 10.0).round() / 10.0
    }

    fn markdown(&self) -> String {
        let counts: Vec<String> = self
            .counts
            .iter()
            .map(|c| format!("{} {}", c.value, c.key))
            .collect();
        format!(
            "### {}: {} {}\n\n{} bytes in {:.2} s ({:.1} MB/s), {} bytes on the wire, {}, SHA-256 `{}`\n",
            self.tool,
            self.path.display(),
            self.headline,
            self.bytes,
            self.seconds,
            self.mb_per_s(),
            self.wire_bytes,
            counts.join(", "),
            self.sha256,
        )
    }

    #[expect(clippy::cast_precision_loss, reason = "byte counts far below 2^52")]
    fn metrics(&self) -> Metrics {
        let mut m = Metrics::new(self.tool);
        m.gauge(
            "slipway_artifact_bytes",
            metrics::HELP_BYTES,
            &[],
            self.bytes as f64,
        );
        m.gauge(
            "slipway_artifact_wire_bytes",
            metrics::HELP_WIRE_BYTES,
            &[],
            self.wire_bytes as f64,
        );
        m.gauge(
            "slipway_artifact_seconds",
            metrics::HELP_SECONDS,
            &[],
            self.seconds,
        );
        if let Some((stream, store)) = self.by_transport {
            for (transport, bytes) in [("stream", stream), ("store", store)] {
                m.counter(
                    "artifact_stream_bytes_total",
                    "Artifact bytes a consumer received, by transport: the stream, or the store's fallback copy.",
                    &[("transport", transport)],
                    bytes as f64,
                );
            }
        }
        for count in &self.counts {
            if let Some((name, help, counter)) = count.metric {
                if counter {
                    m.counter(name, help, &[], count.value as f64);
                } else {
                    m.gauge(name, help, &[], count.value as f64);
                }
            }
        }
        m
    }
}

/// An output of a finished transfer could not be written.
#[derive(Debug, thiserror::Error)]
#[error("failed to write {what} to {}", path.display())]
pub struct TransferError {
    what: &'static str,
    path: std::path::PathBuf,
    #[source]
    source: std::io::Error,
}

impl TransferError {
    fn new(what: &'static str, path: &Path, source: std::io::Error) -> Self {
        TransferError {
            what,
            path: path.to_path_buf(),
            source,
        }
    }
}

//! Prometheus metrics from a tool run: built up in [`Metrics`], rendered in
//! the text exposition format, and pushed to a Pushgateway (a CI step is
//! too short-lived to be scraped) or written for `node_exporter`'s textfile
//! collector.
//!
//! The push is plain HTTP/1.1 over `std::net`: a Pushgateway sits inside
//! the network the runners are in, and the tools that link this crate
//! (ci-matrix among them) must stay free of an HTTP stack. `https://`
//! gateways are refused with a clear error.
//!
//! ```
//! let mut m = slipway_cli::metrics::Metrics::new("ci-matrix");
//! m.gauge("slipway_affected_packages", "Packages a change affects.", &[("repo", "acme/app")], 7.0);
//! assert!(m.render().contains("slipway_affected_packages{repo=\"acme/app\"} 7\n"));
//! ```

use std::fmt::Write as _;
use std::time::Duration;

/// A failed push.
#[derive(Debug, thiserror::Error)]
pub enum PushError {
    #[error("Pushgateway URL {0:?}: expected http://HOST[:PORT][/PATH]")]
    Url(String),
    #[error("Pushgateway {url}: {source}")]
    Http {
        url: String,
        source: crate::http::HttpError,
    },
    #[error("Pushgateway {url} answered {status}: {body}")]
    Refused {
        url: String,
        status: u16,
        body: String,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Gauge,
    Counter,
    Histogram,
}

#[derive(Debug)]
struct Family {
    name: String,
    help: String,
    kind: Kind,
    /// Label sets and values; a histogram's samples carry their series'
    /// suffix (`_bucket`, `_sum`, `_count`) as a first pseudo-label `""`.
    samples: Vec<(Vec<(String, String)>, f64)>,
}

/// The metrics of one run of a tool.
#[derive(Debug)]
pub struct Metrics {
    job: String,
    families: Vec<Family>,
}

impl Metrics {
    /// Metrics pushed under `job` (the tool's name).
    #[must_use]
    pub fn new(job: &str) -> Metrics {
        Metrics {
            job: job.to_owned(),
            families: Vec::new(),
        }
    }

    /// Sets a gauge sample.
    pub fn gauge(&mut self, name: &str, help: &str, labels: &[(&str, &str)], value: f64) {
        self.sample(Kind::Gauge, name, help, labels, value);
    }

    /// Sets a counter sample (`name` should end in `_total`).
    pub fn counter(&mut self, name: &str, help: &str, labels: &[(&str, &str)], value: f64) {
        self.sample(Kind::Counter, name, help, labels, value);
    }

    /// Sets a histogram of `observations` with these bucket upper bounds
    /// (ascending; `+Inf` is added): `name_bucket{le}`, `name_sum`,
    /// `name_count`.
    pub fn histogram(
        &mut self,
        name: &str,
        help: &str,
        labels: &[(&str, &str)],
        bounds: &[f64],
        observations: &[f64],
    ) {
        let with = |suffix: &str, le: Option<String>| {
            let mut l: Vec<(String, String)> = vec![(String::new(), suffix.to_owned())];
            l.extend(
                labels
                    .iter()
                    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
            );
            if let Some(le) = le {
                l.push(("le".to_owned(), le));
            }
            l
        };
        let mut samples = Vec::new();
        for bound in bounds {
            let n = observations.iter().filter(|&&o| o <= *bound).count();
            samples.push((with("_bucket", Some(bound.to_string())), count(n)));
        }
        samples.push((
            with("_bucket", Some("+Inf".to_owned())),
            count(observations.len()),
        ));
        samples.push((with("_sum", None), observations.iter().sum()));
        samples.push((with("_count", None), count(observations.len())));
        self.families.retain(|f| f.name != name);
        self.families.push(Family {
            name: name.to_owned(),
            help: help.to_owned(),
            kind: Kind::Histogram,
            samples,
        });
    }

    fn sample(&mut self, kind: Kind, name: &str, help: &str, labels: &[(&str, &str)], value: f64) {
        let labels: Vec<(String, String)> = labels
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        let family = if let Some(i) = self.families.iter().position(|f| f.name == name) {
            &mut self.families[i]
        } else {
            self.families.push(Family {
                name: name.to_owned(),
                help: help.to_owned(),
                kind,
                samples: Vec::new(),
            });
            self.families.last_mut().expect("just pushed")
        };
        match family.samples.iter_mut().find(|(l, _)| *l == labels) {
            Some(sample) => sample.1 = value,
            None => family.samples.push((labels, value)),
        }
    }

    /// The text exposition format (version 0.0.4).
    #[must_use]
    pub fn render(&self) -> String {
        let mut out = String::new();
        for f in &self.families {
            let kind = match f.kind {
                Kind::Gauge => "gauge",
                Kind::Counter => "counter",
                Kind::Histogram => "histogram",
            };
            let _ = writeln!(out, "# HELP {} {}", f.name, escape_help(&f.help));
            let _ = writeln!(out, "# TYPE {} {kind}", f.name);
            for (labels, value) in &f.samples {
                out.push_str(&f.name);
                let (suffix, labels) = match labels.split_first() {
                    Some(((k, suffix), rest)) if k.is_empty() => (suffix.as_str(), rest),
                    _ => ("", labels.as_slice()),
                };
                out.push_str(suffix);
                if !labels.is_empty() {
                    out.push('{');
                    for (i, (k, v)) in labels.iter().enumerate() {
                        if i > 0 {
                            out.push(',');
                        }
                        let _ = write!(out, "{k}=\"{}\"", escape_value(v));
                    }
                    out.push('}');
                }
                let _ = writeln!(out, " {value}");
            }
        }
        out
    }

    /// Replaces this job's group (`grouping` labels) on the Pushgateway at
    /// `gateway` with these metrics (HTTP `PUT`).
    pub fn push(&self, gateway: &str, grouping: &[(&str, &str)]) -> Result<(), PushError> {
        let rest = gateway
            .strip_prefix("http://")
            .ok_or_else(|| PushError::Url(gateway.to_owned()))?;
        let (host, base) = rest.split_once('/').unwrap_or((rest, ""));
        if host.is_empty() {
            return Err(PushError::Url(gateway.to_owned()));
        }
        let mut path = format!("/{}", base.trim_end_matches('/'));
        if path == "/" {
            path.clear();
        }
        let _ = write!(path, "/metrics/job/{}", segment(&self.job));
        for (k, v) in grouping {
            if v.is_empty() || needs_base64(v) {
                let _ = write!(path, "/{k}@base64/{}", base64url(v.as_bytes()));
            } else {
                let _ = write!(path, "/{k}/{v}");
            }
        }
        let body = self.render();
        let url = format!("http://{host}{path}");
        let answer = crate::http::send(&crate::http::Request {
            method: "PUT",
            url: &url,
            headers: &[("Content-Type", "text/plain; version=0.0.4")],
            body: body.as_bytes(),
            deadline: Duration::from_secs(10),
            max_answer: 64 << 10,
        })
        .map_err(|source| PushError::Http {
            url: gateway.to_owned(),
            source,
        })?;
        if (200..300).contains(&answer.status) {
            tracing::debug!(gateway, path, "metrics pushed");
            Ok(())
        } else {
            Err(PushError::Refused {
                url: gateway.to_owned(),
                status: answer.status,
                body: answer.body_text(300),
            })
        }
    }

    /// Pushes when a gateway is given; a failure is a warning, never the
    /// tool's failure (metrics must not fail a CI step).
    pub fn push_if(&self, gateway: Option<&str>, grouping: &[(&str, &str)]) {
        if let Some(gateway) = gateway
            && let Err(e) = self.push(gateway, grouping)
        {
            tracing::warn!("metrics not pushed: {}", crate::chain(&e));
        }
    }
}

// One help text per metric name across tools: the Pushgateway serves every
// group's samples as one family and complains when their help differs.
/// Help of `slipway_artifact_bytes`, pushed by both sides of a transfer.
pub const HELP_BYTES: &str = "Bytes of the artifact.";
/// Help of `slipway_artifact_wire_bytes`.
pub const HELP_WIRE_BYTES: &str = "Bytes on the wire: compressed frames, sent (producer) or received with resumed ones again (consumer).";
#[expect(clippy::cast_precision_loss, reason = "counts far below 2^52")]
fn count(n: usize) -> f64 {
    n as f64
}

/// Help of `slipway_artifact_seconds`.
pub const HELP_SECONDS: &str = "Seconds the transfer took on this side: to the last consumer served, or to the verified file in place.";

/// The grouping for one transfer: the artifact's file name and, under
/// GitHub Actions, the run and the job (`local` outside Actions), so
/// producers and consumers of different runs do not replace each other.
#[must_use]
pub fn transfer_grouping(artifact: &std::path::Path) -> Vec<(&'static str, String)> {
    let env = |name: &str| {
        std::env::var(name)
            .ok()
            .filter(|v| !v.is_empty())
            .unwrap_or_else(|| "local".to_owned())
    };
    vec![
        (
            "artifact",
            artifact
                .file_name()
                .map_or_else(|| "stdin".to_owned(), |n| n.to_string_lossy().into_owned()),
        ),
        ("github_run_id", env("GITHUB_RUN_ID")),
        ("github_job", env("GITHUB_JOB")),
    ]
}

fn escape_help(s: &str) -> String {
    s.replace('\\', r"\\").replace('\n', r"\n")
}

fn escape_value(s: &str) -> String {
    s.replace('\\', r"\\")
        .replace('"', "\\\"")
        .replace('\n', r"\n")
}

fn needs_base64(s: &str) -> bool {
    !s.bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

fn segment(s: &str) -> String {
    if needs_base64(s) {
        // The job name is fixed by the tool: plain in practice.
        base64url(s.as_bytes())
    } else {
        s.to_owned()
    }
}

/// RFC 4648 base64url with padding, as the Pushgateway decodes `@base64`.
fn base64url(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk.len();
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let v = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= n {
                out.push(ALPHABET[((v >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histograms_render_cumulative_buckets_sum_and_count() {
        let mut m = Metrics::new("ci-matrix");
        m.histogram(
            "ci_build_duration_seconds",
            "Build seconds.",
            &[("package", "web")],
            &[60.0, 300.0],
            &[90.5],
        );
        let text = m.render();
        assert!(
            text.contains("# TYPE ci_build_duration_seconds histogram\n"),
            "{text}"
        );
        for line in [
            "ci_build_duration_seconds_bucket{package=\"web\",le=\"60\"} 0\n",
            "ci_build_duration_seconds_bucket{package=\"web\",le=\"300\"} 1\n",
            "ci_build_duration_seconds_bucket{package=\"web\",le=\"+Inf\"} 1\n",
            "ci_build_duration_seconds_sum{package=\"web\"} 90.5\n",
            "ci_build_duration_seconds_count{package=\"web\"} 1\n",
        ] {
            assert!(text.contains(line), "{line}: {text}");
        }
    }

    #[test]
    fn renders_the_text_format() {
        let mut m = Metrics::new("t");
        m.counter("x_total", "Things.\nMany.", &[("a", "q\"uo\\te")], 3.0);
        m.counter("x_total", "ignored", &[("a", "b")], 1.5);
        m.counter("x_total", "ignored", &[("a", "b")], 2.0);
        m.gauge("y", "Y.", &[], 0.25);
        assert_eq!(
            m.render(),
            "# HELP x_total Things.\\nMany.\n# TYPE x_total counter\n\
             x_total{a=\"q\\\"uo\\\\te\"} 3\nx_total{a=\"b\"} 2\n\
             # HELP y Y.\n# TYPE y gauge\ny 0.25\n"
        );
    }

    #[test]
    fn base64url_matches_rfc_4648() {
        assert_eq!(base64url(b""), "");
        assert_eq!(base64url(b"f"), "Zg==");
        assert_eq!(base64url(b"fo"), "Zm8=");
        assert_eq!(base64url(b"foo"), "Zm9v");
        assert_eq!(base64url(b"a/b?"), "YS9iPw==");
        assert_eq!(base64url(&[0xfb, 0xff]), "-_8=");
    }

    #[test]
    fn only_plain_http_gateways() {
        let m = Metrics::new("t");
        for bad in ["https://gw:9091", "gw:9091", "http://"] {
            assert!(matches!(m.push(bad, &[]), Err(PushError::Url(_))), "{bad}");
        }
    }
}

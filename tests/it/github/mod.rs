//! slipway-github against GitHub's official REST description, served by
//! prism (`cargo xtask test` starts it and names it in
//! `SLIPWAY_GITHUB_URL`, its log in `SLIPWAY_GITHUB_LOG`), and against a
//! scripted server for the rate-limit answers prism cannot give.
//!
//! prism has no state: every answer is the description's example. Tests
//! use an organisation or repository name of their own, so counting the
//! requests prism logged for that name counts that test's requests only.

mod rate_limits;
mod schema;
pub(crate) mod scripted;

/// The GitHub mock's address.
pub(crate) fn github_url() -> String {
    std::env::var("SLIPWAY_GITHUB_URL").unwrap_or_else(|_| {
        panic!(
            "SLIPWAY_GITHUB_URL is not set: run the tests with `cargo xtask test`, \
             which serves GitHub's REST description with prism"
        )
    })
}

/// The mock's log as one block of lines per request received: the
/// `[HTTP SERVER] method path … Request received` line and what prism
/// logged after it (validation, negotiation, errors).
fn blocks() -> Vec<Vec<String>> {
    let log = std::env::var("SLIPWAY_GITHUB_LOG").expect("SLIPWAY_GITHUB_LOG is set by xtask");
    let text = std::fs::read_to_string(&log).unwrap_or_else(|e| panic!("{log}: {e}"));
    let mut blocks: Vec<Vec<String>> = Vec::new();
    for line in text.lines() {
        if line.contains("[HTTP SERVER]") && line.contains("Request received") {
            blocks.push(vec![line.to_owned()]);
        } else if let Some(block) = blocks.last_mut() {
            block.push(line.to_owned());
        }
    }
    blocks
}

/// How many `method path` requests the mock received (`path` exact,
/// without the query).
pub(crate) fn requests(method: &str, path: &str) -> usize {
    blocks()
        .iter()
        .filter(|b| b[0].contains(&format!("] {method} {path} ")))
        .count()
}

/// The requests under `prefix` (`/orgs/NAME`) that the mock refused: the
/// description does not allow their path, method, parameters or body.
pub(crate) fn refused(prefix: &str) -> Vec<String> {
    blocks()
        .into_iter()
        .filter(|b| b[0].contains(&format!(" {prefix}/")))
        .filter(|b| {
            b.iter().any(|l| {
                l.contains("Violation: request") || l.contains("Request terminated with error")
            })
        })
        .map(|b| b.join("\n"))
        .collect()
}

/// A client of the mock for `scope`, with a token (prism checks none).
pub(crate) fn config() -> slipway_github::Config {
    slipway_github::Config::new(
        &github_url(),
        slipway_github::Credentials::Token("test-token".to_owned()),
    )
}

pub(crate) fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

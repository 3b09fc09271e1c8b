//! spot-leaser against a real EC2 API implementation: moto in server mode,
//! which `cargo xtask test` starts and names in `SLIPWAY_MOTO_URL`. Each
//! test works in its own region, so tests running at once never see each
//! other's instances. moto's spot prices are constant placeholders and
//! `CreateFleet` fills from the first override; the tests rely on neither
//! beyond what they say.

mod contract;
mod failure;
mod leaser;
mod metrics;
mod registration;
mod serve;

pub(crate) use metrics::{served as metrics_served, value as metric_value};
mod watch;

use std::io::{Read as _, Write as _};
use std::path::Path;

use crate::support::{Run, bin};

/// moto's address, from the harness.
pub(crate) fn moto_url() -> String {
    std::env::var("SLIPWAY_MOTO_URL").unwrap_or_else(|_| {
        panic!(
            "SLIPWAY_MOTO_URL is not set: run the tests with `cargo xtask test`, which starts moto"
        )
    })
}

/// spot-leaser pointed at moto, with dummy credentials and no instance
/// metadata lookups.
pub(crate) fn leaser() -> Run {
    aws_env().into_iter().fold(
        Run::new(&bin("spot-leaser"), Path::new("/")),
        |run, (k, v)| run.env(k, v),
    )
}

/// The environment that points the AWS SDK at moto, with dummy
/// credentials and no instance metadata lookups.
pub(crate) fn aws_env() -> [(&'static str, String); 6] {
    [
        ("AWS_ENDPOINT_URL", moto_url()),
        ("AWS_ACCESS_KEY_ID", "testing".to_owned()),
        ("AWS_SECRET_ACCESS_KEY", "testing".to_owned()),
        ("AWS_EC2_METADATA_DISABLED", "true".to_owned()),
        ("AWS_CONFIG_FILE", "/dev/null".to_owned()),
        ("AWS_SHARED_CREDENTIALS_FILE", "/dev/null".to_owned()),
    ]
}

/// One EC2 Query API call straight to moto (it does not check
/// signatures), for what spot-leaser must not be the one to do: making an
/// instance it does not manage, and looking at instances independently.
pub(crate) fn ec2_call(region: &str, params: &[(&str, &str)]) -> String {
    let body = std::iter::once(("Version", "2016-11-15"))
        .chain(params.iter().copied())
        .map(|(k, v)| format!("{k}={}", encode(v)))
        .collect::<Vec<_>>()
        .join("&");
    let (status, response) = moto_post(
        region,
        "ec2",
        "Content-Type: application/x-www-form-urlencoded\r\n",
        &body,
    );
    assert_eq!(status, 200, "moto refused {params:?}: {response}");
    response
}

/// One POST to moto for `service` in `region` (moto checks no
/// signature); returns the status and the body.
fn moto_post(region: &str, service: &str, headers: &str, body: &str) -> (u16, String) {
    let url = moto_url();
    let host = url.trim_start_matches("http://");
    let mut stream = std::net::TcpStream::connect(host).expect("moto is listening");
    let request = format!(
        "POST / HTTP/1.1\r\nHost: {host}\r\n{headers}\
         Authorization: AWS4-HMAC-SHA256 Credential=testing/20260101/{region}/{service}/aws4_request, SignedHeaders=host, Signature=0\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    status_and_body(&response)
}

/// An HTTP/1.1 response read to its end: the status and the body.
pub(crate) fn status_and_body(response: &str) -> (u16, String) {
    let status = response
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = response
        .split_once("\r\n\r\n")
        .map_or_else(String::new, |(_, b)| b.to_owned());
    (status, body)
}

fn encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// IDs of instances in a state, from moto's own `DescribeInstances`.
pub(crate) fn instances_in_state(region: &str, state: &str) -> Vec<String> {
    let xml = ec2_call(
        region,
        &[
            ("Action", "DescribeInstances"),
            ("Filter.1.Name", "instance-state-name"),
            ("Filter.1.Value.1", state),
        ],
    );
    xml.split("<instanceId>")
        .skip(1)
        .filter_map(|s| s.split("</instanceId>").next())
        .map(str::to_owned)
        .collect()
}

/// One SSM JSON API call straight to moto, to see what spot-leaser put
/// there independently of it.
pub(crate) fn ssm_call(region: &str, action: &str, body: &serde_json::Value) -> serde_json::Value {
    let (status, response) = moto_post(
        region,
        "ssm",
        &format!(
            "Content-Type: application/x-amz-json-1.1\r\nX-Amz-Target: AmazonSSM.{action}\r\n"
        ),
        &body.to_string(),
    );
    assert_eq!(status, 200, "moto refused {action}: {response}");
    serde_json::from_str(&response).unwrap()
}

/// spot-leaser pointed at moto and at GitHub's REST description.
pub(crate) fn leaser_github() -> Run {
    leaser()
        .env("GITHUB_TOKEN", "test-token")
        .env("GITHUB_API_URL", crate::github::github_url())
}

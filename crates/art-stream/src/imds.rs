//! The EC2 instance's private address, from the instance metadata service
//! (`IMDSv2`: a session token, then the address), asked only on EC2 (the DMI
//! vendor says so) or when `AWS_EC2_METADATA_SERVICE_ENDPOINT` names the
//! service, as the AWS SDKs read it. Plain HTTP/1.1 (`slipway_cli::http`),
//! one second per step: a missing service costs nothing elsewhere.

use std::net::Ipv4Addr;
use std::time::Duration;

const ENDPOINT_ENV: &str = "AWS_EC2_METADATA_SERVICE_ENDPOINT";
const DEFAULT_ENDPOINT: &str = "http://169.254.169.254";
const STEP: Duration = Duration::from_secs(1);

/// The private IPv4 address, when this is an EC2 instance that says so.
pub(crate) fn private_ipv4() -> Option<Ipv4Addr> {
    let endpoint = std::env::var(ENDPOINT_ENV).ok().filter(|v| !v.is_empty());
    if endpoint.is_none() && !on_ec2() {
        return None;
    }
    let endpoint = endpoint.as_deref().unwrap_or(DEFAULT_ENDPOINT);
    match ask(endpoint) {
        Ok(ip) => Some(ip),
        Err(why) => {
            tracing::debug!("no private address from instance metadata at {endpoint}: {why}");
            None
        }
    }
}

fn on_ec2() -> bool {
    [
        "/sys/devices/virtual/dmi/id/board_vendor",
        "/sys/devices/virtual/dmi/id/sys_vendor",
    ]
    .iter()
    .any(|p| std::fs::read_to_string(p).is_ok_and(|v| v.trim() == "Amazon EC2"))
        || std::fs::read_to_string("/sys/hypervisor/uuid").is_ok_and(|u| u.starts_with("ec2"))
}

fn ask(endpoint: &str) -> Result<Ipv4Addr, String> {
    let base = endpoint.trim_end_matches('/');
    let token = request(
        "PUT",
        &format!("{base}/latest/api/token"),
        ("X-aws-ec2-metadata-token-ttl-seconds", "60"),
    )?;
    let address = request(
        "GET",
        &format!("{base}/latest/meta-data/local-ipv4"),
        ("X-aws-ec2-metadata-token", token.trim()),
    )?;
    address
        .trim()
        .parse()
        .map_err(|_| format!("not an IPv4 address: {:?}", address.trim()))
}

/// One request; the body of a 200 answer (the whole answer at most 4 KiB,
/// within a second).
fn request(method: &str, url: &str, header: (&str, &str)) -> Result<String, String> {
    let answer = slipway_cli::http::send(&slipway_cli::http::Request {
        method,
        url,
        headers: &[header],
        body: b"",
        deadline: STEP,
        max_answer: 4096,
    })
    .map_err(|e| e.to_string())?;
    if answer.status != 200 {
        return Err(format!("status {}", answer.status));
    }
    Ok(String::from_utf8_lossy(&answer.body).into_owned())
}

#[cfg(test)]
mod tests {
    use std::io::{BufRead as _, BufReader, Write as _};
    use std::net::TcpListener;

    /// A hand-written instance metadata service (no peer serves IMDS): it
    /// checks the token flow of `IMDSv2` and answers the address.
    #[test]
    fn the_private_address_comes_through_an_imdsv2_token() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = std::thread::spawn(move || {
            let mut seen = Vec::new();
            for _ in 0..2 {
                let (stream, _) = listener.accept().unwrap();
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut lines = Vec::new();
                loop {
                    let mut line = String::new();
                    reader.read_line(&mut line).unwrap();
                    if line == "\r\n" || line.is_empty() {
                        break;
                    }
                    lines.push(line.trim().to_owned());
                }
                let body = if lines[0].starts_with("PUT /latest/api/token") {
                    "token-123"
                } else if lines
                    .iter()
                    .any(|l| l == "X-aws-ec2-metadata-token: token-123")
                {
                    "10.1.2.3"
                } else {
                    "no token"
                };
                let status = if body == "no token" { "401" } else { "200" };
                write!(
                    &stream,
                    "HTTP/1.1 {status} OK\r\nContent-Length: {}\r\n\r\n{body}",
                    body.len()
                )
                .unwrap();
                seen.push(lines[0].clone());
            }
            seen
        });
        let ip = super::ask(&format!("http://127.0.0.1:{port}")).unwrap();
        assert_eq!(ip.to_string(), "10.1.2.3");
        assert_eq!(
            server.join().unwrap(),
            [
                "PUT /latest/api/token HTTP/1.1",
                "GET /latest/meta-data/local-ipv4 HTTP/1.1"
            ]
        );
        assert!(super::ask("https://169.254.169.254").is_err());
    }
}

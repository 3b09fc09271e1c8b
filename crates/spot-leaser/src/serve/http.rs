//! The HTTP/1.1 that `serve` speaks: one request per connection, every
//! part bounded. Its clients are GitHub's webhook deliveries, a Prometheus
//! scraper, an Alertmanager and health checks, none of which needs
//! keep-alive, chunked bodies or pipelining; a TLS-terminating proxy or
//! load balancer sits in front when the address is public (docs/serve.md).
//!
//! Bounds: the head (request line and headers) 16 KiB, the body
//! [`MAX_BODY`], the whole request [`REQUEST_DEADLINE`] from the
//! connection's first byte, and [`MAX_CONNECTIONS`] at once (more are
//! answered 503 and closed).

use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

/// The largest body read: GitHub caps a delivery at 25 MB, but a
/// `workflow_job` payload is some 10 KB and an Alertmanager notification
/// rarely 100 KB.
pub(crate) const MAX_BODY: usize = 1 << 20;
const MAX_HEAD: usize = 16 << 10;
/// GitHub waits 10 s for an answer; a client slower than this is cut.
pub(crate) const REQUEST_DEADLINE: Duration = Duration::from_secs(10);
pub(crate) const MAX_CONNECTIONS: usize = 256;

#[derive(Debug)]
pub(crate) struct Request {
    pub(crate) method: String,
    pub(crate) path: String,
    headers: Vec<(String, String)>,
    pub(crate) body: Vec<u8>,
    pub(crate) peer: SocketAddr,
}

impl Request {
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

#[derive(Debug)]
pub(crate) struct Response {
    pub(crate) status: u16,
    pub(crate) content_type: &'static str,
    pub(crate) body: String,
}

impl Response {
    pub(crate) fn text(status: u16, body: impl Into<String>) -> Response {
        let mut body = body.into();
        if !body.ends_with('\n') {
            body.push('\n');
        }
        Response {
            status,
            content_type: "text/plain; charset=utf-8",
            body,
        }
    }

    pub(crate) fn empty(status: u16) -> Response {
        Response {
            status,
            content_type: "text/plain; charset=utf-8",
            body: String::new(),
        }
    }
}

/// Why a request was not read: answered with the status, then closed.
#[derive(Debug)]
pub(crate) struct Refused {
    pub(crate) status: u16,
    pub(crate) why: &'static str,
}

fn refused(status: u16, why: &'static str) -> Refused {
    Refused { status, why }
}

/// Reads one request, within the bounds.
pub(crate) async fn read(stream: &mut TcpStream, peer: SocketAddr) -> Result<Request, Refused> {
    let mut buf: Vec<u8> = Vec::with_capacity(2048);
    let head_end = loop {
        if let Some(i) = find(&buf, b"\r\n\r\n") {
            break i;
        }
        if buf.len() >= MAX_HEAD {
            return Err(refused(431, "request head over 16 KiB"));
        }
        let mut chunk = [0u8; 4096];
        let n = stream
            .read(&mut chunk)
            .await
            .map_err(|_| refused(400, "connection failed"))?;
        if n == 0 {
            return Err(refused(400, "connection closed mid-request"));
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = std::str::from_utf8(&buf[..head_end]).map_err(|_| refused(400, "head not UTF-8"))?;
    let mut lines = head.split("\r\n");
    let mut parts = lines.next().unwrap_or_default().split(' ');
    let (Some(method), Some(target), Some(version)) = (parts.next(), parts.next(), parts.next())
    else {
        return Err(refused(400, "malformed request line"));
    };
    if !version.starts_with("HTTP/1.") {
        return Err(refused(505, "HTTP/1.x only"));
    }
    let mut headers = Vec::new();
    for line in lines {
        let (k, v) = line
            .split_once(':')
            .ok_or_else(|| refused(400, "malformed header"))?;
        headers.push((k.trim().to_owned(), v.trim().to_owned()));
    }
    let request = Request {
        method: method.to_owned(),
        path: target.split('?').next().unwrap_or_default().to_owned(),
        headers,
        body: Vec::new(),
        peer,
    };
    if request
        .header("transfer-encoding")
        .is_some_and(|t| !t.eq_ignore_ascii_case("identity"))
    {
        return Err(refused(
            411,
            "chunked bodies are not read: send Content-Length",
        ));
    }
    let length: usize = match request.header("content-length") {
        None => 0,
        Some(v) => v
            .parse()
            .map_err(|_| refused(400, "Content-Length is not a number"))?,
    };
    if length > MAX_BODY {
        return Err(refused(413, "body over 1 MiB"));
    }
    let mut body = buf[head_end + 4..].to_vec();
    if body.len() > length {
        return Err(refused(400, "more bytes than Content-Length"));
    }
    let have = body.len();
    body.resize(length, 0);
    stream
        .read_exact(&mut body[have..])
        .await
        .map_err(|_| refused(400, "body shorter than Content-Length"))?;
    Ok(Request { body, ..request })
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Writes the response and closes.
pub(crate) async fn write(stream: &mut TcpStream, response: &Response) {
    let reason = match response.status {
        200 => "OK",
        202 => "Accepted",
        204 => "No Content",
        400 => "Bad Request",
        401 => "Unauthorized",
        404 => "Not Found",
        405 => "Method Not Allowed",
        411 => "Length Required",
        413 => "Content Too Large",
        431 => "Request Header Fields Too Large",
        503 => "Service Unavailable",
        _ => "",
    };
    let head = format!(
        "HTTP/1.1 {} {reason}\r\nContent-Type: {}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        response.status,
        response.content_type,
        response.body.len()
    );
    let _ = stream.write_all(head.as_bytes()).await;
    let _ = stream.write_all(response.body.as_bytes()).await;
    let _ = stream.shutdown().await;
}

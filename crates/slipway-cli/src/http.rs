//! One small HTTP/1.1 client over `std::net`, for the two plain-HTTP peers
//! the tools talk to without an HTTP stack: a Prometheus Pushgateway and
//! the EC2 instance metadata service. One request per connection, and
//! everything a peer controls is bounded: the whole exchange by one
//! deadline (a server that trickles bytes is cut), the answer by a size.

use std::fmt::Write as _;
use std::io::{Read as _, Write as _};
use std::net::{TcpStream, ToSocketAddrs as _};
use std::time::{Duration, Instant};

/// One request.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    pub method: &'a str,
    /// `http://HOST[:PORT]` and the path after it (`/metrics/job/x`).
    pub url: &'a str,
    pub headers: &'a [(&'a str, &'a str)],
    pub body: &'a [u8],
    /// The whole exchange, from connecting to the last byte read.
    pub deadline: Duration,
    /// The largest answer read, head and body.
    pub max_answer: usize,
}

/// An answer: the status and the body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub status: u16,
    pub body: Vec<u8>,
}

impl Answer {
    /// The body as text, lossily, at most `n` characters, trimmed.
    #[must_use]
    pub fn body_text(&self, n: usize) -> String {
        String::from_utf8_lossy(&self.body)
            .trim()
            .chars()
            .take(n)
            .collect()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    #[error("{0:?} is no http://HOST[:PORT] address")]
    Url(String),
    #[error("could not reach {url}")]
    Io {
        url: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{url} took longer than {deadline:?}")]
    Deadline { url: String, deadline: Duration },
    #[error("{url} answered over {limit} bytes")]
    TooLarge { url: String, limit: usize },
    #[error("{url} answered something that is not HTTP/1.x: {why}")]
    Malformed { url: String, why: &'static str },
}

/// Sends the request and reads the whole answer, within the bounds.
///
/// # Errors
///
/// A URL that is not `http://`, a connection or I/O failure, the deadline
/// passed, an answer over `max_answer` bytes or not HTTP/1.x.
pub fn send(request: &Request<'_>) -> Result<Answer, HttpError> {
    let url = request.url;
    let io = |source| HttpError::Io {
        url: url.to_owned(),
        source,
    };
    let deadline = Instant::now() + request.deadline;
    let late = || HttpError::Deadline {
        url: url.to_owned(),
        deadline: request.deadline,
    };
    let (host, path) = split_url(url)?;
    let address = if host.contains(':') {
        host.to_owned()
    } else {
        format!("{host}:80")
    };
    let socket = address
        .to_socket_addrs()
        .map_err(io)?
        .next()
        .ok_or_else(|| HttpError::Url(url.to_owned()))?;
    let mut stream =
        TcpStream::connect_timeout(&socket, left(deadline).ok_or_else(late)?).map_err(io)?;
    stream.set_write_timeout(left(deadline)).map_err(io)?;
    let mut head = format!("{} {path} HTTP/1.1\r\nHost: {host}\r\n", request.method);
    for (name, value) in request.headers {
        let _ = write!(head, "{name}: {value}\r\n");
    }
    let _ = write!(
        head,
        "Content-Length: {}\r\nConnection: close\r\n\r\n",
        request.body.len()
    );
    stream.write_all(head.as_bytes()).map_err(io)?;
    stream.write_all(request.body).map_err(io)?;
    let answer = match read_answer(&mut stream, deadline, request.max_answer) {
        Ok(answer) => answer,
        Err(Read::Late) => return Err(late()),
        Err(Read::TooLarge) => {
            return Err(HttpError::TooLarge {
                url: url.to_owned(),
                limit: request.max_answer,
            });
        }
        Err(Read::Io(e)) => return Err(io(e)),
    };
    parse(&answer).map_err(|why| HttpError::Malformed {
        url: url.to_owned(),
        why,
    })
}

/// `http://HOST[:PORT]/PATH` as the host and the path (`/` when none).
fn split_url(url: &str) -> Result<(&str, &str), HttpError> {
    let rest = url
        .strip_prefix("http://")
        .ok_or_else(|| HttpError::Url(url.to_owned()))?;
    let (host, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    if host.is_empty() {
        return Err(HttpError::Url(url.to_owned()));
    }
    Ok((host, path))
}

/// The time left before `deadline`, none when it has passed.
fn left(deadline: Instant) -> Option<Duration> {
    deadline
        .checked_duration_since(Instant::now())
        .filter(|d| !d.is_zero())
}

enum Read {
    Late,
    TooLarge,
    Io(std::io::Error),
}

/// Everything the server sends until it closes, within the deadline and
/// the size.
fn read_answer(stream: &mut TcpStream, deadline: Instant, max: usize) -> Result<Vec<u8>, Read> {
    let mut answer = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        stream
            .set_read_timeout(Some(left(deadline).ok_or(Read::Late)?))
            .map_err(Read::Io)?;
        let n = match stream.read(&mut chunk) {
            Ok(n) => n,
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                return Err(Read::Late);
            }
            Err(e) => return Err(Read::Io(e)),
        };
        if n == 0 {
            return Ok(answer);
        }
        if answer.len() + n > max {
            return Err(Read::TooLarge);
        }
        answer.extend_from_slice(&chunk[..n]);
    }
}

/// The status and body of a whole answer (`Content-Length`, chunked, or
/// to the end of the connection).
fn parse(answer: &[u8]) -> Result<Answer, &'static str> {
    let end = answer
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or("no end of the head")?;
    let head = std::str::from_utf8(&answer[..end]).map_err(|_| "the head is not text")?;
    let mut lines = head.split("\r\n");
    let mut status_line = lines.next().unwrap_or_default().split(' ');
    if !status_line.next().is_some_and(|v| v.starts_with("HTTP/1.")) {
        return Err("no HTTP/1.x status line");
    }
    let status: u16 = status_line
        .next()
        .and_then(|s| s.parse().ok())
        .filter(|s| (100..600).contains(s))
        .ok_or("no status code")?;
    let header = |name: &str| {
        head.split("\r\n").skip(1).find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.trim().eq_ignore_ascii_case(name).then(|| v.trim())
        })
    };
    let _ = lines;
    let rest = &answer[end + 4..];
    let body = if header("transfer-encoding").is_some_and(|t| t.eq_ignore_ascii_case("chunked")) {
        dechunk(rest)?
    } else if let Some(length) = header("content-length") {
        let length: usize = length.parse().map_err(|_| "Content-Length is no number")?;
        rest.get(..length)
            .ok_or("the body is shorter than Content-Length")?
            .to_vec()
    } else {
        rest.to_vec()
    };
    Ok(Answer { status, body })
}

fn dechunk(mut rest: &[u8]) -> Result<Vec<u8>, &'static str> {
    let mut body = Vec::new();
    loop {
        let line_end = rest
            .windows(2)
            .position(|w| w == b"\r\n")
            .ok_or("a chunk without its size line")?;
        let size = std::str::from_utf8(&rest[..line_end])
            .ok()
            .and_then(|s| usize::from_str_radix(s.split(';').next().unwrap_or("").trim(), 16).ok())
            .ok_or("a chunk size that is no number")?;
        rest = &rest[line_end + 2..];
        if size == 0 {
            return Ok(body);
        }
        body.extend_from_slice(rest.get(..size).ok_or("a chunk cut short")?);
        rest = rest.get(size + 2..).ok_or("a chunk cut short")?;
    }
}

#[cfg(test)]
mod tests {
    //! Against hand-written servers: the point is answers no real peer
    //! gives (cut, oversized, trickled, not HTTP).
    use super::*;
    use std::net::TcpListener;

    /// A server that reads the request head and writes `answer` (slowly,
    /// a byte each `pace`, when given), then closes.
    fn server(answer: Vec<u8>, pace: Option<Duration>) -> String {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        std::thread::spawn(move || {
            let (mut stream, _) = listener.accept().unwrap();
            let mut seen = Vec::new();
            let mut byte = [0u8; 1];
            while !seen.ends_with(b"\r\n\r\n") && stream.read(&mut byte).unwrap_or(0) == 1 {
                seen.push(byte[0]);
            }
            match pace {
                None => drop(stream.write_all(&answer)),
                Some(pace) => {
                    for b in answer {
                        if stream.write_all(&[b]).is_err() {
                            return;
                        }
                        std::thread::sleep(pace);
                    }
                }
            }
        });
        format!("http://{addr}/x")
    }

    fn get(url: &str, deadline: Duration) -> Result<Answer, HttpError> {
        send(&Request {
            method: "GET",
            url,
            headers: &[("X-A", "1")],
            body: b"",
            deadline,
            max_answer: 4096,
        })
    }

    const SECOND: Duration = Duration::from_secs(1);

    #[test]
    fn bodies_by_length_chunked_or_to_the_end() {
        let url = server(
            b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello, and more".to_vec(),
            None,
        );
        assert_eq!(
            get(&url, SECOND).unwrap(),
            Answer {
                status: 200,
                body: b"hello".to_vec()
            }
        );
        let url = server(
            b"HTTP/1.1 202 Accepted\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2;x=y\r\nde\r\n0\r\n\r\n".to_vec(),
            None,
        );
        assert_eq!(get(&url, SECOND).unwrap().body, b"abcde");
        let url = server(b"HTTP/1.0 400 Bad Request\r\n\r\nno good\n".to_vec(), None);
        let answer = get(&url, SECOND).unwrap();
        assert_eq!(
            (answer.status, answer.body_text(100).as_str()),
            (400, "no good")
        );
    }

    #[test]
    fn a_peer_that_breaks_the_bounds_is_an_error_naming_it() {
        let big = [b"HTTP/1.1 200 OK\r\n\r\n".to_vec(), vec![b'a'; 10_000]].concat();
        let url = server(big, None);
        assert!(matches!(
            get(&url, SECOND),
            Err(HttpError::TooLarge { limit: 4096, .. })
        ));
        let url = server(b"SSH-2.0-OpenSSH\r\n\r\n".to_vec(), None);
        let err = get(&url, SECOND).unwrap_err();
        assert!(err.to_string().contains("not HTTP/1.x"), "{err}");
        let url = server(
            b"HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\nshort".to_vec(),
            None,
        );
        assert!(matches!(
            get(&url, SECOND),
            Err(HttpError::Malformed { .. })
        ));
        assert!(matches!(get("https://x/", SECOND), Err(HttpError::Url(_))));
        assert!(matches!(get("http:///x", SECOND), Err(HttpError::Url(_))));
    }

    #[test]
    fn a_trickling_server_is_cut_at_the_deadline() {
        // Each byte comes well within any per-read timeout; the whole
        // answer would take 20 s.
        let answer = [
            b"HTTP/1.1 200 OK\r\nContent-Length: 200\r\n\r\n".to_vec(),
            vec![b'a'; 200],
        ]
        .concat();
        let url = server(answer, Some(Duration::from_millis(100)));
        let started = Instant::now();
        let err = get(&url, SECOND).unwrap_err();
        assert!(matches!(err, HttpError::Deadline { .. }), "{err}");
        assert!(started.elapsed() < 3 * SECOND, "{:?}", started.elapsed());
    }
}

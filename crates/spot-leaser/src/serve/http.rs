//! The HTTP/1.1 `serve` speaks, on hyper 1's `http1` server: one request
//! per connection (its clients are GitHub's webhook deliveries, a
//! Prometheus scraper, an Alertmanager and health checks), every part
//! bounded. A TLS-terminating proxy or load balancer sits in front when
//! the address is public (docs/serve.md).
//!
//! Bounds: the head [`MAX_HEAD`] (hyper answers 431 past it, and 400 to a
//! malformed head, two conflicting `Content-Length`s among them), the body
//! [`MAX_BODY`] (413; chunked bodies are read within it too), the head
//! within [`REQUEST_DEADLINE`] of the connection (hyper closes it after)
//! and the body within as long again (408), and [`MAX_CONNECTIONS`] at
//! once. At the limit, the oldest connection that has not sent a whole
//! head is closed to make room (idle connections cannot starve the
//! webhook); when every connection is in a request, the new one is
//! answered 503 by at most [`MAX_REFUSALS`] responders, each bounded in
//! time. A connection's slot is given back however its task ends: finished,
//! evicted or panicked.

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::rc::Rc;
use std::time::Duration;

use http_body_util::{BodyExt as _, Full, Limited};
use hyper::body::{Bytes, Incoming};
use hyper::header::{CONTENT_LENGTH, CONTENT_TYPE, HeaderMap, HeaderValue};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::AsyncWriteExt as _;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::AbortHandle;

/// The largest body read: GitHub caps a delivery at 25 MB, but a
/// `workflow_job` payload is some 10 KB and an Alertmanager notification
/// rarely 100 KB.
pub(crate) const MAX_BODY: usize = 1 << 20;
/// The largest request head (hyper's smallest buffer is 8 KiB).
pub(crate) const MAX_HEAD: usize = 16 << 10;
/// GitHub waits 10 s for an answer; a client slower than this is cut.
pub(crate) const REQUEST_DEADLINE: Duration = Duration::from_secs(10);
pub(crate) const MAX_CONNECTIONS: usize = 256;
/// 503 answers being written at once; past it, a connection is closed.
pub(crate) const MAX_REFUSALS: usize = 32;
/// How long a 503 answer may take to write.
const REFUSAL_DEADLINE: Duration = Duration::from_secs(1);

/// A request as the routes see it: the head and the whole body.
#[derive(Debug)]
pub(crate) struct Request {
    pub(crate) method: String,
    pub(crate) path: String,
    headers: HeaderMap,
    pub(crate) body: Vec<u8>,
    pub(crate) peer: SocketAddr,
}

impl Request {
    /// A header's value, when it is there once and is text.
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        let mut values = self.headers.get_all(name).iter();
        let value = values.next()?;
        values.next().is_none().then_some(())?;
        value.to_str().ok()
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

    fn into_hyper(self) -> hyper::Response<Full<Bytes>> {
        let mut response = hyper::Response::new(Full::new(Bytes::from(self.body)));
        *response.status_mut() = hyper::StatusCode::from_u16(self.status)
            .unwrap_or(hyper::StatusCode::INTERNAL_SERVER_ERROR);
        response
            .headers_mut()
            .insert(CONTENT_TYPE, HeaderValue::from_static(self.content_type));
        response
    }
}

/// The open connections: each one's slot, oldest first.
#[derive(Default)]
struct Slots {
    next: u64,
    open: BTreeMap<u64, Slot>,
    refusing: usize,
}

struct Slot {
    /// Whether the connection has sent a whole request head.
    head: Rc<Cell<bool>>,
    task: AbortHandle,
}

/// Gives a connection's slot back when its task ends, however it ends.
struct SlotGuard {
    id: u64,
    slots: Rc<RefCell<Slots>>,
    counts: Rc<Cell<Counts>>,
}

impl Drop for SlotGuard {
    fn drop(&mut self) {
        let mut slots = self.slots.borrow_mut();
        slots.open.remove(&self.id);
        let open = slots.open.len();
        self.counts.set(Counts {
            open,
            ..self.counts.get()
        });
    }
}

/// The time and connection bounds (tests make them shorter).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    pub(crate) deadline: Duration,
    pub(crate) connections: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            deadline: REQUEST_DEADLINE,
            connections: MAX_CONNECTIONS,
        }
    }
}

/// What [`serve`] counts, for metrics and tests.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Counts {
    pub(crate) open: usize,
    pub(crate) evicted: u64,
    pub(crate) refused: u64,
}

/// Accepts connections until the task is dropped, each request answered
/// by `handle`. Runs on the current `LocalSet`.
pub(crate) async fn serve<F, Fut>(
    listener: TcpListener,
    limits: Limits,
    handle: F,
    counts: Rc<Cell<Counts>>,
) where
    F: Fn(Request) -> Fut + Clone + 'static,
    Fut: Future<Output = Response> + 'static,
{
    let slots = Rc::new(RefCell::new(Slots::default()));
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(c) => c,
            Err(e) => {
                tracing::warn!("accept failed: {e}");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        if !make_room(&slots, limits.connections, &counts) {
            refuse(stream, peer, &slots, &counts);
            continue;
        }
        let head = Rc::new(Cell::new(false));
        let id = {
            let mut s = slots.borrow_mut();
            s.next += 1;
            s.next
        };
        let guard = SlotGuard {
            id,
            slots: Rc::clone(&slots),
            counts: Rc::clone(&counts),
        };
        let task = tokio::task::spawn_local(connection(
            stream,
            peer,
            limits.deadline,
            Rc::clone(&head),
            handle.clone(),
            guard,
        ));
        slots.borrow_mut().open.insert(
            id,
            Slot {
                head,
                task: task.abort_handle(),
            },
        );
        let open = slots.borrow().open.len();
        counts.set(Counts {
            open,
            ..counts.get()
        });
    }
}

/// Below the limit, or at it with a connection that has sent no whole
/// head, closed (the oldest such) to make room.
fn make_room(slots: &Rc<RefCell<Slots>>, limit: usize, counts: &Cell<Counts>) -> bool {
    let mut s = slots.borrow_mut();
    if s.open.len() < limit {
        return true;
    }
    let Some(oldest) = s
        .open
        .iter()
        .find(|(_, slot)| !slot.head.get())
        .map(|(id, _)| *id)
    else {
        return false;
    };
    if let Some(slot) = s.open.remove(&oldest) {
        slot.task.abort();
    }
    counts.set(Counts {
        open: s.open.len(),
        evicted: counts.get().evicted + 1,
        ..counts.get()
    });
    true
}

/// A 503, written within a second by one of a bounded number of
/// responders; past that bound, the connection is closed unanswered.
fn refuse(
    mut stream: TcpStream,
    peer: SocketAddr,
    slots: &Rc<RefCell<Slots>>,
    counts: &Cell<Counts>,
) {
    let c = counts.get();
    counts.set(Counts {
        refused: c.refused + 1,
        ..c
    });
    if slots.borrow().refusing >= MAX_REFUSALS {
        tracing::warn!(%peer, "refused unanswered: every connection is in a request");
        return;
    }
    tracing::warn!(%peer, "refused: every connection is in a request");
    slots.borrow_mut().refusing += 1;
    let slots = Rc::clone(slots);
    tokio::task::spawn_local(async move {
        let answer = b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 5\r\nConnection: close\r\n\r\nbusy\n";
        let _ = tokio::time::timeout(REFUSAL_DEADLINE, async {
            let _ = stream.write_all(answer).await;
            let _ = stream.shutdown().await;
        })
        .await;
        slots.borrow_mut().refusing -= 1;
    });
}

async fn connection<F, Fut>(
    stream: TcpStream,
    peer: SocketAddr,
    deadline: Duration,
    head: Rc<Cell<bool>>,
    handle: F,
    _slot: SlotGuard,
) where
    F: Fn(Request) -> Fut + Clone + 'static,
    Fut: Future<Output = Response> + 'static,
{
    let service = hyper::service::service_fn(move |request: hyper::Request<Incoming>| {
        head.set(true);
        let handle = handle.clone();
        async move { Ok::<_, Infallible>(respond(request, peer, deadline, handle).await.into_hyper()) }
    });
    let served = hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(deadline)
        .max_buf_size(MAX_HEAD)
        .keep_alive(false)
        .serve_connection(TokioIo::new(stream), service);
    // The head within the deadline (hyper's timer), the body within as long
    // again, and the route's own work: the whole connection within three.
    match tokio::time::timeout(3 * deadline, served).await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => tracing::info!(%peer, "connection ended: {e}"),
        Err(_) => tracing::info!(%peer, "connection over its deadline: closed"),
    }
}

/// Reads the body within its bounds and hands the request to the routes.
async fn respond<F, Fut>(
    request: hyper::Request<Incoming>,
    peer: SocketAddr,
    deadline: Duration,
    handle: F,
) -> Response
where
    F: Fn(Request) -> Fut,
    Fut: Future<Output = Response>,
{
    let (parts, body) = request.into_parts();
    let declared = parts
        .headers
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > MAX_BODY as u64) {
        return Response::text(413, "body over 1 MiB");
    }
    let body = match tokio::time::timeout(deadline, Limited::new(body, MAX_BODY).collect()).await {
        Err(_) => return Response::text(408, "body not complete within the deadline"),
        Ok(Err(e)) if e.is::<http_body_util::LengthLimitError>() => {
            return Response::text(413, "body over 1 MiB");
        }
        Ok(Err(_)) => return Response::text(400, "the body could not be read"),
        Ok(Ok(collected)) => collected.to_bytes().to_vec(),
    };
    handle(Request {
        method: parts.method.as_str().to_owned(),
        path: parts.uri.path().to_owned(),
        headers: parts.headers,
        body,
        peer,
    })
    .await
}

#[cfg(test)]
mod tests;

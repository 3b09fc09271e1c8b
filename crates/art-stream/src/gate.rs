//! Connections that have not authenticated yet: their own small budget,
//! apart from the consumers being served, and a deadline for the whole
//! handshake. The accept loop holds the list; when it is full the oldest
//! is dropped, and one past its deadline is dropped at the next turn of the
//! loop, so neither a flood of idle connections nor a client sending a
//! byte a second can take a consumer's place.

use std::collections::VecDeque;
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::{Duration, Instant};

const PENDING: u8 = 0;
const COMPLETE: u8 = 1;
const EVICTED: u8 = 2;
const EXPIRED: u8 = 3;

/// The handshakes in progress, oldest first.
pub(crate) struct Handshakes {
    max: usize,
    deadline: Duration,
    pending: VecDeque<Entry>,
    /// When the artifact was first seen open: no deadline runs before.
    ready_since: Option<Instant>,
}

struct Entry {
    /// A handle on the connection, to shut it down under its thread.
    stream: TcpStream,
    accepted: Instant,
    state: Arc<AtomicU8>,
}

/// The connection thread's side: whether the handshake is still its own.
pub(crate) struct Watch {
    state: Arc<AtomicU8>,
    max: usize,
    deadline: Duration,
}

impl Handshakes {
    pub(crate) fn new(max: usize, deadline: Duration) -> Handshakes {
        Handshakes {
            max: max.max(1),
            deadline,
            pending: VecDeque::new(),
            ready_since: None,
        }
    }

    /// Takes a new connection in, dropping the oldest when the budget is
    /// full; `None` if it cannot be watched (it is then closed).
    pub(crate) fn admit(&mut self, stream: &TcpStream, peer: SocketAddr) -> Option<Watch> {
        let handle = match stream.try_clone() {
            Ok(handle) => handle,
            Err(err) => {
                tracing::warn!(%peer, "connection closed: {err}");
                return None;
            }
        };
        self.pending
            .retain(|entry| entry.state.load(Ordering::SeqCst) == PENDING);
        while self.pending.len() >= self.max {
            if let Some(oldest) = self.pending.pop_front() {
                oldest.end(EVICTED);
            }
        }
        let state = Arc::new(AtomicU8::new(PENDING));
        self.pending.push_back(Entry {
            stream: handle,
            accepted: Instant::now(),
            state: Arc::clone(&state),
        });
        Some(Watch {
            state,
            max: self.max,
            deadline: self.deadline,
        })
    }

    /// Drops the handshakes past their deadline, and forgets the finished.
    pub(crate) fn reap(&mut self, source_ready: bool) {
        if source_ready && self.ready_since.is_none() {
            self.ready_since = Some(Instant::now());
        }
        let ready = self.ready_since;
        let deadline = self.deadline;
        self.pending.retain(|entry| {
            if entry.state.load(Ordering::SeqCst) != PENDING {
                return false;
            }
            match ready {
                Some(ready) if entry.accepted.max(ready).elapsed() >= deadline => {
                    entry.end(EXPIRED);
                    false
                }
                _ => true,
            }
        });
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.pending.len()
    }
}

impl Entry {
    /// Ends the handshake for `why`, unless its thread finished it first.
    fn end(&self, why: u8) {
        if self
            .state
            .compare_exchange(PENDING, why, Ordering::SeqCst, Ordering::SeqCst)
            .is_ok()
        {
            // The thread's next read or write fails at once.
            let _ = self.stream.shutdown(Shutdown::Both);
        }
    }
}

impl Watch {
    /// Whether the handshake may still go on.
    pub(crate) fn pending(&self) -> bool {
        self.state.load(Ordering::SeqCst) == PENDING
    }

    /// Claims the finished handshake; false if it was dropped meanwhile.
    pub(crate) fn complete(&self) -> bool {
        self.state
            .compare_exchange(PENDING, COMPLETE, Ordering::SeqCst, Ordering::SeqCst)
            .is_ok()
    }

    /// Logs why the connection was dropped, naming the peer.
    pub(crate) fn dropped(&self, peer: SocketAddr, error: &str) {
        match self.state.load(Ordering::SeqCst) {
            EVICTED => tracing::info!(
                %peer,
                "dropped before its handshake: {} handshakes were pending and it was the oldest",
                self.max
            ),
            EXPIRED => tracing::warn!(
                %peer,
                "dropped: no handshake within {} s (--handshake-timeout)",
                self.deadline.as_secs()
            ),
            _ => tracing::warn!(%peer, "dropped during the handshake: {error}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::net::{TcpListener, TcpStream};
    use std::time::Duration;

    use super::Handshakes;

    fn pair(listener: &TcpListener) -> (TcpStream, TcpStream) {
        let client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (server, _) = listener.accept().unwrap();
        (client, server)
    }

    #[test]
    fn the_oldest_is_dropped_when_the_budget_is_full() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let mut handshakes = Handshakes::new(2, Duration::from_secs(5));
        let peer = listener.local_addr().unwrap();
        let (_c1, s1) = pair(&listener);
        let (_c2, s2) = pair(&listener);
        let (_c3, s3) = pair(&listener);
        let first = handshakes.admit(&s1, peer).unwrap();
        let second = handshakes.admit(&s2, peer).unwrap();
        let third = handshakes.admit(&s3, peer).unwrap();
        assert!(!first.pending(), "the oldest made room");
        assert!(second.pending() && third.pending());
        assert_eq!(handshakes.len(), 2);
        // A finished handshake leaves its place at the next turn.
        assert!(second.complete());
        handshakes.reap(true);
        assert_eq!(handshakes.len(), 1);
        assert!(!first.complete(), "a dropped handshake cannot be claimed");
    }

    #[test]
    fn the_deadline_runs_only_once_the_artifact_is_there() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let mut handshakes = Handshakes::new(4, Duration::ZERO);
        let peer = listener.local_addr().unwrap();
        let (_c, s) = pair(&listener);
        let watch = handshakes.admit(&s, peer).unwrap();
        handshakes.reap(false);
        assert!(watch.pending(), "no hello can be sent yet: no deadline");
        handshakes.reap(true);
        assert!(!watch.pending());
        assert!(!watch.complete());
    }
}

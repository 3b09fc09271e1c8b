//! The spool: every frame compressed once, on disk, shared by all
//! connections. Connections wait on it for frames that are not made yet.

use std::fs::File;
use std::net::TcpStream;
use std::sync::{Condvar, Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

use slipway_wire::{Codec, Digest};

/// Where one frame is, and what its header says.
#[derive(Debug, Clone)]
pub(crate) struct FrameMeta {
    pub(crate) offset: u64,
    pub(crate) raw_len: u32,
    pub(crate) codec: Codec,
    pub(crate) wire_len: u32,
    pub(crate) digest: Digest,
    pub(crate) at: Location,
}

/// Where a frame's wire bytes are.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Location {
    /// In the spool, at this offset (compressed frames, and raw frames of
    /// standard input).
    Spool(u64),
    /// In the source file itself, at the frame's own offset: a frame sent
    /// raw needs no copy. (The digests still catch a file changed under us.)
    Source,
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct Source {
    pub(crate) size: Option<u64>,
    pub(crate) mode: u32,
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct EndInfo {
    pub(crate) total_len: u64,
    pub(crate) sha256: Digest,
}

#[derive(Debug, Default)]
struct State {
    source: Option<Source>,
    frames: Vec<FrameMeta>,
    end: Option<EndInfo>,
    failed: Option<String>,
    /// A file's frames as the reader hashed them (offset, length, digest),
    /// ahead of the compressor: what a consumer that caught up with it is
    /// sent raw, straight from the file.
    ahead: Vec<(u64, u32, Digest)>,
    /// The whole file's length and SHA-256 once the reader is through,
    /// which may be before every frame is compressed.
    hashed: Option<EndInfo>,
}

pub(crate) struct Spool {
    file: File,
    /// The artifact, when it is a file: raw frames are sent from it.
    source_file: OnceLock<File>,
    state: Mutex<State>,
    changed: Condvar,
    /// The level the compressor uses for the next frame.
    pub(crate) level: crate::level::Level,
}

/// What a connection gets for frame `index`.
pub(crate) enum Next {
    Frame(FrameMeta),
    /// Not compressed yet: the frame raw from the file, as hashed.
    Ahead(FrameMeta),
    End(EndInfo, u64),
    Failed(String),
    /// Nothing yet within the wait.
    Pending,
}

impl Spool {
    pub(crate) fn new(file: File, level: crate::level::Level) -> Spool {
        Spool {
            level,
            file,
            source_file: OnceLock::new(),
            state: Mutex::new(State::default()),
            changed: Condvar::new(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub(crate) fn file(&self) -> &File {
        &self.file
    }

    /// Keeps a handle on the artifact file for serving raw frames from it.
    pub(crate) fn set_source_file(&self, file: File) {
        let _ = self.source_file.set(file);
    }

    pub(crate) fn has_source_file(&self) -> bool {
        self.source_file.get().is_some()
    }

    pub(crate) fn set_source(&self, source: Source) {
        self.lock().source = Some(source);
        self.changed.notify_all();
    }

    pub(crate) fn push(&self, meta: FrameMeta) {
        self.lock().frames.push(meta);
        self.changed.notify_all();
    }

    /// A frame of the file, hashed by the reader (before it is compressed).
    pub(crate) fn push_ahead(&self, offset: u64, raw_len: u32, digest: Digest) {
        self.lock().ahead.push((offset, raw_len, digest));
        self.changed.notify_all();
    }

    /// The reader is through the file.
    pub(crate) fn set_hashed(&self, end: EndInfo) {
        self.lock().hashed = Some(end);
        self.changed.notify_all();
    }

    /// The content's length, SHA-256 and frame count, as soon as they are
    /// known (for a file, once it is read, compressed or not).
    pub(crate) fn summary(&self) -> Option<(EndInfo, u64)> {
        let state = self.lock();
        match (state.end, state.hashed) {
            (Some(end), _) => Some((end, state.frames.len() as u64)),
            (None, Some(end)) => Some((end, state.ahead.len() as u64)),
            (None, None) => None,
        }
    }

    pub(crate) fn finish(&self, end: EndInfo) {
        self.lock().end = Some(end);
        self.changed.notify_all();
    }

    pub(crate) fn fail(&self, why: String) {
        self.lock().failed.get_or_insert(why);
        self.changed.notify_all();
    }

    /// Whether the artifact is open (its size and mode known).
    pub(crate) fn source_ready(&self) -> bool {
        self.lock().source.is_some()
    }

    /// Frames compressed so far, and whether that is all of them.
    pub(crate) fn made(&self) -> (u64, bool) {
        let state = self.lock();
        (state.frames.len() as u64, state.end.is_some())
    }

    pub(crate) fn failure(&self) -> Option<String> {
        self.lock().failed.clone()
    }

    pub(crate) fn wire_bytes(&self) -> u64 {
        self.lock()
            .frames
            .iter()
            .map(|f| u64::from(f.wire_len))
            .sum()
    }

    /// The source's size and mode, once it is open; `Err` when it failed.
    pub(crate) fn wait_source(&self, wait: Duration) -> Result<Option<Source>, String> {
        let deadline = Instant::now() + wait;
        let mut state = self.lock();
        loop {
            if let Some(why) = &state.failed {
                return Err(why.clone());
            }
            if let Some(source) = state.source {
                return Ok(Some(source));
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Ok(None);
            }
            state = self
                .changed
                .wait_timeout(state, left)
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .0;
        }
    }

    /// Frame `index`, the end, or a failure, waiting up to `wait` for it.
    /// With `raw`, a frame of a file that is hashed but not compressed yet
    /// comes as it is (`Ahead`), and the end as soon as the file is read.
    pub(crate) fn next(&self, index: u64, wait: Duration, raw: bool) -> Next {
        let deadline = Instant::now() + wait;
        let mut state = self.lock();
        let at = usize::try_from(index).unwrap_or(usize::MAX);
        loop {
            if let Some(why) = &state.failed {
                return Next::Failed(why.clone());
            }
            if let Some(meta) = state.frames.get(at) {
                return Next::Frame(meta.clone());
            }
            if let Some(end) = state.end {
                return Next::End(end, state.frames.len() as u64);
            }
            if raw {
                if let Some(&(offset, raw_len, digest)) = state.ahead.get(at) {
                    return Next::Ahead(FrameMeta {
                        offset,
                        raw_len,
                        codec: Codec::None,
                        wire_len: raw_len,
                        digest,
                        at: Location::Source,
                    });
                }
                if let Some(end) = state.hashed
                    && at >= state.ahead.len()
                {
                    return Next::End(end, state.ahead.len() as u64);
                }
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Next::Pending;
            }
            state = self
                .changed
                .wait_timeout(state, left)
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .0;
        }
    }

    /// Reads `len` bytes of the artifact file at `offset` into `buf`.
    pub(crate) fn read_source(
        &self,
        offset: u64,
        len: u32,
        buf: &mut Vec<u8>,
    ) -> std::io::Result<()> {
        use std::os::unix::fs::FileExt as _;
        let file = self
            .source_file
            .get()
            .ok_or_else(|| std::io::Error::other("no source file"))?;
        buf.resize(len as usize, 0);
        file.read_exact_at(buf, offset)
    }

    /// Reads a frame's wire bytes into `buf` (for the store's copy).
    pub(crate) fn read_wire(&self, meta: &FrameMeta, buf: &mut Vec<u8>) -> std::io::Result<()> {
        use std::os::unix::fs::FileExt as _;
        match meta.at {
            Location::Spool(at) => {
                buf.resize(meta.wire_len as usize, 0);
                self.file.read_exact_at(buf, at)
            }
            Location::Source => self.read_source(meta.offset, meta.wire_len, buf),
        }
    }

    /// Sends a frame's wire bytes to `socket` straight from the page cache
    /// (`sendfile`): no copy through this process.
    pub(crate) fn send(&self, meta: &FrameMeta, socket: &TcpStream) -> std::io::Result<()> {
        let (file, mut offset) = match meta.at {
            Location::Spool(at) => (&self.file, at),
            Location::Source => (
                self.source_file
                    .get()
                    .ok_or_else(|| std::io::Error::other("no source file for a raw frame"))?,
                meta.offset,
            ),
        };
        let mut left = meta.wire_len as usize;
        while left > 0 {
            let sent = rustix::fs::sendfile(socket, file, Some(&mut offset), left)
                .map_err(std::io::Error::from)?;
            if sent == 0 {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::UnexpectedEof,
                    "the artifact file got shorter while being served",
                ));
            }
            left -= sent;
        }
        Ok(())
    }
}

//! Reading the artifact once: the reader hashes the whole content and each
//! frame as it goes and hands frames to one compression worker per core;
//! the spool writer puts them on disk in order. A file's frames are known
//! to the spool as soon as they are hashed, so a fast consumer need not
//! wait for the compressor.

use std::collections::BTreeMap;
use std::io::Read;
use std::os::unix::fs::FileExt as _;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use sha2::{Digest as _, Sha256};
use slipway_wire::{Codec, compress, frame_digest};

use crate::spool::{EndInfo, FrameMeta, Location, Source, Spool};

#[derive(Debug, Clone)]
pub(crate) struct Settings {
    /// The file (or `-`); unused for a tree.
    pub(crate) path: PathBuf,
    /// `--path` directories and `--exclude` globs: a tar of them.
    pub(crate) tree: Option<(Vec<PathBuf>, globset::GlobSet)>,
    pub(crate) codec: Codec,
    pub(crate) frame_size: u32,
    /// How long to wait for the file to appear.
    pub(crate) wait: Duration,
}

/// Why the artifact could not be served.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error("{0} did not appear within {1} seconds")]
    NeverAppeared(String, u64),
    #[error("failed to read {0}")]
    Read(String, #[source] std::io::Error),
    #[error("failed to write the spool")]
    Spool(#[source] std::io::Error),
    #[error("failed to compress frame {0}: {1}")]
    Compress(u64, String),
    #[error("the tree could not be streamed")]
    Tree(#[from] crate::tree::TreeError),
}

/// A frame on its way from the reader to a worker, and from a worker to
/// the spool writer.
struct Raw {
    index: u64,
    offset: u64,
    len: u32,
    /// Its digest, made by the reader in the same pass as the SHA-256.
    digest: slipway_wire::Digest,
    /// The bytes; empty for a file, which the worker reads itself.
    bytes: Vec<u8>,
}

struct Packed {
    index: u64,
    offset: u64,
    digest: slipway_wire::Digest,
    /// The uncompressed bytes, back to the reader once written.
    raw: Vec<u8>,
    /// The compressed frame, or `None` when it goes raw.
    compressed: Option<(Codec, Vec<u8>)>,
}

/// Reads the whole artifact into the spool. On failure the spool is marked
/// failed too, so every connection learns of it.
pub(crate) fn produce(settings: &Settings, spool: &Spool) -> Result<EndInfo, SourceError> {
    let result = produce_inner(settings, spool);
    if let Err(err) = &result {
        spool.fail(err.to_string());
    }
    result
}

fn produce_inner(settings: &Settings, spool: &Spool) -> Result<EndInfo, SourceError> {
    let (reader, source, file) = match &settings.tree {
        Some((roots, exclude)) => {
            let reader = crate::tree::TreeReader::start(roots, exclude)?;
            let source = Source {
                size: None,
                mode: 0o644,
            };
            (Box::new(reader) as Box<dyn Read + Send>, source, None)
        }
        None => open(&settings.path, settings.wait)?,
    };
    if let Some(file) = file {
        spool.set_source_file(file);
    }
    spool.set_source(source);
    let name = match &settings.tree {
        Some((roots, _)) => crate::tree::describe(roots),
        None => settings.path.display().to_string(),
    };
    let workers = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    // A file is hashed ahead of the compressor, which reads its frames
    // from it: a consumer that catches up is sent them raw, and while one
    // is, the compressor yields the CPU to it (nice 19). A pipe's frames go
    // through buffers, a few per worker whatever the artifact's size.
    let ahead = spool.has_source_file();
    let (raw_tx, raw_rx) = mpsc::channel::<Raw>();
    let raw_rx = std::sync::Mutex::new(raw_rx);
    let (packed_tx, packed_rx) = mpsc::sync_channel::<Result<Packed, SourceError>>(workers * 2);
    // Buffers go back once on disk: no fresh pages per frame.
    let (free_tx, free_rx) = mpsc::channel::<Vec<u8>>();
    let free = Buffers {
        free: std::sync::Mutex::new(free_rx),
        made: std::sync::atomic::AtomicUsize::new(0),
        most: workers * 4 + 4,
        written: std::sync::atomic::AtomicU64::new(0),
    };

    std::thread::scope(|scope| {
        let reading = Reading {
            frame_size: settings.frame_size,
            out: raw_tx,
            buffers: &free,
            ahead: ahead.then_some(spool),
            name: &name,
        };
        let reader = scope.spawn(move || read_frames(reader, &reading));
        for _ in 0..workers {
            let packed_tx = packed_tx.clone();
            let (raw_rx, free, name) = (&raw_rx, &free, &name);
            scope.spawn(move || {
                let mut niced = false;
                loop {
                    let next = raw_rx
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner)
                        .recv();
                    let Ok(mut raw) = next else { break };
                    // Yield the CPU to the sending while a consumer takes
                    // frames raw ahead of us; compete normally otherwise
                    // (a build beside us must not starve a slow link).
                    let yielding = ahead && spool.level.yielding();
                    if yielding != niced {
                        let nice = if yielding { 19 } else { 0 };
                        niced = rustix::process::setpriority_process(
                            Some(rustix::thread::gettid()),
                            nice,
                        )
                        .map_or(niced, |()| yielding);
                    }
                    if raw.bytes.is_empty() && raw.len > 0 {
                        // Bounded: a worker the scheduler favours must
                        // not run far ahead of one holding the next frame.
                        let Some(mut bytes) = free.take_bounded(Some(raw.index)) else {
                            break;
                        };
                        if let Err(err) = spool.read_source(raw.offset, raw.len, &mut bytes) {
                            let _ = packed_tx.send(Err(SourceError::Read(name.clone(), err)));
                            break;
                        }
                        raw.bytes = bytes;
                    }
                    if packed_tx
                        .send(pack(raw, settings.codec, spool.level.get()))
                        .is_err()
                    {
                        break;
                    }
                }
            });
        }
        drop(packed_tx);
        let written = write_spool(spool, &packed_rx, &free_tx, &free.written);
        // Unblock the workers and the reader if the writer stopped early.
        drop((packed_rx, free_tx));
        let read = reader
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        written?;
        let (total_len, sha256) = read?;
        let end = EndInfo { total_len, sha256 };
        spool.finish(end);
        Ok(end)
    })
}

/// Frame buffers shared by the reader, the workers and the spool writer.
struct Buffers {
    free: std::sync::Mutex<mpsc::Receiver<Vec<u8>>>,
    made: std::sync::atomic::AtomicUsize,
    /// How many may exist; whoever fills them (the reader of a pipe, the
    /// workers for a file) waits for one beyond, except for the frame the
    /// spool writer waits for.
    most: usize,
    /// The index of the next frame the spool writer appends.
    written: std::sync::atomic::AtomicU64,
}

impl Buffers {
    /// A free buffer, a new one within the bound, or the next one freed;
    /// `None` once the spool writer is gone. A worker packing frame `index`
    /// that the writer waits for gets a buffer beyond the bound: every
    /// other buffer may be held by later frames waiting for this one
    /// (a worker descheduled between taking its frame and its buffer), and
    /// waiting would never end. A buffer beyond the bound is dropped when
    /// it comes back.
    fn take_bounded(&self, index: Option<u64>) -> Option<Vec<u8>> {
        use std::sync::atomic::Ordering;
        loop {
            {
                // Held for one look only: the worker holding the frame the
                // writer waits for must get in while the others wait.
                let free = self
                    .free
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                loop {
                    match free.try_recv() {
                        Ok(_) if self.made.load(Ordering::SeqCst) > self.most => {
                            self.made.fetch_sub(1, Ordering::SeqCst);
                        }
                        Ok(buffer) => return Some(buffer),
                        Err(mpsc::TryRecvError::Disconnected) => return None,
                        Err(mpsc::TryRecvError::Empty) => break,
                    }
                }
                let next = index == Some(self.written.load(Ordering::SeqCst));
                if next || self.made.load(Ordering::SeqCst) < self.most {
                    self.made.fetch_add(1, Ordering::SeqCst);
                    return Some(Vec::new());
                }
            }
            std::thread::sleep(Duration::from_millis(1));
        }
    }
}

/// Opens the artifact, waiting for a file to appear.
/// An opened artifact: a reader, its size and mode, and for a file a
/// second handle to serve raw frames from.
type Opened = (Box<dyn Read + Send>, Source, Option<std::fs::File>);

fn open(path: &Path, wait: Duration) -> Result<Opened, SourceError> {
    if path == Path::new("-") {
        let source = Source {
            size: None,
            mode: 0o644,
        };
        return Ok((Box::new(std::io::stdin()), source, None));
    }
    let name = path.display().to_string();
    let deadline = Instant::now() + wait;
    let mut announced = false;
    loop {
        match std::fs::File::open(path) {
            Ok(file) => {
                let meta = file
                    .metadata()
                    .map_err(|err| SourceError::Read(name.clone(), err))?;
                if meta.is_dir() {
                    return Err(SourceError::Read(
                        name,
                        std::io::Error::other("it is a directory"),
                    ));
                }
                let mode = std::os::unix::fs::PermissionsExt::mode(&meta.permissions()) & 0o7777;
                tracing::info!(file = %name, bytes = meta.len(), "serving");
                let serving = file
                    .try_clone()
                    .map_err(|err| SourceError::Read(name.clone(), err))?;
                let source = Source {
                    size: Some(meta.len()),
                    mode,
                };
                return Ok((Box::new(file), source, Some(serving)));
            }
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
                if Instant::now() >= deadline {
                    return Err(SourceError::NeverAppeared(name, wait.as_secs()));
                }
                if !announced {
                    tracing::info!(file = %name, "waiting for the file to appear");
                    announced = true;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            Err(err) => return Err(SourceError::Read(name, err)),
        }
    }
}

/// What the reader needs besides the artifact.
struct Reading<'a> {
    frame_size: u32,
    out: mpsc::Sender<Raw>,
    buffers: &'a Buffers,
    /// For a file: the spool, told of each frame as it is hashed.
    ahead: Option<&'a Spool>,
    name: &'a str,
}

/// Reads frames, hashing the whole content (SHA-256) and each frame
/// (BLAKE3) in one pass over the same bytes: the artifact is read once.
/// Returns the length and SHA-256.
fn read_frames(
    mut reader: Box<dyn Read + Send>,
    reading: &Reading<'_>,
) -> Result<(u64, slipway_wire::Digest), SourceError> {
    let mut hasher = Sha256::new();
    let mut offset = 0u64;
    // A file's frames are read here for the hashes only, into one buffer.
    let mut own = Vec::new();
    for index in 0.. {
        let mut bytes = if reading.ahead.is_some() {
            std::mem::take(&mut own)
        } else {
            match reading.buffers.take_bounded(None) {
                Some(bytes) => bytes,
                // The spool writer failed; it reports why.
                None => break,
            }
        };
        bytes.resize(reading.frame_size as usize, 0);
        let n = read_full(&mut reader, &mut bytes)
            .map_err(|err| SourceError::Read(reading.name.to_owned(), err))?;
        if n == 0 {
            break;
        }
        bytes.truncate(n);
        hasher.update(&bytes);
        let digest = frame_digest(&bytes);
        let len = u32::try_from(n).unwrap_or(u32::MAX);
        if let Some(spool) = reading.ahead {
            spool.push_ahead(offset, len, digest);
            own = bytes;
            bytes = Vec::new();
        }
        let raw = Raw {
            index,
            offset,
            len,
            digest,
            bytes,
        };
        if reading.out.send(raw).is_err() {
            // The workers stopped: the spool writer failed and reports why.
            break;
        }
        offset += n as u64;
    }
    let (total_len, sha256) = (offset, hasher.finalize().into());
    if let Some(spool) = reading.ahead {
        spool.set_hashed(EndInfo { total_len, sha256 });
    }
    Ok((total_len, sha256))
}

fn read_full(reader: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match reader.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(err) if err.kind() == std::io::ErrorKind::Interrupted => {}
            Err(err) => return Err(err),
        }
    }
    Ok(filled)
}

fn pack(raw: Raw, codec: Codec, level: i32) -> Result<Packed, SourceError> {
    let digest = raw.digest;
    let compressed = compress(codec, level, &raw.bytes)
        .map_err(|err| SourceError::Compress(raw.index, err.to_string()))?;
    Ok(Packed {
        index: raw.index,
        offset: raw.offset,
        digest,
        raw: raw.bytes,
        compressed,
    })
}

/// Appends frames to the spool in order, however the workers finish them.
/// A raw frame of a file stays where it is: the file is its copy.
fn write_spool(
    spool: &Spool,
    packed: &mpsc::Receiver<Result<Packed, SourceError>>,
    free: &mpsc::Sender<Vec<u8>>,
    written: &std::sync::atomic::AtomicU64,
) -> Result<(), SourceError> {
    let mut waiting: BTreeMap<u64, Packed> = BTreeMap::new();
    let mut next = 0u64;
    let mut spool_at = 0u64;
    let in_place = spool.has_source_file();
    for frame in packed {
        let frame = frame?;
        waiting.insert(frame.index, frame);
        while let Some(frame) = waiting.remove(&next) {
            let raw_len = u32::try_from(frame.raw.len()).unwrap_or(u32::MAX);
            let (codec, wire_len, at) = match &frame.compressed {
                Some((codec, wire)) => {
                    spool
                        .file()
                        .write_all_at(wire, spool_at)
                        .map_err(SourceError::Spool)?;
                    let wire_len = u32::try_from(wire.len()).unwrap_or(u32::MAX);
                    (*codec, wire_len, Location::Spool(spool_at))
                }
                None if in_place => (Codec::None, raw_len, Location::Source),
                None => {
                    spool
                        .file()
                        .write_all_at(&frame.raw, spool_at)
                        .map_err(SourceError::Spool)?;
                    (Codec::None, raw_len, Location::Spool(spool_at))
                }
            };
            if let Location::Spool(_) = at {
                spool_at += u64::from(wire_len);
            }
            spool.push(FrameMeta {
                offset: frame.offset,
                raw_len,
                codec,
                wire_len,
                digest: frame.digest,
                at,
            });
            let _ = free.send(frame.raw);
            next += 1;
            written.store(next, std::sync::atomic::Ordering::SeqCst);
        }
    }
    Ok(())
}

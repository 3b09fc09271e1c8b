//! With `--store`: wait for the producer's announcement, stream from it,
//! and continue from the store's copy when it cannot be reached, from the
//! last verified frame on, each frame verified exactly as on the socket.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use sha2::Digest as _;
use slipway_store::{ANNOUNCEMENT, INDEX, OBJECT, Scope, Store};
use slipway_wire::{Announcement, Codec, Digest, Index, Session, decompress, frame_digest};

use super::{Failure, Pipe, Settings, State, Target, backoff, conclude, stream};
use crate::{Error, ToWriter};

/// Failed connections to the announced producer before the copy is read:
/// fewer than `--retries`, since a copy is there to continue from.
const STORE_RETRIES: u32 = 3;
/// Attempts at one ranged read of the copy.
const READ_ATTEMPTS: u32 = 4;

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

pub(crate) fn fetch(
    store: &Store,
    scope: &Scope,
    wait: Duration,
    settings: &Settings,
    state: &mut State,
    pipe: &Pipe,
    expect: Option<Digest>,
) -> Result<(Digest, u32), Error> {
    let url = store.url(ANNOUNCEMENT);
    let bytes = poll(
        store,
        ANNOUNCEMENT,
        slipway_wire::MAX_ANNOUNCEMENT_LEN,
        wait,
    )?
    .ok_or_else(|| Error::NoAnnouncement {
        url: url.clone(),
        seconds: wait.as_secs(),
    })?;
    let announcement =
        Announcement::parse(&bytes).map_err(|err| Error::Verify(format!("{url}: {err}")))?;
    if announcement.run != scope.run || announcement.name != scope.name {
        return Err(Error::Verify(format!(
            "{url} announces {} of run {}, not {} of run {}",
            announcement.name, announcement.run, scope.name, scope.run
        )));
    }
    if now() < announcement.expires_at {
        tracing::info!(producer = %announcement.producer, addresses = ?announcement.addresses, "found the announcement");
        let target = Target::Announced(&announcement.addresses, announcement.nonce);
        let retries = settings.retries.min(STORE_RETRIES);
        match stream(&target, settings, state, pipe, expect, retries) {
            Ok(done) => return Ok(done),
            Err(Failure::Final(err)) => return Err(err),
            Err(Failure::Retry(why) | Failure::Exhausted { last: why, .. }) => {
                tracing::warn!(
                    frame = state.frames,
                    "the producer cannot be reached ({why}); continuing from the store's copy"
                );
            }
        }
    } else {
        tracing::info!(
            producer = %announcement.producer,
            "the announcement expired at {} (unix time): reading the store's copy",
            announcement.expires_at
        );
    }
    if !announcement.mirror {
        return Err(Error::NoCopy(url));
    }
    let session = settings.keys.store_session(&announcement.nonce);
    let index_url = store.url(INDEX);
    let Some(bytes) = poll(store, INDEX, slipway_wire::MAX_INDEX_LEN, wait)? else {
        return Err(Error::IncompleteCopy {
            url: store.url(OBJECT),
            seconds: wait.as_secs(),
            frames: state.frames,
            bytes: state.bytes,
        });
    };
    let index = Index::parse(&bytes, &session)
        .map_err(|err| Error::Verify(format!("{index_url}: {err}")))?;
    from_copy(store, &index, &session, state, pipe, expect)
}

/// The object at `leaf`, polled with backoff and jitter until it appears
/// or `wait` is over.
fn poll(store: &Store, leaf: &str, max: u64, wait: Duration) -> Result<Option<Vec<u8>>, Error> {
    let deadline = Instant::now() + wait;
    let mut attempt = 0;
    loop {
        if let Some(bytes) = store.read(leaf, max)? {
            return Ok(Some(bytes));
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Ok(None);
        }
        if attempt == 0 {
            tracing::info!(url = %store.url(leaf), "waiting for it to appear");
        }
        attempt += 1;
        std::thread::sleep(backoff(attempt).min(left));
    }
}

/// Frames from `state.frames` on, read by range from the copy.
fn from_copy(
    store: &Store,
    index: &Index,
    session: &Session,
    state: &mut State,
    pipe: &Pipe,
    expect: Option<Digest>,
) -> Result<(Digest, u32), Error> {
    let url = store.url(OBJECT);
    if let Some((frame_size, size, mode)) = state.artifact
        && (frame_size != index.frame_size
            || mode != index.mode
            || size.is_some_and(|s| s != index.total_len))
    {
        return Err(Error::Verify(format!(
            "the copy at {url} is not the artifact the producer served"
        )));
    }
    state.progress.set_total(Some(index.total_len));
    let start = usize::try_from(state.frames).unwrap_or(usize::MAX);
    if start > 0 {
        tracing::info!(
            frame = state.frames,
            bytes = state.bytes,
            "resuming from the store's copy"
        );
    }
    for (i, entry) in index.frames.iter().enumerate().skip(start) {
        let at = i as u64;
        let corrupt = |what: &str| Error::Verify(format!("frame {at} of {url}: {what}"));
        if entry.offset != state.bytes
            || !session.verify_frame(at, entry.offset, entry.raw_len, &entry.digest, &entry.mac)
        {
            return Err(corrupt("its tag does not verify"));
        }
        let stored = read_range(store, entry.stored_at, entry.stored_len)?;
        let mut chunk = pipe.buffer(index.frame_size)?;
        decompress(Codec::Zstd, &stored, entry.raw_len as usize, &mut chunk)
            .map_err(|err| corrupt(&err.to_string()))?;
        if frame_digest(&chunk) != entry.digest {
            return Err(corrupt("its content does not match its digest"));
        }
        if let Some(hasher) = &mut state.hasher {
            hasher.update(&chunk);
        }
        pipe.writer
            .send(ToWriter::Data(chunk))
            .map_err(|_| Error::WriterStopped)?;
        state.frames += 1;
        state.bytes += u64::from(entry.raw_len);
        state.store_bytes += u64::from(entry.stored_len);
        state.progress.update(state.bytes);
    }
    let sha256 = conclude(
        index.total_len,
        index.frames.len() as u64,
        &index.sha256,
        state,
        &pipe.writer,
        expect,
    )?;
    Ok((sha256, index.mode))
}

/// One frame's bytes, retried with backoff.
fn read_range(store: &Store, offset: u64, len: u32) -> Result<Vec<u8>, Error> {
    let mut attempt = 0;
    loop {
        match store.read_range(OBJECT, offset, len) {
            Ok(bytes) => return Ok(bytes),
            Err(err) if attempt + 1 < READ_ATTEMPTS => {
                attempt += 1;
                tracing::warn!(
                    "reading the copy failed (attempt {attempt} of {READ_ATTEMPTS}): {}",
                    slipway_cli::chain(&err)
                );
                std::thread::sleep(backoff(attempt));
            }
            Err(err) => return Err(err.into()),
        }
    }
}

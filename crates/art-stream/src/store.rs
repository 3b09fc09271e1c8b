//! With `--store`: the announcement consumers find this producer by, and
//! the fallback copy written to the store as frames are made.

use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use slipway_store::{ANNOUNCEMENT, INDEX, OBJECT, Store, StoreError};
use slipway_wire::{Announcement, Codec, Index, IndexEntry, Session, zstd_raw_frame};

use crate::spool::{Next, Spool};

#[must_use]
pub(crate) fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Who this producer is, for the other side's messages: the runner's name
/// under Actions, else the host name, and the process id.
pub(crate) fn producer_name() -> String {
    let host = std::env::var("RUNNER_NAME")
        .ok()
        .filter(|v| !v.is_empty())
        .or_else(|| {
            std::fs::read_to_string("/proc/sys/kernel/hostname")
                .ok()
                .map(|h| h.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown host".to_owned());
    format!("{host} pid {}", std::process::id())
}

/// The addresses to announce: `--advertise` as given (a port of its own
/// kept, for a forwarded port); else the bound address when it is a
/// specific one; else the EC2 private address (from instance metadata, on
/// EC2 only) and every non-loopback interface address.
pub(crate) fn addresses(advertise: &[String], bind: IpAddr, port: u16) -> Vec<(IpAddr, u16)> {
    if !advertise.is_empty() {
        return advertise
            .iter()
            .filter_map(|a| {
                a.parse::<SocketAddr>()
                    .map(|s| (s.ip(), s.port()))
                    .or_else(|_| a.parse::<IpAddr>().map(|ip| (ip, port)))
                    .ok()
            })
            .collect();
    }
    if !bind.is_unspecified() {
        return vec![(bind, port)];
    }
    let mut found: Vec<IpAddr> = crate::imds::private_ipv4()
        .into_iter()
        .map(IpAddr::V4)
        .collect();
    if let Ok(interfaces) = if_addrs::get_if_addrs() {
        let mut others: Vec<IpAddr> = interfaces
            .iter()
            .map(if_addrs::Interface::ip)
            .filter(|ip| !ip.is_loopback() && !is_link_local_v6(ip))
            .filter(|ip| bind.is_ipv6() || ip.is_ipv4())
            .collect();
        // IPv4 first: runners are reached over it far more often.
        others.sort_by_key(IpAddr::is_ipv6);
        for ip in others {
            if !found.contains(&ip) {
                found.push(ip);
            }
        }
    }
    found.truncate(slipway_wire::MAX_ADDRESSES);
    found.into_iter().map(|ip| (ip, port)).collect()
}

fn is_link_local_v6(ip: &IpAddr) -> bool {
    matches!(ip, IpAddr::V6(v6) if (v6.segments()[0] & 0xffc0) == 0xfe80)
}

/// Writes the announcement, create-only. Another producer's announcement
/// for the same run and name is an error naming both.
pub(crate) fn announce(store: &Store, ours: &Announcement) -> Result<(), crate::Error> {
    match store.create(ANNOUNCEMENT, ours.to_json().as_bytes()) {
        Ok(()) => Ok(()),
        Err(StoreError::Exists(url)) => {
            let theirs = store
                .read(ANNOUNCEMENT, slipway_wire::MAX_ANNOUNCEMENT_LEN)
                .ok()
                .flatten()
                .and_then(|b| Announcement::parse(&b).ok())
                .map_or_else(
                    || "a producer whose announcement cannot be read".to_owned(),
                    |a| describe(&a),
                );
            Err(crate::Error::Announced {
                url,
                theirs,
                ours: describe(ours),
            })
        }
        Err(err) => Err(crate::Error::Store(err)),
    }
}

fn describe(a: &Announcement) -> String {
    let at: Vec<String> = a
        .addresses
        .iter()
        .map(|(ip, port)| SocketAddr::new(*ip, *port).to_string())
        .collect();
    format!(
        "{} at {} (announced at {}, unix time)",
        a.producer,
        at.join(", "),
        a.created_at
    )
}

/// What the copy came to.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Mirrored {
    pub(crate) stored_bytes: u64,
}

/// Writes every frame of the spool to the store as it is made: one
/// object of concatenated zstd frames (raw frames wrapped as stored zstd
/// blocks), then its index. Memory: one frame and the upload's one part.
/// Nothing appears in the store unless the whole copy is written.
pub(crate) fn mirror(
    store: &Store,
    spool: &Spool,
    session: &Session,
    frame_size: u32,
    wait: Duration,
) -> Result<Mirrored, crate::Error> {
    let mut upload = store.upload(OBJECT)?;
    let (mut wire, mut wrapped) = (Vec::new(), Vec::new());
    let mut entries: Vec<IndexEntry> = Vec::new();
    let mut index = 0u64;
    loop {
        match spool.next(index, wait, false) {
            Next::Frame(meta) => {
                spool
                    .read_wire(&meta, &mut wire)
                    .map_err(crate::Error::MirrorRead)?;
                let stored: &[u8] = match meta.codec {
                    Codec::Zstd => &wire,
                    Codec::None => {
                        zstd_raw_frame(&wire, &mut wrapped);
                        &wrapped
                    }
                    // Refused on the command line: the copy must be zstd.
                    Codec::Gzip => return Err(crate::Error::MirrorCodec),
                };
                entries.push(IndexEntry {
                    stored_at: upload.written(),
                    stored_len: u32::try_from(stored.len()).unwrap_or(u32::MAX),
                    offset: meta.offset,
                    raw_len: meta.raw_len,
                    digest: meta.digest,
                    mac: session.frame_mac(index, meta.offset, meta.raw_len, &meta.digest),
                });
                upload.write(stored)?;
                index += 1;
            }
            Next::End(end, _) => {
                if entries.is_empty() {
                    // An empty artifact is still a valid zstd stream.
                    zstd_raw_frame(&[], &mut wrapped);
                    upload.write(&wrapped)?;
                }
                let stored_bytes = upload.written();
                upload.finish()?;
                let source = spool.wait_source(Duration::ZERO).ok().flatten();
                let index = Index {
                    frame_size,
                    mode: source.map_or(0o644, |s| s.mode),
                    frames: entries,
                    total_len: end.total_len,
                    sha256: end.sha256,
                };
                store.create(INDEX, &index.to_bytes(session))?;
                tracing::info!(
                    url = %store.url(OBJECT),
                    bytes = stored_bytes,
                    "the fallback copy is complete"
                );
                return Ok(Mirrored { stored_bytes });
            }
            // The source failed: its own error is reported; the unfinished
            // upload is dropped, which discards it.
            Next::Failed(why) => return Err(crate::Error::MirrorSource(why)),
            // The copy takes the compressed frames only (asked without
            // `raw`, nothing comes ahead).
            Next::Pending | Next::Ahead(_) => {}
        }
    }
}

//! Directories: `art-stream --path` and `art-consume --extract`, a tree
//! round-tripped exactly, and crafted tar streams (made by Python's own
//! `tarfile`) refused with nothing written.

use std::collections::BTreeMap;
use std::os::unix::fs::{MetadataExt as _, PermissionsExt as _};
use std::path::{Path, PathBuf};
use std::time::{Duration, UNIX_EPOCH};

use super::harness::{Producer, Scratch, consumer_of, json};
use crate::support::{Run, bin};

/// What is compared of each entry: kind, permission bits, content (or
/// link target) and mtime in seconds.
#[derive(Debug, PartialEq, Eq)]
struct Entry {
    kind: &'static str,
    mode: u32,
    content: Vec<u8>,
    mtime: i64,
}

fn snapshot(root: &Path) -> BTreeMap<PathBuf, Entry> {
    let mut out = BTreeMap::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let meta = std::fs::symlink_metadata(&path).unwrap();
            let (kind, content) = if meta.is_symlink() {
                let target = std::fs::read_link(&path).unwrap();
                ("symlink", target.into_os_string().into_encoded_bytes())
            } else if meta.is_dir() {
                stack.push(path.clone());
                ("dir", Vec::new())
            } else {
                ("file", std::fs::read(&path).unwrap())
            };
            let mode = if meta.is_symlink() {
                0
            } else {
                meta.permissions().mode() & 0o7777
            };
            let rel = path.strip_prefix(root).unwrap().to_path_buf();
            out.insert(
                rel,
                Entry {
                    kind,
                    mode,
                    content,
                    mtime: meta.mtime(),
                },
            );
        }
    }
    out
}

fn set_mtime(path: &Path, secs: u64) {
    std::fs::File::open(path)
        .unwrap()
        .set_modified(UNIX_EPOCH + Duration::from_secs(secs))
        .unwrap();
}

#[test]
fn a_tree_round_trips_exactly_with_modes_links_mtimes_and_hidden_files() {
    let scratch = Scratch::new();
    let tree = scratch.path("tree");
    let w = |rel: &str, text: &str| {
        let path = tree.join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, text).unwrap();
        path
    };
    let tool = w("bin/tool", "#!/bin/sh\necho built\n");
    std::fs::set_permissions(&tool, std::fs::Permissions::from_mode(0o755)).unwrap();
    w(".env", "HIDDEN=1\n");
    w(".hidden/deep/.file", "deep\n");
    w("skip.tmp", "left out\n");
    w("cache/blob", "left out too\n");
    for d in 0..100 {
        for f in 0..100 {
            w(
                &format!("many/{d:03}/file-{f:03}.txt"),
                &format!("{d} {f}\n"),
            );
        }
    }
    std::os::unix::fs::symlink("bin/tool", tree.join("link")).unwrap();
    std::os::unix::fs::symlink("../outside/anywhere", tree.join("up")).unwrap();
    let empty = tree.join("empty");
    std::fs::create_dir(&empty).unwrap();
    std::fs::set_permissions(&empty, std::fs::Permissions::from_mode(0o750)).unwrap();
    set_mtime(&tool, 1_600_000_000);
    set_mtime(&tree.join("many/042/file-007.txt"), 1_500_000_000);
    for dir in [
        "empty",
        "bin",
        "many/042",
        "many",
        ".hidden/deep",
        ".hidden",
    ] {
        set_mtime(&tree.join(dir), 1_400_000_000);
    }

    let producer = Producer::start(
        Path::new(""),
        &[
            "--path",
            tree.to_str().unwrap(),
            "--exclude",
            "*.tmp",
            "--exclude",
            "cache",
        ],
    );
    let out = scratch.path("unpacked");
    let got = json(
        &consumer_of(producer.port)
            .args(["--extract"])
            .args([&out])
            .success(),
    );
    let (code, sent, log) = producer.finish();
    assert_eq!(code, Some(0), "{log}");
    assert_eq!(json(&sent)["sha256"], got["sha256"]);

    let mut expected = snapshot(&tree);
    for left_out in ["skip.tmp", "cache", "cache/blob"] {
        assert!(expected.remove(Path::new(left_out)).is_some(), "{left_out}");
    }
    let actual = snapshot(&out);
    assert_eq!(actual.len(), 10_000 + 100 + 10, "entries: {}", actual.len());
    assert_eq!(got["entries"], actual.len());
    for (rel, want) in &expected {
        assert_eq!(actual.get(rel), Some(want), "{}", rel.display());
    }
    assert_eq!(actual.len(), expected.len());
    assert_eq!(
        scratch.leftovers(&["tree", "unpacked"]),
        Vec::<String>::new()
    );
}

/// Tar streams no honest producer makes, written by Python's `tarfile`.
const CRAFTED: &str = r#"
import io, sys, tarfile
def tar(path, entries):
    with tarfile.open(path, "w", format=tarfile.GNU_FORMAT) as t:
        for name, kind, data in entries:
            info = tarfile.TarInfo(name)
            info.type = kind
            if kind == tarfile.SYMTYPE:
                info.linkname = data
                t.addfile(info)
            elif kind == tarfile.REGTYPE:
                info.size = len(data)
                t.addfile(info, io.BytesIO(data))
            else:
                t.addfile(info)
out = sys.argv[1]
ok = ("fine.txt", tarfile.REGTYPE, b"fine\n")
tar(out + "/dotdot.tar", [ok, ("../escaped.txt", tarfile.REGTYPE, b"bad\n")])
tar(out + "/absolute.tar", [ok, (out + "/absolute-escaped.txt", tarfile.REGTYPE, b"bad\n")])
tar(out + "/through-link.tar", [ok, ("link", tarfile.SYMTYPE, out), ("link/through.txt", tarfile.REGTYPE, b"bad\n")])
tar(out + "/device.tar", [ok, ("null", tarfile.CHRTYPE, None)])
tar(out + "/hardlink.tar", [ok, ("hard", tarfile.LNKTYPE, None)])
"#;

#[test]
fn crafted_tar_streams_are_refused_with_nothing_written() {
    let scratch = Scratch::new();
    let inputs = scratch.path("inputs");
    std::fs::create_dir(&inputs).unwrap();
    let made = std::process::Command::new("python3")
        .args(["-c", CRAFTED])
        .arg(&inputs)
        .output()
        .unwrap();
    assert!(made.status.success(), "{made:?}");
    for (name, says) in [
        ("dotdot.tar", "../escaped.txt: a path with '..'"),
        ("absolute.tar", "absolute-escaped.txt: an absolute path"),
        (
            "through-link.tar",
            "link/through.txt: under the symlink link",
        ),
        ("device.tar", "null: a Char entry"),
        ("hardlink.tar", "hard: a hard link"),
    ] {
        let producer = Producer::start(&inputs.join(name), &[]);
        let dest = scratch.path("dest");
        let text = consumer_of(producer.port)
            .args(["--extract"])
            .args([&dest])
            .output()
            .failure(5)
            .to_owned();
        assert!(text.contains("refused to extract"), "{name}: {text}");
        assert!(text.contains(says), "{name}: {text}");
        assert!(!dest.exists(), "{name}");
        assert_eq!(
            scratch.leftovers(&["inputs"]),
            Vec::<String>::new(),
            "{name}"
        );
        drop(producer);
    }
    assert!(!scratch.path("escaped.txt").exists());
    assert!(!inputs.join("absolute-escaped.txt").exists());
    assert!(!inputs.join("through.txt").exists());
    // A destination that is not empty is refused before any transfer.
    let full = scratch.path("full");
    std::fs::create_dir(&full).unwrap();
    std::fs::write(full.join("x"), "x").unwrap();
    let text = Run::new(&bin("art-consume"), Path::new("/"))
        .args([
            "--host",
            "127.0.0.1",
            "--port",
            "1",
            "--insecure",
            "--extract",
        ])
        .args([&full])
        .output()
        .failure(6)
        .to_owned();
    assert!(
        text.contains("--extract wants a new or empty directory"),
        "{text}"
    );
}

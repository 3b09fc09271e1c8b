//! `actions/art-stream/start.sh`, the composite action's logic, run as the
//! runner runs it: in the background once announced, stopped by its own
//! `consumers` or by the `stop` mode; and `actions/art-consume`'s call.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::harness::{SECRET, Scratch, content};
use crate::support::{Run, bin};

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../actions/art-stream/start.sh")
}

/// start.sh with the environment the action gives it.
fn start(scratch: &Scratch, store: &str, name: &str, file: &Path, extra: &[(&str, &str)]) -> Run {
    let temp = scratch.path("runner-temp");
    std::fs::create_dir_all(&temp).unwrap();
    let mut run = Run::new(Path::new("bash"), Path::new("/"))
        .args([script()])
        .env("SLIPWAY_BIN", bin("art-stream").parent().unwrap())
        .env("RUNNER_TEMP", &temp)
        .env("GITHUB_OUTPUT", scratch.path("outputs"))
        .env("ART_STORE", store)
        .env("ART_NAME", name)
        .env("ART_FILE", file)
        .env("ART_PORT", "0")
        .env("ART_CONSUMERS", "1")
        .env("ART_TIMEOUT", "30")
        .env("ART_ADVERTISE", "127.0.0.1")
        .env("GITHUB_RUN_ID", "900")
        .env("GITHUB_RUN_ATTEMPT", "1")
        .env_remove("GITHUB_REPOSITORY")
        .env("ART_STREAM_SECRET", SECRET);
    for (k, v) in extra {
        run = run.env(k, v);
    }
    run
}

/// A `key=value` step output the script wrote.
fn output(scratch: &Scratch, key: &str) -> String {
    let text = std::fs::read_to_string(scratch.path("outputs")).unwrap();
    text.lines()
        .rev()
        .find_map(|l| l.strip_prefix(&format!("{key}=")))
        .unwrap_or_else(|| panic!("no {key} in {text}"))
        .to_owned()
}

fn alive(pid: &str) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
        && !std::fs::read_to_string(format!("/proc/{pid}/status"))
            .unwrap_or_default()
            .contains("State:\tZ")
}

fn wait_gone(pid: &str) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while alive(pid) {
        assert!(Instant::now() < deadline, "art-stream {pid} did not exit");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn the_art_stream_action_returns_once_announced_and_leaves_the_producer_serving() {
    let scratch = Scratch::new();
    let store = format!("file://{}", scratch.path("store").display());
    let bytes = content(2 * 1024 * 1024);
    let file = scratch.file("app.tar", &bytes);
    let stdout = start(&scratch, &store, "app", &file, &[]).success();
    assert!(stdout.contains("INFO announced"), "{stdout}");
    let pid = output(&scratch, "pid");
    assert!(alive(&pid), "the producer serves after the step");

    // A second producer for the name: the step fails with the tool's code.
    let out = start(&scratch, &store, "app", &file, &[]).output();
    assert_eq!(out.code, Some(6), "{}", out.stderr);
    assert!(
        out.stdout
            .contains("::error title=art-stream::art-stream exited with 6"),
        "{}",
        out.stdout
    );

    // What actions/art-consume runs: the store and the name, nothing else.
    let got = scratch.path("got.tar");
    Run::new(&bin("art-consume"), Path::new("/"))
        .args(["--store", &store, "--name", "app", "--wait", "20", "--out"])
        .args([&got])
        .env("GITHUB_RUN_ID", "900")
        .env("GITHUB_RUN_ATTEMPT", "1")
        .env_remove("GITHUB_REPOSITORY")
        .env("ART_STREAM_SECRET", SECRET)
        .success();
    assert_eq!(std::fs::read(&got).unwrap(), bytes);
    // One consumer was asked for: the producer ends by itself.
    wait_gone(&pid);
}

#[test]
fn the_stop_mode_ends_a_producer_still_waiting() {
    let scratch = Scratch::new();
    let store = format!("file://{}", scratch.path("store").display());
    let file = scratch.file("app.tar", &content(100_000));
    start(&scratch, &store, "lib", &file, &[("ART_CONSUMERS", "5")]).success();
    let pid = output(&scratch, "pid");
    assert!(alive(&pid));
    let stdout = start(&scratch, &store, "lib", &file, &[("ART_STOP", "true")]).success();
    assert!(
        stdout.contains(&format!("stopped art-stream (lib, pid {pid})")),
        "{stdout}"
    );
    wait_gone(&pid);
    // Stopping a name never started is an error naming it.
    let out = start(&scratch, &store, "other", &file, &[("ART_STOP", "true")]).output();
    assert_eq!(out.code, Some(2));
    assert!(
        out.stdout.contains("no producer named other"),
        "{}",
        out.stdout
    );
}

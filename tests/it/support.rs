//! A real git repository in a temporary directory, and a builder that runs
//! the tools' binaries against it.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// Path of a workspace binary. `cargo test` builds every binary of the
/// workspace before it runs tests, next to the `deps` folder this test
/// binary lives in; `SLIPWAY_BIN_DIR` overrides that for other layouts.
pub(crate) fn bin(name: &str) -> PathBuf {
    let dir = std::env::var_os("SLIPWAY_BIN_DIR").map_or_else(
        || {
            let exe = std::env::current_exe().expect("test binary path");
            exe.parent()
                .and_then(Path::parent)
                .expect("target profile dir")
                .to_path_buf()
        },
        PathBuf::from,
    );
    let path = dir.join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    assert!(
        path.is_file(),
        "{} is not built: run `cargo build --workspace --bins` first (cargo xtask test does)",
        path.display()
    );
    path
}

/// A name no other test (or earlier run against the same long-lived peer)
/// uses: `name-` and 12 random hex digits.
pub(crate) fn unique(name: &str) -> String {
    format!(
        "{name}-{}",
        slipway_cli::hex(&slipway_cli::random_bytes::<6>())
    )
}

pub(crate) struct Repo {
    dir: tempfile::TempDir,
}

impl Repo {
    /// A new repository with an empty history, on branch `main`.
    pub(crate) fn new() -> Repo {
        let repo = Repo {
            dir: tempfile::tempdir().expect("temporary directory"),
        };
        repo.git(&["init", "-q", "-b", "main"]);
        repo
    }

    /// A repository holding `files`, committed once.
    pub(crate) fn with_files(files: &[(&str, &str)]) -> Repo {
        let repo = Repo::new();
        repo.write_all(files);
        repo.commit("base");
        repo
    }

    /// As [`Repo::with_files`], for files whose paths and texts were built.
    pub(crate) fn with_owned_files(files: &[(String, String)]) -> Repo {
        let refs: Vec<(&str, &str)> = files
            .iter()
            .map(|(p, t)| (p.as_str(), t.as_str()))
            .collect();
        Repo::with_files(&refs)
    }

    pub(crate) fn path(&self) -> &Path {
        self.dir.path()
    }

    pub(crate) fn write(&self, path: &str, content: &str) -> &Self {
        let full = self.path().join(path);
        std::fs::create_dir_all(full.parent().expect("a parent")).expect("create directories");
        std::fs::write(full, content).expect("write file");
        self
    }

    pub(crate) fn write_all(&self, files: &[(&str, &str)]) -> &Self {
        for (path, content) in files {
            self.write(path, content);
        }
        self
    }

    pub(crate) fn remove(&self, path: &str) -> &Self {
        let full = self.path().join(path);
        if full.is_dir() {
            std::fs::remove_dir_all(full).expect("remove directory");
        } else {
            std::fs::remove_file(full).expect("remove file");
        }
        self
    }

    /// Commits everything in the work tree, returns the new commit's id.
    pub(crate) fn commit(&self, message: &str) -> String {
        self.git(&["add", "-A"]);
        self.git(&["commit", "-q", "--allow-empty", "-m", message]);
        self.git(&["rev-parse", "HEAD"])
    }

    pub(crate) fn git(&self, args: &[&str]) -> String {
        let out = git_command(self.path())
            .args(args)
            .output()
            .expect("run git");
        assert!(
            out.status.success(),
            "git {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    }

    pub(crate) fn ci_matrix(&self) -> Run {
        Run::new(&bin("ci-matrix"), self.path())
    }
}

/// git with the user's and the system's configuration shut out, so tests
/// see the same git everywhere.
pub(crate) fn git_command(dir: &Path) -> Command {
    let mut cmd = Command::new("git");
    cmd.arg("-C")
        .arg(dir)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_AUTHOR_NAME", "Test")
        .env("GIT_AUTHOR_EMAIL", "test@example.invalid")
        .env("GIT_COMMITTER_NAME", "Test")
        .env("GIT_COMMITTER_EMAIL", "test@example.invalid")
        .env("GIT_AUTHOR_DATE", "2026-01-01T00:00:00Z")
        .env("GIT_COMMITTER_DATE", "2026-01-01T00:00:00Z");
    cmd
}

/// One run of a tool: arguments, environment, stdin; then its output.
pub(crate) struct Run {
    cmd: Command,
    stdin: Option<String>,
}

impl Run {
    pub(crate) fn new(program: &Path, cwd: &Path) -> Run {
        let mut cmd = Command::new(program);
        cmd.current_dir(cwd)
            .env_remove("GITHUB_ACTIONS")
            .env_remove("GITHUB_OUTPUT")
            .env_remove("GITHUB_STEP_SUMMARY")
            .env_remove("GITHUB_EVENT_PATH")
            .env_remove("GITHUB_EVENT_NAME")
            .env_remove("SLIPWAY_LOG")
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("NO_COLOR", "1");
        Run { cmd, stdin: None }
    }

    pub(crate) fn args<I, S>(mut self, args: I) -> Run
    where
        I: IntoIterator<Item = S>,
        S: AsRef<std::ffi::OsStr>,
    {
        self.cmd.args(args);
        self
    }

    /// `--flag PATH`.
    pub(crate) fn arg_path(mut self, flag: &str, path: &Path) -> Run {
        self.cmd.arg(flag).arg(path);
        self
    }

    pub(crate) fn env(mut self, key: &str, value: impl AsRef<std::ffi::OsStr>) -> Run {
        self.cmd.env(key, value);
        self
    }

    pub(crate) fn env_remove(mut self, key: &str) -> Run {
        self.cmd.env_remove(key);
        self
    }

    pub(crate) fn env_remove_secret(mut self) -> Run {
        self.cmd.env_remove("ART_STREAM_SECRET");
        self
    }

    pub(crate) fn stdin(mut self, text: &str) -> Run {
        self.stdin = Some(text.to_owned());
        self
    }

    pub(crate) fn output(mut self) -> Output {
        use std::io::Write as _;
        self.cmd
            .stdin(if self.stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = self.cmd.spawn().expect("spawn tool");
        if let Some(text) = self.stdin.take() {
            child
                .stdin
                .take()
                .expect("stdin")
                .write_all(text.as_bytes())
                .expect("write stdin");
        }
        let out = child.wait_with_output().expect("wait for tool");
        Output {
            code: out.status.code(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// Runs (no stdin) and returns the output with the peak resident set
    /// (`VmHWM`, sampled every 20 ms while it runs).
    pub(crate) fn output_sampled(mut self) -> (Output, u64) {
        self.cmd
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let child = self.cmd.spawn().expect("spawn tool");
        let pid = child.id();
        let waiter = std::thread::spawn(move || child.wait_with_output().expect("wait for tool"));
        let peak = peak_rss_while(pid);
        let out = waiter.join().expect("the waiting thread");
        let output = Output {
            code: out.status.code(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        };
        (output, peak)
    }

    /// Runs and insists on exit code 0; returns stdout.
    pub(crate) fn success(self) -> String {
        let out = self.output();
        assert_eq!(
            out.code,
            Some(0),
            "expected success; stderr:\n{}",
            out.stderr
        );
        out.stdout
    }
}

#[derive(Debug)]
pub(crate) struct Output {
    pub(crate) code: Option<i32>,
    pub(crate) stdout: String,
    pub(crate) stderr: String,
}

impl Output {
    /// Insists on `code`, that stdout is empty and that nothing panicked.
    pub(crate) fn failure(&self, code: i32) -> &str {
        assert_eq!(
            self.code,
            Some(code),
            "stdout:\n{}\nstderr:\n{}",
            self.stdout,
            self.stderr
        );
        assert!(!self.stderr.contains("panicked"), "panic: {}", self.stderr);
        assert!(
            self.stdout.is_empty(),
            "no data on failure, got: {}",
            self.stdout
        );
        &self.stderr
    }
}

/// Reads `name<<DELIM … DELIM` records back, as the runner does.
pub(crate) fn parse_outputs(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        let (name, delimiter) = line.split_once("<<").expect("delimiter syntax");
        let mut value = Vec::new();
        for l in lines.by_ref() {
            if l == delimiter {
                break;
            }
            value.push(l);
        }
        out.push((name.to_owned(), value.join("\n")));
    }
    out
}

/// The `--format json` report, read through its contract type, at the
/// version this test knows.
pub(crate) fn report(text: &str) -> slipway_contract::report::Report {
    let report: slipway_contract::report::Report =
        serde_json::from_str(text).unwrap_or_else(|e| panic!("not a report ({e}): {text}"));
    assert_eq!(report.version, slipway_contract::report::REPORT_VERSION);
    report
}

/// The JSON report as `package (ecosystem) path: because` lines, the part
/// of a report that stays the same across runs (no commit ids).
pub(crate) fn because_lines(report_json: &str) -> String {
    let typed = report(report_json);
    let report: serde_json::Value = serde_json::from_str(report_json).expect("report is JSON");
    assert_eq!(
        serde_json::to_value(&typed).unwrap(),
        report,
        "the report reads back as it was printed"
    );
    let mut out = String::new();
    for p in report["affected"].as_array().expect("affected array") {
        let _ = writeln!(
            out,
            "{} ({}) {}: {}",
            p["package"].as_str().unwrap(),
            p["ecosystem"].as_str().unwrap(),
            p["path"].as_str().unwrap(),
            p["because"].as_str().unwrap()
        );
    }
    for key in [
        "global_triggers",
        "removed",
        "ignored",
        "unowned",
        "root_changes",
        "cycles",
    ] {
        let value = &report[key];
        if value.as_array().is_some_and(|a| !a.is_empty()) {
            let _ = writeln!(out, "{key}: {value}");
        }
    }
    out
}

/// The peak resident set (`VmHWM`) of process `pid`, sampled until it
/// exits: the last reading before it goes.
pub(crate) fn peak_rss_while(pid: u32) -> u64 {
    let mut peak = 0;
    while let Ok(status) = std::fs::read_to_string(format!("/proc/{pid}/status")) {
        let Some(kb) = status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        else {
            // A zombie has no memory lines left: it has exited.
            break;
        };
        peak = peak.max(kb * 1024);
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    peak
}

/// Every file of `fixtures/<name>` (`lockfiles/pnpm12`, `nx`), by its
/// path inside it, sorted.
pub(crate) fn fixture_tree(name: &str) -> Vec<(String, String)> {
    let base = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("it/fixtures")
        .join(name);
    let mut out = Vec::new();
    let mut stack = vec![base.clone()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let rel = path.strip_prefix(&base).unwrap().to_str().unwrap();
                out.push((rel.to_owned(), std::fs::read_to_string(&path).unwrap()));
            }
        }
    }
    out.sort();
    out
}

//! The few git commands `ci-matrix` needs, run as the `git` program so the
//! tool sees exactly what the user's git sees (config, worktrees, shallow
//! clones) and stays small.

use std::path::{Path, PathBuf};

use std::process::Command;

use slipway_graph::ChangedPath;

/// A git command that failed, with what git said.
#[derive(Debug, thiserror::Error)]
#[error("`git {args}` failed: {message}")]
pub struct GitError {
    args: String,
    message: String,
}

fn git(dir: &Path, args: &[&str]) -> Result<Vec<u8>, GitError> {
    let fail = |message: String| GitError {
        args: args.join(" "),
        message,
    };
    let output = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .env("LC_ALL", "C")
        .env("GIT_OPTIONAL_LOCKS", "0")
        .output()
        .map_err(|err| fail(format!("could not run git: {err}")))?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        return Err(fail(stderr.trim().to_owned()));
    }
    Ok(output.stdout)
}

fn git_line(dir: &Path, args: &[&str]) -> Result<String, GitError> {
    Ok(String::from_utf8_lossy(&git(dir, args)?).trim().to_owned())
}

/// The top level of the work tree holding `dir`: the nearest directory
/// with a `.git` entry (a directory, or a file in worktrees and
/// submodules). Found without starting git, which matters when the whole
/// run takes milliseconds.
pub fn toplevel(dir: &Path) -> Option<PathBuf> {
    dir.ancestors()
        .find(|d| d.join(".git").exists())
        .map(Path::to_path_buf)
}

/// The full object names of two commits, in one git call.
pub fn resolve_pair(root: &Path, a: &str, b: &str) -> Result<(String, String), GitError> {
    let fail = |message: String| GitError {
        args: format!("rev-parse {a} {b}"),
        message,
    };
    // rev-parse with two revisions cannot take --verify or
    // --end-of-options, so refuse anything git could read as an option.
    if let Some(rev) = [a, b].into_iter().find(|r| r.starts_with('-')) {
        return Err(fail(format!("revision {rev:?} must not start with '-'")));
    }
    let out = git_line(
        root,
        &[
            "rev-parse",
            &format!("{a}^{{commit}}"),
            &format!("{b}^{{commit}}"),
        ],
    )?;
    let names: Vec<&str> = out.lines().collect();
    match names[..] {
        [a, b] => Ok((a.to_owned(), b.to_owned())),
        _ => Err(fail(format!("expected two object names, got {out:?}"))),
    }
}

/// The best common ancestor of two commits.
pub fn merge_base(root: &Path, a: &str, b: &str) -> Result<String, GitError> {
    git_line(root, &["merge-base", a, b])
}

/// The paths changed from `from` to `to`, a rename counted as a deletion
/// and an addition so both sides are seen.
pub fn diff(root: &Path, from: &str, to: &str) -> Result<Vec<ChangedPath>, GitError> {
    let out = git(
        root,
        &[
            "diff",
            "--name-status",
            "--no-renames",
            "--no-ext-diff",
            "-z",
            from,
            to,
            "--",
        ],
    )?;
    let mut fields = out.split(|&b| b == 0).filter(|f| !f.is_empty());
    let mut changed = Vec::new();
    while let (Some(status), Some(path)) = (fields.next(), fields.next()) {
        changed.push(ChangedPath {
            path: String::from_utf8_lossy(path).into_owned(),
            deleted: status.first() == Some(&b'D'),
        });
    }
    Ok(changed)
}

/// A file's content at a revision, `None` when the file is not there.
#[must_use]
pub fn show(root: &Path, rev: &str, path: &str) -> Option<String> {
    git(root, &["show", &format!("{rev}:{path}")])
        .ok()
        .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
}

/// A file at a revision, read with a bound.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Blob {
    /// The file is not there.
    Missing,
    Text(String),
    /// The file is larger than the bound.
    TooLarge,
}

/// A file's content at a revision, at most `max` bytes of it: git's output
/// is read as it comes and git is stopped once it passes the bound.
#[must_use]
pub fn show_bounded(root: &Path, rev: &str, path: &str, max: u64) -> Blob {
    use std::io::Read as _;

    let Ok(mut child) = Command::new("git")
        .arg("-C")
        .arg(root)
        .args(["show", &format!("{rev}:{path}")])
        .env("LC_ALL", "C")
        .env("GIT_OPTIONAL_LOCKS", "0")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
    else {
        return Blob::Missing;
    };
    let mut bytes = Vec::new();
    let read = child
        .stdout
        .take()
        .map(|out| out.take(max + 1).read_to_end(&mut bytes));
    if bytes.len() as u64 > max {
        let _ = child.kill();
        let _ = child.wait();
        return Blob::TooLarge;
    }
    match (read, child.wait()) {
        (Some(Ok(_)), Ok(status)) if status.success() => {
            Blob::Text(String::from_utf8_lossy(&bytes).into_owned())
        }
        _ => Blob::Missing,
    }
}

/// Whether `rev` names a commit present in the repository.
#[must_use]
pub fn has_commit(root: &Path, rev: &str) -> bool {
    !rev.starts_with('-') && git(root, &["cat-file", "-e", &format!("{rev}^{{commit}}")]).is_ok()
}

/// Whether the repository is a shallow clone.
#[must_use]
pub fn is_shallow(root: &Path) -> bool {
    git_line(root, &["rev-parse", "--is-shallow-repository"]).is_ok_and(|out| out == "true")
}

/// Fetches more history from `remote`: `Some(n)` deepens by `n` commits,
/// `None` fetches all of it.
pub fn deepen(root: &Path, remote: &str, by: Option<u32>) -> Result<(), GitError> {
    let how = by.map_or_else(|| "--unshallow".to_owned(), |n| format!("--deepen={n}"));
    git(root, &["fetch", "--no-tags", "--quiet", &how, remote]).map(drop)
}

/// Fetches one branch from `remote` into `refs/remotes/<remote>/<branch>`,
/// as shallow as the clone is.
pub fn fetch_branch(
    root: &Path,
    remote: &str,
    branch: &str,
    depth: Option<u32>,
) -> Result<(), GitError> {
    let refspec = format!("+refs/heads/{branch}:refs/remotes/{remote}/{branch}");
    let depth = depth.map(|d| format!("--depth={d}"));
    let mut args = vec!["fetch", "--no-tags", "--quiet"];
    if let Some(d) = &depth {
        args.push(d);
    }
    args.extend([remote, refspec.as_str()]);
    git(root, &args).map(drop)
}

/// Fetches one commit by its id (servers allow this for reachable
/// commits), `depth` commits deep.
pub fn fetch_commit(root: &Path, remote: &str, sha: &str, depth: u32) -> Result<(), GitError> {
    if sha.starts_with('-') {
        return Err(GitError {
            args: format!("fetch {remote} {sha}"),
            message: "a commit id must not start with '-'".to_owned(),
        });
    }
    let depth = format!("--depth={depth}");
    git(
        root,
        &["fetch", "--no-tags", "--quiet", &depth, remote, sha],
    )
    .map(drop)
}

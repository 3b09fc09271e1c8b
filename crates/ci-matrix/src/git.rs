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

/// The top level of the work tree holding `dir`.
pub fn toplevel(dir: &Path) -> Result<PathBuf, GitError> {
    git_line(dir, &["rev-parse", "--show-toplevel"]).map(PathBuf::from)
}

/// The full object name of a revision.
pub fn resolve(root: &Path, rev: &str) -> Result<String, GitError> {
    git_line(
        root,
        &[
            "rev-parse",
            "--verify",
            "--end-of-options",
            &format!("{rev}^{{commit}}"),
        ],
    )
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
pub fn show(root: &Path, rev: &str, path: &str) -> Option<String> {
    git(root, &["show", &format!("{rev}:{path}")])
        .ok()
        .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
}

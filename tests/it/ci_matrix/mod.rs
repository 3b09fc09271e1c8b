mod cargo;
mod catalogs;
mod config;
mod contract;
mod dotnet;
mod errors;
mod events;
mod github;
mod go;
mod gradle;
mod graph_check;
mod graph_file;
mod hostile;
mod lockfiles;
mod maven;
mod mixed;
mod node;
mod nx;
mod outputs;
mod python;
mod root;
mod tasks;

use crate::support::{Repo, because_lines};

/// Commits `change` (path, content; `None` deletes) on top of `repo`'s
/// history and returns the JSON report's `because` lines for the diff from
/// the commit before.
fn affected_by(repo: &Repo, change: &[(&str, Option<&str>)]) -> String {
    for (path, content) in change {
        match content {
            Some(text) => {
                repo.write(path, text);
            }
            None => {
                repo.remove(path);
            }
        }
    }
    repo.commit("change");
    let out = repo
        .ci_matrix()
        .args(["--base", "HEAD~1", "--format", "json"])
        .success();
    because_lines(&out)
}

/// `--explain PKG` for the diff from the commit before.
fn explain(repo: &Repo, package: &str) -> String {
    repo.ci_matrix()
        .args(["--base", "HEAD~1", "--explain", package])
        .success()
}

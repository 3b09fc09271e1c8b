//! Base and head from a GitHub Actions event, and the rule that matters
//! most: when what changed cannot be told, the answer is every package,
//! with the reason — never none.

use std::path::Path;

use serde_json::Value;
use slipway_graph::ChangedPath;

use crate::git;
use crate::report::{BaseSource, ChangeSource};

const ZERO_SHA: &str = "0000000000000000000000000000000000000000";
const REMOTE: &str = "origin";
/// How far a shallow clone is deepened, step by step, before one last
/// `--unshallow`.
const DEEPEN_STEPS: [u32; 3] = [50, 200, 1000];

/// The changes an event describes: paths and where they came from, or a
/// fallback reason (every package affected) in `source.fallback_reason`.
pub(crate) fn changes(root: &Path) -> (Vec<ChangedPath>, ChangeSource) {
    let name = std::env::var("GITHUB_EVENT_NAME").unwrap_or_default();
    let payload = match read_payload() {
        Ok(payload) => payload,
        Err(why) => return fallback(why, None),
    };
    let text = |v: &Value| v.as_str().filter(|s| !s.is_empty()).map(str::to_owned);
    match name.as_str() {
        "pull_request" | "pull_request_target" => {
            let pr = &payload["pull_request"];
            match (text(&pr["base"]["sha"]), text(&pr["head"]["sha"])) {
                (Some(base), Some(head)) => range(
                    root,
                    &base,
                    &head,
                    Compare::MergeBase,
                    BaseSource::PrMergeBase,
                ),
                _ => fallback(
                    format!("the {name} payload has no pull_request.base.sha or head.sha"),
                    None,
                ),
            }
        }
        "push" => push(root, &payload),
        "merge_group" => {
            let group = &payload["merge_group"];
            match (text(&group["base_sha"]), text(&group["head_sha"])) {
                (Some(base), Some(head)) => {
                    range(root, &base, &head, Compare::Direct, BaseSource::MergeGroup)
                }
                _ => fallback(
                    "the merge_group payload has no base_sha or head_sha".to_owned(),
                    None,
                ),
            }
        }
        "" => fallback("GITHUB_EVENT_NAME is not set".to_owned(), None),
        other => fallback(
            format!("a {other} event has no base commit to compare with"),
            None,
        ),
    }
}

fn read_payload() -> Result<Value, String> {
    let Some(path) = std::env::var_os("GITHUB_EVENT_PATH").filter(|p| !p.is_empty()) else {
        return Err("GITHUB_EVENT_PATH is not set".to_owned());
    };
    let path = Path::new(&path);
    // GitHub caps webhook payloads at 25 MB.
    let text = slipway_cli::read_file_bounded(path, 32 << 20).map_err(|err| {
        format!(
            "the event payload {} could not be read: {err}",
            path.display()
        )
    })?;
    serde_json::from_str(&text)
        .map_err(|err| format!("the event payload {} is not JSON: {err}", path.display()))
}

fn push(root: &Path, payload: &Value) -> (Vec<ChangedPath>, ChangeSource) {
    let before = payload["before"].as_str().unwrap_or("");
    let after = payload["after"].as_str().unwrap_or("");
    let pushed = payload["ref"].as_str().unwrap_or("");
    if after.is_empty() || after == ZERO_SHA {
        return fallback(
            format!("the push deleted {pushed}: there is no head commit"),
            None,
        );
    }
    if !before.is_empty() && before != ZERO_SHA {
        return range(root, before, after, Compare::Direct, BaseSource::PushBefore);
    }
    // A new branch: compare with where it left the default branch.
    let Some(default) = payload["repository"]["default_branch"]
        .as_str()
        .filter(|d| !d.is_empty())
    else {
        return fallback(
            format!("{pushed} is a new branch and the payload names no default branch"),
            Some(after),
        );
    };
    if pushed == format!("refs/heads/{default}") {
        return fallback(
            format!("the first push of the default branch {default}: there is no earlier commit"),
            Some(after),
        );
    }
    let tracking = format!("refs/remotes/{REMOTE}/{default}");
    if !git::has_commit(root, &tracking) {
        let depth = git::is_shallow(root).then_some(DEEPEN_STEPS[0]);
        if let Err(err) = git::fetch_branch(root, REMOTE, default, depth) {
            tracing::warn!("could not fetch the default branch {default}: {err}");
        }
    }
    if !git::has_commit(root, &tracking) {
        return fallback(
            format!(
                "{pushed} is a new branch and the default branch {default} is not in the clone"
            ),
            Some(after),
        );
    }
    range(
        root,
        &tracking,
        after,
        Compare::MergeBase,
        BaseSource::DefaultBranchMergeBase,
    )
}

#[derive(Clone, Copy)]
enum Compare {
    /// Diff from the merge base of base and head (a pull request, a branch).
    MergeBase,
    /// Diff from base itself (a push's `before`, a merge group's base).
    Direct,
}

/// The changes from `base` to `head`, deepening a shallow clone as far as
/// needed; every package, with the reason, when the base cannot be found.
fn range(
    root: &Path,
    base: &str,
    head: &str,
    compare: Compare,
    source: BaseSource,
) -> (Vec<ChangedPath>, ChangeSource) {
    let find = || -> Option<String> {
        if !git::has_commit(root, head) || !git::has_commit(root, base) {
            return None;
        }
        match compare {
            Compare::Direct => git::resolve_pair(root, base, head).ok().map(|(b, _)| b),
            Compare::MergeBase => git::merge_base(root, base, head).ok(),
        }
    };
    let Some(from) = with_history(root, &[base, head], find) else {
        let what = match compare {
            Compare::MergeBase => format!("no merge base of {base} and {head} could be found"),
            Compare::Direct => format!("commit {base} or {head} is not in the history"),
        };
        return fallback(
            format!("{what}, even after fetching more history (force-push?)"),
            Some(head),
        );
    };
    let head_sha = git::resolve_pair(root, head, head).map_or_else(|_| head.to_owned(), |(h, _)| h);
    match git::diff(root, &from, &head_sha) {
        Ok(changed) => {
            tracing::info!(base = %from, head = %head_sha, source = source.as_str(), files = changed.len(), "changes from the event");
            (
                changed,
                ChangeSource {
                    base_source: source,
                    base_sha: Some(from),
                    head_sha: Some(head_sha),
                    fallback_reason: None,
                },
            )
        }
        Err(err) => fallback(format!("git diff failed: {err}"), Some(head)),
    }
}

/// Tries `find`; in a shallow clone, first fetches the `wanted` commits
/// that are missing, then deepens step by step and at most once fetches the
/// whole history, trying again after each fetch.
fn with_history<T>(root: &Path, wanted: &[&str], mut find: impl FnMut() -> Option<T>) -> Option<T> {
    if let Some(found) = find() {
        return Some(found);
    }
    if !git::is_shallow(root) {
        return None;
    }
    for sha in wanted.iter().filter(|sha| !git::has_commit(root, sha)) {
        tracing::info!("shallow clone: fetching commit {sha}");
        if let Err(err) = git::fetch_commit(root, REMOTE, sha, DEEPEN_STEPS[0]) {
            tracing::debug!("{err}");
        }
    }
    if let Some(found) = find() {
        return Some(found);
    }
    let steps = DEEPEN_STEPS.iter().map(|&n| Some(n)).chain([None]);
    for step in steps {
        if !git::is_shallow(root) {
            return None;
        }
        if let Some(n) = step {
            tracing::info!("shallow clone: fetching {n} more commits of history");
        } else {
            tracing::info!("shallow clone: fetching the whole history");
        }
        if let Err(err) = git::deepen(root, REMOTE, step) {
            tracing::warn!("could not fetch more history: {err}");
            return None;
        }
        if let Some(found) = find() {
            return Some(found);
        }
    }
    None
}

fn fallback(why: String, head: Option<&str>) -> (Vec<ChangedPath>, ChangeSource) {
    tracing::warn!("{why}: every package is affected");
    (
        Vec::new(),
        ChangeSource {
            base_source: BaseSource::None,
            base_sha: None,
            head_sha: head.map(str::to_owned),
            fallback_reason: Some(why),
        },
    )
}

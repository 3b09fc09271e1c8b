//! Where the change comes from: a listed set of paths, a git range, or the
//! GitHub event; never an empty list by accident.

use std::path::Path;

use slipway_cli::github::Actions;
use slipway_graph::ChangedPath;

use crate::report::{BaseSource, ChangeSource};
use crate::{Cli, Error, event, git, input};

pub(crate) fn collect_changes(
    cli: &Cli,
    root: &Path,
    actions: &Actions,
) -> Result<(Vec<ChangedPath>, ChangeSource), Error> {
    let listed = |paths: Vec<String>, source_name: &str| -> Result<_, Error> {
        let paths = input::relative_paths(paths, root, source_name)?;
        // A listed path that is not on disk was deleted by the change.
        let changed = paths
            .into_iter()
            .map(|path| ChangedPath {
                deleted: !root.join(&path).exists(),
                path,
            })
            .collect();
        let source = ChangeSource {
            base_source: BaseSource::ChangedFiles,
            base_sha: None,
            head_sha: None,
            fallback_reason: None,
        };
        Ok((changed, source))
    };
    if let Some(json) = cli
        .changes
        .changed_files
        .as_deref()
        .or(cli.changed_positional.as_deref())
    {
        return listed(
            input::parse_json(json, "--changed-files")?,
            "--changed-files",
        );
    }
    if let Some(file) = &cli.changes.changed_files_from {
        let name = file.display().to_string();
        return listed(input::read_list(file)?, &name);
    }
    if let Some(base) = &cli.changes.base {
        let (base, head) = git::resolve_pair(root, base, &cli.changes.head)?;
        let merge_base = git::merge_base(root, &base, &head)?;
        let changed = git::diff(root, &merge_base, &head)?;
        tracing::info!(base = %short(&merge_base), head = %short(&head), files = changed.len(), "changes from git");
        let source = ChangeSource {
            base_source: BaseSource::Explicit,
            base_sha: Some(merge_base),
            head_sha: Some(head),
            fallback_reason: None,
        };
        return Ok((changed, source));
    }
    if cli.changes.github || actions.annotate {
        return Ok(event::changes(root));
    }
    Err(Error::NoChanges)
}

fn short(sha: &str) -> &str {
    &sha[..sha.len().min(12)]
}

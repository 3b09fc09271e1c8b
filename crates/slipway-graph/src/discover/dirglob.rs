//! Expanding workspace member globs (`crates/*`, `packages/**`, `!**/test`)
//! to the directories that hold a manifest.

use std::path::Path;

use globset::{Glob, GlobBuilder, GlobMatcher, GlobSetBuilder};

use crate::error::GraphError;
use crate::paths::{child, normalize};

/// Directories matched by a list of workspace patterns.
pub(crate) struct Expanded {
    /// Matching directories, sorted, each once. A directory matched by a
    /// glob may lack the manifest: the caller reads it and skips those,
    /// which costs one system call per package instead of two.
    pub(crate) dirs: Vec<String>,
    /// The positive patterns, to tell later where packages live.
    pub(crate) globs: Vec<Glob>,
}

/// Expands `patterns` (relative to the root; a leading `!` excludes) to
/// directories. A literal pattern must hold a file named `manifest`. `source` names the file the
/// patterns came from, for errors. `node_modules` and hidden directories are
/// never entered.
pub(crate) fn expand(
    root: &Path,
    patterns: &[String],
    manifest: &str,
    source: &Path,
) -> Result<Expanded, GraphError> {
    let mut excludes = GlobSetBuilder::new();
    let mut includes = Vec::new();
    let mut globs = Vec::new();
    for raw in patterns {
        let (negated, pattern) = match raw.strip_prefix('!') {
            Some(rest) => (true, rest),
            None => (false, raw.as_str()),
        };
        let pattern = normalize(pattern.trim_end_matches('/')).ok_or_else(|| GraphError::Glob {
            path: source.to_path_buf(),
            pattern: raw.clone(),
            message: "pattern leaves the repository root".to_owned(),
        })?;
        let glob = GlobBuilder::new(&pattern)
            .literal_separator(true)
            .build()
            .map_err(|err| GraphError::Glob {
                path: source.to_path_buf(),
                pattern: raw.clone(),
                message: err.kind().to_string(),
            })?;
        if negated {
            excludes.add(glob);
        } else {
            includes.push((pattern, glob.compile_matcher()));
            globs.push(glob);
        }
    }
    let excludes = excludes.build().map_err(|err| GraphError::Glob {
        path: source.to_path_buf(),
        pattern: String::new(),
        message: err.to_string(),
    })?;

    let mut dirs = Vec::new();
    for (pattern, matcher) in &includes {
        collect(root, pattern, matcher, manifest, &mut dirs)?;
    }
    dirs.retain(|dir| !excludes.is_match(dir));
    dirs.sort_unstable();
    dirs.dedup();
    Ok(Expanded { dirs, globs })
}

fn is_meta(segment: &str) -> bool {
    segment.contains(['*', '?', '[', '{'])
}

fn collect(
    root: &Path,
    pattern: &str,
    matcher: &GlobMatcher,
    manifest: &str,
    out: &mut Vec<String>,
) -> Result<(), GraphError> {
    let segments: Vec<&str> = if pattern == "." {
        Vec::new()
    } else {
        pattern.split('/').collect()
    };
    let literal = segments.iter().take_while(|s| !is_meta(s)).count();
    let prefix = if literal == 0 {
        ".".to_owned()
    } else {
        segments[..literal].join("/")
    };
    if literal == segments.len() {
        if root.join(&prefix).join(manifest).is_file() {
            out.push(prefix);
        }
        return Ok(());
    }
    let max_depth = if segments.iter().any(|s| s.contains("**")) {
        usize::MAX
    } else {
        segments.len() - literal
    };
    walk(root, &prefix, 1, max_depth, matcher, out)
}

fn walk(
    root: &Path,
    dir: &str,
    depth: usize,
    max_depth: usize,
    matcher: &GlobMatcher,
    out: &mut Vec<String>,
) -> Result<(), GraphError> {
    let path = root.join(dir);
    let entries = match std::fs::read_dir(&path) {
        Ok(entries) => entries,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(err) => return Err(GraphError::read(path, err)),
    };
    let mut subdirs = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|err| GraphError::read(&path, err))?;
        let is_dir = entry.file_type().is_ok_and(|t| t.is_dir());
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        if !is_dir || name.starts_with('.') || name == "node_modules" {
            continue;
        }
        subdirs.push(child(dir, name));
    }
    for sub in subdirs {
        if matcher.is_match(&sub) {
            out.push(sub.clone());
        }
        if depth < max_depth {
            walk(root, &sub, depth + 1, max_depth, matcher, out)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;

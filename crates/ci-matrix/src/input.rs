//! Changed-file lists given on the command line or in a file.

use std::path::Path;

use slipway_graph::normalize;

/// A changed-file list that could not be read.
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    #[error(
        "invalid JSON in {source_name} at line {line}, column {column}: expected an array of paths"
    )]
    Json {
        source_name: String,
        line: usize,
        column: usize,
    },
    #[error("changed path {path:?} from {source_name} is outside the repository root {root}")]
    OutsideRoot {
        source_name: String,
        path: String,
        root: String,
    },
    #[error("failed to read changed files from {source_name}")]
    Read {
        source_name: String,
        #[source]
        source: std::io::Error,
    },
}

/// Parses a JSON array of paths.
pub(crate) fn parse_json(text: &str, source_name: &str) -> Result<Vec<String>, InputError> {
    serde_json::from_str::<Vec<String>>(text).map_err(|err| InputError::Json {
        source_name: source_name.to_owned(),
        line: err.line(),
        column: err.column(),
    })
}

/// Parses a list that is either a JSON array or one path per line.
pub(crate) fn parse_list(text: &str, source_name: &str) -> Result<Vec<String>, InputError> {
    if text.trim_start().starts_with('[') {
        return parse_json(text, source_name);
    }
    Ok(text
        .lines()
        .map(|line| line.trim_end_matches('\r'))
        .filter(|line| !line.trim().is_empty())
        .map(str::to_owned)
        .collect())
}

/// Reads a list from a file, or from stdin for `-`.
/// Largest changed-file list read (a million paths fit).
const MAX_LIST_BYTES: u64 = 256 << 20;

pub(crate) fn read_list(file: &Path) -> Result<Vec<String>, InputError> {
    let source_name = if file == Path::new("-") {
        "stdin".to_owned()
    } else {
        file.display().to_string()
    };
    let read = if file == Path::new("-") {
        slipway_cli::read_bounded(std::io::stdin(), MAX_LIST_BYTES)
    } else {
        slipway_cli::read_file_bounded(file, MAX_LIST_BYTES)
    };
    let text = read.map_err(|source| InputError::Read {
        source_name: source_name.clone(),
        source,
    })?;
    parse_list(&text, &source_name)
}

/// Turns user-given paths into repository-relative ones. Absolute paths
/// under `root` are accepted; paths that leave it are an error.
pub(crate) fn relative_paths(
    paths: Vec<String>,
    root: &Path,
    source_name: &str,
) -> Result<Vec<String>, InputError> {
    let mut out = Vec::with_capacity(paths.len());
    for path in paths {
        let trimmed = path.trim();
        if trimmed.is_empty() {
            continue;
        }
        let relative = match Path::new(trimmed).strip_prefix(root) {
            Ok(inside) => inside.to_str().map(normalize),
            Err(_) if Path::new(trimmed).is_absolute() => None,
            Err(_) => Some(normalize(trimmed)),
        }
        .flatten()
        .filter(|p| p != ".");
        match relative {
            Some(p) => out.push(p),
            None => {
                return Err(InputError::OutsideRoot {
                    source_name: source_name.to_owned(),
                    path,
                    root: root.display().to_string(),
                });
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_are_json_or_lines() {
        assert_eq!(parse_list("a/b\r\n\nc\n", "x").unwrap(), ["a/b", "c"]);
        assert_eq!(parse_list(" [\"a\", \"b\"]", "x").unwrap(), ["a", "b"]);
        let err = parse_list("[\"a\",\n 3]", "changes.json").unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid JSON in changes.json at line 2, column 2: expected an array of paths"
        );
    }

    #[test]
    fn paths_become_relative_or_are_refused() {
        let root = Path::new("/repo");
        let got = relative_paths(
            vec![
                "./a/x".into(),
                "/repo/b/y".into(),
                " ".into(),
                "c\\z".into(),
            ],
            root,
            "x",
        )
        .unwrap();
        assert_eq!(got, ["a/x", "b/y", "c/z"]);
        let err = relative_paths(vec!["/etc/passwd".into()], root, "--changed-files").unwrap_err();
        assert!(
            err.to_string()
                .contains("\"/etc/passwd\" from --changed-files is outside"),
            "{err}"
        );
        assert!(relative_paths(vec!["../x".into()], root, "x").is_err());
    }
}

use std::path::PathBuf;

/// Everything that can go wrong while reading a repository's package graph.
///
/// Messages name the file at fault, and the line and column where the format
/// gives one, so a user can go straight to the broken manifest.
#[derive(Debug, thiserror::Error)]
pub enum GraphError {
    #[error("failed to read {path}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("invalid {format} in {path} at line {line}, column {column}: {message}")]
    Syntax {
        path: PathBuf,
        format: &'static str,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("invalid manifest {path}: {message}")]
    Manifest { path: PathBuf, message: String },
    #[error("invalid glob {pattern:?} in {path}: {message}")]
    Glob {
        path: PathBuf,
        pattern: String,
        message: String,
    },
    #[error("{ecosystem} package {name:?} is defined twice, in {first} and {second}")]
    DuplicatePackage {
        ecosystem: &'static str,
        name: String,
        first: String,
        second: String,
    },
    #[error("{path}: package {package:?} refers to {name:?}, which the graph does not define")]
    UnknownPackage {
        path: PathBuf,
        package: String,
        name: String,
    },
    #[error(
        "no package graph found under {root}: expected a Cargo, npm, yarn, pnpm, Bun, Go, Python (uv, Poetry), Maven, Gradle or .NET workspace"
    )]
    NothingFound { root: PathBuf },
    #[error("nested workspace root {root:?}: {message}")]
    NestedRoot { root: String, message: String },
}

impl GraphError {
    pub(crate) fn read(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        GraphError::Read {
            path: path.into(),
            source,
        }
    }

    pub(crate) fn manifest(path: impl Into<PathBuf>, message: impl Into<String>) -> Self {
        GraphError::Manifest {
            path: path.into(),
            message: message.into(),
        }
    }

    pub(crate) fn json(path: impl Into<PathBuf>, err: &serde_json::Error) -> Self {
        GraphError::Syntax {
            path: path.into(),
            format: "JSON",
            line: err.line(),
            column: err.column(),
            message: strip_position(&err.to_string()),
        }
    }

    pub(crate) fn toml(path: impl Into<PathBuf>, text: &str, err: &toml::de::Error) -> Self {
        let (line, column) = err
            .span()
            .map_or((0, 0), |span| line_column(text, span.start));
        GraphError::Syntax {
            path: path.into(),
            format: "TOML",
            line,
            column,
            message: err.message().trim().to_owned(),
        }
    }
}

/// `serde_json` appends " at line L column C" to its messages; we report the
/// position in our own words, so drop the copy.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(at) => message[..at].to_owned(),
        None => message.to_owned(),
    }
}

/// One-based line and column of a byte offset.
pub(crate) fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = &text.as_bytes()[..offset];
    let line = before.split(|&b| b == b'\n').count();
    let line_start = before
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |p| p + 1);
    let column = String::from_utf8_lossy(&before[line_start..])
        .chars()
        .count()
        + 1;
    (line, column)
}

#[cfg(test)]
mod tests {
    use super::line_column;

    #[test]
    fn line_column_counts_from_one() {
        assert_eq!(line_column("abc", 0), (1, 1));
        assert_eq!(line_column("abc\ndef", 5), (2, 2));
        assert_eq!(line_column("abc\n", 4), (2, 1));
        assert_eq!(line_column("é\nx", 100), (2, 2));
    }
}

//! How a tool ends: its error enum gives every variant a documented exit
//! code by one exhaustive `match` (so a variant without a code does not
//! compile), and `finish` logs the error chain and its hint, annotates it
//! under GitHub Actions, and exits with that code.

use std::process::ExitCode;

/// What every tool's error enum gives `main`.
pub trait ToolError: std::error::Error {
    /// The documented exit code. Implement it with one `match` on the
    /// enum, without a wildcard arm.
    fn exit_code(&self) -> u8;

    /// What the user can do about it, naming the tool's flag or
    /// subcommand (libraries never name them).
    fn hint(&self) -> Option<String> {
        None
    }
}

/// The error and every `source` below it, joined by `: `, the way
/// `anyhow` prints `{:#}`.
#[must_use]
pub fn chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        let part = cause.to_string();
        // A wrapper that repeats its source's text adds nothing.
        if !text.ends_with(&part) {
            text.push_str(": ");
            text.push_str(&part);
        }
        source = cause.source();
    }
    text
}

/// Ends a tool's `main`: exit 0 on success; otherwise the chain and the
/// hint on stderr (and as an `::error::` annotation under Actions) and the
/// error's exit code.
pub fn finish<E: ToolError>(tool: &str, result: Result<(), E>) -> ExitCode {
    finish_with_status(tool, result.map(|()| 0))
}

/// [`finish`] for a command whose success carries an exit status of its
/// own to pass on (`ci-matrix observe` exits with its command's).
pub fn finish_with_status<E: ToolError>(tool: &str, result: Result<u8, E>) -> ExitCode {
    let err = match result {
        Ok(status) => return ExitCode::from(status),
        Err(err) => err,
    };
    let mut message = chain(&err);
    if let Some(hint) = err.hint() {
        message.push_str("\n  hint: ");
        message.push_str(&hint);
    }
    tracing::error!("{message}");
    crate::github::Actions::from_env().error(tool, &message);
    ExitCode::from(err.exit_code())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("failed to read {0}")]
    struct Outer(&'static str, #[source] std::io::Error);

    #[test]
    fn the_chain_names_every_cause_once() {
        let err = Outer("a.toml", std::io::Error::other("no such file"));
        assert_eq!(chain(&err), "failed to read a.toml: no such file");
        let io = std::io::Error::other("disk full");
        assert_eq!(chain(&io), "disk full");
    }
}

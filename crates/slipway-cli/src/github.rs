//! GitHub Actions: step outputs, the step summary, and workflow-command
//! annotations. Only active when the runner sets the variables.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};

/// What the GitHub Actions runner gave this step.
#[derive(Debug, Default)]
pub struct Actions {
    pub output: Option<PathBuf>,
    pub summary: Option<PathBuf>,
    pub annotate: bool,
}

impl Actions {
    #[must_use]
    pub fn from_env() -> Self {
        let path = |name| {
            std::env::var_os(name)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        };
        Actions {
            output: path("GITHUB_OUTPUT"),
            summary: path("GITHUB_STEP_SUMMARY"),
            annotate: std::env::var("GITHUB_ACTIONS").as_deref() == Ok("true"),
        }
    }

    /// Emits `::warning::` for the runner to show on the run page, titled
    /// with the tool's name. Written to stderr: the runner reads commands
    /// from both streams, and stdout carries data.
    pub fn warning(&self, tool: &str, message: &str) {
        if self.annotate {
            eprintln!("::warning title={tool}::{}", escape_command(message));
        }
    }

    /// Emits `::error::` likewise.
    pub fn error(&self, tool: &str, message: &str) {
        if self.annotate {
            eprintln!("::error title={tool}::{}", escape_command(message));
        }
    }
}

fn escape_command(message: &str) -> String {
    message
        .replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Appends `name<<DELIM … DELIM` records to `$GITHUB_OUTPUT`, with a random
/// delimiter that occurs in no value, so any value, one line or many, is
/// read back exactly.
pub fn append_outputs(file: &Path, outputs: &[(&str, String)]) -> std::io::Result<()> {
    let mut text = String::new();
    for (name, value) in outputs {
        let delimiter = loop {
            let candidate = format!("ghadelimiter_{}", crate::hex(&crate::random_bytes::<8>()));
            if !value.contains(&candidate) {
                break candidate;
            }
        };
        let _ = writeln!(text, "{name}<<{delimiter}\n{value}\n{delimiter}");
    }
    append(file, &text)
}

pub fn append(file: &Path, text: &str) -> std::io::Result<()> {
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(file)?;
    f.write_all(text.as_bytes())?;
    f.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outputs_round_trip_through_the_delimiter_syntax() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("out");
        std::fs::write(&file, "earlier=1\n").unwrap();
        append_outputs(
            &file,
            &[
                ("matrix", "{\"include\":[]}".into()),
                ("multi", "a\nb".into()),
            ],
        )
        .unwrap();
        let text = std::fs::read_to_string(&file).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "earlier=1");
        let delim = lines[1].strip_prefix("matrix<<").unwrap();
        assert_eq!(lines[2], "{\"include\":[]}");
        assert_eq!(lines[3], delim);
        let delim2 = lines[4].strip_prefix("multi<<").unwrap();
        assert_eq!(&lines[5..7], ["a", "b"]);
        assert_eq!(lines[7], delim2);
    }

    #[test]
    fn command_data_is_escaped() {
        assert_eq!(escape_command("50% done\nnext"), "50%25 done%0Anext");
    }
}

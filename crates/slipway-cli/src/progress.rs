//! Progress of a long transfer on stderr: a line rewritten in place on a
//! terminal, a plain line every few seconds otherwise (CI logs).

use std::fmt::Write as _;
use std::io::{IsTerminal as _, Write as _};
use std::time::{Duration, Instant};

/// Reports bytes done, rate and, when the total is known, the time left.
#[derive(Debug)]
pub struct Progress {
    label: String,
    total: Option<u64>,
    done: u64,
    start: Instant,
    last: Instant,
    every: Duration,
    terminal: bool,
    enabled: bool,
}

impl Progress {
    /// `enabled: false` keeps it silent (`--quiet`).
    #[must_use]
    pub fn new(label: &str, total: Option<u64>, enabled: bool) -> Progress {
        let terminal = std::io::stderr().is_terminal();
        let now = Instant::now();
        Progress {
            label: label.to_owned(),
            total,
            done: 0,
            start: now,
            last: now,
            every: if terminal {
                Duration::from_millis(200)
            } else {
                Duration::from_secs(5)
            },
            terminal,
            enabled,
        }
    }

    pub fn set_total(&mut self, total: Option<u64>) {
        self.total = total;
    }

    /// Records that `done` bytes are done in all, printing when due.
    pub fn update(&mut self, done: u64) {
        self.done = done;
        if self.enabled && self.last.elapsed() >= self.every {
            self.last = Instant::now();
            self.print();
        }
    }

    /// Clears the terminal line, if one was drawn.
    pub fn finish(&mut self) {
        if self.enabled && self.terminal && self.last != self.start {
            eprint!("\r\x1b[2K");
            let _ = std::io::stderr().flush();
        }
    }

    fn print(&self) {
        let line = self.line();
        if self.terminal {
            eprint!("\r\x1b[2K{line}");
            let _ = std::io::stderr().flush();
        } else {
            eprintln!("{line}");
        }
    }

    fn line(&self) -> String {
        let seconds = self.start.elapsed().as_secs_f64().max(1e-3);
        #[expect(clippy::cast_precision_loss, reason = "a rate for people to read")]
        let rate = self.done as f64 / seconds;
        let mut line = format!("{}: {}", self.label, size(self.done));
        if let Some(total) = self.total.filter(|&t| t > 0) {
            #[expect(
                clippy::cast_precision_loss,
                reason = "a percentage for people to read"
            )]
            let percent = self.done as f64 * 100.0 / total as f64;
            let _ = write!(line, " of {} ({percent:.0}%)", size(total));
            if rate > 0.0 && total > self.done {
                #[expect(clippy::cast_precision_loss, reason = "a time for people to read")]
                let left = (total - self.done) as f64 / rate;
                let _ = write!(line, ", {} left", duration(left));
            }
        }
        let _ = write!(line, ", {:.1} MB/s", rate / 1e6);
        line
    }
}

fn size(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["B", "KiB", "MiB", "GiB"];
    #[expect(clippy::cast_precision_loss, reason = "a size for people to read")]
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

fn duration(seconds: f64) -> String {
    if seconds < 60.0 {
        format!("{seconds:.0}s")
    } else {
        format!("{:.0}m{:02.0}s", (seconds / 60.0).floor(), seconds % 60.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_read_well() {
        let mut p = Progress::new("art-consume", Some(4 << 30), false);
        p.done = 1 << 30;
        let line = p.line();
        assert!(
            line.starts_with("art-consume: 1.0 GiB of 4.0 GiB (25%), "),
            "{line}"
        );
        assert!(line.ends_with(" MB/s"), "{line}");
        assert_eq!(size(1023), "1023 B");
        assert_eq!(size(1536), "1.5 KiB");
        assert_eq!(duration(75.0), "1m15s");
    }
}

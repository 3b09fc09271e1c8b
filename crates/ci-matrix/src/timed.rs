//! `ci-matrix observe --package P -- CMD…`: runs a matrix job's build or
//! test command, passes its exit status through, and pushes how long it
//! took as the origin article's `ci_build_duration_seconds{package}`
//! histogram. Grouped by package, run and job on the Pushgateway, so that
//! the jobs of one matrix never replace each other's figure.

use std::ffi::OsString;

use std::time::Instant;

use clap::Parser;
use slipway_cli::LogArgs;
use slipway_cli::metrics::Metrics;

use crate::error::Error;

/// Bucket bounds, seconds: half a minute to two hours, the 15-minute
/// alert threshold among them.
pub const BUCKETS: [f64; 12] = [
    30.0, 60.0, 120.0, 300.0, 600.0, 900.0, 1200.0, 1800.0, 2700.0, 3600.0, 5400.0, 7200.0,
];

/// Run a build or test command and push how long it took.
///
/// Exits with the command's own status (128 + the signal when a signal
/// ended it; 127 when it could not be started). A failed push is a
/// warning: the build's result is what the step reports.
#[derive(Debug, Parser)]
#[command(name = "ci-matrix observe", version, max_term_width = 100)]
pub struct ObserveCli {
    /// The package the command builds or tests (the matrix entry's `package`).
    #[arg(long, value_name = "NAME")]
    pub package: String,

    /// The Pushgateway (`http://HOST:PORT`) [default: only log the duration].
    #[arg(long, env = "SLIPWAY_PUSHGATEWAY", value_name = "URL")]
    pub pushgateway: Option<String>,

    /// The command and its arguments, after `--`.
    #[arg(last = true, required = true, value_name = "COMMAND")]
    pub command: Vec<OsString>,

    #[command(flatten)]
    pub log: LogArgs,
}

/// Runs the command; its exit status is the result.
///
/// # Errors
///
/// No command, or one that could not be started. A command that fails is
/// no error: its status is returned, to be the exit status.
pub fn run(cli: &ObserveCli) -> Result<u8, Error> {
    let started = Instant::now();
    let Some((program, args)) = cli.command.split_first() else {
        return Err(Error::NoCommand);
    };
    let status = std::process::Command::new(program).args(args).status();
    let seconds = started.elapsed().as_secs_f64();
    let code = match status {
        Ok(status) => exit_code(status),
        Err(source) => {
            // Timed and pushed all the same: a build that could not start
            // is a failed build.
            push(cli, seconds);
            return Err(Error::NotRun {
                program: program.to_string_lossy().into_owned(),
                source,
            });
        }
    };
    tracing::info!(
        package = cli.package,
        seconds,
        exit = code,
        "{} took {seconds:.1} s",
        program.to_string_lossy()
    );
    push(cli, seconds);
    Ok(code)
}

/// Pushes the command's duration, when a gateway is given.
fn push(cli: &ObserveCli, seconds: f64) {
    if let Some(gateway) = &cli.pushgateway {
        let mut m = Metrics::new(crate::TOOL);
        m.histogram(
            "ci_build_duration_seconds",
            "How long a matrix job's build or test command ran, by package.",
            &[("package", &cli.package)],
            &BUCKETS,
            &[seconds],
        );
        let env = |name: &str| {
            std::env::var(name)
                .ok()
                .filter(|v| !v.is_empty())
                .unwrap_or_else(|| "local".to_owned())
        };
        let (run, job) = (env("GITHUB_RUN_ID"), env("GITHUB_JOB"));
        m.push_if(
            Some(gateway),
            &[
                ("package", &cli.package),
                ("github_run_id", &run),
                ("github_job", &job),
            ],
        );
    }
}

/// A process status as a shell reports it.
fn exit_code(status: std::process::ExitStatus) -> u8 {
    use std::os::unix::process::ExitStatusExt as _;
    match (status.code(), status.signal()) {
        (Some(code), _) => u8::try_from(code).unwrap_or(1),
        (None, Some(signal)) => u8::try_from(128 + signal).unwrap_or(1),
        (None, None) => 1,
    }
}

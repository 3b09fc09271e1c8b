//! Project automation (the cargo-xtask pattern): `cargo xtask <task>`.

#![expect(
    clippy::print_stdout,
    reason = "tasks print their results (demo output, benchmark tables) for a person to read"
)]

mod bench;
mod bench_jobs;
mod bench_stream;
mod demo;
mod dist;
mod github_mock;
mod outputs;
mod schema;
mod structure;
mod test;
mod tools;

use std::process::ExitCode;

const USAGE: &str = "\
usage: cargo xtask <task>

tasks:
  test             fmt check, clippy -D warnings, build, every test, actionlint
  demo             the pipeline on bundled data: ci-matrix, art-stream/art-consume, spot pricing
  bench-affected   ci-matrix against `turbo ls --affected`, whole processes
  bench-jobs       jobs per run: commits replayed through ci-matrix and `turbo ls --affected` (or Nx: --nx VERSION)
                   [--repo DIR] [--commits N] [--no-turbo] [--work DIR]
  bench-stream     art-stream/art-consume against `zstd -1 | nc` and raw `nc`, whole processes,
                   each side on its own core in a network namespace shaped to a link rate
                   [--link none|1gbit|5gbit|… (repeatable; default none and 1gbit)] [--loopback]
  dist             release bundles for the host: dist/<tool>-<version>-<target>.tar.gz, SHA256SUMS
                   [--tools ci-matrix,art-stream,art-consume,spot-leaser] [--out DIR] [--profile release|dev]
  schema           the JSON Schema of every output, from slipway-contract, into docs/schema/
  structure        module cycles, the median file and functions over 80 lines under crates/*/src [--all]";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("test") => test::run(),
        Some("demo") => demo::run_demo(demo::Mode::Show),
        Some("bench-affected") => bench::affected(&args[1..]),
        Some("bench-jobs") => bench_jobs::run_bench(&args[1..]),
        Some("bench-stream") => bench_stream::run_bench(&args[1..]),
        Some("dist") => dist::run_dist(&args[1..]),
        Some("structure") => structure::run(&args[1..]),
        Some("schema") => schema::run(),
        Some("-h" | "--help" | "help") => {
            eprintln!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        other => {
            eprintln!("{USAGE}");
            if let Some(task) = other {
                eprintln!("\nunknown task {task:?}");
            }
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("xtask: {err:#}");
            ExitCode::FAILURE
        }
    }
}

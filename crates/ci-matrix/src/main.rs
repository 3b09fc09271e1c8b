use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    // `ci-matrix gate …` has a command line of its own; the main one keeps
    // the origin article's positional form.
    if std::env::args_os().nth(1).is_some_and(|a| a == "gate") {
        let cli = ci_matrix::gate::GateCli::parse_from(without_subcommand());
        ci_matrix::init_logging(&cli.log);
        return slipway_cli::finish("ci-matrix", ci_matrix::gate::run(&cli));
    }
    // `ci-matrix graph [--check]`: the graph, or its differences from the
    // build tools'.
    if std::env::args_os().nth(1).is_some_and(|a| a == "graph") {
        let cli = ci_matrix::graph_cmd::GraphCli::parse_from(without_subcommand());
        ci_matrix::init_logging(&cli.log);
        return slipway_cli::finish("ci-matrix", ci_matrix::graph_cmd::run(&cli));
    }
    // `ci-matrix observe … -- CMD`: runs a build and times it.
    if std::env::args_os().nth(1).is_some_and(|a| a == "observe") {
        let cli = ci_matrix::timed::ObserveCli::parse_from(without_subcommand());
        ci_matrix::init_logging(&cli.log);
        return slipway_cli::finish_with_status("ci-matrix", ci_matrix::timed::run(&cli));
    }
    let cli = ci_matrix::Cli::parse();
    ci_matrix::init_logging(&cli.log);
    slipway_cli::finish("ci-matrix", ci_matrix::run(&cli))
}

/// The command line without its subcommand word (`ci-matrix gate …` as
/// `ci-matrix …`), for a subcommand's own parser.
fn without_subcommand() -> impl Iterator<Item = std::ffi::OsString> {
    std::env::args_os()
        .enumerate()
        .filter(|(i, _)| *i != 1)
        .map(|(_, a)| a)
}

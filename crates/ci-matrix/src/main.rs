use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = ci_matrix::Cli::parse();
    ci_matrix::init_logging(&cli.log);
    slipway_cli::finish("ci-matrix", ci_matrix::run(&cli))
}

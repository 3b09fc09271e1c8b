use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = ci_matrix::Cli::parse();
    ci_matrix::init_logging(&cli.log);
    match ci_matrix::run(&cli) {
        Ok(code) => ExitCode::from(code as u8),
        Err(err) => {
            tracing::error!("{err:#}");
            slipway_cli::github::Actions::from_env().error("ci-matrix", &format!("{err:#}"));
            ExitCode::from(ci_matrix::exit_code_for(&err) as u8)
        }
    }
}

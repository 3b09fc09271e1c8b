use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = art_consume::Cli::parse();
    slipway_cli::init_logging(&cli.log);
    match art_consume::run(&cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            tracing::error!("{err:#}");
            slipway_cli::github::Actions::from_env().error("art-consume", &format!("{err:#}"));
            ExitCode::from(art_consume::exit_code_for(&err) as u8)
        }
    }
}

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = spot_leaser::Cli::parse();
    slipway_cli::init_logging(&cli.log);
    match spot_leaser::run(&cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            tracing::error!("{err:#}");
            slipway_cli::github::Actions::from_env().error("spot-leaser", &format!("{err:#}"));
            ExitCode::from(spot_leaser::exit_code_for(&err) as u8)
        }
    }
}

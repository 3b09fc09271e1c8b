use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = spot_leaser::Cli::parse();
    slipway_cli::init_logging(&cli.log);
    slipway_cli::finish("spot-leaser", spot_leaser::run(&cli))
}

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = art_consume::Cli::parse();
    slipway_cli::init_logging(&cli.log);
    slipway_cli::finish("art-consume", art_consume::run(&cli))
}

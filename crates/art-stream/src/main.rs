use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = art_stream::Cli::parse();
    slipway_cli::init_logging(&cli.log);
    slipway_cli::finish("art-stream", art_stream::run(&cli))
}

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = art_stream::Cli::parse();
    slipway_cli::init_logging(&cli.log);
    match art_stream::run(&cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            tracing::error!("{err:#}");
            slipway_cli::github::Actions::from_env().error("art-stream", &format!("{err:#}"));
            ExitCode::from(art_stream::exit_code_for(&err) as u8)
        }
    }
}

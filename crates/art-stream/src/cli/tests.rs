#[test]
fn cli_is_well_formed() {
    use clap::CommandFactory;
    super::Cli::command().debug_assert();
}

//! End-to-end tests: the tools' binaries against real git repositories
//! made in temporary directories. One test binary, a module per area.

mod architecture;
mod artifact;
mod ci_matrix;
mod contract;
mod exit_codes;
mod github;
mod setup;
mod spot;
mod support;

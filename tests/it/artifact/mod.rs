//! art-stream and art-consume end to end over loopback: sizes, stdin, many
//! consumers, and the faults a network and an attacker cause.

mod actions;
mod directories;
pub(crate) mod harness;
mod limits;
mod store;
mod streaming;

//! GitHub's self-hosted runner and Actions APIs, as Slipway uses them.
//!
//! - Runners of an organisation or a repository ([`Scope`]): just-in-time
//!   configurations (single use: never cached, never retried blindly),
//!   registration tokens (reusable: cached until their own `expires_at`
//!   minus a margin), removal tokens, listing and deleting runners.
//! - Queued work counted as *jobs*, not runs ([`queue`]), and reruns.
//! - One rate-limit [`Budget`] per endpoint class for the whole process,
//!   and GitHub's 403/429 answers honoured ([`throttle_wait`]).
//!
//! Requests go through octocrab built *without* its retry layer: octocrab
//! would otherwise resend a POST on a 5xx, and a JIT configuration or a
//! registration that reached GitHub must not be made twice. What is retried
//! here: any request GitHub refused with a rate-limit answer (it was not
//! processed), and idempotent requests (GET, DELETE) after a 5xx or a
//! transport error.

mod budget;
mod client;
mod config;
mod error;
mod models;
pub mod queue;
mod request;
mod scope;
pub mod webhook;

pub use budget::{Budget, EndpointClass, Stats, throttle_wait};
pub use client::GitHub;
pub use config::{Config, Credentials};
pub use error::GitHubError;
pub use models::{
    JitConfig, JitRequest, Job, Runner, RunnerGroup, RunnerLabel, RunnerToken, WorkflowRun,
};
pub use scope::Scope;

/// GitHub's public API.
pub const PUBLIC_API_URL: &str = "https://api.github.com";

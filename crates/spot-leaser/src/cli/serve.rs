//! `serve`'s arguments.

use std::path::PathBuf;
use std::time::Duration;

use clap::Args;

use super::github::{ApiArgs, RunnerArgs, ScopeArgs};
use crate::spec::ServeSpec;
use crate::{Error, Result};

#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    #[arg(long)]
    pub region: String,

    /// The pools (TOML; docs/examples/spot-leaser-serve.toml).
    #[arg(long, value_name = "FILE")]
    pub config: PathBuf,

    /// Where to listen for webhooks, scrapes and health checks.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8080")]
    pub listen: String,

    /// The webhook secret (the file's content, trailing newline aside).
    #[arg(long, value_name = "FILE")]
    pub webhook_secret_file: PathBuf,

    #[arg(long, value_name = "DURATION", default_value = "60s", value_parser = super::duration)]
    pub reconcile_every: Duration,

    /// Terminate instances whose runner has not come online this long
    /// after launch.
    #[arg(long, value_name = "DURATION", default_value = "10m", value_parser = super::duration)]
    pub register_timeout: Duration,

    /// Remove runners idle (online, no job) this long after launch.
    #[arg(long, value_name = "DURATION", default_value = "10m", value_parser = super::duration)]
    pub idle_timeout: Duration,

    /// Interruptions in a pool within --breaker-window that stop spot
    /// launches in it.
    #[arg(long, value_name = "N", default_value_t = 2,
          value_parser = clap::value_parser!(u32).range(1..))]
    pub breaker: u32,

    #[arg(long, value_name = "DURATION", default_value = "15m", value_parser = super::duration)]
    pub breaker_window: Duration,

    /// How long an open breaker stops spot launches after its last
    /// interruption.
    #[arg(long, value_name = "DURATION", default_value = "30m", value_parser = super::duration)]
    pub breaker_cooldown: Duration,

    /// A job's launch lock younger than this is another process's launch
    /// in progress; an older one whose job has no instance is taken over.
    /// A warm instance's claim lock is deleted after it.
    #[arg(long, value_name = "DURATION", default_value = "2m", value_parser = super::duration)]
    pub launch_lock_timeout: Duration,

    /// The SSM parameter holding the pause flag.
    #[arg(long, value_name = "NAME", default_value = "/slipway/serve/paused")]
    pub pause_parameter: String,

    /// Arguments for `spot-leaser watch` in the runners' boot script.
    #[arg(
        long,
        value_name = "ARGS",
        default_value = "",
        allow_hyphen_values = true
    )]
    pub watch_args: String,

    #[command(flatten)]
    pub github: ScopeArgs,

    #[command(flatten)]
    pub api: ApiArgs,

    #[command(flatten)]
    pub runner: RunnerArgs,
}

impl ServeArgs {
    pub(crate) fn spec(&self) -> Result<ServeSpec> {
        let github = self.github.scope()?.ok_or(Error::Arguments(
            "serve needs --github-org or --github-repo: the runners' scope",
        ))?;
        if !self.runner.runner_labels.is_empty() {
            return Err(Error::Arguments(
                "serve gives each runner exactly its job's labels: --runner-labels has no use here \
                 (put labels on the pools in --config)",
            ));
        }
        Ok(ServeSpec {
            region: self.region.clone(),
            config: self.config.clone(),
            listen: self.listen.clone(),
            webhook_secret_file: self.webhook_secret_file.clone(),
            reconcile_every: self.reconcile_every,
            register_timeout: self.register_timeout,
            idle_timeout: self.idle_timeout,
            breaker: self.breaker,
            breaker_window: self.breaker_window,
            breaker_cooldown: self.breaker_cooldown,
            launch_lock_timeout: self.launch_lock_timeout,
            pause_parameter: self.pause_parameter.clone(),
            watch_args: self.watch_args.clone(),
            github,
            api: self.api.spec(),
            runner: self.runner.spec(),
        })
    }
}

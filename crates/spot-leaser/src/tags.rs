//! The EC2 tags spot-leaser writes on its instances: its only state in
//! EC2, read back by `reap`, `cost`, `rerun` and `serve`. One constant per
//! key, so a key is spelled once.
//!
//! | key | written by | read by | meaning |
//! | --- | --- | --- | --- |
//! | `slipway:managed` = `true` | `launch`, `serve` (jobs, warm pool) | `reap`, `cost`, `serve`, `launch` (capacity already running) | launched by spot-leaser: the filter every listing starts from |
//! | `slipway:run-id` | `launch` | `reap --run-id`, `cost --run-id` | the workflow run the instances serve |
//! | `slipway:expires-at` | `launch` | `reap` (expired), `cost` (end of billing when still running) | RFC 3339 time after which the instance is reaped |
//! | `slipway:pool` | `serve` (jobs, warm pool) | `serve` | the configured pool it was launched for |
//! | `slipway:job-id` | `serve` (jobs; cleared on a warm instance) | `serve` (one instance per job, reconcile, warm pool) | the GitHub job it was launched for |
//! | `slipway:gh-run`, `slipway:gh-attempt`, `slipway:job-name` | `serve` (jobs) | `serve` (re-running an interrupted job) | the job's run, attempt and name |
//! | `slipway:capacity` | `serve` (jobs) | people, the console | `spot` or `on-demand` |
//! | `slipway:warm` | `serve` (warm pool) | `serve` (warm pool) | the pool of a stopped, ready instance |
//! | `slipway:runner-name`, `slipway:runner-id` | `register` | `serve` (reconcile), `reap` (deregistering) | the GitHub runner on the instance |
//! | `slipway:interrupted-at`, `slipway:interrupted-runner`, `slipway:interrupted-action` | `watch` (on the instance) | `rerun`, `serve`, instance listings | a Spot interruption notice: its time, the runner it ended, and `terminate`/`stop` |
//! | `slipway:rerun-requested` | `serve` | `serve` | the interrupted job was re-run once already |

pub(crate) const MANAGED: &str = "slipway:managed";
pub(crate) const RUN_ID: &str = "slipway:run-id";
pub(crate) const EXPIRES_AT: &str = "slipway:expires-at";
pub(crate) const POOL: &str = "slipway:pool";
pub(crate) const JOB_ID: &str = "slipway:job-id";
pub(crate) const GH_RUN: &str = "slipway:gh-run";
pub(crate) const GH_ATTEMPT: &str = "slipway:gh-attempt";
pub(crate) const JOB_NAME: &str = "slipway:job-name";
pub(crate) const CAPACITY: &str = "slipway:capacity";
pub(crate) const WARM: &str = "slipway:warm";
pub(crate) const RUNNER_NAME: &str = "slipway:runner-name";
pub(crate) const RUNNER_ID: &str = "slipway:runner-id";
pub(crate) const INTERRUPTED_AT: &str = "slipway:interrupted-at";
pub(crate) const INTERRUPTED_RUNNER: &str = "slipway:interrupted-runner";
pub(crate) const INTERRUPTED_ACTION: &str = "slipway:interrupted-action";
pub(crate) const RERUN_REQUESTED: &str = "slipway:rerun-requested";

/// The value of [`MANAGED`].
pub(crate) const TRUE: &str = "true";

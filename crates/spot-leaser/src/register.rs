//! Registering launched instances as GitHub runners.
//!
//! One fleet request launches every instance from one launch template, so
//! user data cannot carry a per-instance secret. Each instance's runner
//! configuration (a JIT config, or a registration token with the runner's
//! name and labels) is put in SSM Parameter Store as a `SecureString`
//! named after the instance; the boot script ([`boot_script`]) reads it
//! with the instance's role, deletes it, and starts the runner. This is
//! the pattern of the widely used philips-labs/terraform-aws-github-runner.
//!
//! Token mode asks GitHub for one registration token and reuses it while
//! it is valid; JIT mode asks for one configuration per runner, paced by
//! the client's budget. A registration that fails terminates its instance.

use crate::tags;
use aws_sdk_ssm::types::ParameterType;
use slipway_github::{GitHub, JitRequest};

use crate::ec2;
use crate::launch::Unusable;
use crate::output::{LaunchedInstance, RunnerInfo, RunnerMode};
use crate::spec::RunnerSpec;
use crate::{Error, Result};

/// The labels of a runner on `instance_type`.
fn labels(args: &RunnerSpec, vcpus: Option<i32>, arch: Option<&str>) -> Vec<String> {
    let mut labels = vec!["self-hosted".to_owned(), "linux".to_owned()];
    if let Some(arch) = arch {
        labels.push(arch.to_owned());
    }
    if let Some(vcpus) = vcpus {
        labels.push(size_label(vcpus));
    }
    for l in &args.runner_labels {
        let l = l.trim();
        if !l.is_empty() && !labels.iter().any(|x| x.eq_ignore_ascii_case(l)) {
            labels.push(l.to_owned());
        }
    }
    labels
}

/// `slipway-4cpu`: the label a job asks for to get that size.
#[must_use]
pub fn size_label(vcpus: i32) -> String {
    format!("slipway-{vcpus}cpu")
}

/// Whether a label is a size label (not counted when matching queue depth
/// against a runner's other labels).
pub(crate) fn is_size_label(label: &str) -> bool {
    label
        .strip_prefix("slipway-")
        .and_then(|l| l.strip_suffix("cpu"))
        .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

pub(crate) struct Registrar<'a> {
    pub(crate) github: &'a GitHub,
    pub(crate) ec2: &'a aws_sdk_ec2::Client,
    pub(crate) ssm: &'a aws_sdk_ssm::Client,
    pub(crate) runner: &'a RunnerSpec,
    /// The labels every runner carries exactly (a job's, under `serve`)
    /// instead of those made from the instance's shape and `--runner-labels`.
    pub(crate) exact_labels: Option<&'a [String]>,
}

impl Registrar<'_> {
    /// Registers every instance; sets each one's `runner` and returns the
    /// instances that failed, with why (the caller terminates them).
    pub(crate) async fn register(
        &self,
        instances: &mut [LaunchedInstance],
    ) -> Result<Vec<(String, String)>> {
        let mut types: Vec<String> = instances.iter().map(|i| i.instance_type.clone()).collect();
        types.sort();
        types.dedup();
        let shapes = ec2::instance_shapes(self.ec2, &types).await?;
        let group_name = match (self.runner.runner_mode, self.github.scope()) {
            (RunnerMode::Token, slipway_github::Scope::Org(_)) if self.runner.runner_group != 1 => {
                Some(
                    self.github
                        .runner_group(self.runner.runner_group)
                        .await?
                        .name,
                )
            }
            _ => None,
        };
        // Token mode: one token for all, fetched before anything else so a
        // refusal fails the whole launch at once.
        if self.runner.runner_mode == RunnerMode::Token {
            self.github.registration_token().await?;
        }
        let label_of = |instance: &LaunchedInstance| {
            if let Some(exact) = self.exact_labels {
                return exact.to_vec();
            }
            let shape = shapes.get(&instance.instance_type);
            labels(
                self.runner,
                shape.map(|s| s.0),
                shape.and_then(|s| s.1.as_deref()),
            )
        };
        // The first registration goes alone: when it fails (credentials,
        // permissions, the SSM path), the rest would fail the same way, so
        // nothing more is asked of GitHub and the whole launch is undone.
        let Some((first, rest)) = instances.split_first_mut() else {
            return Ok(Vec::new());
        };
        match self
            .register_one(first, label_of(first), group_name.as_deref())
            .await
        {
            Ok(runner) => first.runner = Some(runner),
            Err(err) => {
                return Err(Error::FirstRegistration {
                    instance_id: first.instance_id.clone(),
                    source: Box::new(err),
                });
            }
        }
        Ok(self
            .register_rest(rest, &label_of, group_name.as_deref())
            .await)
    }

    /// Registers the instances after the first, concurrently under the
    /// budget, with progress; returns those that failed, with why.
    async fn register_rest(
        &self,
        instances: &mut [LaunchedInstance],
        label_of: &dyn Fn(&LaunchedInstance) -> Vec<String>,
        group_name: Option<&str>,
    ) -> Unusable {
        let mut failed = Vec::new();
        // Registration is paced by the budget (50 JIT runners take about
        // 17 s at 180 a minute): say how far it got every few seconds.
        let total = instances.len() + 1;
        let done = std::cell::Cell::new(1usize);
        let last_said = std::cell::Cell::new(std::time::Instant::now());
        let results = {
            let jobs = instances.iter().map(|instance| {
                let labels = label_of(instance);
                let (done, last_said, group) = (&done, &last_said, group_name);
                async move {
                    let result = self.register_one(instance, labels, group).await;
                    done.set(done.get() + 1);
                    if last_said.get().elapsed() >= std::time::Duration::from_secs(5) {
                        last_said.set(std::time::Instant::now());
                        tracing::info!("registered {} of {total} runners", done.get());
                    }
                    result
                }
            });
            join_all(jobs).await
        };
        tracing::info!(
            "registered {} of {total} runners",
            1 + results.iter().filter(|r| r.is_ok()).count()
        );
        for (instance, result) in instances.iter_mut().zip(results) {
            match result {
                Ok(runner) => instance.runner = Some(runner),
                Err(err) => {
                    let why = slipway_cli::chain(&err);
                    tracing::error!(
                        instance = instance.instance_id,
                        "registration failed: {why}"
                    );
                    failed.push((instance.instance_id.clone(), why));
                }
            }
        }
        failed
    }

    pub(crate) async fn register_one(
        &self,
        instance: &LaunchedInstance,
        labels: Vec<String>,
        group_name: Option<&str>,
    ) -> Result<RunnerInfo> {
        let name = format!("{}-{}", self.runner.runner_prefix, instance.instance_id);
        let parameter = format!("{}{}", self.runner.parameter_prefix, instance.instance_id);
        let (value, id) = match self.runner.runner_mode {
            RunnerMode::Jit => {
                let config = self
                    .github
                    .jit_config(&JitRequest {
                        name: name.clone(),
                        runner_group_id: self.runner.runner_group,
                        labels: labels.clone(),
                        work_folder: None,
                    })
                    .await?;
                let value = serde_json::json!({
                    "mode": "jit",
                    "jit_config": config.encoded_jit_config,
                });
                (value, Some(config.runner.id))
            }
            RunnerMode::Token => {
                let token = self.github.registration_token().await?;
                let value = serde_json::json!({
                    "mode": "token",
                    "url": self.github.scope().runner_url(self.github.api_url()),
                    "token": token.token,
                    "name": name,
                    "labels": labels.join(","),
                    "runner_group": group_name,
                });
                (value, None)
            }
        };
        let put = self
            .ssm
            .put_parameter()
            .name(&parameter)
            .value(value.to_string())
            .r#type(ParameterType::SecureString)
            .overwrite(true)
            .description("spot-leaser runner configuration, read once by the instance at boot")
            .send()
            .await;
        if let Err(e) = put {
            self.undo(&name, id, None).await;
            return Err(Error::Ssm {
                operation: "PutParameter",
                parameter,
                message: aws_sdk_ssm::error::DisplayErrorContext(&e).to_string(),
            });
        }
        let mut tags = vec![(tags::RUNNER_NAME, name.clone())];
        if let Some(id) = id {
            tags.push((tags::RUNNER_ID, id.to_string()));
        }
        if let Err(e) = ec2::create_tags(self.ec2, &instance.instance_id, &tags).await {
            self.undo(&name, id, Some(&parameter)).await;
            return Err(e.into());
        }
        Ok(RunnerInfo {
            name,
            id,
            labels,
            mode: self.runner.runner_mode,
            parameter,
        })
    }
}

impl Registrar<'_> {
    /// Best-effort cleanup of a registration that failed half-way: the JIT
    /// runner (it can never start) and the stored configuration (a
    /// credential). What cannot be undone is logged; `reap` removes
    /// leftover runners later.
    async fn undo(&self, name: &str, id: Option<u64>, parameter: Option<&str>) {
        if let Some(id) = id
            && let Err(e) = self.github.delete_runner(id).await
        {
            tracing::warn!("could not remove runner {name} ({id}): {e}");
        }
        if let Some(parameter) = parameter
            && let Err(e) = self.ssm.delete_parameter().name(parameter).send().await
        {
            tracing::warn!(
                "could not delete {parameter}: {}",
                aws_sdk_ssm::error::DisplayErrorContext(&e)
            );
        }
    }
}

/// Runs futures concurrently on this task, results in order. The
/// client's budget, not this, decides the pace.
async fn join_all<F: Future>(futures: impl Iterator<Item = F>) -> Vec<F::Output> {
    let mut pinned: Vec<std::pin::Pin<Box<F>>> = futures.map(Box::pin).collect();
    let mut out: Vec<Option<F::Output>> = pinned.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (fut, slot) in pinned.iter_mut().zip(out.iter_mut()) {
            if slot.is_none() {
                match fut.as_mut().poll(cx) {
                    std::task::Poll::Ready(v) => *slot = Some(v),
                    std::task::Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            std::task::Poll::Pending
        } else {
            std::task::Poll::Ready(())
        }
    })
    .await;
    out.into_iter()
        .map(|v| v.expect("every future finished"))
        .collect()
}

/// The user data that turns an instance of a runner image into a runner:
/// reads its configuration from SSM (with the instance's role), deletes
/// it, starts `spot-leaser watch` when the image has it, and runs one job
/// (runners are ephemeral); the instance then shuts down, which the
/// launch template turns into termination. See `docs/runner-image.md`.
#[must_use]
pub fn boot_script(parameter_prefix: &str, watch_args: &str) -> String {
    script(parameter_prefix, watch_args, false)
}

/// The boot script of a warm instance: prepared at its first boot, it
/// powers off until a job's configuration is put and it is started.
pub(crate) fn warm_boot_script(parameter_prefix: &str, watch_args: &str) -> String {
    script(parameter_prefix, watch_args, true)
}

fn script(parameter_prefix: &str, watch_args: &str, warm: bool) -> String {
    BOOT_SCRIPT
        .replace("@PARAMETER_PREFIX@", &shell_quote(parameter_prefix))
        .replace("@WATCH_ARGS@", watch_args)
        .replace("@WARM@", if warm { "1" } else { "0" })
}

fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

const BOOT_SCRIPT: &str = include_str!("boot.sh");

#[cfg(test)]
mod tests {
    use super::*;

    fn args(labels: &[&str]) -> RunnerSpec {
        RunnerSpec {
            runner_labels: labels.iter().map(|s| (*s).to_owned()).collect(),
            ..RunnerSpec::default()
        }
    }

    #[test]
    fn labels_carry_the_size() {
        assert_eq!(
            labels(&args(&["gpu", "Linux", ""]), Some(4), Some("x64")),
            ["self-hosted", "linux", "x64", "slipway-4cpu", "gpu"]
        );
        assert!(is_size_label("slipway-16cpu"));
        assert!(!is_size_label("slipway-cpu"));
        assert!(!is_size_label("slipway-4gpu"));
    }

    #[test]
    fn the_boot_script_reads_its_own_parameter() {
        let script = boot_script("/ci/it's/", "--rerun");
        assert!(script.starts_with("#!/bin/bash\n"));
        assert!(
            script.contains(r"PARAMETER_PREFIX='/ci/it'\''s/'"),
            "{script}"
        );
        assert!(script.contains("spot-leaser watch --rerun"));
        assert!(!script.contains('@'), "every placeholder filled");
        assert!(script.contains("if [ 0 = 1 ]"), "not warm");
        assert!(warm_boot_script("/p/", "").contains("if [ 1 = 1 ]"));
    }
}

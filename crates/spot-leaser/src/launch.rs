//! `spot-leaser launch`: one instant `CreateFleet` with the best pools as
//! prioritized overrides; pools that fail are dropped and the rest tried
//! again, then on-demand if allowed. Anything failing after a launch
//! terminates what this call launched.

use anyhow::Context as _;
use aws_sdk_ec2::Client;
use aws_sdk_ec2::operation::create_fleet::CreateFleetOutput;
use aws_sdk_ec2::types::{
    DefaultTargetCapacityType, FleetLaunchTemplateConfigRequest,
    FleetLaunchTemplateOverridesRequest, FleetLaunchTemplateSpecificationRequest,
    FleetOnDemandAllocationStrategy, FleetType, OnDemandOptionsRequest, RequestLaunchTemplateData,
    ResourceType, SpotAllocationStrategy, SpotOptionsRequest, Tag, TagSpecification,
    TargetCapacitySpecificationRequest,
};
use serde::Serialize;
use slipway_spot::Candidate;
use slipway_spot::time::{format_rfc3339, parse_duration};

use crate::cli::LaunchArgs;
use crate::ec2::{self, ec2_error};
use crate::plan::{now, plan};
use crate::{NoCapacity, RegistrationFailed, UsageError};

/// Per-pool errors that mean "try the other pools", not "stop".
const POOL_ERRORS: [&str; 4] = [
    "InsufficientInstanceCapacity",
    "UnfulfillableCapacity",
    "MaxSpotInstanceCountExceeded",
    "SpotMaxPriceTooLow",
];

/// What `launch` prints: a JSON contract.
#[derive(Debug, Serialize)]
pub struct Launched {
    pub run_id: String,
    pub expires_at: String,
    pub dry_run: bool,
    pub instances: Vec<LaunchedInstance>,
    /// Pools that failed, with EC2's reason.
    pub failures: Vec<String>,
    /// The queue depth the scale rules saw and the rule that matched.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scaled: Option<Scaled>,
}

#[derive(Debug, Serialize)]
pub struct Scaled {
    pub queue_depth: usize,
    /// The matching rule, or none (`--instance-types` then).
    pub rule: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct LaunchedInstance {
    pub instance_id: String,
    pub instance_type: String,
    pub availability_zone: String,
    pub private_ip: Option<String>,
    /// `spot` or `on-demand`.
    pub lifecycle: String,
    /// The pool's current price when planned (on-demand: the table's),
    /// USD per hour.
    pub price: Option<f64>,
    /// The GitHub runner it was registered as, when asked to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub runner: Option<crate::register::RunnerInfo>,
}

/// One pool as a fleet override.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Pool {
    instance_type: String,
    availability_zone: String,
    subnet_id: Option<String>,
}

struct Request<'a> {
    client: &'a Client,
    template: &'a str,
    tags: Vec<Tag>,
    dry_run: bool,
}

/// Instances the step after launch could not make useful, with why:
/// `launch_then` terminates them and reports them as failures.
pub type Unusable = Vec<(String, String)>;

/// Launches as `spot-leaser launch` does without GitHub.
pub async fn launch(args: &LaunchArgs, client: &Client) -> anyhow::Result<Launched> {
    launch_then(args, client, None, async |_: &mut [LaunchedInstance]| {
        Ok(Unusable::new())
    })
    .await
}

/// Launches with `user_data` (else `--user-data`), then runs `after` (the
/// place for work that makes instances useful: registering them as
/// runners). Instances `after` names as unusable are terminated; when
/// `after` fails, or anything before it, everything launched is.
pub async fn launch_then(
    args: &LaunchArgs,
    client: &Client,
    user_data: Option<Vec<u8>>,
    after: impl AsyncFnOnce(&mut [LaunchedInstance]) -> anyhow::Result<Unusable>,
) -> anyhow::Result<Launched> {
    let ttl = parse_duration(&args.ttl).ok_or_else(|| {
        UsageError(format!(
            "--ttl {:?}: expected a duration like 2h or 90m",
            args.ttl
        ))
    })?;
    let planned = plan(&args.plan, Some(client)).await?;
    let eligible: Vec<&Candidate> = planned.candidates.iter().filter(|c| c.eligible).collect();
    if eligible.is_empty() {
        return Err(NoCapacity(format!(
            "no eligible pool for {} in {} ({})",
            args.plan.instance_types.join(","),
            args.plan.region,
            planned.notes.join("; ")
        ))
        .into());
    }
    let run_id = args
        .run_id
        .clone()
        .unwrap_or_else(|| slipway_cli::hex(&slipway_cli::random_bytes::<6>()));
    let expires_at = format_rfc3339(now() + ttl);
    let pools = pools(client, &eligible, &args.subnet_ids).await?;
    let user_data = match (user_data, &args.user_data) {
        (Some(data), _) => Some(data),
        (None, Some(file)) => Some(
            std::fs::read(file).with_context(|| format!("failed to read {}", file.display()))?,
        ),
        (None, None) => None,
    };

    let (template, made_here) = template_for(args, client, user_data.as_deref(), &run_id).await?;
    let request = Request {
        client,
        template: &template,
        tags: tags(&run_id, &expires_at),
        dry_run: args.dry_run,
    };
    let outcome = if args.dry_run {
        let image = if made_here {
            args.image_id.as_deref()
        } else {
            None
        };
        dry_run(&request, &pools, args.count, image)
            .await
            .map(|()| (Vec::new(), Vec::new()))
    } else {
        fill(&request, &pools, args.count, args.on_demand_fallback).await
    };
    if made_here && !args.dry_run {
        delete_template(client, &template).await;
    }
    let (ids, failures) = outcome?;
    if args.dry_run {
        return Ok(Launched {
            run_id,
            expires_at,
            dry_run: true,
            instances: Vec::new(),
            failures,
            scaled: None,
        });
    }
    let described = match finish(client, &ids, &eligible, &request.tags).await {
        Ok(mut instances) => after(&mut instances)
            .await
            .map(|unusable| (instances, unusable)),
        Err(err) => Err(err),
    };
    match described {
        Ok((instances, unusable)) => {
            let (instances, failures) =
                drop_unusable(client, args.count, instances, unusable, failures).await?;
            Ok(Launched {
                run_id,
                expires_at,
                dry_run: false,
                instances,
                failures,
                scaled: None,
            })
        }
        Err(err) => {
            tracing::error!(
                "launched {} instances, then failed; terminating them: {err:#}",
                ids.len()
            );
            ec2::terminate(client, &ids, false)
                .await
                .context("failed to terminate the instances just launched")?;
            Err(err)
        }
    }
}

/// Terminates the instances the step after launch could not use and
/// reports them; fails when none is left.
async fn drop_unusable(
    client: &Client,
    count: i32,
    mut instances: Vec<LaunchedInstance>,
    unusable: Unusable,
    mut failures: Vec<String>,
) -> anyhow::Result<(Vec<LaunchedInstance>, Vec<String>)> {
    if !unusable.is_empty() {
        let doomed: Vec<String> = unusable.iter().map(|(id, _)| id.clone()).collect();
        tracing::warn!(
            "terminating {} instances that could not be used",
            doomed.len()
        );
        ec2::terminate(client, &doomed, false)
            .await
            .context("failed to terminate instances whose registration failed")?;
        instances.retain(|i| !doomed.contains(&i.instance_id));
        failures.extend(unusable.iter().map(|(id, why)| format!("{id}: {why}")));
        if instances.is_empty() {
            return Err(RegistrationFailed(format!(
                "no instance could be registered (all {} terminated): {}",
                doomed.len(),
                unusable[0].1
            ))
            .into());
        }
    }
    if instances.len() < usize::try_from(count).unwrap_or(0) {
        tracing::warn!(
            "launched {} of {} instances: {}",
            instances.len(),
            count,
            failures.join("; ")
        );
    }
    Ok((instances, failures))
}

/// Deletes a template made for one request: the instances keep running
/// without it. A failure is only logged.
async fn delete_template(client: &Client, name: &str) {
    if let Err(e) = client
        .delete_launch_template()
        .launch_template_name(name)
        .send()
        .await
    {
        tracing::warn!(
            "could not delete the launch template {name}: {}",
            ec2_error("DeleteLaunchTemplate", &e)
        );
    }
}

/// The launch template to use: the one named, or one made for this
/// request from the image (only checked, under `--dry-run`). Returns its
/// name and whether it was made here.
async fn template_for(
    args: &LaunchArgs,
    client: &Client,
    user_data: Option<&[u8]>,
    run_id: &str,
) -> anyhow::Result<(String, bool)> {
    match (&args.launch_template, &args.image_id) {
        (Some(name), _) => Ok((name.clone(), false)),
        (None, Some(image)) => Ok((
            make_template(client, args, image, user_data, run_id).await?,
            true,
        )),
        (None, None) => Err(UsageError("give --image-id or --launch-template".to_owned()).into()),
    }
}

/// Requests spot capacity from the pools best first; drops pools that fail
/// for capacity or price and asks the rest for what is still missing; then,
/// when allowed, on-demand. Returns the instance IDs and the failures.
async fn fill(
    fleet: &impl Fleet,
    pools: &[Pool],
    count: i32,
    on_demand_fallback: bool,
) -> anyhow::Result<(Vec<String>, Vec<String>)> {
    let mut remaining: Vec<Pool> = pools.to_vec();
    let mut ids: Vec<String> = Vec::new();
    let mut failures: Vec<String> = Vec::new();
    let missing = |ids: &Vec<String>| count - i32::try_from(ids.len()).unwrap_or(i32::MAX);
    while missing(&ids) > 0 && !remaining.is_empty() {
        let output = match fleet
            .request(&remaining, missing(&ids), DefaultTargetCapacityType::Spot)
            .await
        {
            Ok(output) => output,
            Err(err) => return Err(abandon(fleet, &ids, err).await),
        };
        let before = ids.len();
        ids.extend(launched_ids(&output));
        let dropped = drop_failed_pools(&output, &mut remaining, &mut failures);
        if ids.len() == before && !dropped {
            break;
        }
    }
    if missing(&ids) > 0 && on_demand_fallback {
        tracing::warn!(
            "spot capacity short by {}: falling back to on-demand",
            missing(&ids)
        );
        match fleet
            .request(pools, missing(&ids), DefaultTargetCapacityType::OnDemand)
            .await
        {
            Ok(output) => {
                ids.extend(launched_ids(&output));
                failures.extend(output.errors().iter().map(|e| {
                    format!(
                        "on-demand: {}: {}",
                        e.error_code().unwrap_or("Unknown"),
                        e.error_message().unwrap_or_default()
                    )
                }));
            }
            Err(err) => return Err(abandon(fleet, &ids, err).await),
        }
    }
    if ids.is_empty() {
        return Err(NoCapacity(format!("no capacity in any pool: {}", failures.join("; "))).into());
    }
    Ok((ids, failures))
}

/// A request failed with instances already launched by earlier ones:
/// terminate those, and report the failure (and a failed cleanup).
async fn abandon(fleet: &impl Fleet, ids: &[String], err: anyhow::Error) -> anyhow::Error {
    match fleet.terminate(ids).await {
        Ok(()) => err,
        Err(cleanup) => err.context(format!(
            "and terminating the {} instances already launched failed too: {cleanup:#}",
            ids.len()
        )),
    }
}

/// Where fleet requests go: EC2, or a script of EC2's own responses in
/// the tests (for the errors moto never returns).
trait Fleet {
    async fn request(
        &self,
        pools: &[Pool],
        count: i32,
        kind: DefaultTargetCapacityType,
    ) -> anyhow::Result<CreateFleetOutput>;
    async fn terminate(&self, ids: &[String]) -> anyhow::Result<()>;
}

impl Fleet for Request<'_> {
    async fn request(
        &self,
        pools: &[Pool],
        count: i32,
        kind: DefaultTargetCapacityType,
    ) -> anyhow::Result<CreateFleetOutput> {
        create_fleet(self, pools, count, kind).await
    }

    async fn terminate(&self, ids: &[String]) -> anyhow::Result<()> {
        Ok(ec2::terminate(self.client, ids, false).await?)
    }
}

/// Records the fleet's per-pool errors, and drops from `remaining` the
/// pools that failed for capacity or price (those worth not asking again).
/// Returns whether any pool was dropped.
fn drop_failed_pools(
    output: &CreateFleetOutput,
    remaining: &mut Vec<Pool>,
    failures: &mut Vec<String>,
) -> bool {
    let mut dropped = false;
    for error in output.errors() {
        let code = error.error_code().unwrap_or("Unknown");
        let pool = error
            .launch_template_and_overrides()
            .and_then(|l| l.overrides())
            .map(|o| {
                (
                    o.instance_type().map(|t| t.as_str().to_owned()),
                    o.availability_zone().map(str::to_owned),
                )
            });
        let place = pool.as_ref().map_or_else(
            || "the fleet".to_owned(),
            |(t, z)| {
                format!(
                    "{} {}",
                    t.as_deref().unwrap_or("?"),
                    z.as_deref().unwrap_or("any zone")
                )
            },
        );
        failures.push(format!(
            "{code} in {place}: {}",
            error.error_message().unwrap_or_default()
        ));
        if let Some((Some(t), z)) = pool
            && POOL_ERRORS.contains(&code)
        {
            let len = remaining.len();
            remaining.retain(|p| {
                !(p.instance_type == t && z.as_deref().is_none_or(|z| z == p.availability_zone))
            });
            dropped |= remaining.len() < len;
        }
    }
    dropped
}

async fn create_fleet(
    request: &Request<'_>,
    pools: &[Pool],
    count: i32,
    kind: DefaultTargetCapacityType,
) -> anyhow::Result<CreateFleetOutput> {
    let mut config = FleetLaunchTemplateConfigRequest::builder().launch_template_specification(
        FleetLaunchTemplateSpecificationRequest::builder()
            .launch_template_name(request.template)
            .version("$Latest")
            .build(),
    );
    for (priority, pool) in pools.iter().enumerate() {
        #[expect(clippy::cast_precision_loss, reason = "a handful of priorities")]
        let mut o = FleetLaunchTemplateOverridesRequest::builder()
            .instance_type(pool.instance_type.as_str().into())
            .priority(priority as f64);
        o = match &pool.subnet_id {
            Some(subnet) => o.subnet_id(subnet),
            None => o.availability_zone(&pool.availability_zone),
        };
        config = config.overrides(o.build());
    }
    let on_demand = kind == DefaultTargetCapacityType::OnDemand;
    let capacity = TargetCapacitySpecificationRequest::builder()
        .total_target_capacity(count)
        .default_target_capacity_type(kind.clone())
        .set_spot_target_capacity(if on_demand { None } else { Some(count) })
        .set_on_demand_target_capacity(if on_demand { Some(count) } else { None })
        .build();
    let out = request
        .client
        .create_fleet()
        .r#type(FleetType::Instant)
        // A retried request with the same token never launches twice.
        .client_token(slipway_cli::hex(&slipway_cli::random_bytes::<16>()))
        .launch_template_configs(config.build())
        .target_capacity_specification(capacity)
        .spot_options(
            SpotOptionsRequest::builder()
                .allocation_strategy(SpotAllocationStrategy::CapacityOptimizedPrioritized)
                .build(),
        )
        .on_demand_options(
            OnDemandOptionsRequest::builder()
                .allocation_strategy(FleetOnDemandAllocationStrategy::Prioritized)
                .build(),
        )
        .tag_specifications(
            TagSpecification::builder()
                .resource_type(ResourceType::Instance)
                .set_tags(Some(request.tags.clone()))
                .build(),
        )
        .dry_run(request.dry_run)
        .send()
        .await
        .map_err(|e| ec2_error("CreateFleet", &e))?;
    Ok(out)
}

/// EC2's own check of the request, launching nothing. With a template
/// made for the request (so only checked, not made), the best pool is
/// checked with `RunInstances` and the image instead.
async fn dry_run(
    request: &Request<'_>,
    pools: &[Pool],
    count: i32,
    image: Option<&str>,
) -> anyhow::Result<()> {
    let result = match (image, pools.first()) {
        (Some(image), Some(best)) => {
            let mut run = request
                .client
                .run_instances()
                .image_id(image)
                .instance_type(best.instance_type.as_str().into())
                .min_count(1)
                .max_count(count)
                .dry_run(true);
            run = match &best.subnet_id {
                Some(subnet) => run.subnet_id(subnet),
                None => run.placement(
                    aws_sdk_ec2::types::Placement::builder()
                        .availability_zone(&best.availability_zone)
                        .build(),
                ),
            };
            run.send()
                .await
                .map(drop)
                .map_err(|e| ec2_error("RunInstances", &e).into())
        }
        _ => create_fleet(request, pools, count, DefaultTargetCapacityType::Spot)
            .await
            .map(drop),
    };
    match result {
        Err(err)
            if err
                .downcast_ref::<ec2::Ec2Error>()
                .is_some_and(|e| e.code == "DryRunOperation") =>
        {
            Ok(())
        }
        Err(err) => Err(err),
        Ok(()) => Err(anyhow::anyhow!("EC2 accepted a dry run as a real request")),
    }
}

/// A launch template for this request: the image and user data.
async fn make_template(
    client: &Client,
    args: &LaunchArgs,
    image: &str,
    user_data: Option<&[u8]>,
    run_id: &str,
) -> anyhow::Result<String> {
    let dry_run = args.dry_run;
    let name = format!(
        "slipway-{run_id}-{}",
        slipway_cli::hex(&slipway_cli::random_bytes::<4>())
    );
    let data = RequestLaunchTemplateData::builder()
        .image_id(image)
        .set_user_data(user_data.map(aws_smithy_types::base64::encode))
        .set_iam_instance_profile(args.iam_instance_profile.as_ref().map(|name| {
            aws_sdk_ec2::types::LaunchTemplateIamInstanceProfileSpecificationRequest::builder()
                .name(name)
                .build()
        }))
        // A runner that finishes its one job shuts down; that ends the instance.
        .instance_initiated_shutdown_behavior(aws_sdk_ec2::types::ShutdownBehavior::Terminate)
        .build();
    match client
        .create_launch_template()
        .launch_template_name(&name)
        .launch_template_data(data)
        .dry_run(dry_run)
        .send()
        .await
    {
        Ok(_) => Ok(name),
        Err(e) => {
            let err = ec2_error("CreateLaunchTemplate", &e);
            if dry_run && err.code == "DryRunOperation" {
                Ok(name)
            } else {
                Err(err.into())
            }
        }
    }
}

fn tags(run_id: &str, expires_at: &str) -> Vec<Tag> {
    [
        ("slipway:managed", "true"),
        ("slipway:run-id", run_id),
        ("slipway:expires-at", expires_at),
        ("Name", &format!("slipway-runner-{run_id}")),
    ]
    .into_iter()
    .map(|(k, v)| Tag::builder().key(k).value(v).build())
    .collect()
}

fn launched_ids(output: &CreateFleetOutput) -> Vec<String> {
    output
        .instances()
        .iter()
        .flat_map(|i| i.instance_ids().iter().cloned())
        .collect()
}

/// The pools as overrides: each eligible (type, zone), or (type, subnet)
/// for the given subnets in that zone.
async fn pools(
    client: &Client,
    eligible: &[&Candidate],
    subnet_ids: &[String],
) -> anyhow::Result<Vec<Pool>> {
    if subnet_ids.is_empty() {
        return Ok(eligible
            .iter()
            .map(|c| Pool {
                instance_type: c.instance_type.clone(),
                availability_zone: c.availability_zone.clone(),
                subnet_id: None,
            })
            .collect());
    }
    let out = client
        .describe_subnets()
        .set_subnet_ids(Some(subnet_ids.to_vec()))
        .send()
        .await
        .map_err(|e| ec2_error("DescribeSubnets", &e))?;
    let subnets: Vec<(String, String)> = out
        .subnets()
        .iter()
        .filter_map(|s| Some((s.subnet_id()?.to_owned(), s.availability_zone()?.to_owned())))
        .collect();
    let pools: Vec<Pool> = eligible
        .iter()
        .flat_map(|c| {
            subnets
                .iter()
                .filter(|(_, zone)| *zone == c.availability_zone)
                .map(|(subnet, zone)| Pool {
                    instance_type: c.instance_type.clone(),
                    availability_zone: zone.clone(),
                    subnet_id: Some(subnet.clone()),
                })
        })
        .collect();
    if pools.is_empty() {
        return Err(NoCapacity(
            "none of the eligible pools is in a zone of the given subnets".to_owned(),
        )
        .into());
    }
    Ok(pools)
}

/// Describes what launched, and tags any instance the fleet left untagged.
async fn finish(
    client: &Client,
    ids: &[String],
    eligible: &[&Candidate],
    tags: &[Tag],
) -> anyhow::Result<Vec<LaunchedInstance>> {
    let described = ec2::instances(client, ids, &[]).await?;
    let untagged: Vec<String> = described
        .iter()
        .filter(|i| ec2::tag(i, "slipway:managed") != Some("true"))
        .filter_map(|i| i.instance_id().map(str::to_owned))
        .collect();
    if !untagged.is_empty() {
        client
            .create_tags()
            .set_resources(Some(untagged))
            .set_tags(Some(tags.to_vec()))
            .send()
            .await
            .map_err(|e| ec2_error("CreateTags", &e))?;
    }
    Ok(described
        .iter()
        .map(|i| {
            let instance_type = i.instance_type().map_or("", |t| t.as_str()).to_owned();
            let availability_zone = i
                .placement()
                .and_then(|p| p.availability_zone())
                .unwrap_or("")
                .to_owned();
            let spot = i.instance_lifecycle().is_some_and(|l| l.as_str() == "spot");
            // The plan priced every pool from its own tables: spot by the
            // pool, on-demand by the type.
            let price = if spot {
                eligible
                    .iter()
                    .find(|c| {
                        c.instance_type == instance_type && c.availability_zone == availability_zone
                    })
                    .map(|c| c.current_price)
            } else {
                eligible
                    .iter()
                    .find(|c| c.instance_type == instance_type)
                    .and_then(|c| c.on_demand_price)
            };
            LaunchedInstance {
                instance_id: i.instance_id().unwrap_or("").to_owned(),
                instance_type,
                availability_zone,
                private_ip: i.private_ip_address().map(str::to_owned),
                lifecycle: if spot { "spot" } else { "on-demand" }.to_owned(),
                price,
                runner: None,
            }
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use aws_sdk_ec2::types::{
        CreateFleetError, FleetLaunchTemplateOverrides, InstanceType,
        LaunchTemplateAndOverridesResponse,
    };

    use super::*;

    fn pool(t: &str, z: &str) -> Pool {
        Pool {
            instance_type: t.into(),
            availability_zone: z.into(),
            subnet_id: None,
        }
    }

    fn error(code: &str, t: InstanceType, zone: Option<&str>) -> CreateFleetError {
        CreateFleetError::builder()
            .error_code(code)
            .error_message("from the EC2 API reference's examples")
            .launch_template_and_overrides(
                LaunchTemplateAndOverridesResponse::builder()
                    .overrides(
                        FleetLaunchTemplateOverrides::builder()
                            .instance_type(t)
                            .set_availability_zone(zone.map(str::to_owned))
                            .build(),
                    )
                    .build(),
            )
            .build()
    }

    /// EC2's responses, in order, and what was asked of it.
    struct Scripted {
        responses: std::sync::Mutex<std::collections::VecDeque<anyhow::Result<CreateFleetOutput>>>,
        asked: std::sync::Mutex<Vec<(usize, i32, DefaultTargetCapacityType)>>,
        terminated: std::sync::Mutex<Vec<String>>,
    }

    impl Scripted {
        fn new(responses: Vec<anyhow::Result<CreateFleetOutput>>) -> Scripted {
            Scripted {
                responses: std::sync::Mutex::new(responses.into()),
                asked: std::sync::Mutex::new(Vec::new()),
                terminated: std::sync::Mutex::new(Vec::new()),
            }
        }
    }

    impl Fleet for Scripted {
        async fn request(
            &self,
            pools: &[Pool],
            count: i32,
            kind: DefaultTargetCapacityType,
        ) -> anyhow::Result<CreateFleetOutput> {
            self.asked.lock().unwrap().push((pools.len(), count, kind));
            self.responses
                .lock()
                .unwrap()
                .pop_front()
                .expect("a scripted response")
        }

        async fn terminate(&self, ids: &[String]) -> anyhow::Result<()> {
            self.terminated.lock().unwrap().extend(ids.iter().cloned());
            Ok(())
        }
    }

    fn launched(ids: &[&str]) -> aws_sdk_ec2::types::CreateFleetInstance {
        let mut i = aws_sdk_ec2::types::CreateFleetInstance::builder();
        for id in ids {
            i = i.instance_ids(*id);
        }
        i.build()
    }

    fn block_on<F: std::future::Future>(f: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(f)
    }

    fn two_pools() -> Vec<Pool> {
        vec![
            pool("c5.large", "us-east-1a"),
            pool("c5.large", "us-east-1b"),
        ]
    }

    #[test]
    fn a_pool_without_capacity_is_dropped_and_the_rest_asked_for_what_is_missing() {
        let fleet = Scripted::new(vec![
            Ok(CreateFleetOutput::builder()
                .instances(launched(&["i-1"]))
                .errors(error(
                    "InsufficientInstanceCapacity",
                    InstanceType::C5Large,
                    Some("us-east-1a"),
                ))
                .build()),
            Ok(CreateFleetOutput::builder()
                .instances(launched(&["i-2"]))
                .build()),
        ]);
        let (ids, failures) = block_on(fill(&fleet, &two_pools(), 2, false)).unwrap();
        assert_eq!(ids, ["i-1", "i-2"]);
        assert_eq!(failures.len(), 1);
        let asked = fleet.asked.lock().unwrap().clone();
        assert_eq!(
            asked,
            [
                (2, 2, DefaultTargetCapacityType::Spot),
                (1, 1, DefaultTargetCapacityType::Spot)
            ]
        );
    }

    #[test]
    fn no_spot_capacity_anywhere_falls_back_to_on_demand_when_allowed() {
        let no_spot = || {
            Ok(CreateFleetOutput::builder()
                .errors(error(
                    "InsufficientInstanceCapacity",
                    InstanceType::C5Large,
                    Some("us-east-1a"),
                ))
                .errors(error(
                    "InsufficientInstanceCapacity",
                    InstanceType::C5Large,
                    Some("us-east-1b"),
                ))
                .build())
        };
        let fleet = Scripted::new(vec![
            no_spot(),
            Ok(CreateFleetOutput::builder()
                .instances(launched(&["i-od"]))
                .build()),
        ]);
        let (ids, _) = block_on(fill(&fleet, &two_pools(), 1, true)).unwrap();
        assert_eq!(ids, ["i-od"]);
        assert_eq!(
            fleet.asked.lock().unwrap()[1],
            (2, 1, DefaultTargetCapacityType::OnDemand)
        );

        let fleet = Scripted::new(vec![no_spot()]);
        let err = block_on(fill(&fleet, &two_pools(), 1, false)).unwrap_err();
        assert!(
            err.to_string().starts_with(
                "no capacity in any pool: InsufficientInstanceCapacity in c5.large us-east-1a"
            ),
            "{err}"
        );
        assert!(fleet.terminated.lock().unwrap().is_empty());
    }

    #[test]
    fn a_request_failing_after_a_partial_launch_terminates_what_launched() {
        let fleet = Scripted::new(vec![
            Ok(CreateFleetOutput::builder()
                .instances(launched(&["i-1"]))
                .errors(error(
                    "UnfulfillableCapacity",
                    InstanceType::C5Large,
                    Some("us-east-1a"),
                ))
                .build()),
            Err(anyhow::anyhow!("RequestLimitExceeded after retries")),
        ]);
        let err = block_on(fill(&fleet, &two_pools(), 2, false)).unwrap_err();
        assert_eq!(err.to_string(), "RequestLimitExceeded after retries");
        assert_eq!(*fleet.terminated.lock().unwrap(), ["i-1"]);
    }

    /// The errors moto never returns, on EC2's own response types.
    #[test]
    fn capacity_and_price_errors_drop_their_pools_only() {
        let output = CreateFleetOutput::builder()
            .errors(error(
                "InsufficientInstanceCapacity",
                InstanceType::C5Large,
                Some("us-east-1a"),
            ))
            .errors(error("SpotMaxPriceTooLow", InstanceType::M5Large, None))
            .errors(error(
                "InvalidParameterValue",
                InstanceType::C5Xlarge,
                Some("us-east-1b"),
            ))
            .build();
        let mut remaining = vec![
            pool("c5.large", "us-east-1a"),
            pool("c5.large", "us-east-1b"),
            pool("m5.large", "us-east-1a"),
            pool("m5.large", "us-east-1b"),
            pool("c5.xlarge", "us-east-1b"),
        ];
        let mut failures = Vec::new();
        assert!(drop_failed_pools(&output, &mut remaining, &mut failures));
        // c5.large only in the zone that failed; m5.large everywhere (no
        // zone given); an invalid request is reported, not a capacity signal.
        assert_eq!(
            remaining,
            [
                pool("c5.large", "us-east-1b"),
                pool("c5.xlarge", "us-east-1b")
            ]
        );
        assert_eq!(failures.len(), 3);
        assert!(
            failures[0].starts_with("InsufficientInstanceCapacity in c5.large us-east-1a"),
            "{failures:?}"
        );
        assert!(
            failures[1].starts_with("SpotMaxPriceTooLow in m5.large any zone"),
            "{failures:?}"
        );

        let output = CreateFleetOutput::builder()
            .errors(error(
                "MaxSpotInstanceCountExceeded",
                InstanceType::C5Xlarge,
                Some("us-east-1b"),
            ))
            .errors(error(
                "UnfulfillableCapacity",
                InstanceType::C5Large,
                Some("us-east-1b"),
            ))
            .build();
        assert!(drop_failed_pools(&output, &mut remaining, &mut failures));
        assert!(remaining.is_empty());
    }
}

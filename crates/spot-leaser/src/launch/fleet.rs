//! Asking EC2 for capacity: one instant `CreateFleet` per round with the
//! remaining pools as prioritized overrides, pools that fail for capacity
//! or price dropped, then on-demand when allowed. `Fleet` is the seam that
//! lets the tests replay EC2's own response types for errors moto never
//! returns.

use aws_sdk_ec2::Client;
use aws_sdk_ec2::operation::create_fleet::CreateFleetOutput;
use aws_sdk_ec2::types::{
    DefaultTargetCapacityType, FleetLaunchTemplateConfigRequest,
    FleetLaunchTemplateOverridesRequest, FleetLaunchTemplateSpecificationRequest,
    FleetOnDemandAllocationStrategy, FleetType, OnDemandOptionsRequest, ResourceType,
    SpotAllocationStrategy, SpotOptionsRequest, Tag, TagSpecification,
    TargetCapacitySpecificationRequest,
};

use crate::ec2::{self, ec2_error};
use crate::output::{Failure, FailureKind};
use crate::{Error, Result};

/// Per-pool errors that mean "try the other pools", not "stop".
const POOL_ERRORS: [&str; 4] = [
    "InsufficientInstanceCapacity",
    "UnfulfillableCapacity",
    "MaxSpotInstanceCountExceeded",
    "SpotMaxPriceTooLow",
];

/// One pool as a fleet override.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Pool {
    pub(super) instance_type: String,
    pub(super) availability_zone: String,
    pub(super) subnet_id: Option<String>,
}

pub(super) struct Request<'a> {
    pub(super) client: &'a Client,
    pub(super) template: &'a str,
    pub(super) tags: Vec<Tag>,
    pub(super) dry_run: bool,
    /// The idempotency token; each request makes its own without one.
    pub(super) client_token: Option<&'a str>,
}

/// What capacity a fill asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Capacity {
    /// Spot only.
    Spot,
    /// Spot, then on-demand for what spot could not give.
    SpotThenOnDemand,
    /// On-demand only.
    OnDemand,
}

/// Requests spot capacity from the pools best first; drops pools that fail
/// for capacity or price and asks the rest for what is still missing; then,
/// when allowed, on-demand. Returns the instance IDs and the failures.
pub(super) async fn fill(
    fleet: &impl Fleet,
    pools: &[Pool],
    count: i32,
    capacity: Capacity,
) -> Result<(Vec<String>, Vec<Failure>)> {
    let on_demand_fallback = capacity != Capacity::Spot;
    let mut remaining: Vec<Pool> = if capacity == Capacity::OnDemand {
        Vec::new()
    } else {
        pools.to_vec()
    };
    let mut ids: Vec<String> = Vec::new();
    let mut failures: Vec<Failure> = Vec::new();
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
        if capacity == Capacity::SpotThenOnDemand {
            tracing::warn!(
                "spot capacity short by {}: falling back to on-demand",
                missing(&ids)
            );
        }
        match fleet
            .request(pools, missing(&ids), DefaultTargetCapacityType::OnDemand)
            .await
        {
            Ok(output) => {
                ids.extend(launched_ids(&output));
                failures.extend(output.errors().iter().map(|e| Failure {
                    kind: FailureKind::OnDemand,
                    code: Some(e.error_code().unwrap_or("Unknown").to_owned()),
                    place: "on-demand".to_owned(),
                    message: e.error_message().unwrap_or_default().to_owned(),
                }));
            }
            Err(err) => return Err(abandon(fleet, &ids, err).await),
        }
    }
    if ids.is_empty() {
        let text: Vec<String> = failures.iter().map(ToString::to_string).collect();
        return Err(Error::NoCapacity(format!(
            "no capacity in any pool: {}",
            text.join("; ")
        )));
    }
    Ok((ids, failures))
}

/// A request failed with instances already launched by earlier ones:
/// terminate those, and report the failure (and a failed cleanup).
async fn abandon(fleet: &impl Fleet, ids: &[String], err: Error) -> Error {
    if ids.is_empty() {
        return err;
    }
    let cleanup = fleet.terminate(ids).await.err();
    Error::AfterLaunch {
        launched: ids.len(),
        source: Box::new(err),
        cleanup: cleanup.map(Box::new),
    }
}

/// Where fleet requests go: EC2, or a script of EC2's own responses in
/// the tests (for the errors moto never returns).
pub(super) trait Fleet {
    async fn request(
        &self,
        pools: &[Pool],
        count: i32,
        kind: DefaultTargetCapacityType,
    ) -> Result<CreateFleetOutput>;
    async fn terminate(&self, ids: &[String]) -> Result<()>;
}

impl Fleet for Request<'_> {
    async fn request(
        &self,
        pools: &[Pool],
        count: i32,
        kind: DefaultTargetCapacityType,
    ) -> Result<CreateFleetOutput> {
        create_fleet(self, pools, count, kind).await
    }

    async fn terminate(&self, ids: &[String]) -> Result<()> {
        Ok(ec2::terminate(self.client, ids, false).await?)
    }
}

/// Records the fleet's per-pool errors, and drops from `remaining` the
/// pools that failed for capacity or price (those worth not asking again).
/// Returns whether any pool was dropped.
fn drop_failed_pools(
    output: &CreateFleetOutput,
    remaining: &mut Vec<Pool>,
    failures: &mut Vec<Failure>,
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
        failures.push(Failure {
            kind: FailureKind::Pool,
            code: Some(code.to_owned()),
            place,
            message: error.error_message().unwrap_or_default().to_owned(),
        });
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

pub(super) async fn create_fleet(
    request: &Request<'_>,
    pools: &[Pool],
    count: i32,
    kind: DefaultTargetCapacityType,
) -> Result<CreateFleetOutput> {
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
        .client_token(request.client_token.map_or_else(
            || slipway_cli::hex(&slipway_cli::random_bytes::<16>()),
            str::to_owned,
        ))
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

fn launched_ids(output: &CreateFleetOutput) -> Vec<String> {
    output
        .instances()
        .iter()
        .flat_map(|i| i.instance_ids().iter().cloned())
        .collect()
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
        responses: std::sync::Mutex<std::collections::VecDeque<Result<CreateFleetOutput>>>,
        asked: std::sync::Mutex<Vec<(usize, i32, DefaultTargetCapacityType)>>,
        terminated: std::sync::Mutex<Vec<String>>,
    }

    impl Scripted {
        fn new(responses: Vec<Result<CreateFleetOutput>>) -> Scripted {
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
        ) -> Result<CreateFleetOutput> {
            self.asked.lock().unwrap().push((pools.len(), count, kind));
            self.responses
                .lock()
                .unwrap()
                .pop_front()
                .expect("a scripted response")
        }

        async fn terminate(&self, ids: &[String]) -> Result<()> {
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
        let (ids, failures) = block_on(fill(&fleet, &two_pools(), 2, Capacity::Spot)).unwrap();
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
        let (ids, _) = block_on(fill(&fleet, &two_pools(), 1, Capacity::SpotThenOnDemand)).unwrap();
        assert_eq!(ids, ["i-od"]);
        assert_eq!(
            fleet.asked.lock().unwrap()[1],
            (2, 1, DefaultTargetCapacityType::OnDemand)
        );

        let fleet = Scripted::new(vec![no_spot()]);
        let err = block_on(fill(&fleet, &two_pools(), 1, Capacity::Spot)).unwrap_err();
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
            Err(Error::Ec2(ec2::Ec2Error {
                operation: "CreateFleet",
                code: "RequestLimitExceeded".to_owned(),
                message: "after retries".to_owned(),
            })),
        ]);
        let err = block_on(fill(&fleet, &two_pools(), 2, Capacity::Spot)).unwrap_err();
        assert_eq!(
            slipway_cli::chain(&err),
            "launched 1 instances, then failed: EC2 CreateFleet failed: RequestLimitExceeded: after retries"
        );
        assert_eq!(err.exit(), crate::Exit::Ec2, "the first failure decides");
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
            failures[0]
                .to_string()
                .starts_with("InsufficientInstanceCapacity in c5.large us-east-1a"),
            "{failures:?}"
        );
        assert!(
            failures[1]
                .to_string()
                .starts_with("SpotMaxPriceTooLow in m5.large any zone"),
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

    #[test]
    fn on_demand_only_never_asks_for_spot() {
        let fleet = Scripted::new(vec![Ok(CreateFleetOutput::builder()
            .instances(launched(&["i-od"]))
            .build())]);
        let (ids, _) = block_on(fill(&fleet, &two_pools(), 1, Capacity::OnDemand)).unwrap();
        assert_eq!(ids, ["i-od"]);
        assert_eq!(
            *fleet.asked.lock().unwrap(),
            [(2, 1, DefaultTargetCapacityType::OnDemand)],
            "one on-demand request over every pool, no spot round"
        );
    }
}

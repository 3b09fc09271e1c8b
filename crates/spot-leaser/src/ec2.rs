//! The EC2 calls, in EC2's own types; everything else works on
//! `slipway-spot`'s plain data.

use crate::tags;
use std::collections::HashMap;

use aws_config::BehaviorVersion;
use aws_sdk_ec2::Client;
use aws_sdk_ec2::primitives::DateTime;
use aws_sdk_ec2::types::{Filter, Instance};
use slipway_spot::PriceChange;

/// An EC2 call that failed, with EC2's code when it gave one.
#[derive(Debug, thiserror::Error)]
#[error("EC2 {operation} failed: {code}: {message}")]
pub struct Ec2Error {
    pub operation: &'static str,
    pub code: String,
    pub message: String,
}

pub(crate) fn ec2_error<E>(
    operation: &'static str,
    err: &aws_sdk_ec2::error::SdkError<E>,
) -> Ec2Error
where
    E: aws_sdk_ec2::error::ProvideErrorMetadata + std::error::Error + 'static,
{
    let (code, message) = match err.as_service_error() {
        Some(service) => (
            service.code().unwrap_or("Unknown").to_owned(),
            service.message().unwrap_or_default().to_owned(),
        ),
        None => (
            "Transport".to_owned(),
            format!("{}", aws_sdk_ec2::error::DisplayErrorContext(err)),
        ),
    };
    Ec2Error {
        operation,
        code,
        message,
    }
}

/// A client for `region` from the standard credential chain and endpoint
/// settings (`AWS_ENDPOINT_URL` reaches a non-AWS endpoint).
pub async fn client(region: &str) -> Client {
    let config = aws_config::defaults(BehaviorVersion::latest())
        .region(aws_config::Region::new(region.to_owned()))
        .load()
        .await;
    Client::new(&config)
}

/// Price changes for `types` over `[start, end]`, every zone, Linux/UNIX,
/// following every page. EC2 adds the last change before `start`.
pub(crate) async fn price_history(
    client: &Client,
    types: &[String],
    start: i64,
    end: i64,
) -> Result<Vec<PriceChange>, Ec2Error> {
    let mut pages = client
        .describe_spot_price_history()
        .set_instance_types(Some(types.iter().map(|t| t.as_str().into()).collect()))
        .product_descriptions("Linux/UNIX")
        .start_time(DateTime::from_secs(start))
        .end_time(DateTime::from_secs(end))
        .into_paginator()
        .send();
    let mut out = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| ec2_error("DescribeSpotPriceHistory", &e))?;
        for record in page.spot_price_history() {
            let (Some(zone), Some(kind), Some(price), Some(at)) = (
                record.availability_zone(),
                record.instance_type(),
                record.spot_price().and_then(|p| p.parse::<f64>().ok()),
                record.timestamp(),
            ) else {
                continue;
            };
            out.push(PriceChange {
                availability_zone: zone.to_owned(),
                instance_type: kind.as_str().to_owned(),
                product: record
                    .product_description()
                    .map_or("Linux/UNIX", |p| p.as_str())
                    .to_owned(),
                price,
                at: at.secs(),
            });
        }
    }
    Ok(out)
}

/// Zone names to zone IDs.
pub(crate) async fn zone_ids(client: &Client) -> Result<HashMap<String, String>, Ec2Error> {
    let out = client
        .describe_availability_zones()
        .send()
        .await
        .map_err(|e| ec2_error("DescribeAvailabilityZones", &e))?;
    Ok(out
        .availability_zones()
        .iter()
        .filter_map(|z| Some((z.zone_name()?.to_owned(), z.zone_id()?.to_owned())))
        .collect())
}

/// Placement scores by zone ID, or why there are none. Not retried: the
/// call is limited per day, and an endpoint without it (moto answers 500)
/// must not stall the plan.
pub(crate) async fn placement_scores(
    client: &Client,
    region: &str,
    types: &[String],
    capacity: i32,
) -> Result<HashMap<String, u8>, String> {
    let retries = aws_sdk_ec2::config::Builder::default()
        .retry_config(aws_config::retry::RetryConfig::disabled());
    let out = client
        .get_spot_placement_scores()
        .set_instance_types(Some(types.to_vec()))
        .target_capacity(capacity)
        .single_availability_zone(true)
        .region_names(region)
        .customize()
        .config_override(retries)
        .send()
        .await
        .map_err(|e| ec2_error("GetSpotPlacementScores", &e).to_string())?;
    Ok(out
        .spot_placement_scores()
        .iter()
        .filter_map(|s| {
            Some((
                s.availability_zone_id()?.to_owned(),
                u8::try_from(s.score()?).ok()?,
            ))
        })
        .collect())
}

/// Instances with every tag in `tags` (`("slipway:managed", "true")`), in
/// any state but terminated, or these ids.
pub(crate) async fn instances(
    client: &Client,
    ids: &[String],
    tags: &[(&str, &str)],
) -> Result<Vec<Instance>, Ec2Error> {
    let mut request = client.describe_instances().filters(
        Filter::builder()
            .name("instance-state-name")
            .set_values(Some(
                ["pending", "running", "stopping", "stopped"]
                    .map(str::to_owned)
                    .to_vec(),
            ))
            .build(),
    );
    if !ids.is_empty() {
        request = request.set_instance_ids(Some(ids.to_vec()));
    }
    every_instance(with_tags(request, tags)).await
}

/// `request` filtered on every tag in `tags`.
fn with_tags(
    mut request: aws_sdk_ec2::operation::describe_instances::builders::DescribeInstancesFluentBuilder,
    tags: &[(&str, &str)],
) -> aws_sdk_ec2::operation::describe_instances::builders::DescribeInstancesFluentBuilder {
    for (key, value) in tags {
        request = request.filters(
            Filter::builder()
                .name(format!("tag:{key}"))
                .values(*value)
                .build(),
        );
    }
    request
}

/// Every instance a `DescribeInstances` request finds, all pages.
async fn every_instance(
    request: aws_sdk_ec2::operation::describe_instances::builders::DescribeInstancesFluentBuilder,
) -> Result<Vec<Instance>, Ec2Error> {
    let mut pages = request.into_paginator().send();
    let mut out = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| ec2_error("DescribeInstances", &e))?;
        for reservation in page.reservations() {
            out.extend(reservation.instances().iter().cloned());
        }
    }
    Ok(out)
}

pub(crate) fn tag<'a>(instance: &'a Instance, key: &str) -> Option<&'a str> {
    instance
        .tags()
        .iter()
        .find(|t| t.key() == Some(key))
        .and_then(|t| t.value())
}

/// Terminates instances; with `dry_run`, asks EC2 whether it would.
pub(crate) async fn terminate(
    client: &Client,
    ids: &[String],
    dry_run: bool,
) -> Result<(), Ec2Error> {
    if ids.is_empty() {
        return Ok(());
    }
    match client
        .terminate_instances()
        .set_instance_ids(Some(ids.to_vec()))
        .dry_run(dry_run)
        .send()
        .await
    {
        Ok(_) => Ok(()),
        Err(e) => {
            let err = ec2_error("TerminateInstances", &e);
            if dry_run && err.code == "DryRunOperation" {
                Ok(())
            } else {
                Err(err)
            }
        }
    }
}

/// vCPUs and architecture (`x64`, `arm64`) of instance types.
pub(crate) async fn instance_shapes(
    client: &Client,
    types: &[String],
) -> Result<HashMap<String, (i32, Option<String>)>, Ec2Error> {
    if types.is_empty() {
        return Ok(HashMap::new());
    }
    let out = client
        .describe_instance_types()
        .set_instance_types(Some(types.iter().map(|t| t.as_str().into()).collect()))
        .send()
        .await
        .map_err(|e| ec2_error("DescribeInstanceTypes", &e))?;
    Ok(shapes_map(out.instance_types()))
}

/// vCPUs and architecture by type name, from `DescribeInstanceTypes`.
fn shapes_map(
    types: &[aws_sdk_ec2::types::InstanceTypeInfo],
) -> HashMap<String, (i32, Option<String>)> {
    types
        .iter()
        .filter_map(|t| {
            let name = t.instance_type()?.as_str().to_owned();
            let vcpus = t.v_cpu_info()?.default_v_cpus()?;
            let arch = t
                .processor_info()
                .and_then(|p| p.supported_architectures().first())
                .map(|a| match a.as_str() {
                    "x86_64" => "x64".to_owned(),
                    other => other.to_owned(),
                });
            Some((name, (vcpus, arch)))
        })
        .collect()
}

/// An instance's type, zone and lifecycle, as `launch` and `cost` report
/// them (empty when EC2 left them out).
pub(crate) fn shape(instance: &Instance) -> (String, String, crate::output::Lifecycle) {
    let instance_type = instance.instance_type().map_or("", |t| t.as_str());
    let zone = instance
        .placement()
        .and_then(|p| p.availability_zone())
        .unwrap_or("");
    let lifecycle = if instance
        .instance_lifecycle()
        .is_some_and(|l| l.as_str() == "spot")
    {
        crate::output::Lifecycle::Spot
    } else {
        crate::output::Lifecycle::OnDemand
    };
    (instance_type.to_owned(), zone.to_owned(), lifecycle)
}

/// Adds tags to one instance.
pub(crate) async fn create_tags(
    client: &Client,
    id: &str,
    tags: &[(&str, String)],
) -> Result<(), Ec2Error> {
    client
        .create_tags()
        .resources(id)
        .set_tags(Some(
            tags.iter()
                .map(|(k, v)| aws_sdk_ec2::types::Tag::builder().key(*k).value(v).build())
                .collect(),
        ))
        .send()
        .await
        .map(drop)
        .map_err(|e| ec2_error("CreateTags", &e))
}

/// Instances by id in any state, terminated included (EC2 keeps those
/// visible for about an hour, with the reason they ended).
pub(crate) async fn instances_any_state(
    client: &Client,
    ids: &[String],
) -> Result<Vec<Instance>, Ec2Error> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    every_instance(
        client.describe_instances().filters(
            Filter::builder()
                .name("instance-id")
                .set_values(Some(ids.to_vec()))
                .build(),
        ),
    )
    .await
}

/// An SSM client for `region`, from the same chain as [`client`].
pub(crate) async fn ssm_client(region: &str) -> aws_sdk_ssm::Client {
    let config = aws_config::defaults(BehaviorVersion::latest())
        .region(aws_config::Region::new(region.to_owned()))
        .load()
        .await;
    aws_sdk_ssm::Client::new(&config)
}

/// Managed instances with every tag in `tags`, in any state, terminated
/// included (EC2 keeps those visible for about an hour).
pub(crate) async fn tagged_any_state(
    client: &Client,
    tags: &[(&str, &str)],
) -> Result<Vec<Instance>, Ec2Error> {
    every_instance(with_tags(client.describe_instances(), tags)).await
}

/// A spot interruption of an instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Interruption {
    /// When, in seconds since the epoch, where known.
    pub(crate) at: Option<i64>,
}

/// Whether EC2 ended `instance` for capacity: the record `watch` leaves
/// (`slipway:interrupted-at`) or EC2's own state reason.
pub(crate) fn interrupted(instance: &Instance) -> Option<Interruption> {
    if let Some(at) = tag(instance, tags::INTERRUPTED_AT) {
        return Some(Interruption {
            at: slipway_spot::time::parse_rfc3339(at),
        });
    }
    instance
        .state_reason()
        .and_then(|r| r.code())
        .is_some_and(|c| c == "Server.SpotInstanceTermination")
        .then_some(Interruption { at: None })
}

/// An instance's state name (`running`, `stopped`, …).
pub(crate) fn state(instance: &Instance) -> &str {
    instance
        .state()
        .and_then(|s| s.name())
        .map_or("", |n| n.as_str())
}

/// Starts stopped instances.
pub(crate) async fn start(client: &Client, ids: &[String]) -> Result<(), Ec2Error> {
    client
        .start_instances()
        .set_instance_ids(Some(ids.to_vec()))
        .send()
        .await
        .map(drop)
        .map_err(|e| ec2_error("StartInstances", &e))
}

/// These instances in any state; an id EC2 does not know is an error
/// (`InvalidInstanceID.NotFound`), unlike [`instances_any_state`].
pub(crate) async fn described(client: &Client, ids: &[String]) -> Result<Vec<Instance>, Ec2Error> {
    every_instance(
        client
            .describe_instances()
            .set_instance_ids(Some(ids.to_vec())),
    )
    .await
}

//! Where to launch and what launched: the pools as overrides (zones, or
//! the given subnets in them), and the launched instances described,
//! tagged where the fleet left them untagged, and priced from the plan.

use crate::output::Candidate;
use crate::tags;
use aws_sdk_ec2::Client;
use aws_sdk_ec2::types::Tag;

use super::fleet::Pool;
use crate::ec2::{self, ec2_error};
use crate::output::{LaunchedInstance, Lifecycle};
use crate::{Error, Result};

/// The pools as overrides: each eligible (type, zone), or (type, subnet)
/// for the given subnets in that zone.
pub(super) async fn pools(
    client: &Client,
    eligible: &[Candidate],
    subnet_ids: &[String],
) -> Result<Vec<Pool>> {
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
        return Err(Error::NoCapacity(
            "none of the eligible pools is in a zone of the given subnets".to_owned(),
        ));
    }
    Ok(pools)
}

/// Describes what launched, and tags any instance the fleet left untagged.
pub(super) async fn finish(
    client: &Client,
    ids: &[String],
    eligible: &[Candidate],
    tags: &[Tag],
) -> Result<Vec<LaunchedInstance>> {
    let described = ec2::instances(client, ids, &[]).await?;
    let untagged: Vec<String> = described
        .iter()
        .filter(|i| ec2::tag(i, tags::MANAGED) != Some(tags::TRUE))
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
            let (instance_type, availability_zone, lifecycle) = ec2::shape(i);
            let spot = lifecycle == Lifecycle::Spot;
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
                lifecycle,
                price,
                runner: None,
            }
        })
        .collect())
}

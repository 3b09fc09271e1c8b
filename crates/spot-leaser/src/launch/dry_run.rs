//! `launch --dry-run`: EC2's own check of the request, launching nothing
//! and making nothing. With a template that would be made for the request
//! (so only checked, not made), the best pool is checked with
//! `RunInstances` and the image instead.

use aws_sdk_ec2::Client;
use aws_sdk_ec2::types::DefaultTargetCapacityType;

use super::Prepared;
use super::fleet::{self, Pool, Request};
use crate::ec2::ec2_error;
use crate::output::{Launched, OUTPUT_VERSION};
use crate::spec::LaunchSpec;
use crate::{Error, Result};

/// Checks the launch `args` describe; an empty launch when EC2 agrees.
pub(super) async fn check(
    args: &LaunchSpec,
    client: &Client,
    prepared: &Prepared,
) -> Result<Launched> {
    let (template, made_here) = prepared.template(args, client).await?;
    let request = prepared.request(client, &template, true);
    let image = if made_here {
        args.image_id.as_deref()
    } else {
        None
    };
    let result = match (image, prepared.pools.first()) {
        (Some(image), Some(best)) => run_instances(&request, best, args.count, image).await,
        _ => fleet::create_fleet(
            &request,
            &prepared.pools,
            args.count,
            DefaultTargetCapacityType::Spot,
        )
        .await
        .map(drop),
    };
    match result {
        Err(Error::Ec2(e)) if e.code == "DryRunOperation" => Ok(Launched {
            version: OUTPUT_VERSION,
            run_id: prepared.run_id.clone(),
            expires_at: prepared.expires_at.clone(),
            dry_run: true,
            instances: Vec::new(),
            failures: Vec::new(),
            scaled: None,
        }),
        Err(err) => Err(err),
        Ok(()) => Err(Error::DryRunAccepted),
    }
}

async fn run_instances(request: &Request<'_>, best: &Pool, count: i32, image: &str) -> Result<()> {
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

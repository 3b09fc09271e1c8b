//! The launch template of a request: the one named, or one made for it
//! from the image and user data (deleted once the fleet request is done;
//! instances keep running without it), and the tags every instance carries.

use crate::tags;
use aws_sdk_ec2::Client;
use aws_sdk_ec2::types::{RequestLaunchTemplateData, Tag};

use crate::ec2::ec2_error;
use crate::spec::LaunchSpec;
use crate::{Error, Result};

/// The launch template to use: the one named, or one made for this
/// request from the image (only checked, under `--dry-run`). Returns its
/// name and whether it was made here.
pub(super) async fn template_for(
    args: &LaunchSpec,
    client: &Client,
    user_data: Option<&[u8]>,
    run_id: &str,
) -> Result<(String, bool)> {
    match (&args.launch_template, &args.image_id) {
        (Some(name), _) => Ok((name.clone(), false)),
        (None, Some(image)) => Ok((
            make_template(client, args, image, user_data, run_id).await?,
            true,
        )),
        (None, None) => Err(Error::Arguments("give --image-id or --launch-template")),
    }
}

/// A launch template for this request: the image and user data.
async fn make_template(
    client: &Client,
    args: &LaunchSpec,
    image: &str,
    user_data: Option<&[u8]>,
    run_id: &str,
) -> Result<String> {
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

/// Deletes a template made for one request: the instances keep running
/// without it. A failure is only logged.
pub(crate) async fn delete(client: &Client, name: &str) {
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

/// The tags every instance of a run carries; `reap` and `cost` find them.
pub(super) fn tags(run_id: &str, expires_at: &str) -> Vec<Tag> {
    [
        (tags::MANAGED, tags::TRUE),
        (tags::RUN_ID, run_id),
        (tags::EXPIRES_AT, expires_at),
        ("Name", &format!("slipway-runner-{run_id}")),
    ]
    .into_iter()
    .map(|(k, v)| Tag::builder().key(k).value(v).build())
    .collect()
}

/// A launch template `serve` makes by name: for one job (the lock that
/// lets one replica only launch for it) or for a pool's warm instances.
pub(crate) struct Named<'a> {
    pub(crate) name: &'a str,
    pub(crate) image_id: &'a str,
    pub(crate) user_data: &'a [u8],
    pub(crate) iam_instance_profile: Option<&'a str>,
    /// Warm instances stop when they power off; the others terminate.
    pub(crate) stop_on_shutdown: bool,
}

/// Whether [`create_named`] made the template or found it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Made {
    Now,
    /// It existed already, made at this time (seconds since the epoch).
    Before(i64),
}

/// Makes the template, or says when the existing one of that name was
/// made: EC2 makes a name once, so the first caller wins.
pub(crate) async fn create_named(client: &Client, t: &Named<'_>) -> Result<Made> {
    let data = RequestLaunchTemplateData::builder()
        .image_id(t.image_id)
        .user_data(aws_smithy_types::base64::encode(t.user_data))
        .set_iam_instance_profile(t.iam_instance_profile.map(|name| {
            aws_sdk_ec2::types::LaunchTemplateIamInstanceProfileSpecificationRequest::builder()
                .name(name)
                .build()
        }))
        .instance_initiated_shutdown_behavior(if t.stop_on_shutdown {
            aws_sdk_ec2::types::ShutdownBehavior::Stop
        } else {
            aws_sdk_ec2::types::ShutdownBehavior::Terminate
        })
        .build();
    let made = client
        .create_launch_template()
        .launch_template_name(t.name)
        .launch_template_data(data)
        .send()
        .await;
    match made {
        Ok(_) => Ok(Made::Now),
        Err(e) => {
            let err = ec2_error("CreateLaunchTemplate", &e);
            if !err.code.contains("AlreadyExists") {
                return Err(err.into());
            }
            let found = client
                .describe_launch_templates()
                .launch_template_names(t.name)
                .send()
                .await
                .map_err(|e| ec2_error("DescribeLaunchTemplates", &e))?;
            let at = found
                .launch_templates()
                .first()
                .and_then(|t| t.create_time())
                .map_or(0, aws_sdk_ec2::primitives::DateTime::secs);
            Ok(Made::Before(at))
        }
    }
}

/// Launch templates whose name starts with `prefix`, with when each was
/// made.
pub(crate) async fn named_like(client: &Client, prefix: &str) -> Result<Vec<(String, i64)>> {
    let mut pages = client.describe_launch_templates().into_paginator().send();
    let mut out = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| ec2_error("DescribeLaunchTemplates", &e))?;
        for t in page.launch_templates() {
            if let Some(name) = t.launch_template_name()
                && name.starts_with(prefix)
            {
                out.push((
                    name.to_owned(),
                    t.create_time()
                        .map_or(0, aws_sdk_ec2::primitives::DateTime::secs),
                ));
            }
        }
    }
    Ok(out)
}

//! The launch template of a request: the one named, or one made for it
//! from the image and user data (deleted once the fleet request is done;
//! instances keep running without it), and the tags every instance carries.

use aws_sdk_ec2::Client;
use aws_sdk_ec2::types::{RequestLaunchTemplateData, Tag};

use crate::cli::LaunchArgs;
use crate::ec2::ec2_error;
use crate::{Error, Result};

/// The launch template to use: the one named, or one made for this
/// request from the image (only checked, under `--dry-run`). Returns its
/// name and whether it was made here.
pub(super) async fn template_for(
    args: &LaunchArgs,
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
    args: &LaunchArgs,
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
pub(super) async fn delete(client: &Client, name: &str) {
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
        ("slipway:managed", "true"),
        ("slipway:run-id", run_id),
        ("slipway:expires-at", expires_at),
        ("Name", &format!("slipway-runner-{run_id}")),
    ]
    .into_iter()
    .map(|(k, v)| Tag::builder().key(k).value(v).build())
    .collect()
}

//! `spot-leaser reap`: terminate managed instances of a run or past their
//! expiry. An instance without `slipway:managed=true` is never touched.

use aws_sdk_ec2::Client;
use serde::Serialize;
use slipway_spot::time::parse_rfc3339;

use crate::cli::ReapArgs;
use crate::ec2;
use crate::plan::now;

/// What `reap` prints: a JSON contract.
#[derive(Debug, Serialize)]
pub struct Reaped {
    pub dry_run: bool,
    pub terminated: Vec<ReapedInstance>,
}

#[derive(Debug, Serialize)]
pub struct ReapedInstance {
    pub instance_id: String,
    pub run_id: Option<String>,
    pub expires_at: Option<String>,
    /// `run` (its run was reaped) or `expired`.
    pub reason: &'static str,
}

pub(crate) async fn reap(args: &ReapArgs, client: &Client) -> anyhow::Result<Reaped> {
    let mut filter = vec![("slipway:managed", "true")];
    if let (Some(run), false) = (&args.run_id, args.expired) {
        filter.push(("slipway:run-id", run.as_str()));
    }
    let now = now();
    let mut chosen = Vec::new();
    for instance in ec2::instances(client, &[], &filter).await? {
        // Checked again here, whatever the filter did.
        if ec2::tag(&instance, "slipway:managed") != Some("true") {
            continue;
        }
        let run_id = ec2::tag(&instance, "slipway:run-id").map(str::to_owned);
        let expires_at = ec2::tag(&instance, "slipway:expires-at").map(str::to_owned);
        let of_run = args.run_id.is_some() && run_id == args.run_id;
        let expired = args.expired
            && expires_at
                .as_deref()
                .and_then(parse_rfc3339)
                .is_some_and(|t| t <= now);
        if !(of_run || expired) {
            continue;
        }
        chosen.push(ReapedInstance {
            instance_id: instance.instance_id().unwrap_or_default().to_owned(),
            run_id,
            expires_at,
            reason: if of_run { "run" } else { "expired" },
        });
    }
    let ids: Vec<String> = chosen.iter().map(|i| i.instance_id.clone()).collect();
    ec2::terminate(client, &ids, args.dry_run).await?;
    for i in &chosen {
        tracing::info!(
            instance = i.instance_id,
            reason = i.reason,
            dry_run = args.dry_run,
            "terminated"
        );
    }
    Ok(Reaped {
        dry_run: args.dry_run,
        terminated: chosen,
    })
}

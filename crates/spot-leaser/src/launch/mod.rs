//! `spot-leaser launch`: one instant `CreateFleet` with the best pools as
//! prioritized overrides; pools that fail are dropped and the rest tried
//! again, then on-demand if allowed. Anything failing after a launch
//! terminates what this call launched. A dry run takes its own path
//! (`dry_run.rs`): EC2 checks the request and nothing is made.

mod describe;
mod dry_run;
mod fleet;
pub(crate) mod template;

use crate::output::Candidate;
use aws_sdk_ec2::Client;
use slipway_spot::time::{format_rfc3339, parse_duration};

use crate::ec2;
use crate::output::{Failure, FailureKind, Launched, LaunchedInstance, OUTPUT_VERSION};
use crate::plan::{now, plan};
use crate::spec::LaunchSpec;
use crate::{Error, Result};

/// Instances the step after launch could not make useful, with why:
/// `launch_then` terminates them and reports them as failures.
pub type Unusable = Vec<(String, String)>;

/// What every launch settles before asking EC2 for anything.
struct Prepared {
    run_id: String,
    expires_at: String,
    eligible: Vec<Candidate>,
    pools: Vec<fleet::Pool>,
    user_data: Option<Vec<u8>>,
    client_token: Option<String>,
    extra_tags: Vec<(String, String)>,
}

impl Prepared {
    /// The launch template of the run, and whether it was made for it.
    async fn template(&self, args: &LaunchSpec, client: &Client) -> Result<(String, bool)> {
        template::template_for(args, client, self.user_data.as_deref(), &self.run_id).await
    }

    /// The fleet request of the run on `template`.
    fn request<'a>(
        &'a self,
        client: &'a Client,
        template: &'a str,
        dry_run: bool,
    ) -> fleet::Request<'a> {
        let mut tags = template::tags(&self.run_id, &self.expires_at);
        tags.extend(
            self.extra_tags
                .iter()
                .map(|(k, v)| aws_sdk_ec2::types::Tag::builder().key(k).value(v).build()),
        );
        fleet::Request {
            client,
            template,
            tags,
            dry_run,
            client_token: self.client_token.as_deref(),
        }
    }
}

/// Launches as `spot-leaser launch` does without GitHub.
pub async fn launch(args: &LaunchSpec, client: &Client) -> Result<Launched> {
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
    args: &LaunchSpec,
    client: &Client,
    user_data: Option<Vec<u8>>,
    after: impl AsyncFnOnce(&mut [LaunchedInstance]) -> Result<Unusable>,
) -> Result<Launched> {
    let prepared = prepare(args, client, user_data).await?;
    if args.dry_run {
        return dry_run::check(args, client, &prepared).await;
    }
    let (template, made_here) = prepared.template(args, client).await?;
    let request = prepared.request(client, &template, false);
    let capacity = if args.on_demand_only {
        fleet::Capacity::OnDemand
    } else if args.on_demand_fallback {
        fleet::Capacity::SpotThenOnDemand
    } else {
        fleet::Capacity::Spot
    };
    let outcome = fleet::fill(&request, &prepared.pools, args.count, capacity).await;
    if made_here {
        template::delete(client, &template).await;
    }
    let (ids, failures) = outcome?;
    let (instances, unusable) = make_useful(client, &ids, &prepared, &request.tags, after).await?;
    let (instances, failures) =
        drop_unusable(client, args.count, instances, unusable, failures).await?;
    Ok(Launched {
        version: OUTPUT_VERSION,
        run_id: prepared.run_id,
        expires_at: prepared.expires_at,
        dry_run: false,
        instances,
        failures,
        scaled: None,
    })
}

/// The plan, the run's id and expiry, the pools and the user data.
async fn prepare(
    args: &LaunchSpec,
    client: &Client,
    user_data: Option<Vec<u8>>,
) -> Result<Prepared> {
    let ttl = parse_duration(&args.ttl)
        .ok_or_else(|| Error::bad("--ttl", &args.ttl, "expected a duration like 2h or 90m"))?;
    let planned = plan(&args.plan, Some(client)).await?;
    let eligible: Vec<Candidate> = planned
        .candidates
        .into_iter()
        .filter(|c| c.eligible)
        .collect();
    if eligible.is_empty() {
        return Err(Error::NoCapacity(format!(
            "no eligible pool for {} in {} ({})",
            args.plan.instance_types.join(","),
            args.plan.region,
            planned.notes.join("; ")
        )));
    }
    let run_id = args
        .run_id
        .clone()
        .unwrap_or_else(|| slipway_cli::hex(&slipway_cli::random_bytes::<6>()));
    let pools = describe::pools(client, &eligible, &args.subnet_ids).await?;
    let user_data = match (user_data, &args.user_data) {
        (Some(data), _) => Some(data),
        (None, Some(file)) => Some(std::fs::read(file).map_err(|source| Error::Read {
            path: file.clone(),
            source,
        })?),
        (None, None) => None,
    };
    Ok(Prepared {
        expires_at: format_rfc3339(now() + ttl),
        run_id,
        eligible,
        pools,
        user_data,
        client_token: args.client_token.clone(),
        extra_tags: args.extra_tags.clone(),
    })
}

/// Describes what launched and runs `after` on it; when either fails,
/// terminates everything launched and reports the failure.
async fn make_useful(
    client: &Client,
    ids: &[String],
    prepared: &Prepared,
    tags: &[aws_sdk_ec2::types::Tag],
    after: impl AsyncFnOnce(&mut [LaunchedInstance]) -> Result<Unusable>,
) -> Result<(Vec<LaunchedInstance>, Unusable)> {
    let described = match describe::finish(client, ids, &prepared.eligible, tags).await {
        Ok(mut instances) => after(&mut instances)
            .await
            .map(|unusable| (instances, unusable)),
        Err(err) => Err(err),
    };
    let Err(err) = described else {
        return described;
    };
    tracing::error!(
        "launched {} instances, then failed; terminating them: {}",
        ids.len(),
        slipway_cli::chain(&err)
    );
    let cleanup = ec2::terminate(client, ids, false).await.err();
    Err(Error::AfterLaunch {
        launched: ids.len(),
        source: Box::new(err),
        cleanup: cleanup.map(|e| Box::new(e.into())),
    })
}

/// Terminates the instances the step after launch could not use and
/// reports them; fails when none is left.
async fn drop_unusable(
    client: &Client,
    count: i32,
    mut instances: Vec<LaunchedInstance>,
    unusable: Unusable,
    mut failures: Vec<Failure>,
) -> Result<(Vec<LaunchedInstance>, Vec<Failure>)> {
    if !unusable.is_empty() {
        let doomed: Vec<String> = unusable.iter().map(|(id, _)| id.clone()).collect();
        tracing::warn!(
            "terminating {} instances that could not be used",
            doomed.len()
        );
        ec2::terminate(client, &doomed, false).await?;
        instances.retain(|i| !doomed.contains(&i.instance_id));
        failures.extend(unusable.iter().map(|(id, why)| Failure {
            kind: FailureKind::Registration,
            code: None,
            place: id.clone(),
            message: why.clone(),
        }));
        if instances.is_empty() {
            return Err(Error::RegistrationFailed {
                terminated: doomed.len(),
                first: unusable[0].1.clone(),
            });
        }
    }
    if instances.len() < usize::try_from(count).unwrap_or(0) {
        let text: Vec<String> = failures.iter().map(ToString::to_string).collect();
        tracing::warn!(
            "launched {} of {} instances: {}",
            instances.len(),
            count,
            text.join("; ")
        );
    }
    Ok((instances, failures))
}

//! `spot-leaser cost`: what instances have cost so far and will cost until
//! their expiry, per second with EC2's 60-second minimum, against the
//! on-demand price of the same type.

use aws_sdk_ec2::Client;
use slipway_spot::billing::charge;
use slipway_spot::time::parse_rfc3339;

use crate::Result;
use crate::cli::CostArgs;
use crate::ec2;
use crate::output::{Costs, InstanceCost, Lifecycle, OUTPUT_VERSION};
use crate::plan::now;

pub(crate) async fn cost(args: &CostArgs, client: &Client) -> Result<Costs> {
    let on_demand = crate::plan::on_demand_table(args.on_demand.as_deref())?;
    let filter: Vec<(&str, &str)> = match &args.run_id {
        Some(run) => vec![
            ("slipway:managed", "true"),
            ("slipway:run-id", run.as_str()),
        ],
        None => Vec::new(),
    };
    let instances = ec2::instances(client, &args.instance_ids, &filter).await?;
    let now = now();
    let mut rows = Vec::new();
    for i in &instances {
        let (instance_type, availability_zone, lifecycle) = ec2::shape(i);
        let spot = lifecycle == Lifecycle::Spot;
        let launched = i
            .launch_time()
            .map_or(now, aws_sdk_ec2::primitives::DateTime::secs);
        // A running instance is billed its first minute at once.
        let running = i
            .state()
            .and_then(|s| s.name())
            .is_some_and(|n| n.as_str() == "running");
        let seconds = (now - launched).max(i64::from(running));
        let until = ec2::tag(i, "slipway:expires-at")
            .and_then(parse_rfc3339)
            .unwrap_or(now);
        let price = if spot {
            // The last change before now is the price in effect.
            ec2::price_history(client, std::slice::from_ref(&instance_type), now, now)
                .await?
                .into_iter()
                .filter(|c| c.availability_zone == availability_zone)
                .max_by_key(|c| c.at)
                .map(|c| c.price)
        } else {
            on_demand.price(&instance_type)
        };
        let so_far = price.map_or(0.0, |p| charge(seconds, p));
        let projected = price.map_or(0.0, |p| charge((until - launched).max(seconds), p));
        rows.push(InstanceCost {
            instance_id: i.instance_id().unwrap_or_default().to_owned(),
            on_demand_price: on_demand.price(&instance_type),
            instance_type,
            availability_zone,
            lifecycle,
            seconds,
            price,
            so_far: round(so_far),
            projected: round(projected),
        });
    }
    let so_far: f64 = rows.iter().map(|r| r.so_far).sum();
    let projected: f64 = rows.iter().map(|r| r.projected).sum();
    let on_demand_so_far: Option<f64> = rows
        .iter()
        .map(|r| r.on_demand_price.map(|p| charge(r.seconds, p)))
        .sum::<Option<f64>>()
        .map(round);
    let savings_percent = on_demand_so_far
        .filter(|&od| od > 0.0)
        .map(|od| round((1.0 - so_far / od) * 100.0));
    Ok(Costs {
        version: OUTPUT_VERSION,
        instances: rows,
        so_far: round(so_far),
        projected: round(projected),
        on_demand_so_far,
        savings_percent,
    })
}

fn round(value: f64) -> f64 {
    (value * 1e6).round() / 1e6
}

//! The terminate-on-failure path, in-process against moto: moto never
//! fails after a launch, so the step after launching (where runner
//! registration goes) is made to fail here.

use std::sync::Mutex;

use aws_sdk_ec2::config::{BehaviorVersion, Credentials, Region};

use super::{instances_in_state, moto_url};

fn client(region: &str) -> aws_sdk_ec2::Client {
    let config = aws_sdk_ec2::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(region.to_owned()))
        .endpoint_url(moto_url())
        .credentials_provider(Credentials::new("testing", "testing", None, None, "tests"))
        .build();
    aws_sdk_ec2::Client::from_conf(config)
}

#[test]
fn a_failure_after_launch_terminates_everything_this_call_launched() {
    let region = "eu-north-1";
    // The domain takes a plain spec: no command line in between.
    let spec = spot_leaser::LaunchSpec {
        run_id: Some("doomed".to_owned()),
        ..spot_leaser::LaunchSpec::from_image(
            spot_leaser::PlanSpec::new(region, vec!["c5.large".to_owned()]),
            2,
            "ami-12c6146b",
        )
    };
    let client = client(region);
    let seen: Mutex<Vec<String>> = Mutex::new(Vec::new());
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let err = runtime
        .block_on(spot_leaser::launch_then(
            &spec,
            &client,
            None,
            async |instances: &mut [spot_leaser::LaunchedInstance]| {
                seen.lock()
                    .unwrap()
                    .extend(instances.iter().map(|i| i.instance_id.clone()));
                Err(spot_leaser::Error::Arguments(
                    "the runner registration failed",
                ))
            },
        ))
        .unwrap_err();
    assert_eq!(
        slipway_cli::chain(&err),
        "launched 2 instances, then failed: the runner registration failed"
    );
    let launched = seen.into_inner().unwrap();
    assert_eq!(launched.len(), 2, "both were up before the failure");
    let running = instances_in_state(region, "running");
    assert!(
        launched.iter().all(|id| !running.contains(id)),
        "none left running: {running:?}"
    );
    let terminated = instances_in_state(region, "terminated");
    assert!(
        launched.iter().all(|id| terminated.contains(id)),
        "{terminated:?}"
    );
}

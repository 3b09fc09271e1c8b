//! `ci-matrix gate`: one fixed-name check for branch protection. A matrix
//! job skipped because nothing was affected reports one unexpanded check
//! name, and a required check that never reports stalls the merge; the
//! gate runs with `if: always()`, reads the `needs` context, and passes or
//! fails for the whole plan-and-matrix run.

use std::fmt::Write as _;

use clap::Parser;
use serde_json::Value;
use slipway_cli::LogArgs;
use slipway_cli::github::Actions;

use crate::Error;

/// Pass or fail for a plan job and the jobs that need it, from GitHub's
/// `needs` context. Run it as a job with `if: always()` and `needs:` on the
/// plan and matrix jobs; require only it in branch protection.
///
/// It fails when a needed job failed or was cancelled, when the plan did
/// not succeed, or when a job was skipped although the plan found affected
/// packages; it passes when every needed job succeeded, or when the plan
/// succeeded with nothing affected and the other jobs were skipped for
/// that reason.
#[derive(Debug, Parser)]
#[command(name = "ci-matrix gate", version, max_term_width = 100)]
pub struct GateCli {
    /// The `needs` context as JSON: `--needs '${{ toJSON(needs) }}'`.
    #[arg(long, value_name = "JSON")]
    pub needs: String,

    /// The job that ran ci-matrix; its `has_affected` output tells a skip
    /// for nothing affected from one for a failure.
    #[arg(long, value_name = "JOB", default_value = "plan")]
    pub plan: String,

    #[command(flatten)]
    pub log: LogArgs,
}

/// The gate's answer, and each needed job's result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    /// Why it fails; empty when it passes.
    pub failures: Vec<String>,
    /// Why it passes, when it does.
    pub passed: String,
    /// `(job, result)`, sorted by job.
    pub jobs: Vec<(String, String)>,
}

/// Decides from the `needs` context (an object of job name to
/// `{"result", "outputs"}`) with `plan` the planning job.
///
/// # Errors
///
/// [`Error::Needs`] when `needs` is not that shape.
pub fn decide(needs: &str, plan: &str) -> Result<Verdict, Error> {
    let bad = |message: String| Error::Needs { message };
    let needs: Value =
        serde_json::from_str(needs).map_err(|err| bad(format!("not JSON: {err}")))?;
    let jobs = needs
        .as_object()
        .ok_or_else(|| bad("not a JSON object of jobs".to_owned()))?;
    let mut results: Vec<(String, String)> = Vec::with_capacity(jobs.len());
    for (job, value) in jobs {
        let result = value["result"]
            .as_str()
            .ok_or_else(|| bad(format!("job {job:?} has no \"result\" string")))?;
        results.push((job.clone(), result.to_owned()));
    }
    results.sort();

    let mut failures = Vec::new();
    let Some(plan_result) = results
        .iter()
        .find(|(j, _)| j == plan)
        .map(|(_, r)| r.as_str())
    else {
        failures.push(format!(
            "no job named {plan:?} among the needed jobs (pass --plan JOB)"
        ));
        return Ok(Verdict {
            failures,
            passed: String::new(),
            jobs: results,
        });
    };
    let has_affected = needs[plan]["outputs"]["has_affected"].as_str();
    for (job, result) in &results {
        match result.as_str() {
            "success" => {}
            "failure" | "cancelled" => failures.push(format!("{job} {}", past(result))),
            "skipped" if job == plan => failures.push(format!("the plan job {plan} was skipped")),
            "skipped" if has_affected == Some("false") => {}
            "skipped" => failures.push(format!(
                "{job} was skipped, but {plan} did not say nothing was affected (has_affected = {})",
                has_affected.unwrap_or("missing")
            )),
            other => failures.push(format!("{job} has the unknown result {other:?}")),
        }
    }
    let passed = if failures.is_empty() {
        if plan_result == "success" && results.iter().any(|(_, r)| r == "skipped") {
            format!("{plan} found nothing affected, and the jobs it guards were skipped for that")
        } else {
            "every needed job succeeded".to_owned()
        }
    } else {
        String::new()
    };
    Ok(Verdict {
        failures,
        passed,
        jobs: results,
    })
}

fn past(result: &str) -> &str {
    match result {
        "failure" => "failed",
        other => other,
    }
}

/// Runs the gate: logs and, under Actions, a step summary and an error
/// annotation; a failing verdict is [`Error::GateFailed`].
///
/// # Errors
///
/// Bad `--needs`, a failing verdict, or the summary not written.
pub fn run(cli: &GateCli) -> Result<(), Error> {
    let verdict = decide(&cli.needs, &cli.plan)?;
    let actions = Actions::from_env();
    if let Some(file) = &actions.summary {
        slipway_cli::github::append(file, &summary(&verdict))
            .map_err(|e| Error::write(format!("the step summary to {}", file.display()), e))?;
    }
    if verdict.failures.is_empty() {
        tracing::info!("gate passed: {}", verdict.passed);
        return Ok(());
    }
    for failure in &verdict.failures {
        actions.error(crate::TOOL, failure);
    }
    Err(Error::GateFailed {
        failures: verdict.failures,
    })
}

fn summary(verdict: &Verdict) -> String {
    let mut out = String::from("### ci-matrix gate\n\n");
    if verdict.failures.is_empty() {
        let _ = writeln!(out, "**Passed**: {}.\n", verdict.passed);
    } else {
        let _ = writeln!(out, "**Failed**: {}.\n", verdict.failures.join("; "));
    }
    out.push_str("| job | result |\n| --- | --- |\n");
    for (job, result) in &verdict.jobs {
        let _ = writeln!(out, "| `{}` | {result} |", job.replace('`', "'"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn needs(plan: &str, has_affected: &str, test: &str, lint: &str) -> String {
        serde_json::json!({
            "plan": {"result": plan, "outputs": {"has_affected": has_affected, "matrix": "{}"}},
            "test": {"result": test, "outputs": {}},
            "lint": {"result": lint, "outputs": {}},
        })
        .to_string()
    }

    /// Every combination of the four results for the plan and two matrix
    /// jobs, with and without affected packages.
    #[test]
    fn every_combination_of_results() {
        const RESULTS: [&str; 4] = ["success", "failure", "cancelled", "skipped"];
        for plan in RESULTS {
            for affected in ["true", "false"] {
                for test in RESULTS {
                    for lint in RESULTS {
                        let verdict = decide(&needs(plan, affected, test, lint), "plan").unwrap();
                        let bad = [plan, test, lint]
                            .iter()
                            .any(|r| *r == "failure" || *r == "cancelled");
                        let skipped = [test, lint].contains(&"skipped");
                        let should_pass =
                            !bad && plan == "success" && (!skipped || affected == "false");
                        assert_eq!(
                            verdict.failures.is_empty(),
                            should_pass,
                            "plan {plan} (has_affected {affected}), test {test}, lint {lint}: {verdict:?}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn failures_name_the_job() {
        let v = decide(&needs("success", "true", "failure", "skipped"), "plan").unwrap();
        assert_eq!(
            v.failures,
            [
                "lint was skipped, but plan did not say nothing was affected (has_affected = true)",
                "test failed",
            ]
        );
        let v = decide(&needs("skipped", "", "skipped", "skipped"), "plan").unwrap();
        assert!(
            v.failures
                .contains(&"the plan job plan was skipped".to_owned()),
            "{v:?}"
        );
        let v = decide(&needs("success", "false", "skipped", "skipped"), "plan").unwrap();
        assert_eq!(
            v.passed,
            "plan found nothing affected, and the jobs it guards were skipped for that"
        );
        let v = decide(&needs("success", "true", "success", "neutral"), "plan").unwrap();
        assert_eq!(v.failures, ["lint has the unknown result \"neutral\""]);
        let v = decide(&needs("success", "true", "success", "success"), "planner").unwrap();
        assert!(
            v.failures[0].starts_with("no job named \"planner\""),
            "{v:?}"
        );
    }

    #[test]
    fn bad_needs_are_bad_input() {
        for (text, message) in [
            ("[", "not JSON"),
            ("[]", "not a JSON object"),
            (r#"{"plan": {}}"#, "job \"plan\" has no \"result\" string"),
        ] {
            let err = decide(text, "plan").unwrap_err();
            assert!(err.to_string().contains(message), "{err}");
            assert_eq!(err.exit(), crate::Exit::BadInput);
        }
    }
}

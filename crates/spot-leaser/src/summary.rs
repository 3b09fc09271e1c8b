//! Step summaries (`$GITHUB_STEP_SUMMARY`, Markdown) for the subcommands
//! a workflow runs: what was launched and registered, reaped, what it
//! cost, how deep the queue is, what was re-run.

use std::fmt::Write as _;

use crate::output::{Costs, Failure, Launched, Queue, Reaped, Rerun};

pub(crate) fn launched(l: &Launched) -> String {
    let mut md = format!(
        "### spot-leaser: {} instances for run `{}`\n\nExpire at {}.\n\n\
         | instance | type | zone | lifecycle | USD/h | runner | labels |\n\
         | --- | --- | --- | --- | ---: | --- | --- |\n",
        l.instances.len(),
        l.run_id,
        l.expires_at
    );
    for i in &l.instances {
        let (runner, labels) = i
            .runner
            .as_ref()
            .map_or((String::new(), String::new()), |r| {
                (format!("`{}`", r.name), r.labels.join(", "))
            });
        let _ = writeln!(
            md,
            "| `{}` | {} | {} | {} | {} | {runner} | {labels} |",
            i.instance_id,
            i.instance_type,
            i.availability_zone,
            i.lifecycle,
            i.price.map_or_else(String::new, |p| format!("{p:.4}")),
        );
    }
    failures(&mut md, &l.failures);
    md
}

pub(crate) fn reaped(r: &Reaped) -> String {
    let verb = if r.dry_run {
        "would terminate"
    } else {
        "terminated"
    };
    let mut md = format!("### spot-leaser reap: {verb} {}\n\n", r.terminated.len());
    for i in &r.terminated {
        let _ = writeln!(md, "- `{}` ({})", i.instance_id, i.reason);
    }
    if !r.removed_runners.is_empty() {
        let _ = writeln!(md, "\nRunners removed (instance gone):\n");
        for runner in &r.removed_runners {
            let _ = writeln!(md, "- `{}` (`{}`)", runner.name, runner.instance_id);
        }
    }
    md
}

pub(crate) fn costs(c: &Costs) -> String {
    let mut md = format!(
        "### spot-leaser cost: ${:.4} so far, ${:.4} projected\n\n",
        c.so_far, c.projected
    );
    if let (Some(on_demand), Some(saved)) = (c.on_demand_so_far, c.savings_percent) {
        let _ = writeln!(
            md,
            "On-demand would have cost ${on_demand:.4}: {saved:.1}% saved.\n"
        );
    }
    md.push_str("| instance | type | lifecycle | seconds | USD so far |\n| --- | --- | --- | ---: | ---: |\n");
    for i in &c.instances {
        let _ = writeln!(
            md,
            "| `{}` | {} | {} | {} | {:.4} |",
            i.instance_id, i.instance_type, i.lifecycle, i.seconds, i.so_far
        );
    }
    md
}

pub(crate) fn depth(d: &Queue) -> String {
    let mut md = format!("### spot-leaser queue: {} jobs queued\n\n", d.queued);
    if !d.by_labels.is_empty() {
        md.push_str("| labels | queued |\n| --- | ---: |\n");
        for set in &d.by_labels {
            let _ = writeln!(md, "| {} | {} |", set.labels.join(", "), set.queued);
        }
    }
    md
}

pub(crate) fn rerun(r: &Rerun) -> String {
    let verb = if r.dry_run { "would re-run" } else { "re-ran" };
    let mut md = format!(
        "### spot-leaser rerun: run {} ({}), {verb} {} jobs\n\n",
        r.run_id,
        r.status.as_deref().unwrap_or("unknown"),
        r.jobs.len()
    );
    for j in &r.jobs {
        let _ = writeln!(
            md,
            "- {} (job {}) on `{}`: {}",
            j.name, j.job_id, j.instance_id, j.evidence
        );
    }
    md
}

fn failures(md: &mut String, failures: &[Failure]) {
    if !failures.is_empty() {
        let _ = writeln!(md, "\nFailures:\n");
        for f in failures {
            let _ = writeln!(md, "- {}", f.to_string().replace('\n', " "));
        }
    }
}

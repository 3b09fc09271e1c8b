//! Writing the result: the requested output (stdout or `--output-file`,
//! atomically), and under GitHub Actions the step outputs and summary. A
//! matrix over GitHub's 1 MB job-output limit is never written cut short.

use std::path::Path;

use slipway_cli::github::{self, Actions};
use slipway_graph::{Affected, AffectedTasks, PackageGraph};

use crate::{Cli, Error, Format, render, report};

/// GitHub's limit on one job's outputs, all of them together.
const JOB_OUTPUT_LIMIT: usize = 1_000_000;

/// What was worked out, for writing.
pub(crate) struct Outcome<'r> {
    pub(crate) graph: &'r PackageGraph,
    pub(crate) affected: &'r Affected<'r>,
    pub(crate) tasks: Option<&'r AffectedTasks<'r>>,
    pub(crate) report: &'r report::Report,
}

/// Writes what `cli` asked for, and the step outputs and summary.
pub(crate) fn emit(
    cli: &Cli,
    actions: &Actions,
    result: &Outcome<'_>,
    weights: Option<&[f64]>,
) -> Result<(), Error> {
    let Outcome {
        graph,
        affected,
        tasks,
        report,
    } = *result;
    let jobs = report::jobs(graph, affected, tasks);
    let matrix_json = report::matrix_json(graph, &jobs, cli.max_jobs as usize, weights);
    let data = if let Some(name) = &cli.explain {
        let id = graph
            .find(name)
            .ok_or_else(|| Error::UnknownPackage { name: name.clone() })?;
        let mut text = render::explain(graph, affected, id);
        if let Some(tasks) = tasks {
            text.push_str(&render::explain_tasks(graph, affected, tasks, id));
        }
        text
    } else {
        match cli.format {
            Format::Matrix => format!("{matrix_json}\n"),
            Format::Json => format!("{}\n", report::to_json(report)),
            Format::List => render::list(graph, &jobs),
            Format::Dot => render::dot(graph, affected),
        }
    };
    if let Some(file) = &actions.output {
        let outputs = step_outputs(
            graph,
            report,
            &jobs,
            &matrix_json,
            cli.output_file.as_deref(),
        )?;
        github::append_outputs(file, &outputs)
            .map_err(|e| Error::write(format!("the GitHub outputs to {}", file.display()), e))?;
    }
    if let Some(file) = &actions.summary {
        github::append(file, &render::summary(report))
            .map_err(|e| Error::write(format!("the step summary to {}", file.display()), e))?;
    }
    match &cli.output_file {
        Some(path) => slipway_cli::write_atomically(path, data.as_bytes())
            .map_err(|e| Error::write(path.display().to_string(), e)),
        None => slipway_cli::write_stdout(&data).map_err(|e| Error::write("stdout", e)),
    }
}

/// The step outputs. A matrix over GitHub's 1 MB job-output limit is never
/// written cut short: it fails, or with `--output-file` is left to the file.
/// `count` is the number of jobs (packages, or tasks with `--tasks`);
/// `packages` the packages with a job.
fn step_outputs(
    graph: &PackageGraph,
    report: &report::Report,
    jobs: &[report::Job<'_>],
    matrix_json: &str,
    output_file: Option<&Path>,
) -> Result<Vec<(&'static str, String)>, Error> {
    let count = jobs.len();
    let mut names: Vec<&str> = jobs
        .iter()
        .map(|job| graph.package(job.package).id.as_str())
        .collect();
    // Jobs are sorted by package, so one package's tasks are adjacent.
    names.dedup();
    let packages = report::to_json_line(&names);
    let mut outputs = vec![
        ("has_affected", (count > 0).to_string()),
        ("count", count.to_string()),
        ("base_sha", report.base_sha.clone().unwrap_or_default()),
        ("head_sha", report.head_sha.clone().unwrap_or_default()),
        ("base_source", report.base_source.as_str().to_owned()),
        (
            "fallback_reason",
            report.fallback_reason.clone().unwrap_or_default(),
        ),
    ];
    let size =
        matrix_json.len() + packages.len() + outputs.iter().map(|(_, v)| v.len()).sum::<usize>();
    if size <= JOB_OUTPUT_LIMIT {
        outputs.push(("matrix", matrix_json.to_owned()));
        outputs.push(("packages", packages));
        return Ok(outputs);
    }
    let Some(file) = output_file else {
        return Err(Error::OutputTooLarge {
            size,
            limit: JOB_OUTPUT_LIMIT,
        });
    };
    tracing::warn!(
        "the matrix ({size} bytes) is over GitHub's job-output limit: it is only in {}, not in the step outputs",
        file.display()
    );
    outputs.push(("output_file", file.display().to_string()));
    Ok(outputs)
}

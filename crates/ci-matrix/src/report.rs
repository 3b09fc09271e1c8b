//! The JSON that other programs read: the matrix and the report. These
//! shapes are a contract; change them only with a new `version`.

use serde::Serialize;
use slipway_graph::{Affected, Ecosystem, PackageGraph, Reason};

/// Version of the `--format json` report.
pub const REPORT_VERSION: u32 = 1;

/// `{"include":[…]}`: what `strategy.matrix` takes.
#[derive(Debug, Serialize)]
pub struct Matrix {
    pub include: Vec<MatrixEntry>,
}

#[derive(Debug, Serialize)]
pub struct MatrixEntry {
    pub package: String,
    pub path: String,
}

/// Where the list of changes came from.
#[derive(Debug, Clone)]
pub struct ChangeSource {
    /// `explicit` (--base), `changed-files` (a list).
    pub base_source: &'static str,
    pub base_sha: Option<String>,
    pub head_sha: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct Report<'a> {
    pub version: u32,
    /// `explicit` (--base) or `changed-files` (a list).
    pub base_source: &'static str,
    pub base_sha: Option<String>,
    pub head_sha: Option<String>,
    pub packages_total: usize,
    pub affected: Vec<AffectedPackage<'a>>,
    pub global_triggers: Vec<&'a str>,
    pub removed: Vec<RemovedPackage>,
    pub ignored: Vec<&'a str>,
    pub cycles: Vec<Vec<String>>,
}

#[derive(Debug, Serialize)]
pub struct AffectedPackage<'a> {
    pub package: String,
    pub name: String,
    pub path: String,
    pub ecosystem: Ecosystem,
    /// `changed`, `dependency` or `global`.
    pub reason: &'static str,
    /// From the package back to the change: `["web", "ui", "packages/ui/x.ts"]`.
    pub chain: Vec<String>,
    /// The chain as text: `web <- ui <- packages/ui/x.ts`.
    pub because: String,
    /// Changed files under the package itself.
    pub changed_files: Vec<&'a str>,
}

#[derive(Debug, Serialize)]
pub struct RemovedPackage {
    pub path: String,
    /// The name from the base revision's manifest, when it can be read.
    pub name: Option<String>,
    pub files: Vec<String>,
}

#[must_use]
pub fn matrix(graph: &PackageGraph, affected: &Affected) -> Matrix {
    Matrix {
        include: affected
            .packages(graph)
            .into_iter()
            .map(|id| {
                let package = graph.package(id);
                MatrixEntry {
                    package: package.id.clone(),
                    path: package.path.clone(),
                }
            })
            .collect(),
    }
}

#[must_use]
pub fn report<'a>(
    graph: &PackageGraph,
    affected: &Affected<'a>,
    source: ChangeSource,
    removed: Vec<RemovedPackage>,
) -> Report<'a> {
    let packages = affected
        .packages(graph)
        .into_iter()
        .map(|id| {
            let package = graph.package(id);
            let (reason, changed_files) = match affected.reason(id) {
                Some(Reason::Changed { files }) => ("changed", files.clone()),
                Some(Reason::Dependency { .. }) => ("dependency", Vec::new()),
                _ => ("global", Vec::new()),
            };
            let chain = affected
                .chain(id)
                .unwrap_or_default()
                .into_iter()
                .map(|link| match link {
                    slipway_graph::Link::Package(p) => graph.package(p).id.clone(),
                    slipway_graph::Link::File(f) | slipway_graph::Link::GlobalFile(f) => {
                        f.to_owned()
                    }
                })
                .collect();
            AffectedPackage {
                package: package.id.clone(),
                name: package.name.clone(),
                path: package.path.clone(),
                ecosystem: package.ecosystem,
                reason,
                chain,
                because: affected.chain_text(graph, id).unwrap_or_default(),
                changed_files,
            }
        })
        .collect();
    Report {
        version: REPORT_VERSION,
        base_source: source.base_source,
        base_sha: source.base_sha,
        head_sha: source.head_sha,
        packages_total: graph.len(),
        affected: packages,
        global_triggers: affected.global_triggers.clone(),
        removed,
        ignored: affected.ignored.clone(),
        cycles: affected
            .cycles
            .iter()
            .map(|c| c.iter().map(|&id| graph.package(id).id.clone()).collect())
            .collect(),
    }
}

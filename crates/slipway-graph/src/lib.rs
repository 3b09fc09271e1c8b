//! The package graph of a monorepo, and the packages a change affects.
//!
//! `slipway-graph` reads a repository's own manifests (Cargo, npm, yarn and
//! pnpm workspaces, Go workspaces, or a hand-kept `dep-graph.json`) into one
//! [`PackageGraph`], maps changed paths to the packages that own them, and
//! follows dependents transitively to the [`Affected`] set, keeping a reason
//! chain for every package.
//!
//! ```
//! use slipway_graph::{affected, ChangedPath, DepKind, Ecosystem, GraphBuilder, Options};
//!
//! let mut builder = GraphBuilder::new();
//! let ui = builder.add_package("ui", "packages/ui", Ecosystem::Pnpm)?;
//! let web = builder.add_package("web", "apps/web", Ecosystem::Pnpm)?;
//! builder.add_edge(web, ui, DepKind::Normal);
//! let graph = builder.build();
//!
//! let changed = [ChangedPath { path: "packages/ui/src/button.ts".into(), deleted: false }];
//! let options = Options::default();
//! let result = affected(&graph, &changed, &options);
//! assert!(result.contains(web));
//! assert_eq!(
//!     result.chain_text(&graph, web).as_deref(),
//!     Some("web <- ui <- packages/ui/src/button.ts"),
//! );
//! # Ok::<(), slipway_graph::GraphError>(())
//! ```
//!
//! Reading a real repository is one call: [`discover`] for workspaces found
//! at a root, [`load_graph_file`] for a `dep-graph.json`.

mod affected;
mod discover;
mod ecosystems;
mod error;
mod graph;
mod inputs;
pub mod limits;
mod model;
mod paths;
#[cfg(test)]
mod proptests;
mod root;
mod tasks;
mod yaml;

pub use affected::{
    Affected, ChangedPath, GlobalTrigger, Link, Options, Reason, RemovedPackage, Resolution,
    RootCause, RootChange, affected,
};
pub use discover::{
    BuildRule, DiscoverOptions, NxTaskRules, build_rules, discover, discover_with,
    discover_with_nested, load_graph_file, nx_ignore_globs, nx_projects_with_targets,
    nx_task_rules, package_name,
};
pub use error::GraphError;
pub use graph::{GraphBuilder, KeyedInput, PackageGraph};
pub use inputs::{InputDiff, SharedInput, build_inputs, diff_input, nested_inputs};
pub use model::{DepKind, Ecosystem, Package, PackageId};
pub use paths::normalize;
pub use root::{
    BUILTIN_WHY, GlobalFiles, GlobalFilesBuilder, RootDependencies, Unowned, builtin_global_files,
};
pub use tasks::{AffectedTasks, DependencyInputs, TaskReason, TaskRule, Tasks, affected_tasks};

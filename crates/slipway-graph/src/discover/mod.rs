//! Finding the packages of a repository from its own manifests, without
//! running cargo, npm or go and without the network.

mod build_config;
mod cargo;
mod dirglob;
pub(crate) mod dotnet;
mod go;
pub(crate) mod gradle;
mod graph_file;
mod imports;
pub(crate) mod maven;
pub(crate) mod msbuild;
mod node;
mod nx;
mod nx_inputs;
mod python;

use std::path::Path;

pub(crate) use build_config::strip_jsonc;
pub use build_config::{BuildRule, build_rules, nx_ignore_globs};
pub use graph_file::load_graph_file;
#[cfg(test)]
pub(crate) use graph_file::parse_graph as graph_file_parse;
pub use nx_inputs::{NxTaskRules, nx_projects_with_targets, nx_task_rules};
pub(crate) use python::requirement_name;

use crate::error::GraphError;
use crate::graph::{GraphBuilder, PackageGraph};
use crate::model::PackageId;

/// Reads every workspace found at `root` (Cargo, npm/yarn/pnpm, Go) into one
/// graph. Each ecosystem's packages depend only on packages of the same
/// ecosystem; equal names across ecosystems are kept apart (see
/// [`crate::Package::id`]).
pub fn discover(root: &Path) -> Result<PackageGraph, GraphError> {
    discover_with_nested(root, &[])
}

/// As [`discover`], plus workspaces rooted in the directories `nested`
/// (relative to `root`, `/`-separated: `frontend`, `services/go`), their
/// packages' paths relative to `root`. The root itself may then hold no
/// workspace at all.
pub fn discover_with_nested(root: &Path, nested: &[String]) -> Result<PackageGraph, GraphError> {
    discover_with(
        root,
        &DiscoverOptions {
            nested: nested.to_vec(),
            imports: false,
        },
    )
}

/// What [`discover_with`] reads beyond the manifests.
#[derive(Debug, Clone, Default)]
pub struct DiscoverOptions {
    /// Workspaces rooted in these directories too (see
    /// [`discover_with_nested`]).
    pub nested: Vec<String>,
    /// Edges from the source files' imports between the packages of an
    /// npm/yarn/pnpm/Bun workspace, as an Nx workspace always has them.
    pub imports: bool,
}

/// As [`discover_with_nested`], with the options of [`DiscoverOptions`].
pub fn discover_with(root: &Path, options: &DiscoverOptions) -> Result<PackageGraph, GraphError> {
    let nested = options.nested.as_slice();
    let mut builder = GraphBuilder::new();
    let mut found = discover_into(root, &mut builder)?;
    if nx::discover(root, &mut builder, options.imports)? {
        found.push("nx");
    }
    for dir in nested {
        let Some(prefix) = crate::paths::normalize(dir).filter(|p| p != ".") else {
            return Err(GraphError::NestedRoot {
                root: dir.clone(),
                message: "not a directory below the repository root".to_owned(),
            });
        };
        let mut inner = GraphBuilder::new();
        if discover_into(&root.join(&prefix), &mut inner)?.is_empty() {
            return Err(GraphError::NestedRoot {
                root: prefix,
                message:
                    "no Cargo, npm/yarn/pnpm/Bun, Go, Python, Maven, Gradle or .NET workspace there"
                        .to_owned(),
            });
        }
        found.push("nested");
        builder.absorb(inner, &prefix)?;
    }
    // No workspace at the root, or only a lone project there: the other
    // projects below are roots of their own.
    let lone_root = builder.package_paths().all(|p| p == ".");
    if nested.is_empty() && (found.is_empty() || lone_root) {
        for kind in discover_projects(root, &mut builder)? {
            if !found.contains(&kind) {
                found.push(kind);
            }
        }
    }
    if found.is_empty() {
        return Err(GraphError::NothingFound {
            root: root.to_path_buf(),
        });
    }
    Ok(builder.build())
}

/// Most directories the walk for projects looks through, and how deep.
const MAX_PROJECT_WALK: usize = 200_000;
const MAX_PROJECT_DEPTH: usize = 32;
/// Most project roots found by the walk.
const MAX_PROJECT_ROOTS: usize = 10_000;

/// Directories the walk for projects never enters: hidden ones, `_`
/// ones, dependencies, test data and build output.
fn skipped_dir(name: &str) -> bool {
    name.starts_with('.')
        || name.starts_with('_')
        || matches!(
            name,
            "node_modules"
                | "vendor"
                | "testdata"
                | "fixtures"
                | "target"
                | "dist"
                | "build"
                | "venv"
        )
}

/// A repository of projects with no root workspace (`libs/a`, `libs/b`,
/// each with its own `pyproject.toml` and lock): walks breadth-first for
/// project manifests (skipping what Go's walk skips, `node_modules` and
/// build output), discovers each outermost one as a root of its own, and
/// joins them through their path dependencies (`../b`), which each
/// ecosystem records as path links. Directories inside a package found
/// earlier are that package's.
fn discover_projects(
    root: &Path,
    builder: &mut GraphBuilder,
) -> Result<Vec<&'static str>, GraphError> {
    let mut found = Vec::new();
    // The lone project at the root, if any: the projects below are its
    // dependencies (it contains them).
    let lone: Vec<(PackageId, &'static str)> = builder
        .package_entries()
        .filter(|(_, path, _)| *path == ".")
        .map(|(id, _, ns)| (id, ns))
        .collect();
    // A lone project at the root claims nothing below it.
    let mut claimed: Vec<String> = builder
        .package_paths()
        .filter(|p| *p != ".")
        .map(str::to_owned)
        .collect();
    let mut queue: std::collections::VecDeque<(String, usize)> =
        std::collections::VecDeque::from([(".".to_owned(), 0)]);
    let mut visited = 0usize;
    let mut roots = 0usize;
    while let Some((dir, depth)) = queue.pop_front() {
        visited += 1;
        if visited > MAX_PROJECT_WALK {
            return Err(GraphError::manifest(
                root,
                format!("more than {MAX_PROJECT_WALK} directories to look through for projects"),
            ));
        }
        let Ok(entries) = std::fs::read_dir(root.join(&dir)) else {
            continue;
        };
        let mut names: Vec<(String, bool)> = entries
            .flatten()
            .filter_map(|e| {
                let kind = e.file_type().ok()?;
                Some((e.file_name().to_str()?.to_owned(), kind.is_dir()))
            })
            .collect();
        names.sort_unstable();
        let inside_claimed = claimed
            .iter()
            .any(|c| c == "." || dir == *c || dir.starts_with(&format!("{c}/")));
        let is_project = names
            .iter()
            .any(|(n, is_dir)| !is_dir && crate::ecosystems::roots_discovery(n));
        if dir != "." && is_project && !inside_claimed {
            roots += 1;
            if roots > MAX_PROJECT_ROOTS {
                return Err(GraphError::manifest(
                    root,
                    format!("more than {MAX_PROJECT_ROOTS} projects without a root workspace"),
                ));
            }
            for kind in project_root(root, &dir, &lone, &mut claimed, builder)? {
                if !found.contains(&kind) {
                    found.push(kind);
                }
            }
        }
        if depth >= MAX_PROJECT_DEPTH {
            continue;
        }
        for (name, is_dir) in names {
            let skipped = skipped_dir(&name);
            if is_dir && !skipped {
                queue.push_back((crate::paths::child(&dir, &name), depth + 1));
            }
        }
    }
    if !found.is_empty() {
        tracing::debug!(roots, "no root workspace: projects discovered one by one");
    }
    Ok(found)
}

/// Discovers the project rooted at `dir` into the graph, unless it is of
/// another ecosystem than a lone root project (then it stays the root's);
/// claims its packages' directories and returns its ecosystems.
fn project_root(
    root: &Path,
    dir: &str,
    lone: &[(PackageId, &'static str)],
    claimed: &mut Vec<String>,
    builder: &mut GraphBuilder,
) -> Result<Vec<&'static str>, GraphError> {
    let mut inner = GraphBuilder::new();
    let mut kinds = discover_into(&root.join(dir), &mut inner)?;
    if kinds.is_empty() && node::discover_lone(&root.join(dir), &mut inner)? {
        kinds.push("node");
    }
    // Under a lone root project, only projects of its own ecosystem
    // become packages (and stay its dependencies below); anything else
    // stays part of the root, as before.
    let foreign = !lone.is_empty()
        && inner
            .package_entries()
            .any(|(_, _, ns)| !lone.iter().any(|(_, n)| *n == ns));
    if kinds.is_empty() || foreign {
        return Ok(Vec::new());
    }
    let first_new = builder.package_count();
    claimed.extend(
        inner
            .package_paths()
            .filter_map(|p| crate::paths::join(dir, p)),
    );
    builder.absorb(inner, dir)?;
    let added: Vec<(String, &'static str)> = builder
        .package_entries()
        .skip(first_new)
        .map(|(_, path, ns)| (path.to_owned(), ns))
        .collect();
    for (path, ns) in added {
        for &(root_id, _) in lone.iter().filter(|(_, n)| *n == ns) {
            builder.add_outside_source(root_id, &path);
        }
    }
    Ok(kinds)
}

/// Runs every ecosystem's discovery at `root`; returns those found.
fn discover_into(root: &Path, builder: &mut GraphBuilder) -> Result<Vec<&'static str>, GraphError> {
    let mut found = Vec::new();
    for (name, discover) in [
        (
            "cargo",
            cargo::discover as fn(&Path, &mut GraphBuilder) -> Result<bool, GraphError>,
        ),
        ("node", node::discover),
        ("go", go::discover),
        ("python", python::discover),
        ("maven", maven::discover),
        ("gradle", gradle::discover),
        ("dotnet", dotnet::discover),
    ] {
        let before = builder.package_count();
        if discover(root, builder)? {
            tracing::debug!(
                ecosystem = name,
                root = %root.display(),
                packages = builder.package_count() - before,
                "workspace found"
            );
            found.push(name);
        }
    }
    Ok(found)
}

/// The package name a manifest declares, by the manifest's file name
/// (`Cargo.toml`, `package.json`, `go.mod`, `pyproject.toml` or
/// `pom.xml`). Used to name a package that
/// exists only in an older revision.
#[must_use]
pub fn package_name(file_name: &str, text: &str) -> Option<String> {
    match file_name {
        "Cargo.toml" => {
            let table: toml::Table = toml::from_str(text).ok()?;
            let name = table.get("package")?.get("name")?.as_str()?;
            Some(name.to_owned())
        }
        "package.json" => {
            let value: serde_json::Value = serde_json::from_str(text).ok()?;
            Some(value.get("name")?.as_str()?.to_owned())
        }
        "go.mod" => go::module_path(text),
        "pyproject.toml" => {
            let table: toml::Table = toml::from_str(text).ok()?;
            let name = table
                .get("project")
                .or_else(|| table.get("tool").and_then(|t| t.get("poetry")))?
                .get("name")?
                .as_str()?;
            Some(python::normalize_name(name))
        }
        "pom.xml" => maven::parse(Path::new(file_name), text).ok()?.artifact,
        _ => None,
    }
}

/// Reads and parses the manifest `file` in each of `dirs`, in order; `None`
/// where a directory has none. Thousands of small files cost mostly
/// system-call latency, so large workspaces are read on every core.
pub(crate) fn read_manifests<T, F>(
    root: &Path,
    dirs: &[String],
    file: &str,
    parse: F,
) -> Result<Vec<Option<T>>, GraphError>
where
    T: Send,
    F: Fn(&str, &str) -> Result<T, GraphError> + Sync,
{
    const PARALLEL_FROM: usize = 256;
    let one = |dir: &String| -> Result<Option<T>, GraphError> {
        // An empty `file`: `dirs` are the files themselves.
        let rel = if file.is_empty() {
            dir.clone()
        } else {
            crate::paths::child(dir, file)
        };
        match read_optional(root, &rel)? {
            Some(text) => parse(&rel, &text).map(Some),
            None => Ok(None),
        }
    };
    let mut out = Vec::with_capacity(dirs.len());
    for chunk in on_every_core(dirs, PARALLEL_FROM, 1, |chunk| {
        chunk.iter().map(one).collect::<Result<Vec<_>, _>>()
    }) {
        out.extend(chunk?);
    }
    Ok(out)
}

/// `work` over `items` in contiguous chunks, one thread per core (at most
/// eight) and `per_core` chunks each, or on this thread alone for fewer
/// than `parallel_from` items; the chunks' results in order. A panic in a
/// worker goes on here.
pub(crate) fn on_every_core<T, R, F>(
    items: &[T],
    parallel_from: usize,
    per_core: usize,
    work: F,
) -> Vec<R>
where
    T: Sync,
    R: Send,
    F: Fn(&[T]) -> R + Sync,
{
    let threads = std::thread::available_parallelism()
        .map_or(1, std::num::NonZero::get)
        .min(8);
    if threads < 2 || items.len() < parallel_from {
        return vec![work(items)];
    }
    let work = &work;
    std::thread::scope(|scope| {
        let workers: Vec<_> = items
            .chunks(items.len().div_ceil(threads * per_core.max(1)))
            .map(|chunk| scope.spawn(move || work(chunk)))
            .collect();
        workers
            .into_iter()
            .map(|w| {
                w.join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
            })
            .collect()
    })
}

/// Reads a repository-relative file, `None` when it does not exist;
/// larger than [`crate::limits::MAX_MANIFEST_BYTES`] is an error.
pub(crate) fn read_optional(root: &Path, rel: &str) -> Result<Option<String>, GraphError> {
    read_path(&root.join(rel))
}

/// Reads a file, `None` when it does not exist.
///
/// Discovery reads thousands of small manifests, so this skips the size
/// query `fs::read_to_string` makes: one `open`, two `read`s, one `close`.
pub(crate) fn read_path(path: &Path) -> Result<Option<String>, GraphError> {
    use std::io::Read as _;

    let mut file = match std::fs::File::open(path) {
        Ok(file) => file,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(err) => return Err(GraphError::read(path, err)),
    };
    let mut text = String::with_capacity(2 * 1024);
    let max = crate::limits::MAX_MANIFEST_BYTES;
    match (&mut file).take(max + 1).read_to_string(&mut text) {
        Ok(n) if n as u64 > max => Err(GraphError::manifest(
            path,
            format!("larger than the {} MiB limit for manifests", max >> 20),
        )),
        Ok(_) => Ok(Some(text)),
        // A directory where a manifest should be reads as "no manifest".
        Err(err) if err.kind() == std::io::ErrorKind::IsADirectory => Ok(None),
        Err(err) => Err(GraphError::read(path, err)),
    }
}

/// Reads a repository-relative lockfile, `None` when it does not exist;
/// larger than [`crate::limits::MAX_LOCKFILE_BYTES`] is an error.
pub(crate) fn read_lockfile(root: &Path, rel: &str) -> Result<Option<String>, GraphError> {
    use std::io::Read as _;

    let path = root.join(rel);
    let file = match std::fs::File::open(&path) {
        Ok(file) => file,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(err) => return Err(GraphError::read(&path, err)),
    };
    let max = crate::limits::MAX_LOCKFILE_BYTES;
    let mut text = String::new();
    match file.take(max + 1).read_to_string(&mut text) {
        Ok(n) if n as u64 > max => Err(GraphError::manifest(
            &path,
            format!("larger than the {} MiB limit for lockfiles", max >> 20),
        )),
        Ok(_) => Ok(Some(text)),
        Err(err) if err.kind() == std::io::ErrorKind::IsADirectory => Ok(None),
        Err(err) => Err(GraphError::read(&path, err)),
    }
}

/// Reads a repository-relative file that must exist.
pub(crate) fn read_required(root: &Path, rel: &str) -> Result<String, GraphError> {
    read_optional(root, rel)?.ok_or_else(|| {
        GraphError::read(
            root.join(rel),
            std::io::Error::from(std::io::ErrorKind::NotFound),
        )
    })
}

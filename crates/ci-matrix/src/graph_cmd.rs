//! `ci-matrix graph`: the package graph as ci-matrix reads it from the
//! files, and with `--check` compared with what each ecosystem's own tool
//! says where that tool is installed (`cargo metadata`, `pnpm ls`,
//! `npm query`, `uv lock --check` and the lock's members). Teams run the
//! check nightly to learn where static reading and their build disagree.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use clap::{Parser, ValueEnum};
use serde::Deserialize;
use slipway_cli::LogArgs;
use slipway_graph::{DepKind, Ecosystem, PackageGraph};

use crate::error::Error;

/// The package graph ci-matrix reads from the repository's files, or
/// (`--check`) its differences from what the build tools themselves say.
///
/// With `--check`, every ecosystem whose tool is installed is compared:
/// Cargo with `cargo metadata --no-deps`, uv workspaces with their
/// `uv.lock` (and `uv lock --check` when uv is installed), pnpm with
/// `pnpm ls -r`, npm with `npm query .workspace --package-lock-only`. Each
/// package or edge on one side only is printed; the exit code is 8 when
/// there is any. Ecosystems whose tool is not installed are named as
/// skipped.
#[derive(Debug, Parser)]
#[command(name = "ci-matrix graph", version, max_term_width = 100)]
pub struct GraphCli {
    /// Repository root [default: the git top level of the current directory].
    #[arg(long, value_name = "DIR")]
    pub root: Option<PathBuf>,

    /// Compare with the build tools instead of printing the graph.
    #[arg(long)]
    pub check: bool,

    /// `text` (one package a line, its dependencies after `->`) or `json`.
    #[arg(long, value_enum, default_value_t = GraphFormat::Text)]
    pub format: GraphFormat,

    /// Longest a build tool may take, in seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 120)]
    pub tool_timeout: u64,

    #[command(flatten)]
    pub log: LogArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum GraphFormat {
    Text,
    Json,
}

pub use slipway_contract::graph::{GRAPH_VERSION, GraphDocument, GraphEdge, GraphPackage};

/// Runs `ci-matrix graph`.
///
/// # Panics
///
/// Never: the graph document's types always serialize.
pub fn run(cli: &GraphCli) -> Result<(), Error> {
    let root = crate::root_of(cli.root.as_deref())?;
    let (config, _) = crate::config::load(&root)?;
    let graph = slipway_graph::discover_with(
        &root,
        &slipway_graph::DiscoverOptions {
            nested: config.nested_workspaces.clone(),
            imports: config.imports,
        },
    )?;
    if !cli.check {
        let text = match cli.format {
            GraphFormat::Json => {
                serde_json::to_string_pretty(&document(&graph))
                    .expect("the graph always serializes")
                    + "\n"
            }
            GraphFormat::Text => text(&graph),
        };
        return slipway_cli::write_stdout(&text).map_err(|e| Error::write("stdout", e));
    }
    let timeout = Duration::from_secs(cli.tool_timeout.max(1));
    let mut out = String::new();
    let mut differences = 0usize;
    for check in [
        check_cargo,
        check_go,
        check_uv,
        check_pnpm,
        check_npm,
        check_bun,
        check_nx,
    ] {
        match check(&root, &graph, timeout) {
            Outcome::Skipped { ecosystem, why } => {
                let _ = writeln!(out, "{ecosystem}: skipped: {why}");
            }
            Outcome::Compared {
                ecosystem,
                tool,
                ours,
                theirs,
                notes,
            } => {
                for note in notes {
                    differences += 1;
                    let _ = writeln!(out, "{ecosystem}: {note}");
                }
                let lines = compare(&ours, &theirs, tool);
                differences += lines.len();
                if lines.is_empty() {
                    let _ = writeln!(
                        out,
                        "{ecosystem}: {} packages and {} edges agree with {tool}",
                        ours.packages.len(),
                        ours.edges.len()
                    );
                }
                for line in lines {
                    let _ = writeln!(out, "{ecosystem}: {line}");
                }
            }
        }
    }
    slipway_cli::write_stdout(&out).map_err(|e| Error::write("stdout", e))?;
    if differences > 0 {
        return Err(Error::GraphDiffers { differences });
    }
    Ok(())
}

fn document(graph: &PackageGraph) -> GraphDocument {
    GraphDocument {
        version: GRAPH_VERSION,
        packages: graph
            .ids()
            .map(|id| {
                let p = graph.package(id);
                let mut dependencies: Vec<GraphEdge> = graph
                    .dependencies(id)
                    .map(|(to, kind)| GraphEdge {
                        package: graph.package(to).id.clone(),
                        kind: crate::report::dep_kind(kind),
                    })
                    .collect();
                dependencies.sort_by(|a, b| a.package.cmp(&b.package));
                GraphPackage {
                    id: p.id.clone(),
                    name: p.name.clone(),
                    path: p.path.clone(),
                    ecosystem: crate::report::ecosystem(p.ecosystem),
                    dependencies,
                    assumed: graph.notes(id).to_vec(),
                }
            })
            .collect(),
    }
}

fn text(graph: &PackageGraph) -> String {
    let doc = document(graph);
    let mut out = String::new();
    for p in &doc.packages {
        let _ = write!(out, "{} ({}) {}", p.id, p.ecosystem, p.path);
        if !p.dependencies.is_empty() {
            let deps: Vec<String> = p
                .dependencies
                .iter()
                .map(|d| {
                    if d.kind == slipway_contract::graph::DepKind::Normal {
                        d.package.clone()
                    } else {
                        format!("{} ({})", d.package, d.kind.describe())
                    }
                })
                .collect();
            let _ = write!(out, " -> {}", deps.join(", "));
        }
        out.push('\n');
        for note in &p.assumed {
            let _ = writeln!(out, "  assumed: {note}");
        }
    }
    out
}

/// One side of a comparison: package directories and edges between them
/// (`.` stands for the workspace root where it is no package).
#[derive(Debug, Default)]
struct Side {
    packages: BTreeSet<String>,
    edges: BTreeSet<(String, String)>,
}

enum Outcome {
    Skipped {
        ecosystem: &'static str,
        why: String,
    },
    Compared {
        ecosystem: &'static str,
        tool: &'static str,
        ours: Side,
        theirs: Side,
        /// Differences the tool states itself (a stale lock).
        notes: Vec<String>,
    },
}

fn compare(ours: &Side, theirs: &Side, tool: &str) -> Vec<String> {
    let mut lines = Vec::new();
    for p in ours.packages.difference(&theirs.packages) {
        lines.push(format!("package {p}: only in ci-matrix"));
    }
    for p in theirs.packages.difference(&ours.packages) {
        lines.push(format!("package {p}: only in {tool}"));
    }
    for (a, b) in ours.edges.difference(&theirs.edges) {
        lines.push(format!("edge {a} -> {b}: only in ci-matrix"));
    }
    for (a, b) in theirs.edges.difference(&ours.edges) {
        lines.push(format!("edge {a} -> {b}: only in {tool}"));
    }
    lines
}

/// ci-matrix's side for the ecosystems `wanted`: packages and their
/// edges (assumed ones left out: no tool has them), and the root's.
fn ours(graph: &PackageGraph, wanted: &dyn Fn(Ecosystem) -> bool) -> Side {
    let mut side = Side::default();
    for id in graph.ids() {
        let p = graph.package(id);
        if !wanted(p.ecosystem) {
            continue;
        }
        side.packages.insert(p.path.clone());
        for (to, kind) in graph.dependencies(id) {
            // No package manager knows assumed, configured or imported
            // edges; Nx's comparison adds the last two back.
            if !matches!(kind, DepKind::Assumed | DepKind::Implicit | DepKind::Import) {
                side.edges
                    .insert((p.path.clone(), graph.package(to).path.clone()));
            }
        }
    }
    for &(to, _) in graph.root_dependencies() {
        if wanted(graph.package(to).ecosystem) {
            side.edges
                .insert((".".to_owned(), graph.package(to).path.clone()));
        }
    }
    side
}

/// Runs a tool with a deadline; its stdout, or why not.
fn tool_output(command: &mut Command, timeout: Duration) -> Result<Vec<u8>, String> {
    let program = command.get_program().to_string_lossy().into_owned();
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|err| format!("{program} could not be started: {err}"))?;
    let pid = child.id();
    let stdout = child.stdout.take();
    let stderr = child.stderr.take();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        use std::io::Read as _;
        let mut out = Vec::new();
        let mut err = Vec::new();
        // Bounded: a tool's answer for a large workspace is a few MiB.
        if let Some(s) = stdout {
            let _ = s.take(256 << 20).read_to_end(&mut out);
        }
        if let Some(s) = stderr {
            let _ = s.take(1 << 20).read_to_end(&mut err);
        }
        let _ = tx.send((child.wait(), out, err));
    });
    match rx.recv_timeout(timeout) {
        Ok((Ok(status), out, _)) if status.success() => Ok(out),
        Ok((Ok(status), _, err)) => Err(format!(
            "{program} failed ({status}): {}",
            String::from_utf8_lossy(&err).trim()
        )),
        Ok((Err(err), _, _)) => Err(format!("{program} failed: {err}")),
        Err(_) => {
            let _ = Command::new("kill")
                .args(["-9", &pid.to_string()])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
            Err(format!("{program} took longer than {}s", timeout.as_secs()))
        }
    }
}

fn on_path(program: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|dir| dir.join(program).is_file()))
}

/// A tool's absolute path as a directory relative to `root`.
fn relative(root: &Path, path: &str) -> Option<String> {
    let path = Path::new(path);
    let path = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    let rel = path.strip_prefix(root).ok()?;
    let rel = rel.to_string_lossy().replace('\\', "/");
    Some(if rel.is_empty() { ".".to_owned() } else { rel })
}

fn check_cargo(root: &Path, graph: &PackageGraph, timeout: Duration) -> Outcome {
    let skipped = |why: &str| Outcome::Skipped {
        ecosystem: "cargo",
        why: why.to_owned(),
    };
    if !root.join("Cargo.toml").is_file() {
        return skipped("no Cargo.toml at the root");
    }
    if !on_path("cargo") {
        return skipped("cargo is not installed");
    }
    let out = match tool_output(
        Command::new("cargo")
            .args([
                "metadata",
                "--no-deps",
                "--format-version",
                "1",
                "--offline",
            ])
            .arg("--manifest-path")
            .arg(root.join("Cargo.toml")),
        timeout,
    ) {
        Ok(out) => out,
        Err(why) => return skipped(&why),
    };
    let metadata: Metadata = match serde_json::from_slice(&out) {
        Ok(m) => m,
        Err(err) => return skipped(&format!("cargo metadata's output did not parse: {err}")),
    };
    let mut theirs = Side::default();
    let dir_of = |manifest: &str| relative(root, Path::new(manifest).parent()?.to_str()?);
    for p in &metadata.packages {
        if let Some(dir) = dir_of(&p.manifest_path) {
            theirs.packages.insert(dir);
        }
    }
    for p in &metadata.packages {
        let Some(from) = dir_of(&p.manifest_path) else {
            continue;
        };
        for d in &p.dependencies {
            if let Some(to) = d.path.as_deref().and_then(|d| relative(root, d))
                && theirs.packages.contains(&to)
                && to != from
            {
                theirs.edges.insert((from.clone(), to));
            }
        }
    }
    Outcome::Compared {
        ecosystem: "cargo",
        tool: "cargo metadata",
        ours: ours(graph, &|e| e == Ecosystem::Cargo),
        theirs,
        notes: Vec::new(),
    }
}

/// An Nx workspace against `nx graph --file=…` run by the Nx installed in
/// it (daemon and cloud off): its projects by root, and the static,
/// dynamic and implicit edges between them.
fn check_nx(root: &Path, graph: &PackageGraph, timeout: Duration) -> Outcome {
    let skipped = |why: &str| Outcome::Skipped {
        ecosystem: "nx",
        why: why.to_owned(),
    };
    if !root.join("nx.json").is_file() {
        return skipped("no nx.json at the root");
    }
    let nx = root.join("node_modules/.bin/nx");
    if !nx.is_file() {
        return skipped("Nx is not installed in the workspace (node_modules/.bin/nx)");
    }
    let file = match tempfile::Builder::new()
        .prefix("ci-matrix-nx-graph-")
        .suffix(".json")
        .tempfile()
    {
        Ok(file) => file,
        Err(err) => return skipped(&format!("no temporary file for nx graph: {err}")),
    };
    let mut arg = std::ffi::OsString::from("--file=");
    arg.push(file.path());
    if let Err(why) = tool_output(
        Command::new(&nx)
            .arg("graph")
            .arg(arg)
            .current_dir(root)
            .env("NX_DAEMON", "false")
            .env("NX_NO_CLOUD", "true")
            .env("NX_TUI", "false")
            .env("NX_SKIP_NX_CACHE", "true"),
        timeout,
    ) {
        return skipped(&why);
    }
    let doc: NxGraphFile = match std::fs::read(file.path())
        .map_err(|err| err.to_string())
        .and_then(|bytes| serde_json::from_slice(&bytes).map_err(|err| err.to_string()))
    {
        Ok(doc) => doc,
        Err(err) => return skipped(&format!("nx graph's file did not parse: {err}")),
    };
    let mut theirs = Side::default();
    for node in doc.graph.nodes.values() {
        theirs.packages.insert(node.data.root.clone());
    }
    for (from, deps) in &doc.graph.dependencies {
        let Some(from) = doc.graph.nodes.get(from) else {
            continue;
        };
        for dep in deps {
            if let Some(to) = doc.graph.nodes.get(&dep.target) {
                theirs
                    .edges
                    .insert((from.data.root.clone(), to.data.root.clone()));
            }
        }
    }
    let mut ours = ours(graph, &is_node);
    for id in graph.ids() {
        let p = graph.package(id);
        for (to, kind) in graph.dependencies(id) {
            if matches!(kind, DepKind::Implicit | DepKind::Import) && is_node(p.ecosystem) {
                ours.edges
                    .insert((p.path.clone(), graph.package(to).path.clone()));
            }
        }
    }
    // Nx has no edge from the workspace root.
    ours.edges.retain(|(from, _)| from != ".");
    Outcome::Compared {
        ecosystem: "nx",
        tool: "nx graph",
        ours,
        theirs,
        notes: Vec::new(),
    }
}

fn is_node(ecosystem: Ecosystem) -> bool {
    matches!(
        ecosystem,
        Ecosystem::Npm | Ecosystem::Yarn | Ecosystem::Pnpm | Ecosystem::Bun
    )
}

/// Leaves out of a package manager's comparison the Nx projects that are
/// no workspace package (a `project.json` and no `package.json`), which
/// only Nx knows.
fn without_nx_projects(root: &Path, mut side: Side) -> Side {
    let nx_only = |dir: &str| {
        let dir = root.join(dir);
        dir.join("project.json").is_file() && !dir.join("package.json").is_file()
    };
    side.packages.retain(|p| !nx_only(p));
    side.edges.retain(|(a, b)| !nx_only(a) && !nx_only(b));
    side
}

/// The parts of `nx graph --file=….json` compared.
#[derive(Debug, Deserialize)]
struct NxGraphFile {
    graph: NxGraph,
}

#[derive(Debug, Deserialize)]
struct NxGraph {
    nodes: std::collections::BTreeMap<String, NxNode>,
    #[serde(default)]
    dependencies: std::collections::BTreeMap<String, Vec<NxDependency>>,
}

#[derive(Debug, Deserialize)]
struct NxNode {
    data: NxNodeData,
}

#[derive(Debug, Deserialize)]
struct NxNodeData {
    root: String,
}

#[derive(Debug, Deserialize)]
struct NxDependency {
    target: String,
}

fn check_uv(root: &Path, graph: &PackageGraph, timeout: Duration) -> Outcome {
    let skipped = |why: &str| Outcome::Skipped {
        ecosystem: "python",
        why: why.to_owned(),
    };
    let Ok(text) = std::fs::read_to_string(root.join("uv.lock")) else {
        return skipped("no uv.lock at the root");
    };
    let lock: toml::Table = match toml::from_str(&text) {
        Ok(lock) => lock,
        Err(err) => return skipped(&format!("uv.lock did not parse: {}", err.message())),
    };
    let theirs = uv_lock_side(root, &lock);
    let mut notes = Vec::new();
    if on_path("uv")
        && let Err(why) = tool_output(
            Command::new("uv")
                .args(["lock", "--check", "--offline", "--directory"])
                .arg(root),
            timeout,
        )
    {
        // Only uv's own verdict is a difference; a lock it cannot check
        // offline (build backends not in its cache) is said, not counted.
        if why.contains("needs to be updated") {
            notes.push("uv lock --check: uv.lock does not match the manifests".to_owned());
        } else {
            tracing::warn!(
                "uv lock --check could not run offline: {}",
                why.lines().last().unwrap_or_default()
            );
        }
    }
    Outcome::Compared {
        ecosystem: "python",
        tool: "uv.lock",
        ours: ours(graph, &|e| e == Ecosystem::Python),
        theirs,
        notes,
    }
}

/// The projects of a `uv.lock` (entries with a local source inside the
/// repository; a virtual root is none) and the edges between them,
/// the virtual root's groups as the root's.
fn uv_lock_side(root: &Path, lock: &toml::Table) -> Side {
    let entries: Vec<&toml::Table> = lock
        .get("package")
        .and_then(toml::Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(toml::Value::as_table)
        .collect();
    let name = |e: &toml::Table| {
        e.get("name")
            .and_then(toml::Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    // A project is an entry with a local source (`editable`, `virtual`,
    // `directory`) inside the repository; a virtual root is no package.
    let mut dirs: std::collections::HashMap<String, String> = std::collections::HashMap::new();
    for e in &entries {
        let Some(source) = e.get("source").and_then(toml::Value::as_table) else {
            continue;
        };
        for (key, value) in source {
            let Some(path) = value.as_str() else { continue };
            if !matches!(key.as_str(), "editable" | "virtual" | "directory") {
                continue;
            }
            if key == "virtual" && path == "." {
                continue;
            }
            if let Some(dir) = relative(root, &root.join(path).to_string_lossy()) {
                dirs.insert(name(e), dir);
            }
        }
    }
    let mut theirs = Side::default();
    theirs.packages.extend(dirs.values().cloned());
    for e in &entries {
        let Some(from) = dirs.get(&name(e)) else {
            continue;
        };
        let plain = e
            .get("dependencies")
            .and_then(toml::Value::as_array)
            .into_iter()
            .flatten();
        let grouped = ["optional-dependencies", "dev-dependencies"]
            .into_iter()
            .filter_map(|k| e.get(k).and_then(toml::Value::as_table))
            .flat_map(|t| t.values())
            .filter_map(toml::Value::as_array)
            .flatten();
        for d in plain.chain(grouped) {
            if let Some(to) = d
                .get("name")
                .and_then(toml::Value::as_str)
                .and_then(|n| dirs.get(n))
                && to != from
            {
                theirs.edges.insert((from.clone(), to.clone()));
            }
        }
    }
    // The root's own groups (a virtual root): `[manifest.dependency-groups]`.
    if let Some(groups) = lock
        .get("manifest")
        .and_then(|m| m.get("dependency-groups"))
        .and_then(toml::Value::as_table)
    {
        for d in groups.values().filter_map(toml::Value::as_array).flatten() {
            if let Some(to) = d
                .get("name")
                .and_then(toml::Value::as_str)
                .and_then(|n| dirs.get(n))
            {
                theirs.edges.insert((".".to_owned(), to.clone()));
            }
        }
    }
    theirs
}

/// One module as `go mod edit -json` reads it.
struct GoModule {
    dir: String,
    /// Required module paths.
    needs: Vec<String>,
    /// Local replaces: `(old path, new directory)`.
    replaced: Vec<(String, String)>,
}

/// Go: every module ci-matrix found, read by `go mod edit -json` (and
/// the root `go.work` by `go work edit -json`): a local `replace` to
/// another module is an edge, and in a workspace so is a `require` of a
/// workspace module.
fn check_go(root: &Path, graph: &PackageGraph, timeout: Duration) -> Outcome {
    let skipped = |why: &str| Outcome::Skipped {
        ecosystem: "go",
        why: why.to_owned(),
    };
    let ours_side = ours(graph, &|e| e == Ecosystem::Go);
    if ours_side.packages.is_empty() {
        return skipped("no Go module found");
    }
    if !on_path("go") {
        return skipped("go is not installed");
    }
    let edit = |dir: &Path, what: &str| -> Result<serde_json::Value, String> {
        let out = tool_output(
            Command::new("go")
                .args([what, "edit", "-json"])
                .current_dir(dir)
                .env("GOFLAGS", "-mod=mod")
                .env("GOTOOLCHAIN", "local"),
            timeout,
        )?;
        serde_json::from_slice(&out)
            .map_err(|err| format!("go {what} edit's output did not parse: {err}"))
    };
    let mut theirs = Side::default();
    let mut module_dirs: std::collections::HashMap<String, String> =
        std::collections::HashMap::new();
    let mut modules: Vec<GoModule> = Vec::new();
    for dir in &ours_side.packages {
        let json = match edit(&root.join(dir), "mod") {
            Ok(json) => json,
            Err(why) => return skipped(&why),
        };
        let path = json["Module"]["Path"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        module_dirs.insert(path, dir.clone());
        theirs.packages.insert(dir.clone());
        modules.push(go_module(dir, &json));
    }
    let workspace = root.join("go.work").is_file();
    for GoModule {
        dir,
        needs,
        replaced,
    } in &modules
    {
        for (_, new) in replaced {
            if let Some(to) = relative(root, &root.join(dir).join(new).to_string_lossy())
                && theirs.packages.contains(&to)
                && &to != dir
            {
                theirs.edges.insert((dir.clone(), to));
            }
        }
        if workspace {
            for path in needs {
                if let Some(to) = module_dirs.get(path)
                    && to != dir
                {
                    theirs.edges.insert((dir.clone(), to.clone()));
                }
            }
        }
    }
    Outcome::Compared {
        ecosystem: "go",
        tool: "go mod edit",
        ours: ours_side,
        theirs,
        notes: Vec::new(),
    }
}

/// A module's requirements and local replacements, from `go mod edit
/// -json`.
fn go_module(dir: &str, json: &serde_json::Value) -> GoModule {
    let needs: Vec<String> = json["Require"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|r| r["Path"].as_str().map(str::to_owned))
        .collect();
    let replaced: Vec<(String, String)> = json["Replace"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|r| {
            let new = r["New"]["Path"].as_str()?;
            (new.starts_with("./") || new.starts_with("../")).then(|| {
                (
                    r["Old"]["Path"].as_str().unwrap_or_default().to_owned(),
                    new.to_owned(),
                )
            })
        })
        .collect();
    GoModule {
        dir: dir.to_owned(),
        needs,
        replaced,
    }
}

/// Bun: the workspaces its text lockfile (`bun.lock`, what `bun install`
/// wrote) records, and the dependencies among them by name.
fn check_bun(root: &Path, graph: &PackageGraph, _timeout: Duration) -> Outcome {
    let skipped = |why: &str| Outcome::Skipped {
        ecosystem: "bun",
        why: why.to_owned(),
    };
    let Ok(text) = std::fs::read_to_string(root.join("bun.lock")) else {
        return skipped("no bun.lock at the root");
    };
    let lock: serde_json::Value = match serde_json::from_str(&without_trailing_commas(&text)) {
        Ok(lock) => lock,
        Err(err) => return skipped(&format!("bun.lock did not parse: {err}")),
    };
    let Some(workspaces) = lock["workspaces"].as_object() else {
        return skipped("bun.lock has no workspaces");
    };
    let root_is_package = graph
        .packages()
        .iter()
        .any(|p| p.path == "." && node(p.ecosystem));
    let dir_of = |key: &str| {
        if key.is_empty() {
            ".".to_owned()
        } else {
            key.to_owned()
        }
    };
    let by_name: std::collections::HashMap<&str, String> = workspaces
        .iter()
        .filter_map(|(key, w)| Some((w["name"].as_str()?, dir_of(key))))
        .collect();
    let mut theirs = Side::default();
    for key in workspaces.keys() {
        let dir = dir_of(key);
        if dir != "." || root_is_package {
            theirs.packages.insert(dir);
        }
    }
    for (key, w) in workspaces {
        let from = dir_of(key);
        for section in [
            "dependencies",
            "devDependencies",
            "optionalDependencies",
            "peerDependencies",
        ] {
            for name in w[section].as_object().into_iter().flat_map(|d| d.keys()) {
                if let Some(to) = by_name.get(name.as_str())
                    && *to != from
                    && theirs.packages.contains(to)
                {
                    theirs.edges.insert((from.clone(), to.clone()));
                }
            }
        }
    }
    Outcome::Compared {
        ecosystem: "bun",
        tool: "bun.lock",
        ours: without_nx_projects(root, ours(graph, &|e| e == Ecosystem::Bun)),
        theirs,
        notes: Vec::new(),
    }
}

/// JSON with trailing commas (what Bun writes) as plain JSON: a comma
/// followed by `}` or `]` outside strings goes.
fn without_trailing_commas(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut in_string = false;
    let mut escaped = false;
    for (i, c) in text.char_indices() {
        if in_string {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_string = false;
            }
        } else if c == '"' {
            in_string = true;
        } else if c == ',' {
            let next = bytes[i + 1..].iter().find(|b| !b.is_ascii_whitespace());
            if matches!(next, Some(b'}' | b']')) {
                continue;
            }
        }
        out.push(c);
    }
    out
}

fn node(e: Ecosystem) -> bool {
    matches!(
        e,
        Ecosystem::Npm | Ecosystem::Pnpm | Ecosystem::Yarn | Ecosystem::Bun
    )
}

fn check_pnpm(root: &Path, graph: &PackageGraph, timeout: Duration) -> Outcome {
    let skipped = |why: &str| Outcome::Skipped {
        ecosystem: "pnpm",
        why: why.to_owned(),
    };
    if !root.join("pnpm-workspace.yaml").is_file() {
        return skipped("no pnpm-workspace.yaml at the root");
    }
    if !on_path("pnpm") {
        return skipped("pnpm is not installed");
    }
    let out = match tool_output(
        Command::new("pnpm")
            .args(["ls", "-r", "--json", "--depth", "0"])
            .current_dir(root),
        timeout,
    ) {
        Ok(out) => out,
        Err(why) => return skipped(&why),
    };
    let projects: Vec<Project> = match serde_json::from_slice(&out) {
        Ok(p) => p,
        Err(err) => return skipped(&format!("pnpm ls's output did not parse: {err}")),
    };
    let root_is_package = graph
        .packages()
        .iter()
        .any(|p| p.path == "." && node(p.ecosystem));
    let mut theirs = Side::default();
    for p in &projects {
        if let Some(dir) = relative(root, &p.path)
            && (dir != "." || root_is_package)
        {
            theirs.packages.insert(dir);
        }
    }
    for p in &projects {
        let Some(from) = relative(root, &p.path) else {
            continue;
        };
        for d in p
            .dependencies
            .values()
            .chain(p.dev.values())
            .chain(p.optional.values())
        {
            if let Some(to) = d.path.as_deref().and_then(|d| relative(root, d))
                && theirs.packages.contains(&to)
                && to != from
            {
                theirs.edges.insert((from.clone(), to));
            }
        }
    }
    Outcome::Compared {
        ecosystem: "pnpm",
        tool: "pnpm ls",
        ours: without_nx_projects(root, ours(graph, &node)),
        theirs,
        notes: Vec::new(),
    }
}

fn check_npm(root: &Path, graph: &PackageGraph, timeout: Duration) -> Outcome {
    let skipped = |why: &str| Outcome::Skipped {
        ecosystem: "npm",
        why: why.to_owned(),
    };
    if !root.join("package-lock.json").is_file() {
        return skipped("no package-lock.json at the root");
    }
    if !on_path("npm") {
        return skipped("npm is not installed");
    }
    let out = match tool_output(
        Command::new("npm")
            .args(["query", ".workspace", "--package-lock-only"])
            .current_dir(root),
        timeout,
    ) {
        Ok(out) => out,
        Err(why) => return skipped(&why),
    };
    let workspaces: Vec<Workspace> = match serde_json::from_slice(&out) {
        Ok(w) => w,
        Err(err) => return skipped(&format!("npm query's output did not parse: {err}")),
    };
    let by_name: std::collections::HashMap<&str, &str> = workspaces
        .iter()
        .map(|w| (w.name.as_str(), w.location.as_str()))
        .collect();
    let mut theirs = Side::default();
    for w in &workspaces {
        theirs.packages.insert(w.location.clone());
        for name in w
            .dependencies
            .keys()
            .chain(w.dev.keys())
            .chain(w.optional.keys())
            .chain(w.peer.keys())
        {
            if let Some(to) = by_name.get(name.as_str())
                && *to != w.location
            {
                theirs.edges.insert((w.location.clone(), (*to).to_owned()));
            }
        }
    }
    let mut ours = without_nx_projects(root, ours(graph, &node));
    // npm's answer has no root: compare the workspaces only.
    ours.edges.retain(|(from, _)| from != ".");
    Outcome::Compared {
        ecosystem: "npm",
        tool: "npm query",
        ours,
        theirs,
        notes: Vec::new(),
    }
}

// What the tools print, as far as the check reads it.

#[derive(Deserialize)]
struct Metadata {
    packages: Vec<CargoPackage>,
}

#[derive(Deserialize)]
struct CargoDependency {
    path: Option<String>,
}

#[derive(Deserialize)]
struct Project {
    path: String,
    #[serde(default)]
    dependencies: std::collections::BTreeMap<String, Dep>,
    #[serde(default, rename = "devDependencies")]
    dev: std::collections::BTreeMap<String, Dep>,
    #[serde(default, rename = "optionalDependencies")]
    optional: std::collections::BTreeMap<String, Dep>,
}

#[derive(Deserialize)]
struct Workspace {
    name: String,
    location: String,
    #[serde(default)]
    dependencies: std::collections::BTreeMap<String, serde_json::Value>,
    #[serde(default, rename = "devDependencies")]
    dev: std::collections::BTreeMap<String, serde_json::Value>,
    #[serde(default, rename = "optionalDependencies")]
    optional: std::collections::BTreeMap<String, serde_json::Value>,
    #[serde(default, rename = "peerDependencies")]
    peer: std::collections::BTreeMap<String, serde_json::Value>,
}

#[derive(Deserialize)]
struct CargoPackage {
    manifest_path: String,
    dependencies: Vec<CargoDependency>,
}

#[derive(Deserialize)]
struct Dep {
    path: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trailing_commas_go_outside_strings_only() {
        assert_eq!(
            without_trailing_commas("{\"a\": [1, 2,], \"b\": \"x,}\",\n}"),
            "{\"a\": [1, 2], \"b\": \"x,}\"\n}"
        );
        assert_eq!(
            without_trailing_commas("{\"q\": \"\\\",]\",}"),
            "{\"q\": \"\\\",]\"}"
        );
    }
}

//! `cargo xtask bench-jobs`: jobs per run, the origin article's "matrix
//! efficiency". Replays commits of a git repository, each against its
//! first parent, through ci-matrix and, when the repository is a
//! Turborepo, `turbo ls --affected`, and with `--nx VERSION`, an Nx
//! workspace through `nx show projects --affected` (that Nx installed from
//! npm beside the clone, daemon and cloud off; plugins dropped from
//! `nx.json` in the work tree, since they are not installed: Nx's own add
//! targets, not projects or edges); reports the mean matrix size of each,
//! the time each took, and every commit where one marks a package the
//! other does not.
//!
//! Without `--repo` it generates two pnpm workspaces with a history of the
//! kinds of commit real ones have (changesets, docs, package changes, root
//! tooling bumps, root build configuration, workflows) and replays those.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context as _, bail};

use crate::tools::{cargo, commit_all, git, npm_packages, output, run, target_dir};

const DEFAULT_COMMITS: usize = 100;

struct Args {
    repo: Option<PathBuf>,
    commits: usize,
    turbo: bool,
    /// Compare with this Nx version's `nx show projects --affected`.
    nx: Option<String>,
    /// Where to generate (kept afterwards), instead of a scratch directory.
    work: Option<PathBuf>,
}

fn parse(args: &[String]) -> anyhow::Result<Args> {
    let mut parsed = Args {
        repo: None,
        commits: DEFAULT_COMMITS,
        turbo: true,
        nx: None,
        work: None,
    };
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--repo" => parsed.repo = Some(it.next().context("--repo takes a directory")?.into()),
            "--commits" => {
                parsed.commits = it
                    .next()
                    .context("--commits takes a number")?
                    .parse()
                    .context("--commits takes a number")?;
            }
            "--no-turbo" => parsed.turbo = false,
            "--nx" => parsed.nx = Some(it.next().context("--nx takes an Nx version")?.clone()),
            "--work" => parsed.work = Some(it.next().context("--work takes a directory")?.into()),
            other => bail!(
                "unknown argument {other:?}; usage: cargo xtask bench-jobs [--repo DIR] [--commits N] [--no-turbo] [--nx VERSION] [--work DIR]"
            ),
        }
    }
    Ok(parsed)
}

pub(crate) fn run_bench(args: &[String]) -> anyhow::Result<()> {
    let args = parse(args)?;
    run(cargo().args(["build", "--quiet", "--release", "--package", "ci-matrix"]))?;
    let ci_matrix = target_dir().join("release/ci-matrix");
    let turbo = if args.turbo {
        Some(npm_packages(&[("turbo@2", "turbo")])?.join("turbo"))
    } else {
        None
    };
    let scratch = std::env::temp_dir().join(format!("slipway-bench-jobs-{}", std::process::id()));
    let work = args.work.clone().unwrap_or_else(|| scratch.clone());
    let _cleanup = crate::tools::RemoveOnDrop(scratch);
    let nx_modules = args
        .nx
        .as_deref()
        .map(crate::tools::nx_install)
        .transpose()?;
    let tools = Tools {
        ci_matrix,
        turbo: turbo.as_deref(),
        nx_modules: nx_modules.as_deref(),
    };
    if let Some(repo) = &args.repo {
        let clone = work.join("clone");
        output(
            Command::new("git")
                .args(["clone", "-q", "--no-hardlinks"])
                .arg(repo)
                .arg(&clone),
        )?;
        if let Some(modules) = &nx_modules {
            std::os::unix::fs::symlink(modules, clone.join("node_modules"))?;
            std::fs::write(clone.join(".git/info/exclude"), "node_modules\n.nx\n")?;
        }
        let name = repo.canonicalize().unwrap_or_else(|_| repo.clone());
        println!(
            "{}",
            replay(&tools, &clone, args.commits)?.table(&name.display().to_string())
        );
        return Ok(());
    }
    for shape in &SHAPES {
        let dir = work.join(shape.name);
        generate(&dir, shape, args.commits)?;
        println!(
            "{}",
            replay(&tools, &dir, args.commits)?.table(shape.describe)
        );
    }
    Ok(())
}

struct Tools<'a> {
    ci_matrix: PathBuf,
    turbo: Option<&'a Path>,
    /// A `node_modules` with Nx, linked into the clone.
    nx_modules: Option<&'a Path>,
}

/// Drops `plugins` from the work tree's `nx.json` (they are not
/// installed), and Nx's lockfile parsing (the Nx installed may not read a
/// newer package manager's lockfile; it only names external packages).
fn strip_nx_plugins(dir: &Path) -> anyhow::Result<()> {
    let path = dir.join("nx.json");
    let Ok(text) = std::fs::read_to_string(&path) else {
        return Ok(());
    };
    let Ok(mut doc) = serde_json::from_str::<serde_json::Value>(&text) else {
        return Ok(());
    };
    if let Some(map) = doc.as_object_mut() {
        map.remove("plugins");
        let config = map
            .entry("pluginsConfig")
            .or_insert_with(|| serde_json::json!({}));
        if let Some(config) = config.as_object_mut() {
            // Without the table Nx reads imports when the root depends on
            // @nx/js or @nx/workspace; with it, unless told not to: keep
            // the answer the repository had.
            let manifest: serde_json::Value =
                serde_json::from_str(&std::fs::read_to_string(dir.join("package.json"))?)
                    .unwrap_or_default();
            let analyzes = ["dependencies", "devDependencies"].iter().any(|key| {
                ["@nx/js", "@nx/workspace", "@nrwl/js", "@nrwl/workspace"]
                    .iter()
                    .any(|name| manifest[*key].get(*name).is_some())
            });
            let js = config
                .entry("@nx/js")
                .or_insert_with(|| serde_json::json!({ "analyzeSourceFiles": analyzes }));
            if let Some(js) = js.as_object_mut() {
                js.insert("analyzeLockfile".to_owned(), serde_json::Value::Bool(false));
            }
        }
        std::fs::write(&path, serde_json::to_string_pretty(&doc)?)?;
    }
    Ok(())
}

/// The projects `nx show projects --affected` marks.
fn nx_affected(dir: &Path, base: &str, head: &str) -> anyhow::Result<BTreeSet<String>> {
    let out = output(
        Command::new(dir.join("node_modules/.bin/nx"))
            .current_dir(dir)
            .args(["show", "projects", "--affected", "--json"])
            .arg(format!("--base={base}"))
            .arg(format!("--head={head}"))
            .env("NX_DAEMON", "false")
            .env("NX_NO_CLOUD", "true")
            .env("NX_TUI", "false")
            .env("NX_SKIP_NX_CACHE", "true"),
    )?;
    let start = out.find('[').context("nx printed no JSON list")?;
    Ok(serde_json::from_str::<Vec<String>>(&out[start..])
        .context("nx printed no JSON list")?
        .into_iter()
        .collect())
}

/// What one commit affects by each tool, by package name.
struct Commit {
    subject: String,
    ours: BTreeSet<String>,
    /// With the reason chain of each.
    because: Vec<(String, String)>,
    /// How many ci-matrix marks under `unowned = all`, its rule before 0.2.
    old_rule: usize,
    theirs: Option<BTreeSet<String>>,
}

struct Replay {
    commits: Vec<Commit>,
    turbo_failures: usize,
    /// Commits ci-matrix refused (left out).
    ours_failures: usize,
    /// The tool compared with: `turbo` or `nx`.
    oracle: &'static str,
    /// Total wall time of each: ci-matrix's one run per commit, the
    /// oracle's.
    ours_time: std::time::Duration,
    theirs_time: std::time::Duration,
}

fn replay(tools: &Tools<'_>, dir: &Path, commits: usize) -> anyhow::Result<Replay> {
    let list = output(git(dir).args([
        "rev-list",
        "--first-parent",
        "--reverse",
        &format!("--max-count={commits}"),
        "HEAD",
    ]))?;
    let is_turbo = dir.join("turbo.json").is_file() || dir.join("turbo.jsonc").is_file();
    let mut out = Replay {
        commits: Vec::new(),
        turbo_failures: 0,
        ours_failures: 0,
        oracle: if tools.nx_modules.is_some() {
            "nx"
        } else {
            "turbo"
        },
        ours_time: std::time::Duration::ZERO,
        theirs_time: std::time::Duration::ZERO,
    };
    let progress = list.lines().count();
    for (n, sha) in list.lines().enumerate() {
        let parent = format!("{sha}^");
        if output(git(dir).args(["rev-parse", "--verify", "-q", &parent])).is_err() {
            continue;
        }
        output(git(dir).args(["checkout", "-q", "-f", "--detach", sha]))?;
        if tools.nx_modules.is_some() {
            strip_nx_plugins(dir)?;
        }
        let subject = output(git(dir).args(["log", "-1", "--format=%s", sha]))?
            .trim()
            .to_owned();
        let started = std::time::Instant::now();
        // A commit whose files ci-matrix refuses (two projects of one
        // name, which Nx refuses too) is counted and left out.
        let report = match output(Command::new(&tools.ci_matrix).current_dir(dir).args([
            "--base", &parent, "--head", sha, "--format", "json", "--quiet",
        ])) {
            Ok(text) => crate::outputs::report(&text)?,
            Err(err) => {
                eprintln!("ci-matrix failed on {sha}: {err:#}");
                out.ours_failures += 1;
                continue;
            }
        };
        out.ours_time += started.elapsed();
        let mut ours = BTreeSet::new();
        let mut because = Vec::new();
        for p in report.affected {
            because.push((p.name.clone(), p.because));
            ours.insert(p.name);
        }
        let old_rule = output(Command::new(&tools.ci_matrix).current_dir(dir).args([
            "--base",
            &parent,
            "--head",
            sha,
            "--format",
            "list",
            "--quiet",
            "--unowned",
            "all",
        ]))?
        .lines()
        .count();
        let started = std::time::Instant::now();
        let answer = if tools.nx_modules.is_some() {
            Some(nx_affected(dir, &parent, sha))
        } else {
            tools
                .turbo
                .filter(|_| is_turbo)
                .map(|turbo| turbo_affected(turbo, dir, &parent, sha))
        };
        out.theirs_time += started.elapsed();
        let theirs = match answer {
            Some(Ok(set)) => Some(set),
            Some(Err(err)) => {
                eprintln!("{} failed on {sha}: {err:#}", out.oracle);
                out.turbo_failures += 1;
                None
            }
            None => None,
        };
        if (n + 1) % 20 == 0 {
            eprintln!("==> {} of {progress} commits replayed", n + 1);
        }
        out.commits.push(Commit {
            subject,
            ours,
            because,
            old_rule,
            theirs,
        });
    }
    Ok(out)
}

fn turbo_affected(
    turbo: &Path,
    dir: &Path,
    base: &str,
    head: &str,
) -> anyhow::Result<BTreeSet<String>> {
    let json: serde_json::Value = serde_json::from_str(&output(
        Command::new(turbo)
            .current_dir(dir)
            .args(["ls", "--affected", "--output=json"])
            .env("TURBO_SCM_BASE", base)
            .env("TURBO_SCM_HEAD", head)
            .env("TURBO_TELEMETRY_DISABLED", "1")
            .env("DO_NOT_TRACK", "1")
            .env("TURBO_NO_UPDATE_NOTIFIER", "1"),
    )?)
    .context("turbo printed no JSON")?;
    Ok(json["packages"]["items"]
        .as_array()
        .context("turbo JSON has no packages.items")?
        .iter()
        .filter_map(|p| p["name"].as_str())
        .filter(|name| *name != "//")
        .map(str::to_owned)
        .collect())
}

impl Replay {
    #[expect(clippy::cast_precision_loss, reason = "counts far below 2^52")]
    fn table(&self, name: &str) -> String {
        let n = self.commits.len().max(1) as f64;
        let ours: usize = self.commits.iter().map(|c| c.ours.len()).sum();
        let compared: Vec<&Commit> = self.commits.iter().filter(|c| c.theirs.is_some()).collect();
        let mut out = format!("### {name}\n\n{} commits replayed\n\n", self.commits.len());
        let _ = writeln!(out, "| tool | mean jobs per commit |\n| --- | --- |");
        let old: usize = self.commits.iter().map(|c| c.old_rule).sum();
        let _ = writeln!(out, "| ci-matrix | {:.1} |", ours as f64 / n);
        let _ = writeln!(
            out,
            "| ci-matrix --unowned all (the rule before the root model) | {:.1} |",
            old as f64 / n
        );
        if !compared.is_empty() {
            let theirs: usize = compared
                .iter()
                .filter_map(|c| c.theirs.as_ref())
                .map(BTreeSet::len)
                .sum();
            let ours_there: usize = compared.iter().map(|c| c.ours.len()).sum();
            let m = compared.len() as f64;
            let oracle = self.oracle;
            let command = if oracle == "nx" {
                "nx show projects --affected"
            } else {
                "turbo ls --affected"
            };
            let _ = writeln!(
                out,
                "| {command} | {:.1} |\n\nratio (ci-matrix / {oracle}, means over the {} commits both answered): {:.2}x",
                theirs as f64 / m,
                compared.len(),
                ours_there as f64 / (theirs as f64).max(1.0)
            );
            let _ = writeln!(
                out,
                "\ntime: ci-matrix {:.2} s per commit, {oracle} {:.2} s per commit ({:.3}x)",
                self.ours_time.as_secs_f64() / n,
                self.theirs_time.as_secs_f64() / n,
                self.ours_time.as_secs_f64() / self.theirs_time.as_secs_f64().max(1e-9)
            );
            let extra: Vec<String> = compared
                .iter()
                .filter_map(|c| difference(c, true, self.oracle))
                .collect();
            let missing: Vec<String> = compared
                .iter()
                .filter_map(|c| difference(c, false, self.oracle))
                .collect();
            let _ = writeln!(
                out,
                "\ncommits where ci-matrix marks a package {oracle} does not: {}",
                extra.len()
            );
            for line in &extra {
                let _ = writeln!(out, "- {line}");
            }
            let _ = writeln!(
                out,
                "\ncommits where {oracle} marks a package ci-matrix does not: {}",
                missing.len()
            );
            for line in &missing {
                let _ = writeln!(out, "- {line}");
            }
        }
        if self.ours_failures > 0 {
            let _ = writeln!(
                out,
                "\nci-matrix refused {} commits (left out; see the log)",
                self.ours_failures
            );
        }
        if self.turbo_failures > 0 {
            let _ = writeln!(
                out,
                "\n{} failed on {} commits (left out)",
                self.oracle, self.turbo_failures
            );
        }
        out
    }
}

/// One line for a commit where the sets differ: ci-matrix's extra packages
/// with the reason for the first (`extra`), or turbo's.
fn difference(commit: &Commit, extra: bool, oracle: &str) -> Option<String> {
    let theirs = commit.theirs.as_ref()?;
    let (more, name) = if extra {
        (
            commit.ours.difference(theirs).collect::<Vec<_>>(),
            "ci-matrix",
        )
    } else {
        (theirs.difference(&commit.ours).collect::<Vec<_>>(), oracle)
    };
    let first = more.first()?;
    let why = if extra {
        commit
            .because
            .iter()
            .find(|(n, _)| n == *first)
            .map(|(_, b)| format!(": {b}"))
            .unwrap_or_default()
    } else {
        String::new()
    };
    Some(format!(
        "\"{}\": {name} also marks {} packages ({first}{why})",
        commit.subject,
        more.len()
    ))
}

/// A generated workspace: its size, and whether the root's lint tooling is
/// built from the workspace.
struct Shape {
    name: &'static str,
    describe: &'static str,
    packages: usize,
    root_tooling: bool,
}

const SHAPES: [Shape; 2] = [
    Shape {
        name: "changesets",
        describe: "generated: pnpm, 108 packages, changesets",
        packages: 108,
        root_tooling: false,
    },
    Shape {
        name: "root-tooling",
        describe: "generated: pnpm, 162 packages, root tooling built from the workspace",
        packages: 162,
        root_tooling: true,
    },
];

/// The generated workspace's state, rewritten into files before each commit.
struct State {
    packages: usize,
    root_tooling: bool,
    /// `left-pad` version per package, for those that use it.
    left_pad: Vec<Option<u32>>,
    vitest: u32,
}

fn generate(dir: &Path, shape: &Shape, commits: usize) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir)?;
    let mut state = State {
        packages: shape.packages,
        root_tooling: shape.root_tooling,
        left_pad: (0..shape.packages)
            .map(|i| (i % 3 == 0).then_some(1))
            .collect(),
        vitest: 1,
    };
    write(
        dir,
        "pnpm-workspace.yaml",
        "packages:\n  - \"packages/*\"\n  - \"tools/*\"\n",
    )?;
    write(
        dir,
        "turbo.json",
        "{\n  \"globalDependencies\": [\"tsconfig.json\"],\n  \"tasks\": {\"test\": {}, \"lint\": {}}\n}\n",
    )?;
    write(
        dir,
        "tsconfig.json",
        "{\"compilerOptions\": {\"strict\": true}}\n",
    )?;
    write(dir, ".changeset/config.json", "{}\n")?;
    write(dir, ".github/workflows/ci.yml", "on: push\n")?;
    write(dir, "content/intro.md", "# Intro\n")?;
    write(dir, "eslint.config.mjs", "export default [];\n")?;
    for i in 0..shape.packages {
        write(
            dir,
            &format!("packages/p{i:03}/src/index.ts"),
            "export {};\n",
        )?;
    }
    if shape.root_tooling {
        write(
            dir,
            "tools/eslint-config/index.js",
            "module.exports = {};\n",
        )?;
    }
    state.write(dir)?;
    output(git(dir).args(["init", "-q", "-b", "main"]))?;
    commit_all(dir, "base")?;

    // A fixed sequence, so every run replays the same history.
    let mut seed: u64 = 0x5eed_0b5e_55ed;
    let mut next = |below: usize| {
        seed = seed
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        usize::try_from(seed >> 33).unwrap_or(0) % below
    };
    for c in 0..commits {
        let package = next(shape.packages);
        let p = format!("packages/p{package:03}");
        // Every fiftieth commit touches the root's lint configuration, a
        // file turbo does not know every package reads.
        let kind = if c % 50 == 25 { 95 } else { next(100) };
        let subject = match kind {
            0..15 => {
                write(dir, &format!(".changeset/c{c}.md"), "---\n---\nA note.\n")?;
                "changeset only".to_owned()
            }
            15..25 => {
                write(dir, "content/intro.md", &format!("# Intro {c}\n"))?;
                "docs".to_owned()
            }
            25..60 => {
                write(
                    dir,
                    &format!("{p}/src/index.ts"),
                    &format!("export const c = {c};\n"),
                )?;
                write(dir, &format!(".changeset/c{c}.md"), "---\n---\nA fix.\n")?;
                format!("change {p} with a changeset")
            }
            60..75 => {
                write(
                    dir,
                    &format!("{p}/src/index.ts"),
                    &format!("export const c = {c};\n"),
                )?;
                format!("change {p}")
            }
            75..83 => {
                let slot = &mut state.left_pad[package - package % 3];
                *slot = Some(slot.unwrap_or(1) % 3 + 1);
                state.write(dir)?;
                format!("bump left-pad in packages/p{:03}", package - package % 3)
            }
            83..87 => {
                state.vitest = state.vitest % 3 + 1;
                state.write(dir)?;
                "bump the root's vitest".to_owned()
            }
            87..90 => {
                write(
                    dir,
                    "tsconfig.json",
                    &format!("{{\"compilerOptions\": {{\"strict\": true}}, \"c\": {c}}}\n"),
                )?;
                "root tsconfig.json".to_owned()
            }
            90..95 if shape.root_tooling => {
                write(
                    dir,
                    "tools/eslint-config/index.js",
                    &format!("module.exports = {{c: {c}}};\n"),
                )?;
                "change the root's eslint-config".to_owned()
            }
            95 => {
                // Read by every package's lint; turbo does not know it.
                write(
                    dir,
                    "eslint.config.mjs",
                    &format!("export default [/* {c} */];\n"),
                )?;
                "root eslint.config.mjs".to_owned()
            }
            _ => {
                write(
                    dir,
                    ".github/workflows/ci.yml",
                    &format!("on: push\n# {c}\n"),
                )?;
                "workflow".to_owned()
            }
        };
        commit_all(dir, &subject)?;
    }
    Ok(())
}

impl State {
    /// Every manifest and the lockfile, as pnpm 9 would write them.
    fn write(&self, dir: &Path) -> anyhow::Result<()> {
        let layer = 12;
        let mut root_dev = format!("\"vitest\": \"3.{}.0\"", self.vitest);
        if self.root_tooling {
            root_dev.push_str(", \"@x/eslint-config\": \"workspace:*\"");
            write(
                dir,
                "tools/eslint-config/package.json",
                "{\"name\": \"@x/eslint-config\", \"version\": \"1.0.0\", \"dependencies\": {\"p000\": \"workspace:*\"}}\n",
            )?;
        }
        write(
            dir,
            "package.json",
            &format!(
                "{{\"name\": \"bench-root\", \"private\": true, \"packageManager\": \"pnpm@9.12.0\", \"devDependencies\": {{{root_dev}}}}}\n"
            ),
        )?;
        let mut lock = String::from(
            "lockfileVersion: '9.0'\n\nsettings:\n  autoInstallPeers: true\n  excludeLinksFromLockfile: false\n\nimporters:\n\n",
        );
        let _ = writeln!(
            lock,
            "  .:\n    devDependencies:\n      vitest:\n        specifier: 3.{v}.0\n        version: 3.{v}.0",
            v = self.vitest
        );
        if self.root_tooling {
            lock.push_str("      '@x/eslint-config':\n        specifier: workspace:*\n        version: link:tools/eslint-config\n");
        }
        lock.push('\n');
        for i in 0..self.packages {
            let mut deps: Vec<String> = Vec::new();
            let mut lock_deps = String::new();
            if i >= layer {
                let below = (i / layer - 1) * layer;
                for k in 0..2 {
                    let dep = below + (i * 7 + k * 5) % layer;
                    deps.push(format!("\"p{dep:03}\": \"workspace:*\""));
                    let _ = writeln!(
                        lock_deps,
                        "      p{dep:03}:\n        specifier: workspace:*\n        version: link:../p{dep:03}"
                    );
                }
            }
            if let Some(v) = self.left_pad[i] {
                deps.push(format!("\"left-pad\": \"1.{v}.0\""));
                let _ = writeln!(
                    lock_deps,
                    "      left-pad:\n        specifier: 1.{v}.0\n        version: 1.{v}.0"
                );
            }
            write(
                dir,
                &format!("packages/p{i:03}/package.json"),
                &format!(
                    "{{\"name\": \"p{i:03}\", \"version\": \"1.0.0\", \"dependencies\": {{{}}}}}\n",
                    deps.join(", ")
                ),
            )?;
            if lock_deps.is_empty() {
                let _ = writeln!(lock, "  packages/p{i:03}: {{}}\n");
            } else {
                let _ = writeln!(lock, "  packages/p{i:03}:\n    dependencies:\n{lock_deps}");
            }
        }
        if self.root_tooling {
            lock.push_str("  tools/eslint-config:\n    dependencies:\n      p000:\n        specifier: workspace:*\n        version: link:../../packages/p000\n\n");
        }
        // As pnpm writes it: only the versions in use.
        let mut used: BTreeSet<String> = self
            .left_pad
            .iter()
            .flatten()
            .map(|v| format!("left-pad@1.{v}.0"))
            .collect();
        used.insert(format!("vitest@3.{}.0", self.vitest));
        lock.push_str("packages:\n\n");
        for key in &used {
            let _ = writeln!(
                lock,
                "  {key}:\n    resolution: {{integrity: sha512-{key}}}\n"
            );
        }
        lock.push_str("snapshots:\n\n");
        for key in &used {
            let _ = writeln!(lock, "  {key}: {{}}\n");
        }
        write(dir, "pnpm-lock.yaml", &lock)
    }
}

fn write(dir: &Path, rel: &str, text: &str) -> anyhow::Result<()> {
    let path = dir.join(rel);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    std::fs::write(&path, text).with_context(|| format!("failed to write {}", path.display()))
}

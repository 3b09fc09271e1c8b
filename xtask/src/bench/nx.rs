//! `cargo xtask bench-affected --nx`: ci-matrix against `nx show projects
//! --affected` on a generated Nx workspace whose edges are all imports
//! (2,000 `project.json` projects, 50 source files each, `paths` aliases),
//! whole processes, interleaved in one run, after checking both give the
//! same answer.

use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;

use anyhow::ensure;

use crate::tools::{commit_all, output};

/// Source files per project.
const FILES: usize = 50;
/// Projects per layer; each imports three of the layer below.
const LAYER: usize = 200;
const RUNS: usize = 5;
/// The Nx the workspace is compared with (and `cargo xtask test` installs).
pub(crate) const NX_VERSION: &str = "22.3.3";

pub(crate) fn compare(ci_matrix: &Path, projects: usize) -> anyhow::Result<()> {
    let modules = crate::tools::nx_install(NX_VERSION)?;
    let work = std::env::temp_dir().join(format!("slipway-bench-nx-{}", std::process::id()));
    let keep = std::env::var_os("SLIPWAY_BENCH_KEEP").is_some();
    let _cleanup = (!keep).then(|| crate::tools::RemoveOnDrop(work.clone()));
    eprintln!(
        "==> generating {projects} Nx projects, {} source files",
        projects * FILES
    );
    generate(&work, projects)?;
    std::os::unix::fs::symlink(&modules, work.join("node_modules"))?;

    let ours = || {
        let mut cmd = Command::new(ci_matrix);
        cmd.current_dir(&work)
            .args(["--base", "HEAD~1", "--format", "list", "--quiet"]);
        cmd
    };
    let theirs = || {
        let mut cmd = Command::new(work.join("node_modules/.bin/nx"));
        cmd.current_dir(&work)
            .args([
                "show",
                "projects",
                "--affected",
                "--base=HEAD~1",
                "--head=HEAD",
            ])
            .env("NX_DAEMON", "false")
            .env("NX_NO_CLOUD", "true")
            .env("NX_TUI", "false")
            .env("NX_SKIP_NX_CACHE", "true");
        cmd
    };
    // Same answer first: a faster wrong answer is worth nothing.
    let mut ours_set: Vec<String> = output(&mut ours())?.lines().map(str::to_owned).collect();
    let mut nx_set: Vec<String> = output(&mut theirs())?
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect();
    ours_set.sort();
    nx_set.sort();
    ensure!(
        ours_set == nx_set,
        "affected sets differ: ci-matrix {} projects, nx {}",
        ours_set.len(),
        nx_set.len()
    );
    let mut ours_times = Vec::with_capacity(RUNS);
    let mut nx_times = Vec::with_capacity(RUNS);
    for run in 0..RUNS {
        // Nx keeps a project graph cache in .nx/workspace-data: each run
        // starts without it, as a fresh CI checkout does.
        let _ = std::fs::remove_dir_all(work.join(".nx"));
        ours_times.push(crate::bench::time(&mut ours())?);
        nx_times.push(crate::bench::time(&mut theirs())?);
        eprintln!("==> run {} of {RUNS}", run + 1);
    }
    println!(
        "\nNx imports: {projects} project.json projects, {} source files, every edge an import through tsconfig paths; {} affected by a source change, same set from both tools",
        projects * FILES,
        ours_set.len()
    );
    println!("runs: {RUNS} of each, interleaved, Nx without its cache; medians:");
    let [ours_median, nx_median] = crate::bench::timing_table([
        ("ci-matrix --base HEAD~1", ours_times),
        ("nx show projects --affected", nx_times),
    ]);
    println!(
        "ratio (ci-matrix / nx, medians): {:.3}x",
        ours_median.as_secs_f64() / nx_median.as_secs_f64().max(1e-9)
    );
    Ok(())
}

/// Layers of `LAYER` projects under `libs/`; a project of layer L > 0
/// imports three of layer L-1 through `@bench/pNNNNN` aliases, from
/// different files, among comments and strings that name others.
fn generate(dir: &Path, projects: usize) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir)?;
    std::fs::write(
        dir.join("package.json"),
        "{\"name\": \"bench-root\", \"private\": true, \"devDependencies\": {\"@nx/js\": \"22.3.3\", \"nx\": \"22.3.3\"}}\n",
    )?;
    std::fs::write(dir.join("nx.json"), "{}\n")?;
    std::fs::write(dir.join(".gitignore"), "node_modules\n.nx\n")?;
    let mut paths = String::new();
    for i in 0..projects {
        let _ = write!(
            paths,
            "{}\"@bench/p{i:05}\": [\"libs/p{i:05}/src/index.ts\"]",
            if i == 0 { "" } else { ",\n      " }
        );
    }
    std::fs::write(
        dir.join("tsconfig.base.json"),
        format!(
            "{{\n  \"compilerOptions\": {{\n    \"baseUrl\": \".\",\n    \"paths\": {{\n      {paths}\n    }}\n  }}\n}}\n"
        ),
    )?;
    for i in 0..projects {
        let root = dir.join(format!("libs/p{i:05}"));
        std::fs::create_dir_all(root.join("src"))?;
        std::fs::write(
            root.join("project.json"),
            format!(
                "{{\"name\": \"p{i:05}\", \"sourceRoot\": \"libs/p{i:05}/src\", \"tags\": [\"layer:{}\"]}}\n",
                i / LAYER
            ),
        )?;
        let deps: Vec<usize> = if i < LAYER {
            Vec::new()
        } else {
            let below = (i / LAYER - 1) * LAYER;
            (0..3).map(|k| below + (i * 7 + k * 31) % LAYER).collect()
        };
        std::fs::write(
            root.join("src/index.ts"),
            format!("export const id = {i};\n"),
        )?;
        for f in 1..FILES {
            let mut text = String::from(
                "// import { nope } from '@bench/p99999';\nimport { id } from './index';\n",
            );
            if f <= deps.len() {
                let _ = writeln!(
                    text,
                    "import {{ id as dep{f} }} from '@bench/p{:05}';",
                    deps[f - 1]
                );
            }
            let _ = writeln!(
                text,
                "const note = \"import '@bench/p99998'\";\nconst re = /from '@bench\\/p99997'/;\nexport function f{f}(x: number): number {{\n  return x / 2 + id + `${{note}}`.length + String(re).length;\n}}"
            );
            std::fs::write(root.join(format!("src/f{f:02}.ts")), text)?;
        }
    }
    output(crate::tools::git(dir).args(["init", "-q", "-b", "main"]))?;
    commit_all(dir, "base")?;
    let changed = (projects / LAYER / 2) * LAYER + 17;
    std::fs::write(
        dir.join(format!("libs/p{changed:05}/src/f10.ts")),
        "export const changed = 1;\n",
    )?;
    commit_all(dir, "change")?;
    Ok(())
}

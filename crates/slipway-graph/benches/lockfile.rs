//! Comparing two revisions of a ~2 MB `pnpm-lock.yaml` (the shape
//! `cargo xtask bench-affected` generates): one external package bumped.
//! `cargo bench -p slipway-graph --bench lockfile`.

use std::fmt::Write as _;
use std::sync::LazyLock;

use slipway_graph::{Ecosystem, GraphBuilder, PackageGraph, SharedInput, diff_input};

fn main() {
    divan::main();
}

const PACKAGES: usize = 2_000;
const EXTERNALS: usize = 3_000;
const BUMPED: usize = 2_917;

fn externals_of(i: usize) -> Vec<usize> {
    let mut out: Vec<usize> = (0..5).map(|k| (i * 13 + k * 611) % EXTERNALS).collect();
    out.sort_unstable();
    out.dedup();
    out
}

fn lockfile(bumped: Option<usize>) -> String {
    let version = |e: usize| if Some(e) == bumped { "1.0.1" } else { "1.0.0" };
    let mut out = String::from("lockfileVersion: '9.0'\n\nimporters:\n\n  .: {}\n\n");
    for i in 0..PACKAGES {
        let _ = writeln!(out, "  packages/p{i:05}:\n    dependencies:");
        for e in externals_of(i) {
            let _ = writeln!(
                out,
                "      ext-{e:04}:\n        specifier: ^1.0.0\n        version: {}",
                version(e)
            );
        }
        out.push('\n');
    }
    out.push_str("packages:\n\n");
    for e in 0..EXTERNALS {
        let _ = writeln!(
            out,
            "  ext-{e:04}@{}:\n    resolution: {{integrity: sha512-{e:0>86}==}}\n    engines: {{node: '>=18'}}\n",
            version(e)
        );
    }
    out.push_str("snapshots:\n\n");
    for e in 0..EXTERNALS {
        if e > 10 {
            let _ = writeln!(
                out,
                "  ext-{e:04}@{}:\n    dependencies:\n      ext-{:04}: {}\n",
                version(e),
                (e * 7) % e,
                version((e * 7) % e)
            );
        } else {
            let _ = writeln!(out, "  ext-{e:04}@{}: {{}}\n", version(e));
        }
    }
    out
}

static GRAPH: LazyLock<PackageGraph> = LazyLock::new(|| {
    let mut b = GraphBuilder::new();
    for i in 0..PACKAGES {
        b.add_package(
            &format!("p{i:05}"),
            &format!("packages/p{i:05}"),
            Ecosystem::Pnpm,
        )
        .expect("unique names");
    }
    b.build()
});
static BASE: LazyLock<String> = LazyLock::new(|| lockfile(None));
static HEAD: LazyLock<String> = LazyLock::new(|| lockfile(Some(BUMPED)));

#[divan::bench(sample_count = 20)]
fn compare_two_revisions_of_a_2mb_pnpm_lock(bencher: divan::Bencher) {
    let (graph, base, head) = (&*GRAPH, BASE.as_str(), HEAD.as_str());
    assert!(base.len() > 1_000_000, "{} bytes", base.len());
    bencher.bench(|| {
        diff_input(
            divan::black_box(graph),
            SharedInput::PnpmLock,
            Some(divan::black_box(base)),
            Some(divan::black_box(head)),
        )
    });
}

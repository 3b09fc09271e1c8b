//! Resolution at monorepo scale: 10,000 packages, ~50,000 edges and
//! 100,000 changed paths. `cargo bench -p slipway-graph`.

use std::sync::LazyLock;

use slipway_graph::{
    ChangedPath, DepKind, Ecosystem, GraphBuilder, Options, PackageGraph, affected,
};

fn main() {
    divan::main();
}

const PACKAGES: usize = 10_000;
const DEPS_PER_PACKAGE: usize = 5;
const CHANGED: usize = 100_000;

/// A deterministic pseudo-random sequence (64-bit LCG), so every run
/// measures the same workspace.
struct Lcg(u64);

impl Lcg {
    fn below(&mut self, n: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        ((self.0 >> 33) as usize) % n
    }
}

fn graph() -> PackageGraph {
    let mut rng = Lcg(7);
    let mut b = GraphBuilder::new();
    let ids: Vec<_> = (0..PACKAGES)
        .map(|i| {
            let group = i / 100;
            b.add_package(
                &format!("pkg-{i}"),
                &format!("packages/g{group}/pkg-{i}"),
                Ecosystem::Pnpm,
            )
            .expect("unique names")
        })
        .collect();
    // Mostly layered (depend on lower numbers) with a few back edges, as
    // real graphs have: about 50,000 edges.
    for i in 1..PACKAGES {
        for _ in 0..DEPS_PER_PACKAGE {
            let to = if rng.below(100) == 0 {
                rng.below(PACKAGES)
            } else {
                rng.below(i)
            };
            b.add_edge(ids[i], ids[to], DepKind::Normal);
        }
    }
    b.build()
}

static GRAPH: LazyLock<PackageGraph> = LazyLock::new(graph);

/// 100,000 paths: most in the top 60% of packages (leaves and mid-layer,
/// where day-to-day changes land), a few in loose directories that an ignore glob covers.
static CHANGES: LazyLock<Vec<ChangedPath>> = LazyLock::new(|| {
    let mut rng = Lcg(11);
    (0..CHANGED)
        .map(|n| {
            let path = if n % 1000 == 0 {
                format!("docs/page-{n}.md")
            } else {
                let i = PACKAGES * 4 / 10 + rng.below(PACKAGES * 6 / 10);
                format!(
                    "packages/g{}/pkg-{i}/src/module-{}/file-{n}.ts",
                    i / 100,
                    n % 7
                )
            };
            ChangedPath {
                path,
                deleted: false,
            }
        })
        .collect()
});

#[divan::bench(sample_count = 20)]
fn resolve_10k_packages_100k_paths(bencher: divan::Bencher) {
    let graph = &*GRAPH;
    let changes = &*CHANGES;
    let options = Options {
        ignore: {
            let mut set = globset::GlobSetBuilder::new();
            set.add(globset::Glob::new("docs/**").expect("valid glob"));
            set.build().expect("valid set")
        },
        ..Options::default()
    };
    assert!(graph.edge_count() > 45_000, "edges: {}", graph.edge_count());
    bencher.bench(|| {
        let result = affected(divan::black_box(graph), divan::black_box(changes), &options);
        assert!(result.global_triggers.is_empty());
        result.len()
    });
}

#[divan::bench(sample_count = 20)]
fn resolve_10k_packages_one_leaf_path(bencher: divan::Bencher) {
    let graph = &*GRAPH;
    let changes = [ChangedPath {
        path: "packages/g99/pkg-9999/src/x.ts".to_owned(),
        deleted: false,
    }];
    let options = Options::default();
    bencher.bench(|| affected(divan::black_box(graph), &changes, &options).len());
}

#[divan::bench(sample_count = 10)]
fn build_10k_package_graph() -> PackageGraph {
    graph()
}

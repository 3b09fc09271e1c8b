//! What the parsers' data-driven tests share: one small mixed workspace
//! and a rendering of what a change to a shared input concerns, so each
//! parser's `check(base, head, expected)` reads as a table of cases.

use super::{InputDiff, SharedInput, diff_input};
use crate::affected::Resolution;
use crate::graph::{GraphBuilder, PackageGraph};
use crate::model::{DepKind, Ecosystem};

/// Cargo `core` and `app` (app depends on core), npm `@x/ui` and `web`
/// (web depends on `@x/ui`) under a root depending on `vitest`, Go
/// `example.com/a` and `example.com/b`, Python `service` and `lib` (service on lib
/// through a workspace source, and on httpx).
pub(super) fn graph() -> PackageGraph {
    let mut b = GraphBuilder::new();
    let core = b
        .add_package("core", "crates/core", Ecosystem::Cargo)
        .unwrap();
    let app = b
        .add_package("app", "crates/app", Ecosystem::Cargo)
        .unwrap();
    b.add_edge(app, core, DepKind::Normal);
    let ui = b
        .add_package("@x/ui", "packages/ui", Ecosystem::Npm)
        .unwrap();
    let web = b.add_package("web", "apps/web", Ecosystem::Npm).unwrap();
    b.add_edge(web, ui, DepKind::Normal);
    b.add_root_external("vitest", "3.1.0");
    b.add_package("example.com/a", "a", Ecosystem::Go).unwrap();
    b.add_package("example.com/b", "b", Ecosystem::Go).unwrap();
    let py_app = b
        .add_package("service", "py/app", Ecosystem::Python)
        .unwrap();
    let py_lib = b.add_package("lib", "py/lib", Ecosystem::Python).unwrap();
    b.add_edge(py_app, py_lib, DepKind::Source);
    b.add_external(py_app, "httpx", "httpx>=0.27");
    b.build()
}

/// `pkg: why` lines sorted and `(root): why`, or `everything: why`, then
/// each warning as `warning: …`.
pub(super) fn render(graph: &PackageGraph, diff: &InputDiff) -> String {
    let mut lines = match &diff.resolution {
        Resolution::Everything(why) => vec![format!("everything: {why}")],
        Resolution::Packages { packages, root } => {
            let mut lines: Vec<String> = packages
                .iter()
                .map(|(id, why)| format!("{}: {why}", graph.package(*id).id))
                .collect();
            lines.sort();
            lines.extend(root.iter().map(|why| format!("(root): {why}")));
            lines
        }
    };
    lines.extend(diff.warnings.iter().map(|w| format!("warning: {w}")));
    lines.join("\n")
}

/// Compares `base` and `head` of `input` on [`graph`] and checks the
/// rendering against `expected` (lines, leading blanks ignored).
pub(super) fn check(input: SharedInput, base: Option<&str>, head: Option<&str>, expected: &str) {
    let graph = graph();
    let got = render(&graph, &diff_input(&graph, input, base, head));
    let expected: Vec<&str> = expected
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    assert_eq!(
        got,
        expected.join("\n"),
        "\nbase:\n{base:?}\nhead:\n{head:?}"
    );
}

use crate::inputs::SharedInput;

const WORKSPACE: &str =
    "packages:\n  - packages/*\ncatalog:\n  react: ^18.3.0\ncatalogs:\n  legacy:\n    lodash: ^3\n";

fn check(head: &str, expected: &str) {
    let mut b = crate::GraphBuilder::new();
    let ui = b
        .add_package("ui", "packages/ui", crate::Ecosystem::Pnpm)
        .unwrap();
    b.add_external(ui, "react", "catalog:");
    let old = b
        .add_package("old", "packages/old", crate::Ecosystem::Pnpm)
        .unwrap();
    b.add_external(old, "lodash", "catalog:legacy");
    b.add_external(old, "react", "^17");
    b.add_root_external("react", "catalog:default");
    let graph = b.build();
    let got = crate::inputs::testing::render(
        &graph,
        &crate::inputs::diff_input(
            &graph,
            SharedInput::PnpmWorkspace,
            Some(WORKSPACE),
            Some(head),
        ),
    );
    assert_eq!(got, expected, "{head}");
}

#[test]
fn catalog_entries_concern_their_takers() {
    check(WORKSPACE, "");
    check(
        &WORKSPACE.replace("^18.3.0", "^19.0.0"),
        "ui: catalog react\n(root): catalog react",
    );
    check(&WORKSPACE.replace("^3", "^4"), "old: catalog legacy lodash");
    check(
        &WORKSPACE.replace("packages/*", "pkgs/*"),
        "everything: pnpm-workspace.yaml \"packages\" changed",
    );
}

use super::*;

fn graph(text: &str) -> Result<PackageGraph, GraphError> {
    parse_graph(Path::new("dep-graph.json"), text)
}

fn edges(g: &PackageGraph) -> Vec<String> {
    let mut out: Vec<String> = g
        .ids()
        .flat_map(|id| {
            g.dependencies(id)
                .map(move |(dep, _)| format!("{} -> {}", g.package(id).name, g.package(dep).name))
        })
        .collect();
    out.sort();
    out
}

#[test]
fn both_forms_give_the_same_edges() {
    let seed = graph(r#"{"ui": {"dependents": ["web"]}, "web": {"dependents": []}}"#).unwrap();
    let extended =
        graph(r#"{"ui": {"path": "packages/ui"}, "web": {"path": "packages/web", "dependencies": ["ui"]}}"#).unwrap();
    assert_eq!(edges(&seed), ["web -> ui"]);
    assert_eq!(edges(&extended), ["web -> ui"]);
    assert_eq!(seed.packages()[0].path, "packages/ui");
}

#[test]
fn errors_name_the_file_and_the_place() {
    let check = |text: &str, expected: &str| {
        let err = graph(text).expect_err("an error");
        assert_eq!(err.to_string(), expected);
    };
    check(
        "{\"ui\": {\"dependents\": [\"web\"]}}",
        "dep-graph.json: package \"ui\" refers to \"web\", which the graph does not define",
    );
    check(
        "{\"ui\": {\n  \"dependents\": [}",
        "invalid JSON in dep-graph.json at line 2, column 18: expected value",
    );
    check(
        "[]",
        "invalid manifest dep-graph.json: the graph must be a JSON object keyed by package name",
    );
    check(
        "{\"ui\": {\"dependents\": \"web\"}}",
        "invalid manifest dep-graph.json: \"ui\".dependents must be an array of package names",
    );
    check(
        "{\"ui\": {\"path\": \"../../etc\"}}",
        "invalid manifest dep-graph.json: entry \"ui\" has no valid \"path\" inside the repository",
    );
}

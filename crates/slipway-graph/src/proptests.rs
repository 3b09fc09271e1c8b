//! Property tests: the affected set against a naive fixed point, ownership
//! against brute force, and every parser against arbitrary input (none may
//! panic; each either reads the input or names the file at fault).

use std::path::Path;

use proptest::prelude::*;

use crate::affected::{ChangedPath, Options, affected};
use crate::graph::{GraphBuilder, PackageGraph};
use crate::model::{DepKind, Ecosystem};

/// A random graph of `n` packages at `p/<i>` (some nested in others) with
/// random edges, cycles allowed.
fn arb_graph() -> impl Strategy<Value = (usize, Vec<(usize, usize)>)> {
    (1usize..24).prop_flat_map(|n| (Just(n), prop::collection::vec((0..n, 0..n), 0..60)))
}

fn build(n: usize, edges: &[(usize, usize)]) -> PackageGraph {
    let mut b = GraphBuilder::new();
    let ids: Vec<_> = (0..n)
        .map(|i| {
            // Every third package nests inside the one before it.
            let path = if i % 3 == 2 {
                format!("p/{}/sub{i}", i - 1)
            } else {
                format!("p/{i}")
            };
            b.add_package(&format!("pkg{i}"), &path, Ecosystem::Graph)
                .unwrap()
        })
        .collect();
    for &(from, to) in edges {
        if from != to {
            b.add_edge(ids[from], ids[to], DepKind::Declared);
        }
    }
    b.build()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn affected_is_the_dependents_closure((n, edges) in arb_graph(), changed in prop::collection::vec(0usize..30, 0..6)) {
        let graph = build(n, &edges);
        let paths: Vec<ChangedPath> = changed
            .iter()
            .filter(|&&i| i < n)
            .map(|&i| ChangedPath { path: format!("{}/file.rs", graph.packages()[i].path), deleted: false })
            .collect();
        let options = Options::default();
        let result = affected(&graph, &paths, &options);

        // Naive fixed point: owners, then anything depending on something affected.
        let mut expected = vec![false; n];
        for p in &paths {
            for &o in graph.owners(&p.path) {
                expected[o.index()] = true;
            }
        }
        loop {
            let mut grew = false;
            for id in graph.ids() {
                if !expected[id.index()] && graph.dependencies(id).any(|(d, _)| expected[d.index()]) {
                    expected[id.index()] = true;
                    grew = true;
                }
            }
            if !grew { break; }
        }
        for id in graph.ids() {
            prop_assert_eq!(result.contains(id), expected[id.index()]);
            if let Some(chain) = result.chain(id) {
                // A chain is a real path through the graph, ending at a change.
                prop_assert!(chain.len() >= 2);
            }
        }
        prop_assert_eq!(result.len(), expected.iter().filter(|&&e| e).count());
    }

    #[test]
    fn owners_are_the_deepest_containing_package(depth in 0usize..4, name in "[a-z]{1,3}") {
        let graph = build(9, &[]);
        let mut path = String::from("p/1");
        for _ in 0..depth { path.push('/'); path.push_str(&name); }
        path.push_str("/f.txt");
        let brute = graph
            .ids()
            .filter(|&id| path.starts_with(&format!("{}/", graph.package(id).path)))
            .max_by_key(|&id| graph.package(id).path.len());
        prop_assert_eq!(graph.owners(&path).first().copied(), brute);
    }

    #[test]
    fn graph_files_never_panic(text in any::<String>()) {
        let _ = crate::discover::graph_file_parse(Path::new("g.json"), &text);
    }

    #[test]
    fn graph_files_of_random_shape_never_panic(json in arb_json()) {
        let _ = crate::discover::graph_file_parse(Path::new("g.json"), &json.to_string());
    }

    #[test]
    fn manifest_names_never_panic(text in any::<String>()) {
        for file in ["Cargo.toml", "package.json", "go.mod", "pyproject.toml", "pom.xml"] {
            let _ = crate::package_name(file, &text);
        }
    }

    /// Build scripts and settings are read as text: any text, and real
    /// ones damaged, read without a panic.
    #[test]
    fn gradle_and_dotnet_texts_never_panic(
        text in any::<String>(),
        settings in manifest_text(GRADLE_SETTINGS),
        script in manifest_text(GRADLE_SCRIPT),
        csproj in manifest_text(CSPROJ),
    ) {
        for t in [&text, &settings, &script] {
            let _ = crate::discover::gradle::parse_settings(t);
            let _ = crate::discover::gradle::parse_script(t, &["libs"]);
        }
        for t in [&text, &csproj] {
            let _ = crate::discover::dotnet::parse_project(Path::new("A.csproj"), t);
            let _ = crate::discover::maven::parse(Path::new("pom.xml"), t);
        }
    }
}

const GRADLE_SETTINGS: &str = "pluginManagement { includeBuild(\"build-logic\") }\nrootProject.name = 'r'\ninclude(\":a\", \":b:c\")\ninclude ':d',\n  ':e'\nproject(\":d\").projectDir = file(\"x/d\")\nproject(':e').name = \"e2\"\ndependencyResolutionManagement { versionCatalogs { create(\"tools\") { from(files(\"gradle/t.versions.toml\")) } } }\n";
const GRADLE_SCRIPT: &str = "plugins { alias(libs.plugins.k) }\ndependencies {\n  implementation(project(\":b:c\"))\n  testImplementation projects.d\n  api(libs.x.y)\n  implementation(\"g:a:1\")\n}\napply(from = \"$rootDir/gradle/p.gradle\")\n/* c */ // d\n";
const CSPROJ: &str = "<Project Sdk=\"Microsoft.NET.Sdk\">\n  <ItemGroup>\n    <ProjectReference Include=\"..\\b\\c\\C.csproj\" />\n    <PackageReference Include=\"X\" />\n  </ItemGroup>\n</Project>\n";
const POM_ROOT: &str = "<project><groupId>g</groupId><artifactId>r</artifactId><version>1</version><packaging>pom</packaging><properties><v>1</v></properties><modules><module>a</module></modules></project>";
const POM_MEMBER: &str = "<project><parent><groupId>g</groupId><artifactId>r</artifactId><version>1</version></parent><artifactId>a</artifactId><dependencies><dependency><groupId>g</groupId><artifactId>c</artifactId><version>${v}</version></dependency></dependencies></project>";

proptest! {
    // Each case writes a small repository to disk, so fewer of them.
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn discovery_reads_or_names_the_broken_file(
        cargo in manifest_text(r#"[workspace]\nmembers = ["a", "b/*"]\n"#),
        member in manifest_text("[package]\nname = \"a\"\n[dependencies]\nb = { path = \"../b/c\" }\n"),
        node in manifest_text(r#"{"workspaces": ["a", "b/*"]}"#),
        pnpm in manifest_text("packages:\n  - a\n  - 'b/*'\n"),
        work in manifest_text("use (\n  ./a\n)\n"),
        uv in manifest_text("[tool.uv.workspace]\nmembers = [\"a\", \"b/*\"]\n[tool.uv.sources]\nc = { workspace = true }\n"),
        project in manifest_text("[project]\nname = \"a\"\ndependencies = [\"c>=1\"]\n[dependency-groups]\ndev = [{include-group = \"x\"}]\n[tool.poetry.dependencies]\nd = { path = \"../b/c\" }\n"),
        gomod in manifest_text("module example.com/a\nrequire example.com/c v0.0.0\nreplace example.com/c => ../b/c\n"),
        pom_root in manifest_text(POM_ROOT),
        pom_member in manifest_text(POM_MEMBER),
        settings in manifest_text(GRADLE_SETTINGS),
        script in manifest_text(GRADLE_SCRIPT),
        csproj in manifest_text(CSPROJ),
        which in 0usize..9,
    ) {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("a")).unwrap();
        std::fs::create_dir_all(root.join("b/c")).unwrap();
        let files: &[(&str, &str)] = match which {
            0 => &[("Cargo.toml", &cargo), ("a/Cargo.toml", &member), ("b/c/Cargo.toml", "[package]\nname = \"c\"\n")],
            1 => &[("package.json", &node), ("a/package.json", &member)],
            2 => &[("pnpm-workspace.yaml", &pnpm), ("a/package.json", "{\"name\": \"a\"}")],
            3 => &[("pyproject.toml", &uv), ("a/pyproject.toml", &project), ("b/c/pyproject.toml", "[project]\nname = \"c\"\n")],
            4 => &[("go.mod", "module example.com/root\n"), ("a/go.mod", &gomod), ("b/c/go.mod", "module example.com/c\n")],
            5 => &[("pom.xml", &pom_root), ("a/pom.xml", &pom_member)],
            6 => &[("settings.gradle.kts", &settings), ("a/build.gradle.kts", &script), ("b/c/build.gradle", "dependencies { api project(':a') }\n")],
            7 => &[("global.json", "{}"), ("a/A.csproj", &csproj), ("b/c/C.csproj", "<Project/>")],
            _ => &[("go.work", &work), ("a/go.mod", &member)],
        };
        for (path, text) in files {
            std::fs::write(root.join(path), text).unwrap();
        }
        match crate::discover(root) {
            Ok(_) => {}
            Err(err) => {
                let message = err.to_string();
                prop_assert!(!message.is_empty());
                prop_assert!(
                    message.contains(&root.display().to_string()) || message.contains("defined twice"),
                    "error names no file: {}", message
                );
            }
        }
    }
}

/// A valid manifest with random damage: bytes cut, inserted or replaced.
fn manifest_text(valid: &'static str) -> impl Strategy<Value = String> {
    (
        0usize..valid.len(),
        0usize..8,
        "[\\[\\]{}\"'=:,\\-\\n a-z*!.]{0,4}",
    )
        .prop_map(move |(at, cut, insert)| {
            let mut s = valid.to_owned();
            let end = (at + cut).min(s.len());
            s.replace_range(at..end, &insert);
            s
        })
}

fn arb_json() -> impl Strategy<Value = serde_json::Value> {
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::from),
        any::<i32>().prop_map(serde_json::Value::from),
        "[a-z./]{0,6}".prop_map(serde_json::Value::from),
        Just(serde_json::Value::from("dependents")),
    ];
    leaf.prop_recursive(4, 32, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(serde_json::Value::Array),
            prop::collection::btree_map(
                prop_oneof![
                    Just("path".to_owned()),
                    Just("dependents".to_owned()),
                    Just("dependencies".to_owned()),
                    "[a-c]{1,2}"
                ],
                inner,
                0..4
            )
            .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    /// Lockfiles and root manifests of any content, damaged or not, give a
    /// resolution (precise, or everything with a reason), never a panic.
    #[test]
    fn shared_inputs_never_panic(
        base in lockfile_text(),
        head in lockfile_text(),
        which in 0usize..16,
    ) {
        use crate::inputs::SharedInput;
        let mut b = GraphBuilder::new();
        let a = b.add_package("a", "packages/a", Ecosystem::Cargo).unwrap();
        b.add_external(a, "itoa", "workspace");
        let n = b.add_package("n", "packages/n", Ecosystem::Npm).unwrap();
        b.add_external(n, "left-pad", "^1.2.0");
        let g = b.add_package("example.com/g", "g", Ecosystem::Go).unwrap();
        b.add_external(g, "golang.org/x/text", "v0.14.0");
        let p = b.add_package("p", "py/p", Ecosystem::Python).unwrap();
        b.add_external(p, "idna", "idna==3.6");
        let k = b.add_package("k", "k", Ecosystem::Gradle).unwrap();
        b.add_keyed_input("gradle/libs.versions.toml", crate::graph::KeyedInput::GradleCatalog);
        b.add_keyed_input("settings.gradle.kts", crate::graph::KeyedInput::GradleSettings);
        b.add_keyed_input("Directory.Packages.props", crate::graph::KeyedInput::DotnetPackages);
        b.add_keyed_input("build.gradle", crate::graph::KeyedInput::GradleRootScript);
        b.add_read(k, crate::graph::keyed_read("build.gradle", "block::k"));
        b.add_read(k, crate::graph::keyed_read("gradle/libs.versions.toml", "x.y"));
        b.add_read(k, crate::graph::keyed_read("settings.gradle.kts", "project::k"));
        let d = b.add_package("D", "src/D", Ecosystem::Dotnet).unwrap();
        b.add_read(d, crate::graph::keyed_read("Directory.Packages.props", "below"));
        b.add_read(d, crate::graph::keyed_read("Directory.Packages.props", "package:x"));
        let graph = b.build();
        let input = [
            SharedInput::CargoLock,
            SharedInput::PnpmLock,
            SharedInput::NpmLock,
            SharedInput::YarnLock,
            SharedInput::GoWorkSum,
            SharedInput::CargoRoot,
            SharedInput::PackageJsonRoot,
            SharedInput::UvLock,
            SharedInput::PyprojectRoot,
            SharedInput::BunLock,
            SharedInput::PnpmWorkspace,
            SharedInput::BunLockb,
            SharedInput::GradleCatalog(0),
            SharedInput::GradleSettings(1),
            SharedInput::DotnetPackages(2),
            SharedInput::GradleRootScript(3),
        ][which];
        let diff = crate::inputs::diff_input(&graph, input, Some(&base), Some(&head));
        if let crate::affected::Resolution::Everything(why) = &diff.resolution {
            prop_assert!(!why.is_empty());
        }
        // Identical versions concern nobody.
        let same = crate::inputs::diff_input(&graph, input, Some(&base), Some(&base));
        match same.resolution {
            // (A Gradle or .NET input that cannot be parsed marks its own
            // ecosystem's packages, and warns.)
            crate::affected::Resolution::Packages { packages, root } => prop_assert!((packages.is_empty() || !same.warnings.is_empty()) && root.is_none(), "{packages:?} {root:?}"),
            crate::affected::Resolution::Everything(why) => prop_assert!(why.contains("could not be parsed"), "{why}"),
        }
    }
}

/// Real lockfile fragments of every format, cut and spliced at random.
fn lockfile_text() -> impl Strategy<Value = String> {
    const PIECES: [&str; 14] = [
        "[[package]]\nname = \"itoa\"\nversion = \"1.0.10\"\nsource = \"registry+https://github.com/rust-lang/crates.io-index\"\n\n[[package]]\nname = \"a\"\nversion = \"0.1.0\"\ndependencies = [\n \"itoa\",\n]\n",
        "lockfileVersion: '9.0'\nimporters:\n  packages/n:\n    dependencies:\n      left-pad:\n        specifier: ^1.2.0\n        version: 1.2.0\npackages:\n  left-pad@1.2.0:\n    resolution: {integrity: sha512-x}\nsnapshots:\n  left-pad@1.2.0: {}\n",
        "{\"lockfileVersion\": 3, \"packages\": {\"\": {}, \"packages/n\": {\"dependencies\": {\"left-pad\": \"^1.2.0\"}}, \"node_modules/left-pad\": {\"version\": \"1.2.0\"}, \"node_modules/n\": {\"resolved\": \"packages/n\", \"link\": true}}}",
        "# yarn lockfile v1\n\n\nleft-pad@^1.2.0:\n  version \"1.2.0\"\n  resolved \"https://x/left-pad-1.2.0.tgz\"\n  dependencies:\n    x \"^1\"\n",
        "__metadata:\n  version: 8\n\n\"n@workspace:packages/n\":\n  version: 0.0.0-use.local\n  resolution: \"n@workspace:packages/n\"\n  dependencies:\n    left-pad: \"npm:^1.2.0\"\n",
        "golang.org/x/text v0.14.0 h1:abc=\ngolang.org/x/text v0.14.0/go.mod h1:def=\n",
        "[workspace]\nmembers = [\"packages/*\"]\n[workspace.dependencies]\nitoa = \"1\"\n",
        "version = 1\n[manifest]\nmembers = [\"p\"]\n[[package]]\nname = \"p\"\nversion = \"0.1.0\"\nsource = { editable = \"py/p\" }\ndependencies = [{ name = \"idna\" }]\n[[package]]\nname = \"idna\"\nversion = \"3.6\"\nsource = { registry = \"https://pypi.org/simple\" }\n",
        "{\n  \"lockfileVersion\": 1,\n  \"workspaces\": {\n    \"\": { \"name\": \"r\" },\n    \"packages/n\": { \"name\": \"n\", \"dependencies\": { \"left-pad\": \"^1.2.0\" } },\n  },\n  \"packages\": {\n    \"left-pad\": [\"left-pad@1.2.0\", \"\", {}, \"sha512-x\"],\n  }\n}\n",
        "packages:\n  - packages/*\ncatalog:\n  left-pad: ^1.2.0\ncatalogs:\n  old:\n    left-pad: ^1.0.0\n",
        "[tool.uv.workspace]\nmembers = [\"py/*\"]\n[tool.uv]\noverride-dependencies = [\"idna==3.7\"]\n[dependency-groups]\ndev = [\"pytest>=8\"]\n",
        "[versions]\nv = \"1\"\n[libraries]\nx-y = { module = \"g:x\", version.ref = \"v\" }\n[bundles]\nb = [\"x-y\"]\n[plugins]\np = { id = \"p\", version = \"2\" }\n",
        "include(\":k\")\nrootProject.name = \"r\"\n",
        "<Project><ItemGroup><PackageVersion Include=\"X\" Version=\"1.0\" /></ItemGroup></Project>",
    ];
    (
        0usize..PIECES.len(),
        0usize..400,
        0usize..6,
        "[\\[\\]{}\"':=,\\n a-z0-9@.^-]{0,5}",
    )
        .prop_map(|(i, at, cut, insert)| {
            let mut s = PIECES[i].to_owned();
            let at = at.min(s.len());
            let at = (0..=at).rev().find(|&k| s.is_char_boundary(k)).unwrap_or(0);
            let end = (at + cut).min(s.len());
            let end = (end..=s.len())
                .find(|&k| s.is_char_boundary(k))
                .unwrap_or(s.len());
            s.replace_range(at..end, &insert);
            s
        })
}

/// A random acyclic graph of `n` projects (an edge from a later project to
/// an earlier one) and the projects given an unresolvable reference.
fn arb_projects() -> impl Strategy<Value = (usize, Vec<(usize, usize)>, Vec<usize>, usize)> {
    (2usize..8).prop_flat_map(|n| {
        (
            Just(n),
            prop::collection::vec((0..n, 0..n), 0..12)
                .prop_map(|e| e.into_iter().filter(|(a, b)| a > b).collect()),
            prop::collection::vec(0..n, 0..3),
            0..n,
        )
    })
}

/// The projects `affected` marks when project `changed`'s file changes,
/// for the repository `write` makes with or without the unresolvable
/// references.
fn affected_names(
    write: &dyn Fn(&Path, bool),
    unresolvable: bool,
    changed: &str,
) -> std::collections::BTreeSet<String> {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), unresolvable);
    let graph = crate::discover(dir.path()).unwrap();
    let paths = [ChangedPath {
        path: format!("{changed}/src/file"),
        deleted: false,
    }];
    let options = Options::default();
    let result = affected(&graph, &paths, &options);
    graph
        .ids()
        .filter(|&id| result.contains(id))
        .map(|id| graph.package(id).name.clone())
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    /// Fail safe: references a reader cannot evaluate only ever add to the
    /// affected set (an MSBuild property nothing defines, dynamic Python
    /// dependencies with no lock).
    #[test]
    fn unresolvable_references_only_add_to_the_affected_set((n, edges, odd, changed) in arb_projects()) {
        let dotnet = |root: &Path, unresolvable: bool| {
            std::fs::write(root.join("global.json"), "{}").unwrap();
            for i in 0..n {
                let mut items: Vec<String> = edges
                    .iter()
                    .filter(|(from, _)| *from == i)
                    .map(|&(_, to)| format!("<ProjectReference Include=\"..\\p{to}\\P{to}.csproj\" />"))
                    .collect();
                if unresolvable && odd.contains(&i) {
                    items.push("<ProjectReference Include=\"$(Nowhere)Gen.csproj\" />".to_owned());
                }
                let items = items.concat();
                std::fs::create_dir_all(root.join(format!("p{i}"))).unwrap();
                std::fs::write(
                    root.join(format!("p{i}/P{i}.csproj")),
                    format!("<Project><ItemGroup>{items}</ItemGroup></Project>"),
                )
                .unwrap();
            }
        };
        let python = |root: &Path, unresolvable: bool| {
            std::fs::write(root.join("pyproject.toml"), "[tool.uv.workspace]\nmembers = [\"p*\"]\n").unwrap();
            for i in 0..n {
                let mut deps: Vec<usize> = edges.iter().filter(|(from, _)| *from == i).map(|&(_, to)| to).collect();
                deps.sort_unstable();
                deps.dedup();
                let list: Vec<String> = deps.iter().map(|d| format!("\"p{d}\"")).collect();
                let sources: Vec<String> = deps.iter().map(|d| format!("p{d} = {{ workspace = true }}\n")).collect();
                let sources = sources.concat();
                let dynamic = if unresolvable && odd.contains(&i) { "dynamic = [\"dependencies\"]\n" } else { "" };
                std::fs::create_dir_all(root.join(format!("p{i}"))).unwrap();
                std::fs::write(
                    root.join(format!("p{i}/pyproject.toml")),
                    format!("[project]\nname = \"p{i}\"\n{dynamic}dependencies = [{}]\n\n[tool.uv.sources]\n{sources}", list.join(", ")),
                )
                .unwrap();
            }
        };
        let changed = format!("p{changed}");
        for write in [&dotnet as &dyn Fn(&Path, bool), &python] {
            let without = affected_names(write, false, &changed);
            let with = affected_names(write, true, &changed);
            prop_assert!(with.is_superset(&without), "{:?} is no superset of {:?}", with, without);
            for &i in &odd {
                // A project with an unresolvable reference is reached by any change.
                prop_assert!(with.contains(&format!("P{i}")) || with.contains(&format!("p{i}")), "{:?} lacks {}", with, i);
            }
        }
    }
}

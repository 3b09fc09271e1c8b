//! Discovery plus resolution of JVM and .NET builds at monorepo scale,
//! read from files on disk as ci-matrix reads them: a 2,000-project
//! Gradle build (Kotlin DSL, a version catalog, `project(…)` and
//! `projects.` edges) and a 2,000-project .NET solution (a `.sln`,
//! `ProjectReference`s, central package management, `Directory.Build.props`
//! per group). `cargo bench -p slipway-graph --bench discover`.

use std::fmt::Write as _;
use std::path::Path;
use std::sync::LazyLock;

use slipway_graph::{ChangedPath, Options, affected, discover};

fn main() {
    divan::main();
}

const PROJECTS: usize = 2_000;
const GROUPS: usize = 40;

/// Each project depends on up to three of the projects before it, chosen
/// by a fixed rule, so every run reads the same build.
fn deps(i: usize) -> impl Iterator<Item = usize> {
    [7usize, 31, 113]
        .into_iter()
        .filter(move |&step| i >= step)
        .map(move |step| (i * 17 + step) % i.max(1))
}

fn write(root: &Path, rel: &str, text: &str) {
    let path = root.join(rel);
    std::fs::create_dir_all(path.parent().expect("has a parent")).expect("mkdir");
    std::fs::write(path, text).expect("write");
}

static GRADLE: LazyLock<tempfile::TempDir> = LazyLock::new(|| {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    let mut settings = String::from("rootProject.name = \"big\"\n");
    let mut catalog = String::from("[versions]\nkotlin = \"2.0.21\"\n[libraries]\n");
    for lib in 0..100 {
        let _ = writeln!(
            catalog,
            "lib-{lib} = {{ module = \"org.example:lib{lib}\", version.ref = \"kotlin\" }}"
        );
    }
    for i in 0..PROJECTS {
        let _ = writeln!(settings, "include(\":g{}:p{i}\")", i % GROUPS);
        let mut script = String::from("plugins { id(\"big.jvm\") }\ndependencies {\n");
        for (k, d) in deps(i).enumerate() {
            if k % 2 == 0 {
                let _ = writeln!(
                    script,
                    "    implementation(project(\":g{}:p{d}\"))",
                    d % GROUPS
                );
            } else {
                let _ = writeln!(script, "    api(projects.g{}.p{d})", d % GROUPS);
            }
        }
        let _ = writeln!(script, "    implementation(libs.lib.{})\n}}", i % 100);
        write(
            root,
            &format!("g{}/p{i}/build.gradle.kts", i % GROUPS),
            &script,
        );
    }
    write(root, "settings.gradle.kts", &settings);
    write(root, "gradle/libs.versions.toml", &catalog);
    dir
});

static DOTNET: LazyLock<tempfile::TempDir> = LazyLock::new(|| {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    let mut sln = String::from("Microsoft Visual Studio Solution File, Format Version 12.00\n");
    let mut props = String::from("<Project>\n  <ItemGroup>\n");
    for package in 0..100 {
        let _ = writeln!(
            props,
            "    <PackageVersion Include=\"Example.P{package}\" Version=\"1.0.0\" />"
        );
    }
    props.push_str("  </ItemGroup>\n</Project>\n");
    for g in 0..GROUPS {
        write(
            root,
            &format!("src/G{g}/Directory.Build.props"),
            "<Project><PropertyGroup><Nullable>enable</Nullable></PropertyGroup></Project>\n",
        );
    }
    for i in 0..PROJECTS {
        let g = i % GROUPS;
        let _ = writeln!(
            sln,
            "Project(\"{{FAE04EC0-301F-11D3-BF4B-00C04F79EFBC}}\") = \"P{i}\", \"src\\G{g}\\P{i}\\P{i}.csproj\", \"{{{i}}}\"\nEndProject"
        );
        let mut project = String::from("<Project Sdk=\"Microsoft.NET.Sdk\">\n  <ItemGroup>\n");
        for d in deps(i) {
            let _ = writeln!(
                project,
                "    <ProjectReference Include=\"..\\..\\G{}\\P{d}\\P{d}.csproj\" />",
                d % GROUPS
            );
        }
        let _ = writeln!(
            project,
            "    <PackageReference Include=\"Example.P{}\" />\n  </ItemGroup>\n</Project>",
            i % 100
        );
        write(root, &format!("src/G{g}/P{i}/P{i}.csproj"), &project);
    }
    write(root, "Shop.sln", &sln);
    write(root, "Directory.Packages.props", &props);
    dir
});

fn discover_and_resolve(root: &Path, path: &str) -> usize {
    let graph = discover(root).expect("the generated build reads");
    assert_eq!(graph.len(), PROJECTS);
    let changes = [ChangedPath {
        path: path.to_owned(),
        deleted: false,
    }];
    affected(&graph, &changes, &Options::default()).len()
}

#[divan::bench(sample_count = 20)]
fn gradle_2000_projects(bencher: divan::Bencher) {
    let root = GRADLE.path();
    bencher.bench(|| discover_and_resolve(divan::black_box(root), "g3/p3/src/main/kotlin/X.kt"));
}

#[divan::bench(sample_count = 20)]
fn dotnet_2000_projects(bencher: divan::Bencher) {
    let root = DOTNET.path();
    bencher.bench(|| discover_and_resolve(divan::black_box(root), "src/G3/P3/X.cs"));
}

/// The floor, in the same run: reading every file of the tree and
/// nothing more (what any reader of these files pays), for the ratio in
/// `docs/BENCHMARKS.md`. Gradle and the .NET SDK, what a user would
/// otherwise run, cannot be installed on this machine.
fn read_every_file(dir: &Path) -> usize {
    let mut bytes = 0;
    let mut stack = vec![dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("readable").flatten() {
            let path = entry.path();
            if entry.file_type().expect("a type").is_dir() {
                stack.push(path);
            } else {
                bytes += std::fs::read(&path).expect("readable").len();
            }
        }
    }
    bytes
}

#[divan::bench(sample_count = 20)]
fn gradle_2000_projects_read_only(bencher: divan::Bencher) {
    let root = GRADLE.path();
    bencher.bench(|| read_every_file(divan::black_box(root)));
}

#[divan::bench(sample_count = 20)]
fn dotnet_2000_projects_read_only(bencher: divan::Bencher) {
    let root = DOTNET.path();
    bencher.bench(|| read_every_file(divan::black_box(root)));
}

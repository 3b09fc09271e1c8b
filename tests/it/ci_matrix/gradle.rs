//! Gradle builds read as text, Gradle never run. The main fixture has the
//! shape of public Android and JVM multi-project builds (nowinandroid,
//! the Gradle samples): Kotlin DSL, a version catalog, type-safe
//! `projects.` accessors, convention plugins in an included
//! `build-logic`, an included library build the app takes by coordinates,
//! a renamed project, a `projectDir` override and a project only a
//! condition includes. A second fixture is a Groovy-DSL build. Each
//! feature has its own case.

use super::{affected_by, explain};
use crate::support::Repo;

const SETTINGS: &str = r#"pluginManagement {
    includeBuild("build-logic")
    repositories { google(); mavenCentral(); gradlePluginPortal() }
}
dependencyResolutionManagement {
    repositories { google(); mavenCentral() }
}
rootProject.name = "nowinandroid"
enableFeaturePreview("TYPESAFE_PROJECT_ACCESSORS")

include(":app")
include(
    ":core:common",
    ":core:data",
    ":core:model",
)
include(listOf(":feature:foryou", ":feature:bookmarks"))
// A renamed project: accessors say projects.designSystem.
include(":core:ui")
project(":core:ui").name = "design-system"
// A project living elsewhere than its path says.
include(":lint")
project(":lint").projectDir = file("tools/lint-rules")
if (providers.gradleProperty("benchmarks").isPresent) {
    include(":benchmarks")
}
includeBuild("libs/codegen")
"#;

const CATALOG: &str = r#"[versions]
kotlin = "2.0.21"
coroutines = "1.9.0"
room = "2.6.1"

[libraries]
kotlinx-coroutines-core = { module = "org.jetbrains.kotlinx:kotlinx-coroutines-core", version.ref = "coroutines" }
kotlinx-coroutines-test = { module = "org.jetbrains.kotlinx:kotlinx-coroutines-test", version.ref = "coroutines" }
room-runtime = { group = "androidx.room", name = "room-runtime", version.ref = "room" }
room-ktx = { group = "androidx.room", name = "room-ktx", version.ref = "room" }
androidx-core-ktx = "androidx.core:core-ktx:1.13.1"
compose-material3 = "androidx.compose.material3:material3:1.3.0"

[bundles]
room = ["room-runtime", "room-ktx"]

[plugins]
kotlin-jvm = { id = "org.jetbrains.kotlin.jvm", version.ref = "kotlin" }
"#;

fn script(body: &str) -> String {
    format!("plugins {{\n    id(\"nowinandroid.jvm.library\")\n}}\n\ndependencies {{\n{body}}}\n")
}

fn build() -> Repo {
    let files: Vec<(String, String)> = vec![
        ("settings.gradle.kts".into(), SETTINGS.into()),
        (
            "build.gradle.kts".into(),
            "plugins {\n    alias(libs.plugins.kotlin.jvm) apply false\n}\n".into(),
        ),
        (
            "gradle.properties".into(),
            "org.gradle.jvmargs=-Xmx2g\n".into(),
        ),
        ("gradle/libs.versions.toml".into(), CATALOG.into()),
        (
            "gradle/wrapper/gradle-wrapper.properties".into(),
            "distributionUrl=https\\://services.gradle.org/distributions/gradle-8.10-bin.zip\n"
                .into(),
        ),
        (
            "build-logic/settings.gradle.kts".into(),
            "rootProject.name = \"build-logic\"\ninclude(\":convention\")\n".into(),
        ),
        (
            "build-logic/convention/build.gradle.kts".into(),
            "plugins { `kotlin-dsl` }\ngradlePlugin { plugins { } }\n".into(),
        ),
        (
            "build-logic/convention/src/main/kotlin/JvmLibraryConventionPlugin.kt".into(),
            "class JvmLibraryConventionPlugin\n".into(),
        ),
        (
            "app/build.gradle.kts".into(),
            script(
                "    implementation(projects.feature.foryou)\n    implementation(projects.feature.bookmarks)\n    implementation(libs.androidx.core.ktx)\n    implementation(\"com.acme.codegen:runtime:1.0\")\n",
            ),
        ),
        (
            "core/common/build.gradle.kts".into(),
            script(
                "    implementation(libs.kotlinx.coroutines.core)\n    testImplementation(libs.kotlinx.coroutines.test)\n",
            ),
        ),
        (
            "core/model/build.gradle.kts".into(),
            script("    api(projects.core.common)\n"),
        ),
        (
            "core/model/src/main/kotlin/Topic.kt".into(),
            "data class Topic(val id: String)\n".into(),
        ),
        (
            "core/data/build.gradle.kts".into(),
            script("    api(project(\":core:model\"))\n    implementation(libs.bundles.room)\n"),
        ),
        (
            "core/ui/build.gradle.kts".into(),
            script("    api(libs.compose.material3)\n"),
        ),
        (
            "feature/foryou/build.gradle.kts".into(),
            script(
                "    implementation(projects.core.data)\n    implementation(projects.core.designSystem)\n    testImplementation(projects.core.common)\n",
            ),
        ),
        (
            "feature/bookmarks/build.gradle.kts".into(),
            script("    implementation(projects.core.designSystem)\n"),
        ),
        (
            "tools/lint-rules/build.gradle.kts".into(),
            script("    compileOnly(libs.kotlinx.coroutines.core)\n"),
        ),
        (
            "benchmarks/build.gradle.kts".into(),
            script("    implementation(projects.app)\n"),
        ),
        (
            "libs/codegen/settings.gradle.kts".into(),
            "rootProject.name = \"codegen\"\ninclude(\":runtime\")\n".into(),
        ),
        (
            "libs/codegen/runtime/build.gradle.kts".into(),
            "plugins { `java-library` }\ngroup = \"com.acme.codegen\"\n".into(),
        ),
        (
            "libs/codegen/runtime/src/main/java/Gen.java".into(),
            "class Gen {}\n".into(),
        ),
        ("README.md".into(), "# nowinandroid-shaped\n".into()),
    ];
    Repo::with_owned_files(&files)
}

#[test]
fn projects_come_from_settings_with_accessors_renames_overrides_and_conditions() {
    let repo = build();
    let out = repo
        .ci_matrix()
        .args([
            "--changed-files",
            "[\"rust-toolchain.toml\"]",
            "--format",
            "json",
        ])
        .success();
    let report: serde_json::Value = serde_json::from_str(&out).unwrap();
    let mut got: Vec<String> = report["affected"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            format!(
                "{} {}",
                p["package"].as_str().unwrap(),
                p["path"].as_str().unwrap()
            )
        })
        .collect();
    got.sort();
    assert_eq!(
        got,
        [
            "app app",
            "benchmarks benchmarks",
            "bookmarks feature/bookmarks",
            "common core/common",
            "data core/data",
            "design-system core/ui",
            "foryou feature/foryou",
            "lint tools/lint-rules",
            "model core/model",
            "runtime libs/codegen/runtime",
        ],
        "the root, core, feature and build-logic are no packages"
    );
}

#[test]
fn a_source_change_follows_project_and_accessor_edges() {
    let repo = build();
    let got = affected_by(
        &repo,
        &[(
            "core/model/src/main/kotlin/Topic.kt",
            Some("data class Topic(val id: Long)\n"),
        )],
    );
    insta::assert_snapshot!(got, @r"
    app (gradle) app: app <- foryou <- data <- model <- core/model/src/main/kotlin/Topic.kt
    benchmarks (gradle) benchmarks: benchmarks <- app <- foryou <- data <- model <- core/model/src/main/kotlin/Topic.kt
    data (gradle) core/data: data <- model <- core/model/src/main/kotlin/Topic.kt
    foryou (gradle) feature/foryou: foryou <- data <- model <- core/model/src/main/kotlin/Topic.kt
    model (gradle) core/model: model <- core/model/src/main/kotlin/Topic.kt
    ");
    let why = explain(&repo, "foryou");
    assert!(why.contains("foryou -> data (normal)"), "{why}");
}

#[test]
fn a_renamed_project_is_reached_through_its_new_accessor() {
    let repo = build();
    let got = affected_by(
        &repo,
        &[("core/ui/src/main/kotlin/Theme.kt", Some("object Theme\n"))],
    );
    insta::assert_snapshot!(got, @r"
    app (gradle) app: app <- bookmarks <- design-system <- core/ui/src/main/kotlin/Theme.kt
    benchmarks (gradle) benchmarks: benchmarks <- app <- bookmarks <- design-system <- core/ui/src/main/kotlin/Theme.kt
    bookmarks (gradle) feature/bookmarks: bookmarks <- design-system <- core/ui/src/main/kotlin/Theme.kt
    design-system (gradle) core/ui: design-system <- core/ui/src/main/kotlin/Theme.kt
    foryou (gradle) feature/foryou: foryou <- design-system <- core/ui/src/main/kotlin/Theme.kt
    ");
}

#[test]
fn a_test_configuration_is_a_test_only_edge() {
    let repo = build();
    affected_by(
        &repo,
        &[("core/common/src/main/kotlin/Ids.kt", Some("object Ids\n"))],
    );
    // foryou's tests use common directly, but its build reaches common
    // through data: that chain is the one that carries on to its users.
    let why = explain(&repo, "foryou");
    assert!(
        why.contains("foryou is affected: foryou <- data <- model <- common"),
        "{why}"
    );
    assert!(!why.contains("rule: a test-only dependency"), "{why}");
}

/// The shape of large builds configured wholly from the root script: no
/// script per project, `project(':x') { dependencies { … } }` blocks,
/// `subprojects { … }`, and project names used for coverage wiring.
#[test]
fn a_build_configured_from_its_root_script_has_its_edges() {
    let repo = Repo::with_files(&[
        (
            "settings.gradle",
            "rootProject.name = 'big'\ninclude 'core', 'web', 'cli', 'testkit'\n",
        ),
        (
            "build.gradle",
            r#"subprojects {
    apply plugin: 'java'
    dependencies { testImplementation project(':testkit') }
}
project(':web') {
    dependencies {
        implementation project(':core')
    }
}
project(":cli") {
    dependencies { implementation(project(":web")) }
}
project(':testkit') {
    dependencies { implementation project(':core') }
}
task coverage { dependsOn project(':core').tasks.named('test') }
"#,
        ),
        ("core/src/main/java/Core.java", "class Core {}\n"),
        ("testkit/src/main/java/Kit.java", "class Kit {}\n"),
        ("web/src/main/java/Web.java", "class Web {}\n"),
        ("cli/src/main/java/Cli.java", "class Cli {}\n"),
    ]);
    let got = affected_by(
        &repo,
        &[("core/src/main/java/Core.java", Some("class Core { }\n"))],
    );
    insta::assert_snapshot!(got, @r"
    cli (gradle) cli: cli <- web <- core <- core/src/main/java/Core.java
    core (gradle) core: core <- core/src/main/java/Core.java
    testkit (gradle) testkit: testkit <- core <- core/src/main/java/Core.java
    web (gradle) web: web <- core <- core/src/main/java/Core.java
    ");
    // A change inside `project(':web') { … }` concerns web (and its
    // dependents) alone; one outside every block, every project.
    let root_script = std::fs::read_to_string(repo.path().join("build.gradle")).unwrap();
    let got = affected_by(
        &repo,
        &[(
            "build.gradle",
            Some(&root_script.replace(
                "        implementation project(':core')\n    }\n}\nproject(\":cli\")",
                "        implementation project(':core')\n        runtimeOnly 'org.slf4j:slf4j-simple:2.0.16'\n    }\n}\nproject(\":cli\")",
            )),
        )],
    );
    insta::assert_snapshot!(got, @r#"
    cli (gradle) cli: cli <- web <- build.gradle (project(':web') { … } changed)
    web (gradle) web: web <- build.gradle (project(':web') { … } changed)
    "#);
    let root_script = std::fs::read_to_string(repo.path().join("build.gradle")).unwrap();
    let got = affected_by(
        &repo,
        &[(
            "build.gradle",
            Some(&format!("// the build\n{root_script}")),
        )],
    );
    assert_eq!(got, "", "a comment is no change: {got}");
    let got = affected_by(
        &repo,
        &[(
            "build.gradle",
            Some(&root_script.replace("apply plugin: 'java'", "apply plugin: 'java-library'")),
        )],
    );
    assert_eq!(got.lines().count(), 4, "{got}");
    // The test kit reaches every project's tests, and no further: a
    // test-only edge ends at the package.
    let got = affected_by(
        &repo,
        &[("testkit/src/main/java/Kit.java", Some("class Kit { }\n"))],
    );
    insta::assert_snapshot!(got, @r"
    cli (gradle) cli: cli <- testkit <- testkit/src/main/java/Kit.java
    core (gradle) core: core <- testkit <- testkit/src/main/java/Kit.java
    testkit (gradle) testkit: testkit <- testkit/src/main/java/Kit.java
    web (gradle) web: web <- testkit <- testkit/src/main/java/Kit.java
    ");
}

/// Kotlin multiplatform: a core library whose tests use an add-on that
/// depends on the core. The test source set's edge ends at the core, so a
/// change to the add-on does not reach the core's other users.
#[test]
fn a_test_source_set_dependency_ends_at_its_project() {
    let kts = |body: &str| {
        format!(
            "plugins {{ kotlin(\"multiplatform\") }}\nkotlin {{\n    sourceSets {{\n{body}    }}\n}}\n"
        )
    };
    let files: Vec<(String, String)> = vec![
        (
            "settings.gradle.kts".into(),
            "rootProject.name = \"kmp\"\nenableFeaturePreview(\"TYPESAFE_PROJECT_ACCESSORS\")\ninclude(\":core\", \":addon\", \":app\")\n".into(),
        ),
        (
            "core/build.gradle.kts".into(),
            kts("        val jvmTest by getting {\n            dependencies { implementation(projects.addon) }\n        }\n"),
        ),
        (
            "addon/build.gradle.kts".into(),
            kts("        commonMain.dependencies { api(projects.core) }\n"),
        ),
        (
            "app/build.gradle.kts".into(),
            kts("        commonMain.dependencies { implementation(projects.core) }\n"),
        ),
        ("addon/src/commonMain/kotlin/Addon.kt".into(), "object Addon\n".into()),
    ];
    let repo = Repo::with_owned_files(&files);
    let got = affected_by(
        &repo,
        &[(
            "addon/src/commonMain/kotlin/Addon.kt",
            Some("object Addon {}\n"),
        )],
    );
    insta::assert_snapshot!(got, @r"
    addon (gradle) addon: addon <- addon/src/commonMain/kotlin/Addon.kt
    core (gradle) core: core <- addon <- addon/src/commonMain/kotlin/Addon.kt
    ");
    let report = repo
        .ci_matrix()
        .args(["--base", "HEAD~1", "--format", "json"])
        .success();
    assert!(
        report.contains("\"cycles\": []"),
        "a test-only edge makes no cycle: {report}"
    );
    let why = explain(&repo, "core");
    assert!(why.contains("core -> addon (test-only)"), "{why}");
    assert!(
        why.contains("rule: a test-only dependency reaches core's tests"),
        "{why}"
    );
}

#[test]
fn a_catalog_version_bump_affects_only_the_users_of_its_libraries() {
    let repo = build();
    let bumped = CATALOG.replace("coroutines = \"1.9.0\"", "coroutines = \"1.10.1\"");
    let got = affected_by(&repo, &[("gradle/libs.versions.toml", Some(&bumped))]);
    insta::assert_snapshot!(got, @r"
    app (gradle) app: app <- foryou <- data <- model <- common <- gradle/libs.versions.toml (library kotlinx.coroutines.core changed)
    benchmarks (gradle) benchmarks: benchmarks <- app <- foryou <- data <- model <- common <- gradle/libs.versions.toml (library kotlinx.coroutines.core changed)
    common (gradle) core/common: common <- gradle/libs.versions.toml (library kotlinx.coroutines.core changed)
    data (gradle) core/data: data <- model <- common <- gradle/libs.versions.toml (library kotlinx.coroutines.core changed)
    foryou (gradle) feature/foryou: foryou <- data <- model <- common <- gradle/libs.versions.toml (library kotlinx.coroutines.core changed)
    lint (gradle) tools/lint-rules: lint <- gradle/libs.versions.toml (library kotlinx.coroutines.core changed)
    model (gradle) core/model: model <- common <- gradle/libs.versions.toml (library kotlinx.coroutines.core changed)
    ");
}

#[test]
fn a_library_in_a_bundle_affects_the_bundles_users() {
    let repo = build();
    let bumped = CATALOG.replace("room = \"2.6.1\"", "room = \"2.7.0\"");
    let got = affected_by(&repo, &[("gradle/libs.versions.toml", Some(&bumped))]);
    insta::assert_snapshot!(got, @r"
    app (gradle) app: app <- foryou <- data <- gradle/libs.versions.toml (bundle room changed)
    benchmarks (gradle) benchmarks: benchmarks <- app <- foryou <- data <- gradle/libs.versions.toml (bundle room changed)
    data (gradle) core/data: data <- gradle/libs.versions.toml (bundle room changed)
    foryou (gradle) feature/foryou: foryou <- data <- gradle/libs.versions.toml (bundle room changed)
    ");
    // An entry nobody uses affects nobody; a plugin version its user.
    let unused = bumped.replace(
        "[bundles]",
        "okio = \"com.squareup.okio:okio:3.9.0\"\n\n[bundles]",
    );
    assert_eq!(
        affected_by(&repo, &[("gradle/libs.versions.toml", Some(&unused))]),
        ""
    );
}

#[test]
fn build_logic_the_wrapper_properties_and_the_root_script_affect_every_project() {
    for (path, text, why) in [
        (
            "build-logic/convention/src/main/kotlin/JvmLibraryConventionPlugin.kt",
            "class JvmLibraryConventionPlugin // changed\n",
            "build-logic is an included plugin build",
        ),
        (
            "gradle/wrapper/gradle-wrapper.properties",
            "distributionUrl=gradle-8.11-bin.zip\n",
            "the Gradle wrapper",
        ),
        (
            "gradle.properties",
            "org.gradle.jvmargs=-Xmx4g\n",
            "gradle.properties sets build properties",
        ),
        (
            "buildSrc/src/main/kotlin/Deps.kt",
            "object Deps\n",
            "buildSrc is compiled",
        ),
        (
            "build.gradle.kts",
            "plugins { alias(libs.plugins.kotlin.jvm) apply false }\nsubprojects { }\n",
            "changed outside its project(':x') { … } blocks, and it configures every Gradle project",
        ),
    ] {
        let repo = build();
        let got = affected_by(&repo, &[(path, Some(text))]);
        assert_eq!(got.lines().count(), 10, "{path}: {got}");
        assert!(
            got.contains(&format!(
                "common (gradle) core/common: common <- {path} ({why}"
            )),
            "{path}: {got}"
        );
    }
}

#[test]
fn settings_that_only_include_a_new_project_affect_only_that_project() {
    let repo = build();
    let with_new = SETTINGS.replace(
        "include(\":app\")",
        "include(\":app\", \":feature:search\")",
    );
    let got = affected_by(
        &repo,
        &[
            ("settings.gradle.kts", Some(&with_new)),
            (
                "feature/search/build.gradle.kts",
                Some(&script("    implementation(projects.core.data)\n")),
            ),
        ],
    );
    insta::assert_snapshot!(got, @"search (gradle) feature/search: search <- feature/search/build.gradle.kts");

    // Anything else in settings concerns every project, with the reason.
    let got = affected_by(
        &repo,
        &[(
            "settings.gradle.kts",
            Some(&with_new.replace(
                "mavenCentral() }\n}",
                "mavenCentral(); maven(\"https://jitpack.io\") }\n}",
            )),
        )],
    );
    assert_eq!(got.lines().count(), 11, "{got}");
    assert!(
        got.contains("app (gradle) app: app <- settings.gradle.kts (changed beyond its include lists, and every Gradle project is configured by it)"),
        "{got}"
    );
}

#[test]
fn an_included_build_joins_the_graph_and_its_substitution_is_explained() {
    let repo = build();
    let got = affected_by(
        &repo,
        &[(
            "libs/codegen/runtime/src/main/java/Gen.java",
            Some("class Gen { }\n"),
        )],
    );
    insta::assert_snapshot!(got, @r"
    app (gradle) app: app <- runtime <- libs/codegen/runtime/src/main/java/Gen.java
    benchmarks (gradle) benchmarks: benchmarks <- app <- runtime <- libs/codegen/runtime/src/main/java/Gen.java
    runtime (gradle) libs/codegen/runtime: runtime <- libs/codegen/runtime/src/main/java/Gen.java
    ");
    let why = explain(&repo, "app");
    assert!(
        why.contains("assumed: com.acme.codegen:runtime:1.0 in app/build.gradle.kts was taken to be project :runtime of the included build libs/codegen, matched by name"),
        "{why}"
    );
}

#[test]
fn an_applied_script_belongs_to_the_projects_applying_it() {
    let repo = build();
    repo.write(
        "core/data/build.gradle.kts",
        &format!(
            "{}apply(from = \"$rootDir/gradle/publishing.gradle.kts\")\n",
            script("    api(project(\":core:model\"))\n")
        ),
    );
    repo.write("gradle/publishing.gradle.kts", "// publishing\n");
    repo.commit("publishing");
    let got = affected_by(
        &repo,
        &[("gradle/publishing.gradle.kts", Some("// publishing v2\n"))],
    );
    assert!(
        got.starts_with(
            "app (gradle) app: app <- foryou <- data <- gradle/publishing.gradle.kts\n"
        ),
        "{got}"
    );
    assert_eq!(got.lines().count(), 4, "{got}");
}

#[test]
fn a_groovy_build_reads_the_same() {
    let repo = Repo::with_files(&[
        (
            "settings.gradle",
            "rootProject.name = 'shop'\ninclude ':api', ':service',\n        ':web'\nproject(':web').projectDir = new File(settingsDir, 'frontend/web')\n",
        ),
        ("api/build.gradle", "apply plugin: 'java-library'\n"),
        ("api/src/main/java/Api.java", "interface Api {}\n"),
        (
            "service/build.gradle",
            "dependencies {\n    implementation project(':api')\n    testImplementation project(path: ':web')\n}\n",
        ),
        (
            "frontend/web/build.gradle",
            "dependencies { implementation project(\":api\") }\n",
        ),
    ]);
    let got = affected_by(
        &repo,
        &[(
            "api/src/main/java/Api.java",
            Some("interface Api { void x(); }\n"),
        )],
    );
    insta::assert_snapshot!(got, @r"
    api (gradle) api: api <- api/src/main/java/Api.java
    service (gradle) service: service <- api <- api/src/main/java/Api.java
    web (gradle) frontend/web: web <- api <- api/src/main/java/Api.java
    ");
    let why = explain(&repo, "service");
    assert!(why.contains("service -> api (normal)"), "{why}");
}

#[test]
fn damaged_settings_never_panic() {
    let repo = build();
    repo.write("settings.gradle.kts", "include(\":app\"\nproject(\":x\").projectDir = \ninclude(\"\ninclude(\":a:../..\")\n/* never closed");
    let out = repo
        .ci_matrix()
        .args(["--changed-files", "[]", "--format", "json"])
        .success();
    assert!(out.contains("\"affected\""), "{out}");
}

/// Spring-style builds: convention plugins in `build-logic` add project
/// dependencies. A precompiled script plugin is read like any script, for
/// every project applying its id; a plugin written as code that names
/// projects is not evaluated, so its users are assumed to depend on every
/// project, and `--explain` says so.
#[test]
fn convention_plugins_give_their_edges_to_the_projects_applying_them() {
    let repo = Repo::with_files(&[
        (
            "settings.gradle.kts",
            "pluginManagement { includeBuild(\"build-logic\") }\nrootProject.name = \"shop\"\ninclude(\":platform\", \":core\", \":api\", \":lib\", \":web\")\n",
        ),
        (
            "build-logic/settings.gradle.kts",
            "rootProject.name = \"build-logic\"\n",
        ),
        (
            "build-logic/build.gradle.kts",
            "plugins { `kotlin-dsl` }\ngradlePlugin {\n    plugins {\n        register(\"library\") {\n            id = \"acme.library\"\n            implementationClass = \"LibraryPlugin\"\n        }\n    }\n}\n",
        ),
        (
            "build-logic/src/main/kotlin/acme.service-conventions.gradle.kts",
            "plugins { id(\"acme.base-conventions\") }\ndependencies {\n    implementation(project(\":platform\"))\n}\n",
        ),
        (
            "build-logic/src/main/kotlin/acme.base-conventions.gradle.kts",
            "plugins { java }\ndependencies {\n    testImplementation(project(\":core\"))\n}\n",
        ),
        (
            "build-logic/src/main/kotlin/LibraryPlugin.kt",
            "class LibraryPlugin : Plugin<Project> {\n    override fun apply(target: Project) {\n        target.dependencies.add(\"api\", target.project(\":core\"))\n        target.dependencies.add(\"ksp\", libs.findLibrary(\"hilt-compiler\").get())\n    }\n}\n",
        ),
        (
            "gradle/libs.versions.toml",
            "[libraries]\nhilt-compiler = \"com.google.dagger:hilt-compiler:2.52\"\nguava = \"com.google.guava:guava:33.0.0-jre\"\n",
        ),
        ("platform/build.gradle.kts", "plugins { java }\n"),
        ("platform/src/main/java/P.java", "class P {}\n"),
        ("core/build.gradle.kts", "plugins { java }\n"),
        ("core/src/main/java/C.java", "class C {}\n"),
        (
            "api/build.gradle.kts",
            "plugins { id(\"acme.service-conventions\") }\n",
        ),
        ("lib/build.gradle.kts", "plugins { id(\"acme.library\") }\n"),
        (
            "web/build.gradle.kts",
            "plugins { java }\ndependencies { implementation(project(\":api\")) }\n",
        ),
    ]);
    // A plugin build holds more than text: a resource that is no UTF-8 is
    // not read.
    std::fs::create_dir_all(repo.path().join("build-logic/src/main/resources")).unwrap();
    std::fs::write(
        repo.path().join("build-logic/src/main/resources/icon.png"),
        [0x89, b'P', b'N', b'G', 0x00, 0xff, 0xfe],
    )
    .unwrap();
    repo.commit("an icon");
    let got = affected_by(
        &repo,
        &[("platform/src/main/java/P.java", Some("class P { }\n"))],
    );
    insta::assert_snapshot!(got, @r"
    api (gradle) api: api <- platform <- platform/src/main/java/P.java
    lib (gradle) lib: lib <- platform <- platform/src/main/java/P.java
    platform (gradle) platform: platform <- platform/src/main/java/P.java
    web (gradle) web: web <- api <- platform <- platform/src/main/java/P.java
    ");
    // The base convention's test-only edge ends at api.
    let got = affected_by(
        &repo,
        &[("core/src/main/java/C.java", Some("class C { }\n"))],
    );
    insta::assert_snapshot!(got, @r"
    api (gradle) api: api <- core <- core/src/main/java/C.java
    core (gradle) core: core <- core/src/main/java/C.java
    lib (gradle) lib: lib <- core <- core/src/main/java/C.java
    ");
    let why = explain(&repo, "lib");
    assert!(
        why.contains("assumed: the convention plugin acme.library names projects in code (build-logic/src/main/kotlin/LibraryPlugin.kt), which is not evaluated, so lib is taken to depend on every Gradle project"),
        "{why}"
    );
    // A catalog entry only the plugin build uses is every project's: the
    // plugins apply it. One nothing uses concerns nobody.
    let catalog = "[libraries]\nhilt-compiler = \"com.google.dagger:hilt-compiler:2.53\"\nguava = \"com.google.guava:guava:33.0.0-jre\"\n";
    let got = affected_by(&repo, &[("gradle/libs.versions.toml", Some(catalog))]);
    assert_eq!(got.lines().count(), 5, "{got}");
    let catalog = "[libraries]\nhilt-compiler = \"com.google.dagger:hilt-compiler:2.53\"\nguava = \"com.google.guava:guava:33.1.0-jre\"\n";
    let got = affected_by(&repo, &[("gradle/libs.versions.toml", Some(catalog))]);
    assert_eq!(got, "", "{got}");
}

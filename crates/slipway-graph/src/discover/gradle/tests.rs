//! Settings, scripts and builds, each a table of cases.

use super::script::*;
use super::settings::*;
use super::*;

#[test]
fn a_huge_settings_file_is_cut_at_the_bound_while_read() {
    use std::fmt::Write as _;
    let mut text = String::new();
    for i in 0..(MAX_PROJECTS * 3) {
        // Each twice: a repeat costs a set lookup, not a scan.
        let _ = writeln!(text, "include ':p{i}'\ninclude ':p{i}'");
    }
    let settings = parse_settings(&text);
    assert_eq!(settings.projects.len(), MAX_PROJECTS + 1);
    assert_eq!(settings.projects[1], ":p1");
}

#[test]
fn settings_in_both_dialects() {
    let kts = r#"
pluginManagement { includeBuild("build-logic") }
rootProject.name = "nowinandroid"
include(":app")
include(":core:data", ":core:model")
include(listOf(":feature:a", ":feature:b"))
if (System.getenv("CI") != null) { include(":benchmarks") }
// include(":commented")
project(":legacy").projectDir = file("old/legacy")
include(":legacy")
project(":core:model").name = "model-api"
includeBuild("tools/codegen")
dependencyResolutionManagement {
versionCatalogs { create("tools") { from(files("gradle/tools.versions.toml")) } }
}
"#;
    let s = parse_settings(kts);
    assert_eq!(
        s.projects,
        [
            ":app",
            ":core:data",
            ":core:model",
            ":feature:a",
            ":feature:b",
            ":benchmarks",
            ":legacy"
        ]
    );
    assert_eq!(s.root_name.as_deref(), Some("nowinandroid"));
    assert_eq!(s.dirs[":legacy"], "old/legacy");
    assert_eq!(s.names[":core:model"], "model-api");
    assert_eq!(
        s.builds,
        [
            ("build-logic".to_owned(), true),
            ("tools/codegen".to_owned(), false)
        ]
    );
    assert_eq!(
        s.catalogs,
        [("tools".to_owned(), "gradle/tools.versions.toml".to_owned())]
    );

    let groovy = "include ':a', ':b',\n  'c:d'\ninclude 'e'\nproject(':e').projectDir = new File(settingsDir, 'libs/e')\n";
    let s = parse_settings(groovy);
    assert_eq!(s.projects, [":a", ":b", ":c:d", ":e"]);
    assert_eq!(s.dirs[":e"], "libs/e");
}

#[test]
fn rest_ignores_the_include_lists_only() {
    let a = parse_settings("include(\":a\")\nrootProject.name = \"x\"\n");
    let b = parse_settings("include(\":a\", \":b\")\n\n  rootProject.name = \"x\"");
    assert_eq!(a.rest, b.rest);
    assert_ne!(a.projects, b.projects);
    let c = parse_settings("include(\":a\")\nrootProject.name = \"y\"\n");
    assert_ne!(a.rest, c.rest);
}

#[test]
fn scripts_name_projects_accessors_and_catalog_entries() {
    let s = parse_script(
        r#"
plugins { alias(libs.plugins.kotlin.android) }
dependencies {
implementation(project(":core:data"))
testImplementation(projects.core.testing)
api(projects.coreModel)
implementation(libs.androidx.core.ktx)
implementation libs.bundles.compose
implementation(tools.codegen.runtime)
implementation("com.acme:codegen-runtime:1.0")
}
apply(from = "$rootDir/gradle/publish.gradle.kts")
"#,
        &["libs", "tools"],
    );
    let refs = |r: &[ProjectRef]| -> Vec<(String, bool)> {
        r.iter().map(|r| (r.name.clone(), r.test)).collect()
    };
    assert_eq!(refs(&s.projects), [(":core:data".to_owned(), false)]);
    assert_eq!(
        refs(&s.accessors),
        [
            ("core.testing".to_owned(), true),
            ("coreModel".to_owned(), false)
        ]
    );
    let uses: Vec<&str> = s.catalog_uses.iter().map(|(_, c)| c.as_str()).collect();
    assert_eq!(
        uses,
        [
            "plugins.kotlin.android",
            "androidx.core.ktx",
            "bundles.compose",
            "codegen.runtime"
        ]
    );
    assert_eq!(s.applied, ["$rootDir/gradle/publish.gradle.kts"]);
    assert_eq!(s.coordinates[0], "com.acme:codegen-runtime:1.0");
}

#[test]
fn accessor_names_are_camel_case() {
    assert_eq!(accessor_name("core-data"), "coreData");
    assert_eq!(accessor_name("my_lib-x"), "myLibX");
    assert_eq!(accessor_name("app"), "app");
}

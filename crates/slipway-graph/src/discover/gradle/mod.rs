//! Gradle builds (Groovy and Kotlin DSL), read as text: Gradle never runs.
//!
//! Projects come from `settings.gradle(.kts)`: `include` calls in any form
//! that names its projects literally (lists, several arguments, inside `if`
//! blocks: a conditional project is still a project), with
//! `project(":x").projectDir = file("…")` overrides and
//! `project(":x").name = "y"` renames (the name type-safe accessors and
//! outputs use; the directory stays). `:a:b` lives in `a/b` by default.
//! An intermediate project (`:a` of `:a:b`) is a package only when it has
//! a build script of its own.
//!
//! Edges come from each build script: `project(":x")` and type-safe
//! accessors `projects.x.y` (`-` and `_` in names read as camel case), in
//! any configuration (one whose name says `test` is a dev edge). Version
//! catalogs (`gradle/libs.versions.toml`, and those declared in settings
//! with `from(files(…))`) record which `libs.<alias>` each project uses,
//! read precisely when the catalog changes (`inputs/gradle_catalog.rs`).
//! `includeBuild("…")` builds are nested builds whose projects join the
//! graph under their directory; a plugin build (included inside
//! `pluginManagement`, named `build-logic`, or declaring `gradlePlugin`
//! or `kotlin-dsl`) is instead a build input of every project, like
//! `buildSrc/`, `gradle.properties`, the wrapper and a root build script.
//! A script applied with `apply(from = "…")` belongs to the projects
//! applying it.
//!
//! Heuristic, and said so in the README: projects included through code
//! (a loop over directories), dependencies added by convention plugins,
//! and accessors built at run time are not seen.

mod blocks;
mod build;
mod groovy;
mod plugins;
mod script;
mod settings;
#[cfg(test)]
mod tests;

pub(crate) use build::discover;
pub(crate) use script::{Script, normalize_alias, parse_script, root_script_parts};
pub(crate) use settings::parse_settings;

pub(crate) const SETTINGS: [&str; 2] = ["settings.gradle.kts", "settings.gradle"];
pub(crate) const SCRIPTS: [&str; 2] = ["build.gradle.kts", "build.gradle"];
/// More projects than this in one build is refused.
const MAX_PROJECTS: usize = 20_000;
/// Included builds, in all, and how deep they may nest.
const MAX_BUILDS: usize = 256;
const MAX_BUILD_DEPTH: usize = 8;

//! The workspace root as a package of its own, the way Turborepo models it:
//! a changed path in no package belongs to the root and affects nothing,
//! unless it is global; the root's own dependencies are every package's
//! tooling, so a change to them affects every package.

use std::fmt;

use globset::{GlobBuilder, GlobSet, GlobSetBuilder};
use serde::{Deserialize, Serialize};

/// Root files every package's build, lint or tests read: toolchain pins,
/// build configuration, shared test and lint configuration, from each
/// ecosystem's table (`ecosystems.rs`). A change to one affects every
/// package. Patterns are relative to the repository root; `*` stays
/// within one directory.
///
/// The root manifests and lockfiles are not here: they are read precisely
/// ([`crate::SharedInput`]).
pub fn builtin_global_files() -> impl Iterator<Item = &'static str> {
    crate::ecosystems::global_files()
}

/// Most `/` in a built-in global file's path (`.yarn/releases/x.cjs`):
/// deeper paths skip the built-in list, which keeps it off the hot path.
const BUILTIN_DEPTH: usize = 2;

/// Why a built-in global file affects every package.
pub const BUILTIN_WHY: &str =
    "is read by every package's build, lint or tests (built-in global file)";

/// What a changed path in no package affects.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Unowned {
    /// It belongs to the root and affects no package (Turborepo's rule).
    #[default]
    Root,
    /// It affects every package (the cautious rule of ci-matrix before 0.2).
    All,
}

/// What a change to the root's own dependencies affects.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RootDependencies {
    /// Every package: the root's dependencies are every package's tooling.
    #[default]
    All,
    /// Nothing: the root's dependencies are its own.
    Ignore,
}

impl Unowned {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Unowned::Root => "root",
            Unowned::All => "all",
        }
    }
}

impl RootDependencies {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            RootDependencies::All => "all",
            RootDependencies::Ignore => "ignore",
        }
    }
}

impl fmt::Display for Unowned {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Display for RootDependencies {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Globs whose paths affect every package, each with the rule it comes
/// from (`matches globalDependencies in turbo.json`).
#[derive(Debug, Clone)]
pub struct GlobalFiles {
    builtin: bool,
    set: GlobSet,
    rules: Vec<String>,
}

impl Default for GlobalFiles {
    /// The built-in list only.
    fn default() -> Self {
        GlobalFiles {
            builtin: true,
            set: GlobSet::empty(),
            rules: Vec::new(),
        }
    }
}

impl GlobalFiles {
    /// A builder holding the built-in list ([`builtin_global_files`]).
    #[must_use]
    pub fn builder() -> GlobalFilesBuilder {
        GlobalFilesBuilder {
            builtin: true,
            set: GlobSetBuilder::new(),
            rules: Vec::new(),
        }
    }

    /// No global files at all, not even the built-in ones.
    #[must_use]
    pub fn none() -> GlobalFiles {
        GlobalFiles {
            builtin: false,
            set: GlobSet::empty(),
            rules: Vec::new(),
        }
    }

    /// Why `path` affects every package, if it does.
    #[must_use]
    pub fn rule(&self, path: &str) -> Option<&str> {
        if !self.set.is_empty()
            && self.set.is_match(path)
            && let Some(&first) = self.set.matches(path).first()
        {
            return Some(&self.rules[first]);
        }
        (self.builtin && path.matches('/').count() <= BUILTIN_DEPTH && BUILTIN.is_match(path))
            .then_some(BUILTIN_WHY)
    }
}

/// Collects global globs; see [`GlobalFiles::builder`].
#[derive(Debug)]
pub struct GlobalFilesBuilder {
    builtin: bool,
    set: GlobSetBuilder,
    rules: Vec<String>,
}

impl GlobalFilesBuilder {
    /// Adds `pattern` (`*` stays within a directory, `**` crosses them);
    /// `why` completes "PATH …": `matches a global glob`.
    ///
    /// # Errors
    ///
    /// When `pattern` is no valid glob.
    pub fn add(&mut self, pattern: &str, why: impl Into<String>) -> Result<(), globset::Error> {
        self.set.add(glob(pattern)?);
        self.rules.push(why.into());
        Ok(())
    }

    /// Leaves out the built-in list.
    #[must_use]
    pub fn without_builtin(mut self) -> Self {
        self.builtin = false;
        self
    }

    /// # Errors
    ///
    /// When the globs together are too large to compile.
    pub fn build(self) -> Result<GlobalFiles, globset::Error> {
        Ok(GlobalFiles {
            builtin: self.builtin,
            set: self.set.build()?,
            rules: self.rules,
        })
    }
}

/// The built-in list as one set, compiled on first use: most runs never
/// see a changed path shallow enough to need it, and compiling it costs
/// about a millisecond.
static BUILTIN: std::sync::LazyLock<GlobSet> = std::sync::LazyLock::new(|| {
    let mut set = GlobSetBuilder::new();
    for pattern in builtin_global_files() {
        set.add(glob(pattern).expect("the built-in globs are valid (tested)"));
    }
    set.build().expect("the built-in globs are valid (tested)")
});

fn glob(pattern: &str) -> Result<globset::Glob, globset::Error> {
    GlobBuilder::new(pattern).literal_separator(true).build()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_files_are_global_at_the_root_only() {
        let globals = GlobalFiles::default();
        for path in [
            "tsconfig.json",
            "tsconfig.base.json",
            "rust-toolchain.toml",
            ".cargo/config.toml",
            ".config/nextest.toml",
            "eslint.config.mjs",
            ".eslintrc.cjs",
            "vitest.workspace.ts",
            ".yarn/releases/yarn-4.5.0.cjs",
        ] {
            assert_eq!(globals.rule(path), Some(BUILTIN_WHY), "{path}");
        }
        for path in [
            "packages/ui/tsconfig.json",
            ".changeset/brave-cats.md",
            "docs/tsconfig.json",
            "README.md",
            "package.json",
            "Cargo.lock",
            ".github/workflows/ci.yml",
        ] {
            assert_eq!(globals.rule(path), None, "{path}");
        }
        assert_eq!(GlobalFiles::none().rule("tsconfig.json"), None);
    }

    #[test]
    fn configured_globs_name_their_rule() {
        let mut builder = GlobalFiles::builder();
        builder
            .add("**/.env.*", "matches globalDependencies in turbo.json")
            .unwrap();
        let globals = builder.build().unwrap();
        assert_eq!(
            globals.rule("apps/web/.env.local"),
            Some("matches globalDependencies in turbo.json")
        );
        assert_eq!(globals.rule("tsconfig.json"), Some(BUILTIN_WHY));
        assert!(GlobalFiles::builder().add("a[", "x").is_err());
    }
}

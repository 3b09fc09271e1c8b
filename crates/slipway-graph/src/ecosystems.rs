//! What slipway-graph knows about each ecosystem's files, in one table:
//! discovery's nesting rule, removed-package detection, nested
//! workspaces' shared files, the built-in global files and the
//! precisely-read inputs all read it, so adding an ecosystem's file is
//! one edit here (and a test fails when a precisely-read input is not
//! declared).

use crate::model::Ecosystem;

/// One ecosystem's files, by name at a directory (or, for the global
/// files, glob patterns relative to the repository root).
#[derive(Debug)]
pub(crate) struct EcosystemFiles {
    /// The ecosystems (npm, yarn, pnpm and Bun share one table).
    pub(crate) ecosystems: &'static [Ecosystem],
    /// A package's own manifest: deleting one removes its package.
    pub(crate) manifests: &'static [&'static str],
    /// Manifest file-name suffixes (a .NET project file).
    pub(crate) manifest_suffixes: &'static [&'static str],
    /// Whether a manifest of this ecosystem in a directory roots a
    /// discovery of its own when the repository root holds none.
    pub(crate) roots_discovery: bool,
    /// Files a workspace root shares with every package: root manifest,
    /// lockfiles, workspace and settings files. A change to one in a
    /// nested workspace root affects every package below it.
    pub(crate) workspace_files: &'static [&'static str],
    /// Of those, the ones read precisely at the repository root (a change
    /// affects only the packages it changes), as [`crate::SharedInput`]
    /// names them.
    pub(crate) precise: &'static [&'static str],
    /// Root files every package's build reads: toolchain pins, build
    /// configuration, shared lint and test configuration.
    pub(crate) global_files: &'static [&'static str],
}

const NODE: &[Ecosystem] = &[
    Ecosystem::Npm,
    Ecosystem::Yarn,
    Ecosystem::Pnpm,
    Ecosystem::Bun,
];

/// Every ecosystem's files.
pub(crate) const ECOSYSTEMS: [EcosystemFiles; 8] = [
    EcosystemFiles {
        ecosystems: &[Ecosystem::Cargo],
        manifests: &["Cargo.toml"],
        manifest_suffixes: &[],
        roots_discovery: true,
        workspace_files: &["Cargo.toml", "Cargo.lock"],
        precise: &["Cargo.toml", "Cargo.lock"],
        global_files: &[
            "rust-toolchain",
            "rust-toolchain.toml",
            ".cargo/config",
            ".cargo/config.toml",
            "clippy.toml",
            ".clippy.toml",
            "rustfmt.toml",
            ".rustfmt.toml",
            "deny.toml",
            ".config/nextest.toml",
        ],
    },
    EcosystemFiles {
        ecosystems: NODE,
        manifests: &["package.json"],
        manifest_suffixes: &[],
        roots_discovery: true,
        workspace_files: &[
            "package.json",
            "package-lock.json",
            "pnpm-lock.yaml",
            "pnpm-workspace.yaml",
            "yarn.lock",
            ".yarnrc.yml",
            "bun.lock",
            "bun.lockb",
        ],
        precise: &[
            "package.json",
            "package-lock.json",
            "pnpm-lock.yaml",
            "pnpm-workspace.yaml",
            "yarn.lock",
            "bun.lock",
            "bun.lockb",
        ],
        global_files: &[
            ".nvmrc",
            ".node-version",
            ".yarn/releases/*",
            "tsconfig*.json",
            "babel.config.*",
            ".babelrc",
            ".babelrc.*",
            ".npmrc",
            ".yarnrc",
            ".yarnrc.yml",
            "turbo.json",
            "turbo.jsonc",
            "nx.json",
            "vitest.config.*",
            "vitest.workspace.*",
            "jest.config.*",
            "jest.preset.*",
            "eslint.config.*",
            ".eslintrc",
            ".eslintrc.*",
            "biome.json",
            "biome.jsonc",
            ".prettierrc",
            ".prettierrc.*",
            "prettier.config.*",
        ],
    },
    EcosystemFiles {
        ecosystems: &[Ecosystem::Go],
        manifests: &["go.mod"],
        manifest_suffixes: &[],
        roots_discovery: true,
        workspace_files: &["go.work", "go.work.sum", "go.mod"],
        precise: &["go.work.sum"],
        global_files: &[
            "go.work",
            ".golangci.yml",
            ".golangci.yaml",
            ".golangci.toml",
        ],
    },
    EcosystemFiles {
        ecosystems: &[Ecosystem::Python],
        manifests: &["pyproject.toml"],
        manifest_suffixes: &[],
        roots_discovery: true,
        workspace_files: &["pyproject.toml", "uv.lock"],
        precise: &["pyproject.toml", "uv.lock"],
        global_files: &[],
    },
    EcosystemFiles {
        ecosystems: &[Ecosystem::Maven],
        manifests: &["pom.xml"],
        manifest_suffixes: &[],
        roots_discovery: false,
        workspace_files: &["pom.xml"],
        precise: &["pom.xml"],
        global_files: &[],
    },
    EcosystemFiles {
        ecosystems: &[Ecosystem::Gradle],
        manifests: &["build.gradle.kts", "build.gradle"],
        manifest_suffixes: &[],
        roots_discovery: false,
        workspace_files: &[
            "settings.gradle.kts",
            "settings.gradle",
            "build.gradle.kts",
            "build.gradle",
            "libs.versions.toml",
            "gradle.properties",
        ],
        precise: &[
            "settings.gradle.kts",
            "build.gradle.kts",
            "libs.versions.toml",
        ],
        global_files: &[],
    },
    EcosystemFiles {
        ecosystems: &[Ecosystem::Dotnet],
        manifests: &[],
        manifest_suffixes: &[".csproj", ".fsproj", ".vbproj"],
        roots_discovery: false,
        workspace_files: &[
            "Directory.Build.props",
            "Directory.Build.targets",
            "Directory.Packages.props",
        ],
        precise: &["Directory.Packages.props"],
        global_files: &[],
    },
    // Tool-neutral files every package reads.
    EcosystemFiles {
        ecosystems: &[],
        manifests: &[],
        manifest_suffixes: &[],
        roots_discovery: false,
        workspace_files: &[],
        precise: &[],
        global_files: &[".tool-versions", ".ci-matrix.toml"],
    },
];

/// Whether a file name is a package manifest of any ecosystem.
pub(crate) fn is_manifest(name: &str) -> bool {
    ECOSYSTEMS.iter().any(|e| {
        e.manifests.contains(&name)
            || e.manifest_suffixes
                .iter()
                .any(|s| name.len() > s.len() && name.ends_with(s))
    })
}

/// Whether a file name roots a discovery of its own (see
/// [`EcosystemFiles::roots_discovery`]).
pub(crate) fn roots_discovery(name: &str) -> bool {
    ECOSYSTEMS
        .iter()
        .any(|e| e.roots_discovery && e.manifests.contains(&name))
}

/// Whether a file name is a workspace file of any ecosystem.
pub(crate) fn is_workspace_file(name: &str) -> bool {
    ECOSYSTEMS.iter().any(|e| e.workspace_files.contains(&name))
}

/// Every built-in global file pattern.
pub(crate) fn global_files() -> impl Iterator<Item = &'static str> {
    ECOSYSTEMS
        .iter()
        .flat_map(|e| e.global_files.iter().copied())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn precisely_read_inputs_are_declared_and_shared() {
        use crate::SharedInput;
        let every = [
            SharedInput::CargoLock,
            SharedInput::PnpmLock,
            SharedInput::NpmLock,
            SharedInput::YarnLock,
            SharedInput::GoWorkSum,
            SharedInput::UvLock,
            SharedInput::BunLock,
            SharedInput::BunLockb,
            SharedInput::PnpmWorkspace,
            SharedInput::PyprojectRoot,
            SharedInput::CargoRoot,
            SharedInput::PackageJsonRoot,
            SharedInput::MavenRoot,
            SharedInput::GradleCatalog(0),
            SharedInput::GradleSettings(0),
            SharedInput::GradleRootScript(0),
            SharedInput::DotnetPackages(0),
        ];
        let mut declared: Vec<&str> = Vec::new();
        for e in &ECOSYSTEMS {
            for p in e.precise {
                assert!(
                    e.workspace_files.contains(p),
                    "{p} is read precisely but is no workspace file of {:?}",
                    e.ecosystems
                );
                declared.push(p);
            }
        }
        for input in every {
            // Exhaustive: a new input fails to compile here until listed.
            match input {
                SharedInput::CargoLock
                | SharedInput::PnpmLock
                | SharedInput::NpmLock
                | SharedInput::YarnLock
                | SharedInput::GoWorkSum
                | SharedInput::UvLock
                | SharedInput::BunLock
                | SharedInput::BunLockb
                | SharedInput::PnpmWorkspace
                | SharedInput::PyprojectRoot
                | SharedInput::CargoRoot
                | SharedInput::PackageJsonRoot
                | SharedInput::MavenRoot
                | SharedInput::GradleCatalog(_)
                | SharedInput::GradleSettings(_)
                | SharedInput::GradleRootScript(_)
                | SharedInput::DotnetPackages(_) => {}
            }
            assert!(
                declared.contains(&input.file_name()),
                "{input:?} ({}) is read precisely but not declared in ECOSYSTEMS",
                input.file_name()
            );
        }
        for name in declared {
            assert!(
                every.iter().any(|i| i.file_name() == name),
                "{name} is declared precise but no SharedInput reads it"
            );
        }
    }

    #[test]
    fn every_ecosystem_has_a_table_and_manifests_are_recognised() {
        for ecosystem in [
            Ecosystem::Cargo,
            Ecosystem::Npm,
            Ecosystem::Yarn,
            Ecosystem::Pnpm,
            Ecosystem::Bun,
            Ecosystem::Go,
            Ecosystem::Python,
            Ecosystem::Maven,
            Ecosystem::Gradle,
            Ecosystem::Dotnet,
        ] {
            assert!(
                ECOSYSTEMS.iter().any(|e| e.ecosystems.contains(&ecosystem)),
                "{ecosystem} has no table"
            );
        }
        for name in [
            "Cargo.toml",
            "build.gradle",
            "app.csproj",
            "pom.xml",
            "go.mod",
        ] {
            assert!(is_manifest(name), "{name}");
        }
        assert!(!is_manifest(".csproj"));
        assert!(!roots_discovery("pom.xml"));
        assert!(roots_discovery("go.mod"));
        for name in [
            "settings.gradle.kts",
            "Directory.Packages.props",
            "go.mod",
            "uv.lock",
        ] {
            assert!(is_workspace_file(name), "{name}");
        }
    }
}

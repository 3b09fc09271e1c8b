//! .NET projects, read from their project files alone (no SDK, no
//! `dotnet`, no `MSBuild` evaluation).
//!
//! Projects are those of the `*.sln` / `*.slnx` files at the root when
//! there are any, else every `*.csproj`, `*.fsproj` and `*.vbproj` below
//! the root (`bin`, `obj`, `node_modules` and hidden directories skipped).
//! The walk happens only when the root looks like a .NET repository: a
//! solution, `Directory.Build.props`/`.targets`, `Directory.Packages.props`
//! or `global.json` there. A project's name is its file name without the
//! extension, its directory path where two share one.
//!
//! Edges: `<ProjectReference Include="…">` in the project and in every
//! file `MSBuild` imports for it, with the properties its path uses
//! evaluated in `MSBuild`'s order (`msbuild.rs`); wildcards expand over the
//! projects found. A reference that cannot be evaluated makes the project
//! depend on every .NET project, noted. The
//! nearest `Directory.Build.props` and `Directory.Build.targets` above a
//! project belong to it, as `MSBuild` imports them (and the next one up too
//! when the nearer imports it with `GetPathOfFileAbove`). With central
//! package management, each `<PackageReference Include="X">` is recorded
//! against the nearest `Directory.Packages.props`, which is read
//! precisely when it changes (`inputs/dotnet_packages.rs`).

use std::collections::HashMap;
use std::path::Path;

use super::msbuild::{self, MsbuildFile};
use super::read_optional;
use crate::error::GraphError;
use crate::graph::{GraphBuilder, KeyedInput, keyed_read};
use crate::model::{DepKind, Ecosystem, PackageId};
use crate::paths::{child, normalize, parent};

const EXTENSIONS: [&str; 3] = [".csproj", ".fsproj", ".vbproj"];
const MARKERS: [&str; 5] = [
    "Directory.Build.props",
    "Directory.Build.targets",
    "Directory.Packages.props",
    "global.json",
    "NuGet.Config",
];
pub(crate) const PACKAGES_PROPS: &str = "Directory.Packages.props";
/// More projects than this is refused.
const MAX_PROJECTS: usize = 20_000;
/// Most directories the walk for project files looks through.
const MAX_WALK: usize = 1_000_000;

fn is_project_file(name: &str) -> bool {
    EXTENSIONS.iter().any(|ext| has_extension(name, &ext[1..]))
}

/// Whether `name` ends in `.EXT`, in any case, with a stem before it.
fn has_extension(name: &str, ext: &str) -> bool {
    Path::new(name)
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case(ext))
        && Path::new(name).file_stem().is_some_and(|s| !s.is_empty())
}

pub(crate) use super::maven::document;

/// What one project file declares.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct ProjectFile {
    /// Its properties, imports and `ProjectReference`s, for evaluation.
    pub(crate) msbuild: MsbuildFile,
    /// `PackageReference` names without a version of their own (central
    /// package management supplies it), lowercased as `NuGet` compares them.
    pub(crate) packages: Vec<String>,
}

pub(crate) fn parse_project(path: &Path, text: &str) -> Result<ProjectFile, GraphError> {
    let doc = document(path, text)?;
    if doc.root_element().tag_name().name() != "Project" {
        return Err(GraphError::manifest(
            path,
            "the root element is not <Project>",
        ));
    }
    let mut project = ProjectFile {
        msbuild: msbuild::parse(path, text)?,
        packages: Vec::new(),
    };
    for node in doc.descendants().filter(roxmltree::Node::is_element) {
        let Some(include) = node.attribute("Include") else {
            continue;
        };
        if node.tag_name().name() == "PackageReference"
            && node.attribute("Version").is_none()
            && node.attribute("VersionOverride").is_none()
        {
            project.packages.push(include.trim().to_ascii_lowercase());
        }
    }
    Ok(project)
}

/// The project paths a `.sln` lists (`Project("{…}") = "Name", "src\A\A.csproj", "{…}"`).
fn sln_projects(text: &str) -> Vec<String> {
    text.lines()
        .filter_map(|line| line.trim_start().strip_prefix("Project("))
        .filter_map(|rest| rest.split('"').nth(5))
        .map(|p| p.replace('\\', "/"))
        .filter(|p| is_project_file(p))
        .collect()
}

/// The project paths a `.slnx` lists (`<Project Path="…"/>` at any depth).
fn slnx_projects(path: &Path, text: &str) -> Result<Vec<String>, GraphError> {
    let doc = document(path, text)?;
    Ok(doc
        .descendants()
        .filter(|n| n.is_element() && n.tag_name().name() == "Project")
        .filter_map(|n| n.attribute("Path"))
        .map(|p| p.replace('\\', "/"))
        .filter(|p| is_project_file(p))
        .collect())
}

pub(super) fn discover(root: &Path, builder: &mut GraphBuilder) -> Result<bool, GraphError> {
    let Ok(entries) = std::fs::read_dir(root) else {
        return Ok(false);
    };
    let mut solutions: Vec<String> = Vec::new();
    let mut marked = false;
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if has_extension(&name, "sln") || has_extension(&name, "slnx") {
            solutions.push(name);
        } else if MARKERS.iter().any(|m| m.eq_ignore_ascii_case(&name)) || is_project_file(&name) {
            marked = true;
        }
    }
    solutions.sort();
    let files = if solutions.is_empty() {
        if !marked {
            return Ok(false);
        }
        find_projects(root)?
    } else {
        let mut files = Vec::new();
        for sln in &solutions {
            let text = super::read_required(root, sln)?;
            let listed = if has_extension(sln, "slnx") {
                slnx_projects(&root.join(sln), &text)?
            } else {
                sln_projects(&text)
            };
            for file in listed {
                match normalize(&file) {
                    Some(file) if !files.contains(&file) => files.push(file),
                    Some(_) => {}
                    None => {
                        return Err(GraphError::manifest(
                            root.join(sln),
                            format!("project {file:?} lies outside the repository"),
                        ));
                    }
                }
            }
        }
        files
    };
    if files.len() > MAX_PROJECTS {
        return Err(GraphError::manifest(
            root,
            format!("more than {MAX_PROJECTS} .NET projects"),
        ));
    }
    if files.is_empty() {
        return Ok(false);
    }
    // Each project's own directory is probed for the files MSBuild
    // imports while the project is read, on every core: thousands of
    // failed opens are most of the cost otherwise.
    let parsed = super::read_manifests(root, &files, "", |rel, text| {
        let project = parse_project(&root.join(rel), text)?;
        let mut own = Vec::with_capacity(IMPORTED.len());
        for name in IMPORTED {
            own.push(read_optional(root, &child(parent(rel), name))?);
        }
        Ok((project, own))
    })?;
    add_projects(root, &files, parsed, builder)?;
    Ok(true)
}

/// The files `MSBuild` imports from a project's directory or above.
const IMPORTED: [&str; 3] = [
    "Directory.Build.props",
    "Directory.Build.targets",
    PACKAGES_PROPS,
];

type Parsed = (ProjectFile, Vec<Option<String>>);

fn add_projects(
    root: &Path,
    files: &[String],
    parsed: Vec<Option<Parsed>>,
    builder: &mut GraphBuilder,
) -> Result<(), GraphError> {
    let stem = |file: &str| {
        let name = file.rsplit('/').next().unwrap_or(file);
        name.rsplit_once('.').map_or(name, |(s, _)| s).to_owned()
    };
    let mut count: HashMap<String, usize> = HashMap::new();
    for file in files {
        *count.entry(stem(file)).or_default() += 1;
    }
    let mut ids: HashMap<&str, PackageId> = HashMap::new();
    let mut dirs_cache = Ancestors::default();
    let mut files_cache = msbuild::Files::default();
    let mut read: Vec<(PackageId, &String)> = Vec::new();
    for (file, project) in files.iter().zip(parsed) {
        let Some((project, own)) = project else {
            return Err(GraphError::read(
                root.join(file),
                std::io::Error::from(std::io::ErrorKind::NotFound),
            ));
        };
        let dir = parent(file);
        let name = if count[&stem(file)] > 1 {
            dir.to_owned()
        } else {
            stem(file)
        };
        let id = builder.add_package(&name, dir, Ecosystem::Dotnet)?;
        ids.insert(file.as_str(), id);
        for (name, text) in IMPORTED.into_iter().zip(own) {
            if name != PACKAGES_PROPS {
                let parsed = match &text {
                    Some(text) => {
                        let rel = child(dir, name);
                        Some(msbuild::parse(&root.join(&rel), text)?)
                    }
                    None => None,
                };
                files_cache.insert(&child(dir, name), parsed);
            }
            dirs_cache.known.insert((dir.to_owned(), name), text);
        }
        add_directory_files(root, dir, id, &project.packages, &mut dirs_cache, builder)?;
        files_cache.insert(file, Some(project.msbuild));
        read.push((id, file));
    }
    let mut all_files: Option<Vec<&str>> = None;
    for (id, file) in read {
        let eval = msbuild::evaluate(root, file, &mut files_cache)?;
        for imported in &eval.imported {
            builder.add_outside_source(id, imported);
        }
        for (include, source) in &eval.references {
            add_reference(
                root,
                (id, file),
                (include, source),
                &eval,
                &ids,
                &mut all_files,
                builder,
            );
        }
    }
    Ok(())
}

/// The `Directory.Build.*` files above a project are its sources; the
/// nearest `Directory.Packages.props` is read per package it pins.
fn add_directory_files(
    root: &Path,
    dir: &str,
    id: PackageId,
    packages: &[String],
    dirs_cache: &mut Ancestors,
    builder: &mut GraphBuilder,
) -> Result<(), GraphError> {
    for props in ["Directory.Build.props", "Directory.Build.targets"] {
        for found in dirs_cache.imported(root, dir, props)? {
            builder.add_outside_source(id, &found);
        }
    }
    if let Some(props) = dirs_cache.imported(root, dir, PACKAGES_PROPS)?.first() {
        builder.add_keyed_input(props, KeyedInput::DotnetPackages);
        builder.add_read(id, keyed_read(props, "below"));
        for package in packages {
            builder.add_read(id, keyed_read(props, &format!("package:{package}")));
        }
    }
    Ok(())
}

/// The edges of one evaluated `ProjectReference` of `project`.
fn add_reference<'f>(
    root: &Path,
    (id, file): (PackageId, &str),
    (include, source): (&str, &str),
    eval: &msbuild::Evaluation,
    ids: &HashMap<&'f str, PackageId>,
    all_files: &mut Option<Vec<&'f str>>,
    builder: &mut GraphBuilder,
) {
    let values = match msbuild::expand(root, include, &eval.properties, false) {
        Ok(values) => values,
        Err(why) => {
            builder.assume_all(
                id,
                format!(
                    "the ProjectReference {include:?} in {source} uses {why}, so {file} is taken to depend on every .NET project"
                ),
            );
            return;
        }
    };
    for value in values {
        let Some(target) = msbuild::resolve_path(parent(file), &value) else {
            continue;
        };
        if target.contains(['*', '?']) {
            let Ok(glob) = globset::GlobBuilder::new(&target)
                .literal_separator(true)
                .build()
            else {
                continue;
            };
            let matcher = glob.compile_matcher();
            let all = all_files.get_or_insert_with(|| ids.keys().copied().collect());
            for candidate in all.iter().filter(|c| matcher.is_match(c)) {
                let to = ids[candidate];
                if to != id {
                    builder.add_edge(id, to, DepKind::Normal);
                }
            }
            continue;
        }
        match ids.get(target.as_str()).copied() {
            Some(to) if to != id => builder.add_edge(id, to, DepKind::Normal),
            Some(_) => {}
            None => {
                // A project no solution lists is still built through the
                // reference: its files are this project's.
                tracing::debug!(project = %file, reference = %include, "ProjectReference to no known project");
                builder.add_outside_source(id, parent(&target));
            }
        }
    }
}

/// The nearest file of a name above each directory, memoized.
#[derive(Default)]
struct Ancestors {
    found: HashMap<(String, &'static str), Vec<String>>,
    /// Texts already read (`None`: no such file there).
    known: HashMap<(String, &'static str), Option<String>>,
}

impl Ancestors {
    /// The `name` files `MSBuild` imports for a project in `dir`: the
    /// nearest at or above it, and the next one up for as long as each
    /// imports its parent (`GetPathOfFileAbove`).
    fn imported(
        &mut self,
        root: &Path,
        dir: &str,
        name: &'static str,
    ) -> Result<Vec<String>, GraphError> {
        if let Some(found) = self.found.get(&(dir.to_owned(), name)) {
            return Ok(found.clone());
        }
        let here = child(dir, name);
        let text = match self.known.remove(&(dir.to_owned(), name)) {
            Some(text) => text,
            None => read_optional(root, &here)?,
        };
        let result = match text {
            Some(text) => {
                let mut list = vec![here];
                if dir != "."
                    && (text.contains("GetPathOfFileAbove")
                        || text.contains("GetDirectoryNameOfFileAbove"))
                {
                    list.extend(self.imported(root, parent(dir), name)?);
                }
                list
            }
            None if dir == "." => Vec::new(),
            None => self.imported(root, parent(dir), name)?,
        };
        self.found.insert((dir.to_owned(), name), result.clone());
        Ok(result)
    }
}

/// Every project file below `root`, sorted; bounded like Go's walk.
fn find_projects(root: &Path) -> Result<Vec<String>, GraphError> {
    let mut found = Vec::new();
    let mut stack = vec![".".to_owned()];
    let mut visited = 0usize;
    while let Some(dir) = stack.pop() {
        visited += 1;
        if visited > MAX_WALK {
            return Err(GraphError::manifest(
                root,
                format!("more than {MAX_WALK} directories to look through for .NET projects"),
            ));
        }
        let Ok(entries) = std::fs::read_dir(root.join(&dir)) else {
            continue;
        };
        for entry in entries.flatten() {
            let name = entry.file_name();
            let Some(name) = name.to_str() else { continue };
            let Ok(kind) = entry.file_type() else {
                continue;
            };
            if kind.is_dir() {
                let skipped = name.starts_with('.')
                    || matches!(name, "bin" | "obj" | "node_modules" | "packages" | "target");
                if !skipped {
                    stack.push(child(&dir, name));
                }
            } else if is_project_file(name) {
                found.push(child(&dir, name));
            }
        }
    }
    found.sort_unstable();
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn project_files_read_central_packages() {
        let p = parse_project(
            Path::new("src/App/App.csproj"),
            r#"<Project Sdk="Microsoft.NET.Sdk">
  <ItemGroup>
    <ProjectReference Include="..\Core\Core.csproj" />
    <PackageReference Include="Newtonsoft.Json" />
    <PackageReference Include="Serilog" Version="3.0.0" />
    <PackageReference Include="Polly" VersionOverride="8.0.0" />
  </ItemGroup>
</Project>"#,
        )
        .unwrap();
        assert_eq!(
            p.msbuild.steps,
            [msbuild::Step::Reference("..\\Core\\Core.csproj".into())]
        );
        assert_eq!(p.packages, ["newtonsoft.json"]);
    }

    #[test]
    fn solutions_list_their_projects() {
        let sln = "Microsoft Visual Studio Solution File\nProject(\"{FAE04EC0-301F-11D3-BF4B-00C04F79EFBC}\") = \"App\", \"src\\App\\App.csproj\", \"{1}\"\nEndProject\nProject(\"{2150E333-8FDC-42A3-9474-1A3956D46DE8}\") = \"src\", \"src\", \"{2}\"\nEndProject\n";
        assert_eq!(sln_projects(sln), ["src/App/App.csproj"]);
        let slnx = r#"<Solution><Folder Name="/src/"><Project Path="src/Lib/Lib.csproj" /></Folder><Project Path="tests\T\T.fsproj"/></Solution>"#;
        assert_eq!(
            slnx_projects(Path::new("a.slnx"), slnx).unwrap(),
            ["src/Lib/Lib.csproj", "tests/T/T.fsproj"]
        );
    }

    #[test]
    fn entity_bombs_and_wrong_roots_are_errors_naming_the_file() {
        let bomb = r#"<?xml version="1.0"?><!DOCTYPE p [<!ENTITY a "aa"><!ENTITY b "&a;&a;">]><Project>&b;</Project>"#;
        let err = parse_project(Path::new("x/X.csproj"), bomb).unwrap_err();
        assert!(err.to_string().contains("x/X.csproj"), "{err}");
        let err = parse_project(Path::new("X.csproj"), "<Other/>").unwrap_err();
        assert!(err.to_string().contains("not <Project>"), "{err}");
    }
}

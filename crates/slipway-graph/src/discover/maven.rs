//! Maven builds, read from the POMs alone (no JDK, no `mvn`).
//!
//! From the root `pom.xml`, `<modules>` are followed recursively (those of
//! `<profiles>` too: a module a profile adds is still a module). A module's
//! identity is `groupId:artifactId`, the groupId inherited from `<parent>`
//! when absent; its name is the artifactId unless two modules share one.
//! Edges: `<dependencies>` of any scope naming another module (`test` is a
//! dev edge), `<parent>` (by `relativePath`, default `../pom.xml`, or by
//! coordinates), `<dependencyManagement>` imports of an in-repository BOM,
//! and build plugins, and their `<dependencies>`, naming a module.
//! Coordinates are interpolated from `<properties>` up the in-repository
//! parent chain and `project.*`; a dependency whose groupId cannot be
//! resolved is matched by artifactId alone, and says so in the log.
//!
//! A root POM of packaging `pom` (an aggregator and usually every module's
//! parent) is no package: it is a shared input ([`crate::SharedInput::MavenRoot`])
//! compared precisely at both revisions (`inputs/maven_root.rs`).

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::fmt::Write as _;
use std::path::Path;

use super::read_optional;
use crate::error::GraphError;
use crate::graph::GraphBuilder;
use crate::model::{DepKind, Ecosystem, PackageId};
use crate::paths::{child, join, parent};

pub(crate) const POM: &str = "pom.xml";
/// More modules than this is refused: the module list is in a pull
/// request's control.
const MAX_MODULES: usize = 20_000;
/// XML nodes in one POM or project file.
const MAX_NODES: u32 = 200_000;

/// What discovery and the root comparison read from one POM.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Pom {
    pub(crate) group: Option<String>,
    pub(crate) artifact: Option<String>,
    pub(crate) version: Option<String>,
    pub(crate) packaging: Option<String>,
    pub(crate) parent: Option<Parent>,
    pub(crate) properties: BTreeMap<String, String>,
    /// `<modules>` of the project and of every profile.
    pub(crate) modules: Vec<String>,
    /// `(groupId, artifactId, scope)` of `<dependencies>`.
    pub(crate) dependencies: Vec<Coordinate>,
    /// `<dependencyManagement>` entries; `scope` `import` is a BOM.
    pub(crate) managed: Vec<Coordinate>,
    /// Build plugins and their dependencies.
    pub(crate) plugins: Vec<Coordinate>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Parent {
    pub(crate) group: Option<String>,
    pub(crate) artifact: Option<String>,
    pub(crate) version: Option<String>,
    /// `None`: the default `../pom.xml`; `Some("")`: no local parent.
    pub(crate) relative_path: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Coordinate {
    pub(crate) group: String,
    pub(crate) artifact: String,
    pub(crate) version: String,
    pub(crate) scope: String,
}

/// Parses a POM; the error names the line and column.
pub(crate) fn parse(path: &Path, text: &str) -> Result<Pom, GraphError> {
    pom_of(path, &document(path, text)?)
}

/// Parses a POM once for what it declares and for [`rest_of`].
pub(crate) fn parse_with_rest(path: &Path, text: &str) -> Result<(Pom, String), GraphError> {
    let doc = document(path, text)?;
    Ok((pom_of(path, &doc)?, rest_of(&doc)))
}

/// An XML document (a POM, a .NET project file or solution): no DTD (so
/// no entity expansion), at most [`MAX_NODES`] nodes; the error names the
/// line and column.
pub(crate) fn document<'t>(
    path: &Path,
    text: &'t str,
) -> Result<roxmltree::Document<'t>, GraphError> {
    let options = roxmltree::ParsingOptions {
        allow_dtd: false,
        nodes_limit: MAX_NODES,
        ..roxmltree::ParsingOptions::default()
    };
    roxmltree::Document::parse_with_options(text, options).map_err(|err| {
        let pos = err.pos();
        GraphError::Syntax {
            path: path.to_path_buf(),
            format: "XML",
            line: pos.row as usize,
            column: pos.col as usize,
            message: err.to_string(),
        }
    })
}

fn pom_of(path: &Path, doc: &roxmltree::Document<'_>) -> Result<Pom, GraphError> {
    let project = doc.root_element();
    if project.tag_name().name() != "project" {
        return Err(GraphError::manifest(
            path,
            "the root element is not <project>",
        ));
    }
    let text_of = |node: roxmltree::Node<'_, '_>, name: &str| {
        element(node, name)
            .and_then(|n| n.text())
            .map(|t| t.trim().to_owned())
    };
    let mut pom = Pom {
        group: text_of(project, "groupId"),
        artifact: text_of(project, "artifactId"),
        version: text_of(project, "version"),
        packaging: text_of(project, "packaging"),
        ..Pom::default()
    };
    if let Some(node) = element(project, "parent") {
        pom.parent = Some(Parent {
            group: text_of(node, "groupId"),
            artifact: text_of(node, "artifactId"),
            version: text_of(node, "version"),
            relative_path: element(node, "relativePath")
                .map(|n| n.text().unwrap_or_default().trim().to_owned()),
        });
    }
    if let Some(node) = element(project, "properties") {
        for prop in node.children().filter(roxmltree::Node::is_element) {
            pom.properties.insert(
                prop.tag_name().name().to_owned(),
                prop.text().unwrap_or_default().trim().to_owned(),
            );
        }
    }
    let mut module_lists = vec![element(project, "modules")];
    if let Some(profiles) = element(project, "profiles") {
        module_lists.extend(elements(profiles, "profile").map(|p| element(p, "modules")));
    }
    for list in module_lists.into_iter().flatten() {
        pom.modules.extend(
            elements(list, "module")
                .filter_map(|m| m.text())
                .map(|t| t.trim().to_owned()),
        );
    }
    pom.dependencies = coordinates(element(project, "dependencies"));
    pom.managed = coordinates(
        element(project, "dependencyManagement").and_then(|d| element(d, "dependencies")),
    );
    if let Some(build) = element(project, "build") {
        let plugin_lists = [
            element(build, "plugins"),
            element(build, "pluginManagement").and_then(|m| element(m, "plugins")),
        ];
        for plugins in plugin_lists.into_iter().flatten() {
            for plugin in elements(plugins, "plugin") {
                pom.plugins.extend(coordinate(plugin));
                pom.plugins
                    .extend(coordinates(element(plugin, "dependencies")));
            }
        }
    }
    Ok(pom)
}

fn element<'a, 'i>(node: roxmltree::Node<'a, 'i>, name: &str) -> Option<roxmltree::Node<'a, 'i>> {
    elements(node, name).next()
}

fn elements<'a, 'i>(
    node: roxmltree::Node<'a, 'i>,
    name: &str,
) -> impl Iterator<Item = roxmltree::Node<'a, 'i>> {
    node.children()
        .filter(move |n| n.is_element() && n.tag_name().name() == name)
}

fn coordinates(list: Option<roxmltree::Node<'_, '_>>) -> Vec<Coordinate> {
    list.map(|l| elements(l, "dependency").filter_map(coordinate).collect())
        .unwrap_or_default()
}

fn coordinate(node: roxmltree::Node<'_, '_>) -> Option<Coordinate> {
    let get = |name: &str| {
        element(node, name)
            .and_then(|n| n.text())
            .map(|t| t.trim().to_owned())
            .unwrap_or_default()
    };
    let artifact = get("artifactId");
    (!artifact.is_empty()).then(|| Coordinate {
        // A plugin's default group.
        group: match get("groupId") {
            g if g.is_empty() && node.tag_name().name() == "plugin" => {
                "org.apache.maven.plugins".to_owned()
            }
            g => g,
        },
        artifact,
        version: get("version"),
        scope: get("scope"),
    })
}

/// `${name}` replaced from `lookup`, repeatedly (a property may name
/// another), at most 16 rounds and 4 KiB: what is left unresolved stays.
pub(crate) fn interpolate(value: &str, lookup: &dyn Fn(&str) -> Option<String>) -> String {
    let mut out = value.to_owned();
    for _ in 0..16 {
        let Some(start) = out.find("${") else { break };
        let Some(len) = out[start..].find('}') else {
            break;
        };
        let name = &out[start + 2..start + len];
        let Some(replacement) = lookup(name) else {
            break;
        };
        if out.len() + replacement.len() > 4096 {
            break;
        }
        out.replace_range(start..=start + len, &replacement);
    }
    out
}

/// The names of every `${name}` in `text`, sorted, each once.
pub(crate) fn property_refs(text: &str) -> Vec<String> {
    let mut names: Vec<String> = text
        .split("${")
        .skip(1)
        .filter_map(|rest| rest.split_once('}').map(|(name, _)| name))
        .filter(|name| !name.is_empty() && name.len() <= 256 && !name.contains(['<', '$', '{']))
        .map(str::to_owned)
        .collect();
    names.sort_unstable();
    names.dedup();
    names
}

/// The POM without `<properties>`, `<dependencyManagement>` and the module
/// lists, as one canonical string (elements, attributes, trimmed text; no
/// comments or layout): two POMs whose other parts are equal give equal
/// strings.
fn rest_of(doc: &roxmltree::Document<'_>) -> String {
    let mut out = String::new();
    let mut stack = vec![(doc.root_element(), 0usize)];
    while let Some((node, depth)) = stack.pop() {
        let name = node.tag_name().name();
        let skipped = match depth {
            1 => matches!(name, "properties" | "dependencyManagement" | "modules"),
            3 => {
                name == "modules"
                    && node
                        .parent()
                        .is_some_and(|p| p.tag_name().name() == "profile")
            }
            _ => false,
        };
        if skipped {
            continue;
        }
        let _ = write!(out, "{depth}<{name}");
        for attr in node.attributes() {
            out.push(' ');
            out.push_str(attr.name());
            out.push('=');
            out.push_str(attr.value());
        }
        out.push('>');
        for text in node.children().filter(roxmltree::Node::is_text) {
            out.push_str(text.text().unwrap_or_default().trim());
        }
        out.push('\n');
        let children: Vec<_> = node
            .children()
            .filter(roxmltree::Node::is_element)
            .collect();
        for c in children.into_iter().rev() {
            stack.push((c, depth + 1));
        }
    }
    out
}

/// One module, read.
struct Module {
    dir: String,
    pom: Pom,
    /// Every `${name}` its POM text uses.
    uses: Vec<String>,
    /// The in-repository parent module's index, by relativePath.
    parent: Option<usize>,
}

pub(super) fn discover(root: &Path, builder: &mut GraphBuilder) -> Result<bool, GraphError> {
    let Some(text) = read_optional(root, POM)? else {
        return Ok(false);
    };
    let root_pom = parse(&root.join(POM), &text)?;
    let modules = read_modules(root, root_pom)?;
    let index = add_packages(root, &modules, builder)?;
    for (i, module) in modules.iter().enumerate() {
        if let Some(id) = index.ids[i] {
            add_edges(&modules, i, module, id, &index, builder);
        }
    }
    Ok(true)
}

/// The modules' packages, and how to find one by coordinates.
struct Index {
    /// Per module; `None` for the root aggregator.
    ids: Vec<Option<PackageId>>,
    by_coordinate: HashMap<(String, String), PackageId>,
    by_artifact: HashMap<String, Vec<PackageId>>,
}

impl Index {
    /// The module with these coordinates, and `true` when it was found by
    /// artifactId alone: the groupId could not be resolved and one module
    /// has that artifactId (the edge is assumed).
    fn find(&self, group: &str, artifact: &str) -> Option<(PackageId, bool)> {
        if let Some(&id) = self
            .by_coordinate
            .get(&(group.to_owned(), artifact.to_owned()))
        {
            return Some((id, false));
        }
        if (group.contains("${") || group.is_empty())
            && let Some([only]) = self.by_artifact.get(artifact).map(Vec::as_slice)
        {
            tracing::debug!(
                group,
                artifact,
                "groupId not resolved: matched by artifactId, edge assumed"
            );
            return Some((*only, true));
        }
        None
    }
}

fn add_packages(
    root: &Path,
    modules: &[Module],
    builder: &mut GraphBuilder,
) -> Result<Index, GraphError> {
    let resolved: Vec<(String, String)> = (0..modules.len())
        .map(|i| {
            let lookup = |name: &str| property(modules, i, name);
            let m = &modules[i].pom;
            let group = m
                .group
                .clone()
                .or_else(|| m.parent.as_ref().and_then(|p| p.group.clone()))
                .unwrap_or_default();
            (
                interpolate(&group, &lookup),
                interpolate(m.artifact.as_deref().unwrap_or_default(), &lookup),
            )
        })
        .collect();
    let mut artifact_count: HashMap<&str, usize> = HashMap::new();
    for (_, artifact) in &resolved {
        *artifact_count.entry(artifact).or_default() += 1;
    }
    let mut index = Index {
        ids: Vec::with_capacity(modules.len()),
        by_coordinate: HashMap::new(),
        by_artifact: HashMap::new(),
    };
    for (i, module) in modules.iter().enumerate() {
        let (group, artifact) = &resolved[i];
        if is_root_aggregator(module) {
            // A shared input, not a package.
            index.ids.push(None);
            continue;
        }
        if artifact.is_empty() {
            return Err(GraphError::manifest(
                root.join(child(&module.dir, POM)),
                "no <artifactId>",
            ));
        }
        let name = if artifact_count[artifact.as_str()] > 1 {
            format!("{group}:{artifact}")
        } else {
            artifact.clone()
        };
        let id = builder.add_package(&name, &module.dir, Ecosystem::Maven)?;
        index
            .by_coordinate
            .insert((group.clone(), artifact.clone()), id);
        index
            .by_artifact
            .entry(artifact.clone())
            .or_default()
            .push(id);
        index.ids.push(Some(id));
    }
    Ok(index)
}

fn is_root_aggregator(module: &Module) -> bool {
    module.dir == "." && module.pom.packaging.as_deref() == Some("pom")
}

fn add_edges(
    modules: &[Module],
    i: usize,
    module: &Module,
    id: PackageId,
    index: &Index,
    builder: &mut GraphBuilder,
) {
    let lookup = |name: &str| property(modules, i, name);
    let resolve = |c: &Coordinate| {
        (
            interpolate(&c.group, &lookup),
            interpolate(&c.artifact, &lookup),
        )
    };
    for name in &module.uses {
        builder.add_read(id, format!("property:{name}"));
    }
    let mut edge = |c: &Coordinate, kind: DepKind, external: bool| {
        let (group, artifact) = resolve(c);
        builder.add_read(id, format!("managed:{group}:{artifact}"));
        match index.find(&group, &artifact).filter(|&(to, _)| to != id) {
            Some((to, assumed)) => {
                builder.add_edge(id, to, kind);
                if assumed {
                    builder.add_note(
                        id,
                        format!(
                            "the groupId {:?} of {artifact} could not be resolved, so the edge to module {artifact} was matched by artifactId",
                            c.group
                        ),
                    );
                }
            }
            None if external => builder.add_external(
                id,
                &format!("{group}:{artifact}"),
                &interpolate(&c.version, &lookup),
            ),
            None => {}
        }
    };
    for dep in &module.pom.dependencies {
        // A test-scoped module is on the test classpath only: its change
        // reaches this module's tests, not what this module builds.
        let kind = if dep.scope == "test" {
            DepKind::Test
        } else {
            DepKind::Normal
        };
        edge(dep, kind, true);
    }
    for managed in module.pom.managed.iter().filter(|m| m.scope == "import") {
        edge(managed, DepKind::Build, true);
    }
    for plugin in &module.pom.plugins {
        edge(plugin, DepKind::Build, false);
    }
    let parent = module.parent.and_then(|p| index.ids[p]).or_else(|| {
        let p = module.pom.parent.as_ref()?;
        let group = interpolate(p.group.as_deref().unwrap_or_default(), &lookup);
        index
            .find(
                &group,
                &interpolate(p.artifact.as_deref().unwrap_or_default(), &lookup),
            )
            .map(|(to, _)| to)
    });
    if let Some(to) = parent.filter(|&to| to != id) {
        builder.add_edge(id, to, DepKind::Parent);
    }
}

/// Reads the root POM and every module below it, breadth-first, and each
/// module's in-repository parent by relativePath (read as a module too
/// when no `<modules>` list names it).
fn read_modules(root: &Path, root_pom: Pom) -> Result<Vec<Module>, GraphError> {
    let mut modules = vec![Module {
        dir: ".".to_owned(),
        pom: root_pom,
        uses: Vec::new(),
        parent: None,
    }];
    let mut index: HashMap<String, usize> = HashMap::from([(".".to_owned(), 0)]);
    let mut queue: VecDeque<usize> = VecDeque::from([0]);
    let mut parents_wanted: Vec<(usize, String)> = Vec::new();
    while let Some(i) = queue.pop_front() {
        let dir = modules[i].dir.clone();
        let manifest = child(&dir, POM);
        let mut wanted: Vec<String> = Vec::new();
        for module in &modules[i].pom.modules {
            let target = module
                .strip_suffix("/pom.xml")
                .or_else(|| module.strip_suffix(".xml").map(|_| parent(module)))
                .unwrap_or(module);
            let Some(target) = join(&dir, target) else {
                return Err(GraphError::manifest(
                    root.join(&manifest),
                    format!("module {module:?} lies outside the repository"),
                ));
            };
            wanted.push(target);
        }
        if let Some(parent_pom) = modules[i].pom.parent.as_ref() {
            let relative = parent_pom
                .relative_path
                .clone()
                .unwrap_or_else(|| "../pom.xml".to_owned());
            if !relative.is_empty() {
                let target = relative
                    .strip_suffix(".xml")
                    .map_or(relative.as_str(), |_| parent(&relative));
                if let Some(target) = join(&dir, target) {
                    parents_wanted.push((i, target.clone()));
                    if !index.contains_key(&target) && root.join(child(&target, POM)).is_file() {
                        wanted.push(target);
                    }
                }
            }
        }
        for target in wanted {
            if index.contains_key(&target) {
                continue;
            }
            let rel = child(&target, POM);
            let Some(text) = read_optional(root, &rel)? else {
                return Err(GraphError::manifest(
                    root.join(&manifest),
                    format!("module {target:?} has no {POM}"),
                ));
            };
            if modules.len() >= MAX_MODULES {
                return Err(GraphError::manifest(
                    root.join(&manifest),
                    format!("more than {MAX_MODULES} modules"),
                ));
            }
            let pom = parse(&root.join(&rel), &text)?;
            index.insert(target.clone(), modules.len());
            queue.push_back(modules.len());
            modules.push(Module {
                dir: target,
                pom,
                uses: property_refs(&text),
                parent: None,
            });
        }
    }
    link_parents(&mut modules, &index, parents_wanted);
    Ok(modules)
}

/// Each module's `<parent>` in the repository, when the POM at its
/// relative path is the artifact it names.
fn link_parents(
    modules: &mut [Module],
    index: &HashMap<String, usize>,
    parents_wanted: Vec<(usize, String)>,
) {
    for (i, target) in parents_wanted {
        if let Some(&p) = index.get(&target) {
            let declared = modules[i]
                .pom
                .parent
                .as_ref()
                .and_then(|p| p.artifact.as_deref());
            let matches = declared.is_none() || declared == modules[p].pom.artifact.as_deref();
            if matches && p != i {
                modules[i].parent = Some(p);
            }
        }
    }
}

/// A property of module `i`: `project.*`, its own `<properties>`, then
/// its parents' up the in-repository chain.
fn property(modules: &[Module], i: usize, name: &str) -> Option<String> {
    let pom = &modules[i].pom;
    let parent_version = || pom.parent.as_ref().and_then(|p| p.version.clone());
    match name {
        "project.version" | "pom.version" => return pom.version.clone().or_else(parent_version),
        "project.groupId" | "pom.groupId" => {
            return pom
                .group
                .clone()
                .or_else(|| pom.parent.as_ref().and_then(|p| p.group.clone()));
        }
        "project.artifactId" | "pom.artifactId" => return pom.artifact.clone(),
        "project.parent.version" => return parent_version(),
        "project.parent.groupId" => return pom.parent.as_ref().and_then(|p| p.group.clone()),
        _ => {}
    }
    let mut seen = HashSet::new();
    let mut current = Some(i);
    while let Some(m) = current {
        if !seen.insert(m) {
            break;
        }
        if let Some(value) = modules[m].pom.properties.get(name) {
            return Some(value.clone());
        }
        current = modules[m].parent;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pom_reads_with_profiles_plugins_and_imports() {
        let pom = parse(
            Path::new("pom.xml"),
            r#"<?xml version="1.0"?>
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <parent><groupId>org.acme</groupId><artifactId>parent</artifactId><version>1</version></parent>
  <artifactId>app</artifactId>
  <properties><revision>1.2.0</revision></properties>
  <modules><module>core</module></modules>
  <profiles><profile><id>extra</id><modules><module>extra</module></modules></profile></profiles>
  <dependencies>
    <dependency><groupId>${project.groupId}</groupId><artifactId>core</artifactId><version>${revision}</version><scope>test</scope></dependency>
  </dependencies>
  <dependencyManagement><dependencies>
    <dependency><groupId>org.acme</groupId><artifactId>bom</artifactId><version>1</version><type>pom</type><scope>import</scope></dependency>
  </dependencies></dependencyManagement>
  <build><plugins><plugin><artifactId>maven-surefire-plugin</artifactId>
    <dependencies><dependency><groupId>org.acme</groupId><artifactId>test-kit</artifactId></dependency></dependencies>
  </plugin></plugins></build>
</project>"#,
        )
        .unwrap();
        assert_eq!(pom.group, None);
        assert_eq!(
            pom.parent.as_ref().unwrap().group.as_deref(),
            Some("org.acme")
        );
        assert_eq!(pom.modules, ["core", "extra"]);
        assert_eq!(pom.dependencies[0].scope, "test");
        assert_eq!(pom.managed[0].scope, "import");
        assert_eq!(
            pom.plugins
                .iter()
                .map(|p| p.artifact.as_str())
                .collect::<Vec<_>>(),
            ["maven-surefire-plugin", "test-kit"]
        );
    }

    #[test]
    fn broken_and_hostile_poms_are_errors_naming_the_place() {
        let err = parse(Path::new("a/pom.xml"), "<project><artifactId>x</project>").unwrap_err();
        assert!(
            err.to_string()
                .starts_with("invalid XML in a/pom.xml at line 1"),
            "{err}"
        );
        let laughs = r#"<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;">]><project>&lol2;</project>"#;
        assert!(
            parse(Path::new("pom.xml"), laughs).is_err(),
            "no DTDs, so no entity expansion"
        );
        let err = parse(Path::new("pom.xml"), "<settings/>").unwrap_err();
        assert!(err.to_string().contains("not <project>"), "{err}");
    }

    #[test]
    fn interpolation_is_bounded_and_leaves_the_unknown() {
        let lookup = |name: &str| match name {
            "a" => Some("${b}".to_owned()),
            "b" => Some("1.0".to_owned()),
            "loop" => Some("${loop}${loop}".to_owned()),
            _ => None,
        };
        assert_eq!(interpolate("v${a}", &lookup), "v1.0");
        assert_eq!(interpolate("${unknown}", &lookup), "${unknown}");
        assert!(interpolate("${loop}", &lookup).len() <= 4096);
    }
}

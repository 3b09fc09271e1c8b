//! The part of `MSBuild`'s evaluation a `ProjectReference` path needs:
//! properties, in `MSBuild`'s order, and the imports that define them.
//!
//! `MSBuild` evaluates every property of every imported file first (pass
//! one: the `Directory.Build.props` chain, the project, the
//! `Directory.Build.targets` chain, each `<Import>` where it stands), and
//! items after (pass three), so a reference sees the final value of each
//! property. Conditions are not evaluated: a property set under one takes
//! every value it may have, so a reference expands to more paths, never
//! fewer. A reference whose path cannot be evaluated (an undefined
//! property, a property function not read here, an item transform) is the
//! caller's to make an assumed edge.

use std::collections::HashMap;
use std::path::Path;

use super::dotnet::document;
use super::read_optional;
use crate::error::GraphError;
use crate::paths::{child, join, parent};

/// Stands for the repository root at the start of an evaluated path: no
/// file name holds it.
pub(crate) const ROOT: &str = "\u{0}/";
/// Most values one property may take (conditional definitions add up).
const MAX_VALUES: usize = 16;
/// Most paths one reference may expand to.
const MAX_EXPANSIONS: usize = 64;
/// Most files one project's evaluation imports, and how deep.
const MAX_IMPORTS: usize = 256;
const MAX_IMPORT_DEPTH: usize = 16;
/// Property functions nest at most this deep.
const MAX_NESTING: usize = 16;

/// What one `MSBuild` file declares that evaluation needs, in document order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct MsbuildFile {
    pub(crate) steps: Vec<Step>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Step {
    /// `<PropertyGroup><Name>value</Name>`, and whether a condition (on it
    /// or its group) guards it.
    Property {
        name: String,
        value: String,
        conditional: bool,
    },
    /// `<Import Project="…"/>`.
    Import(String),
    /// `<ProjectReference Include="…"/>`, one path of it.
    Reference(String),
}

pub(crate) fn parse(path: &Path, text: &str) -> Result<MsbuildFile, GraphError> {
    let doc = document(path, text)?;
    let mut file = MsbuildFile::default();
    let conditioned = |n: roxmltree::Node<'_, '_>| n.attribute("Condition").is_some();
    for node in doc.descendants().filter(roxmltree::Node::is_element) {
        let parent_node = node.parent_element();
        let in_group = parent_node.is_some_and(|p| p.tag_name().name() == "PropertyGroup");
        match node.tag_name().name() {
            "Import" => {
                if let Some(project) = node.attribute("Project") {
                    file.steps.push(Step::Import(project.trim().to_owned()));
                }
            }
            "ProjectReference" => {
                if let Some(include) = node.attribute("Include") {
                    for one in include.split(';').map(str::trim).filter(|s| !s.is_empty()) {
                        file.steps.push(Step::Reference(one.to_owned()));
                    }
                }
            }
            name if in_group => file.steps.push(Step::Property {
                name: name.to_ascii_lowercase(),
                value: node.text().unwrap_or_default().trim().to_owned(),
                conditional: conditioned(node) || parent_node.is_some_and(conditioned),
            }),
            _ => {}
        }
    }
    Ok(file)
}

/// Why a value could not be evaluated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Unresolved {
    /// `$(Name)` that nothing defines.
    Undefined(String),
    /// A property function, item list or metadata not read here.
    Unsupported(String),
}

impl std::fmt::Display for Unresolved {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Unresolved::Undefined(name) => write!(f, "$({name}), which no imported file defines"),
            Unresolved::Unsupported(what) => write!(f, "{what}, which is not evaluated here"),
        }
    }
}

/// The properties of one project's evaluation: each name (lowercase, as
/// `MSBuild` compares them) with every value it may have.
#[derive(Debug, Clone, Default)]
pub(crate) struct Properties {
    values: HashMap<String, Vec<String>>,
    /// Properties one of whose definitions could not be evaluated, with
    /// why: a path built from one is not known either.
    poisoned: HashMap<String, Unresolved>,
}

impl Properties {
    fn set(&mut self, name: &str, values: Vec<String>, conditional: bool) {
        let slot = self.values.entry(name.to_owned()).or_default();
        if !conditional {
            slot.clear();
            self.poisoned.remove(name);
        }
        for v in values {
            if slot.len() < MAX_VALUES && !slot.contains(&v) {
                slot.push(v);
            }
        }
    }
}

/// One project's evaluation: its properties and its references, each
/// with the directory of the file it stands in.
#[derive(Debug, Default)]
pub(crate) struct Evaluation {
    pub(crate) properties: Properties,
    /// `(include, the file it is in)`.
    pub(crate) references: Vec<(String, String)>,
    /// Files imported beyond the `Directory.Build.*` chains (repository
    /// paths), which the project builds with.
    pub(crate) imported: Vec<String>,
}

/// Reads and caches `MSBuild` files by repository path.
#[derive(Default)]
pub(crate) struct Files {
    cache: HashMap<String, Option<std::rc::Rc<MsbuildFile>>>,
}

impl Files {
    pub(crate) fn insert(&mut self, rel: &str, file: Option<MsbuildFile>) {
        self.cache
            .insert(rel.to_owned(), file.map(std::rc::Rc::new));
    }

    pub(crate) fn get(
        &mut self,
        root: &Path,
        rel: &str,
    ) -> Result<Option<std::rc::Rc<MsbuildFile>>, GraphError> {
        if let Some(found) = self.cache.get(rel) {
            return Ok(found.clone());
        }
        let file = match read_optional(root, rel)? {
            Some(text) => Some(std::rc::Rc::new(parse(&root.join(rel), &text)?)),
            None => None,
        };
        self.cache.insert(rel.to_owned(), file.clone());
        Ok(file)
    }
}

/// Evaluates the project at `project` (a repository path): the nearest
/// `Directory.Build.props` (which imports further ones itself), the
/// project, then the nearest `Directory.Build.targets`.
pub(crate) fn evaluate(
    root: &Path,
    project: &str,
    files: &mut Files,
) -> Result<Evaluation, GraphError> {
    let dir = parent(project);
    let mut eval = Evaluation::default();
    let name = project.rsplit('/').next().unwrap_or(project);
    let stem = name.rsplit_once('.').map_or(name, |(s, _)| s);
    let extension = name.rsplit_once('.').map_or("", |(_, e)| e);
    let extension = &format!(".{extension}");
    let builtins = [
        ("msbuildprojectdirectory", dir_value(dir, false)),
        ("msbuildprojectname", stem.to_owned()),
        ("msbuildprojectfile", name.to_owned()),
        ("msbuildprojectfullpath", format!("{ROOT}{project}")),
        ("solutiondir", ROOT.to_owned()),
        ("msbuildprojectextension", extension.to_owned()),
        // What the .NET SDK's own props define before the chain is read.
        (
            "_directorybuildpropsfile",
            "Directory.Build.props".to_owned(),
        ),
        (
            "_directorybuildtargetsfile",
            "Directory.Build.targets".to_owned(),
        ),
    ];
    for (key, value) in builtins {
        eval.properties.set(key, vec![value], false);
    }
    let mut state = Walk {
        root,
        files,
        seen: 0,
    };
    if let Some(props) = nearest_above(&mut state, dir, "Directory.Build.props", true)? {
        state.visit(&props, 0, &mut eval)?;
    }
    state.visit(project, 0, &mut eval)?;
    if let Some(targets) = nearest_above(&mut state, dir, "Directory.Build.targets", true)? {
        state.visit(&targets, 0, &mut eval)?;
    }
    Ok(eval)
}

/// The directory value `MSBuild` gives `dir`: rooted, with a trailing
/// slash for `MSBuildThisFileDirectory`, without one for
/// `MSBuildProjectDirectory`.
fn dir_value(dir: &str, slash: bool) -> String {
    let mut v = if dir == "." {
        ROOT.trim_end_matches('/').to_owned()
    } else {
        format!("{ROOT}{dir}")
    };
    if slash {
        v.push('/');
    }
    v
}

/// The nearest `name` at or above `dir` (strictly above when `inclusive`
/// is false), as a repository path.
fn nearest_above(
    state: &mut Walk<'_>,
    dir: &str,
    name: &str,
    inclusive: bool,
) -> Result<Option<String>, GraphError> {
    let mut current = if inclusive {
        Some(dir.to_owned())
    } else if dir == "." {
        None
    } else {
        Some(parent(dir).to_owned())
    };
    while let Some(d) = current {
        let rel = child(&d, name);
        if state.files.get(state.root, &rel)?.is_some() {
            return Ok(Some(rel));
        }
        current = (d != ".").then(|| parent(&d).to_owned());
    }
    Ok(None)
}

struct Walk<'a> {
    root: &'a Path,
    files: &'a mut Files,
    seen: usize,
}

impl Walk<'_> {
    fn visit(&mut self, rel: &str, depth: usize, eval: &mut Evaluation) -> Result<(), GraphError> {
        self.seen += 1;
        if depth > MAX_IMPORT_DEPTH || self.seen > MAX_IMPORTS {
            return Err(GraphError::manifest(
                self.root.join(rel),
                format!(
                    "more than {MAX_IMPORTS} MSBuild imports for one project, or nested deeper than {MAX_IMPORT_DEPTH}"
                ),
            ));
        }
        let Some(file) = self.files.get(self.root, rel)? else {
            return Ok(());
        };
        let this_dir = parent(rel).to_owned();
        eval.properties.set(
            "msbuildthisfiledirectory",
            vec![dir_value(&this_dir, true)],
            false,
        );
        for step in &file.steps {
            match step {
                Step::Property {
                    name,
                    value,
                    conditional,
                } => {
                    // A definition that cannot be evaluated leaves the
                    // property unknown: a reference using it is assumed.
                    match expand(self.root, value, &eval.properties, true) {
                        Ok(values) => eval.properties.set(name, values, *conditional),
                        Err(why) => {
                            eval.properties.set(name, Vec::new(), *conditional);
                            eval.properties.poisoned.insert(name.clone(), why);
                        }
                    }
                }
                Step::Import(project) => {
                    for target in self.import_targets(&this_dir, project, eval)? {
                        if target != rel {
                            if !eval.imported.contains(&target)
                                && !target.ends_with("Directory.Build.props")
                                && !target.ends_with("Directory.Build.targets")
                            {
                                eval.imported.push(target.clone());
                            }
                            self.visit(&target, depth + 1, eval)?;
                            eval.properties.set(
                                "msbuildthisfiledirectory",
                                vec![dir_value(&this_dir, true)],
                                false,
                            );
                        }
                    }
                }
                Step::Reference(include) => {
                    eval.references.push((include.clone(), rel.to_owned()));
                }
            }
        }
        Ok(())
    }

    /// The repository files an `<Import Project="…">` names, where it can
    /// be evaluated (an SDK's own targets cannot, and need not be).
    fn import_targets(
        &mut self,
        this_dir: &str,
        project: &str,
        eval: &Evaluation,
    ) -> Result<Vec<String>, GraphError> {
        // `$([MSBuild]::GetPathOfFileAbove('Directory.Build.props',
        // '$(MSBuildThisFileDirectory)../'))`: the next one up.
        if project.contains("GetPathOfFileAbove") || project.contains("GetDirectoryNameOfFileAbove")
        {
            let Some(name) = project.split('\'').nth(1) else {
                return Ok(Vec::new());
            };
            let name = name.to_owned();
            return Ok(nearest_above(self, this_dir, &name, false)?
                .into_iter()
                .collect());
        }
        let Ok(values) = expand(self.root, project, &eval.properties, true) else {
            return Ok(Vec::new());
        };
        let mut out = Vec::new();
        for value in values {
            if value.contains(['*', '?']) {
                continue;
            }
            if let Some(path) = resolve_path(this_dir, &value)
                && self.files.get(self.root, &path)?.is_some()
            {
                out.push(path);
            }
        }
        Ok(out)
    }
}

/// An evaluated path as a repository path: rooted values from the root,
/// others relative to `base`. `None` when it leaves the repository.
pub(crate) fn resolve_path(base: &str, value: &str) -> Option<String> {
    let value = value.replace('\\', "/");
    match value.rfind(ROOT) {
        Some(at) => join(".", &value[at + ROOT.len()..]),
        None if value == ROOT.trim_end_matches('/') => Some(".".to_owned()),
        None => join(base, &value),
    }
}

/// Every value `text` may have once its `$(…)` are expanded. With
/// `lenient`, function calls this evaluator does not know are errors too;
/// the flag only decides whether item lists (`@(…)`) are.
pub(crate) fn expand(
    root: &Path,
    text: &str,
    props: &Properties,
    lenient: bool,
) -> Result<Vec<String>, Unresolved> {
    expand_depth(root, text, props, lenient, 0)
}

fn expand_depth(
    root: &Path,
    text: &str,
    props: &Properties,
    lenient: bool,
    depth: usize,
) -> Result<Vec<String>, Unresolved> {
    if depth > MAX_NESTING {
        return Err(Unresolved::Unsupported(
            "property functions nested too deep".to_owned(),
        ));
    }
    if !lenient && (text.contains("@(") || text.contains("%(")) {
        return Err(Unresolved::Unsupported(format!(
            "the item reference in {text:?}"
        )));
    }
    let mut outs = vec![String::new()];
    let mut rest = text;
    while let Some(at) = rest.find("$(") {
        let literal = &rest[..at];
        for o in &mut outs {
            o.push_str(literal);
        }
        let open = at + 1;
        let Some(close) = matching(rest, open) else {
            return Err(Unresolved::Unsupported(format!(
                "the unclosed $( in {text:?}"
            )));
        };
        let inner = rest[open + 1..close].trim();
        let values = property_value(root, inner, props, lenient, depth)?;
        let mut next = Vec::new();
        for o in &outs {
            for v in &values {
                if next.len() < MAX_EXPANSIONS {
                    next.push(format!("{o}{v}"));
                }
            }
        }
        outs = next;
        rest = &rest[close + 1..];
    }
    for o in &mut outs {
        o.push_str(rest);
    }
    Ok(outs)
}

/// The position of the `)` closing the `(` at `open`, quotes respected.
fn matching(text: &str, open: usize) -> Option<usize> {
    let mut depth = 0usize;
    let mut quote = false;
    for (i, b) in text.bytes().enumerate().skip(open) {
        match b {
            b'\'' => quote = !quote,
            b'(' if !quote => depth += 1,
            b')' if !quote => {
                depth -= 1;
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
    }
    None
}

/// The values of what stands inside `$(…)`: a property name, or one of the
/// path functions property files use to build paths.
fn property_value(
    root: &Path,
    inner: &str,
    props: &Properties,
    lenient: bool,
    depth: usize,
) -> Result<Vec<String>, Unresolved> {
    if !inner.is_empty()
        && inner
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    {
        let key = inner.to_ascii_lowercase();
        if let Some(why) = props.poisoned.get(&key) {
            return Err(why.clone());
        }
        return match props.values.get(&key) {
            Some(values) if !values.is_empty() => Ok(values.clone()),
            _ => Err(Unresolved::Undefined(inner.to_owned())),
        };
    }
    let unsupported = || Unresolved::Unsupported(format!("$({inner})"));
    let Some(call) = inner.strip_prefix('[') else {
        return Err(unsupported());
    };
    let (class, rest) = call.split_once("]::").ok_or_else(unsupported)?;
    let open = rest.find('(').ok_or_else(unsupported)?;
    let function = rest[..open].trim();
    let close = matching(rest, open).ok_or_else(unsupported)?;
    if !rest[close + 1..].trim().is_empty() {
        return Err(unsupported());
    }
    let mut args: Vec<Vec<String>> = Vec::new();
    for arg in split_args(&rest[open + 1..close]) {
        let arg = arg.trim();
        let arg = arg
            .strip_prefix('\'')
            .and_then(|a| a.strip_suffix('\''))
            .unwrap_or(arg);
        args.push(expand_depth(root, arg, props, lenient, depth + 1)?);
    }
    let class = class.trim().to_ascii_lowercase();
    let function = function.to_ascii_lowercase();
    let combine = |trailing: bool| -> Vec<String> {
        let mut outs = vec![String::new()];
        for values in &args {
            let mut next = Vec::new();
            for o in &outs {
                for v in values {
                    if next.len() < MAX_EXPANSIONS {
                        next.push(path_combine(o, v));
                    }
                }
            }
            outs = next;
        }
        if trailing {
            for o in &mut outs {
                if !o.ends_with('/') && !o.ends_with('\\') {
                    o.push('/');
                }
            }
        }
        outs
    };
    match (class.as_str(), function.as_str()) {
        ("msbuild", "normalizedirectory" | "ensuretrailingslash") => Ok(combine(true)),
        ("msbuild", "normalizepath") | ("system.io.path", "combine" | "getfullpath") => {
            Ok(combine(false))
        }
        ("msbuild", "getdirectorynameoffileabove" | "getpathoffileabove") if args.len() == 2 => {
            let (start, file) = if function == "getpathoffileabove" {
                (&args[1], &args[0])
            } else {
                (&args[0], &args[1])
            };
            let mut outs = Vec::new();
            for s in start {
                for f in file {
                    let Some(dir) = resolve_path(".", s) else {
                        continue;
                    };
                    if let Some(found) = file_above(root, &dir, f) {
                        outs.push(if function == "getpathoffileabove" {
                            format!("{ROOT}{found}")
                        } else {
                            dir_value(parent(&found), false)
                        });
                    }
                }
            }
            if outs.is_empty() {
                Err(unsupported())
            } else {
                Ok(outs)
            }
        }
        _ => Err(unsupported()),
    }
}

/// The nearest `name` at or above `dir` on disk, as a repository path.
fn file_above(root: &Path, dir: &str, name: &str) -> Option<String> {
    let mut d = dir.to_owned();
    loop {
        let rel = child(&d, name);
        if root.join(&rel).is_file() {
            return Some(rel);
        }
        if d == "." {
            return None;
        }
        d = parent(&d).to_owned();
    }
}

/// `Path.Combine`: a rooted second part replaces the first.
fn path_combine(a: &str, b: &str) -> String {
    if a.is_empty() || b.starts_with(ROOT) {
        return b.to_owned();
    }
    if a.ends_with('/') || a.ends_with('\\') {
        format!("{a}{b}")
    } else {
        format!("{a}/{b}")
    }
}

/// Arguments split at top-level commas.
fn split_args(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut depth = 0usize;
    let mut quote = false;
    let mut start = 0;
    for (i, b) in text.bytes().enumerate() {
        match b {
            b'\'' => quote = !quote,
            b'(' if !quote => depth += 1,
            b')' if !quote => depth = depth.saturating_sub(1),
            b',' if !quote && depth == 0 => {
                out.push(&text[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    if !text[start..].trim().is_empty() {
        out.push(&text[start..]);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn props(pairs: &[(&str, &[&str])]) -> Properties {
        let mut p = Properties::default();
        for (k, vs) in pairs {
            p.set(
                &k.to_ascii_lowercase(),
                vs.iter().map(|v| (*v).to_owned()).collect(),
                false,
            );
        }
        p
    }

    fn check(text: &str, p: &Properties, expected: Result<&[&str], &str>) {
        let got = expand(Path::new("/nonexistent"), text, p, false).map(|v| {
            v.into_iter()
                .filter_map(|v| resolve_path("src/App", &v))
                .collect::<Vec<_>>()
        });
        match expected {
            Ok(paths) => assert_eq!(got.unwrap(), paths, "{text}"),
            Err(message) => assert_eq!(got.unwrap_err().to_string(), message, "{text}"),
        }
    }

    #[test]
    fn properties_and_path_functions_expand_to_repository_paths() {
        let root = ROOT.to_owned();
        let p = props(&[
            ("SourceRoot", &[&format!("{ROOT}src/")]),
            ("MSBuildThisFileDirectory", &[&format!("{ROOT}build/")]),
            ("Flavours", &["A", "B"]),
            ("Empty", &[&root]),
        ]);
        check(
            "$(SourceRoot)Lib\\Lib.csproj",
            &p,
            Ok(&["src/Lib/Lib.csproj"]),
        );
        check(
            "$(sourceroot)Lib/Lib.csproj",
            &p,
            Ok(&["src/Lib/Lib.csproj"]),
        );
        check("..\\Core\\Core.csproj", &p, Ok(&["src/Core/Core.csproj"]));
        check(
            "$(MSBuildThisFileDirectory)..\\src\\X\\X.csproj",
            &p,
            Ok(&["src/X/X.csproj"]),
        );
        check(
            "$([MSBuild]::NormalizeDirectory('$(SourceRoot)', 'Lib'))Lib.csproj",
            &p,
            Ok(&["src/Lib/Lib.csproj"]),
        );
        check(
            "$([System.IO.Path]::Combine($(SourceRoot), 'Io', 'Io.csproj'))",
            &p,
            Ok(&["src/Io/Io.csproj"]),
        );
        check(
            "$(SourceRoot)$(Flavours)/X.csproj",
            &p,
            Ok(&["src/A/X.csproj", "src/B/X.csproj"]),
        );
        check(
            "$(RepoRoot)src/X.csproj",
            &p,
            Err("$(RepoRoot), which no imported file defines"),
        );
        check(
            "$(SourceRoot.TrimEnd('/'))/X.csproj",
            &p,
            Err("$(SourceRoot.TrimEnd('/')), which is not evaluated here"),
        );
        check(
            "@(Shared->'%(FullPath)')",
            &p,
            Err("the item reference in \"@(Shared->'%(FullPath)')\", which is not evaluated here"),
        );
        check(
            "$(Unclosed",
            &p,
            Err("the unclosed $( in \"$(Unclosed\", which is not evaluated here"),
        );
    }

    #[test]
    fn a_property_defined_from_an_undefined_one_is_unknown_too() {
        let mut p = Properties::default();
        let why = expand(Path::new("/nonexistent"), "$(RepoRoot)src/", &p, true).unwrap_err();
        p.set("sourceroot", Vec::new(), false);
        p.poisoned.insert("sourceroot".into(), why);
        check(
            "$(SourceRoot)X/X.csproj",
            &p,
            Err("$(RepoRoot), which no imported file defines"),
        );
    }

    #[test]
    fn conditional_definitions_add_values_and_plain_ones_replace() {
        let mut p = Properties::default();
        p.set("x", vec!["a".into()], false);
        p.set("x", vec!["b".into()], true);
        assert_eq!(p.values["x"], ["a", "b"]);
        p.set("x", vec!["c".into()], false);
        assert_eq!(p.values["x"], ["c"]);
    }

    #[test]
    fn files_keep_document_order_and_conditions() {
        let f = parse(
            Path::new("Directory.Build.props"),
            r#"<Project>
  <PropertyGroup><SourceRoot>$(MSBuildThisFileDirectory)src\</SourceRoot></PropertyGroup>
  <Import Project="$(SourceRoot)common.props" />
  <PropertyGroup Condition="'$(X)' == ''"><Alt>y</Alt></PropertyGroup>
  <ItemGroup><ProjectReference Include="a.csproj;b.csproj" /></ItemGroup>
</Project>"#,
        )
        .unwrap();
        assert_eq!(
            f.steps,
            [
                Step::Property {
                    name: "sourceroot".into(),
                    value: "$(MSBuildThisFileDirectory)src\\".into(),
                    conditional: false
                },
                Step::Import("$(SourceRoot)common.props".into()),
                Step::Property {
                    name: "alt".into(),
                    value: "y".into(),
                    conditional: true
                },
                Step::Reference("a.csproj".into()),
                Step::Reference("b.csproj".into()),
            ]
        );
    }
}

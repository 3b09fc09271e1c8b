//! Go modules. With a `go.work`: its `use` directories are the modules, and
//! a `require` of another module of the workspace is an edge (the build
//! uses the local copy). Without one, every `go.mod` below a root `go.mod`
//! is a module (as the go command skips `vendor`, `testdata`, hidden and
//! `_` directories), and module A depends on module B when A `replace`s a
//! module path with B's directory; a `require` of B without such a replace
//! builds against a published version and is no edge.

use std::collections::HashMap;
use std::path::Path;

use super::{read_optional, read_required};
use crate::error::GraphError;
use crate::graph::GraphBuilder;
use crate::model::{DepKind, Ecosystem, PackageId};
use crate::paths::{child, join};

const WORK: &str = "go.work";
const MODULE: &str = "go.mod";

pub(super) fn discover(root: &Path, builder: &mut GraphBuilder) -> Result<bool, GraphError> {
    let (dirs, work): (Vec<String>, Option<Work>) = if let Some(text) = read_optional(root, WORK)? {
        let work = read_work(root, &text)?;
        (work.uses.clone(), Some(work))
    } else if root.join(MODULE).is_file() {
        (find_modules(root)?, None)
    } else {
        return Ok(false);
    };

    let mut modules = Vec::with_capacity(dirs.len());
    let mut by_path: HashMap<String, PackageId> = HashMap::with_capacity(dirs.len());
    let mut by_dir: HashMap<String, PackageId> = HashMap::with_capacity(dirs.len());
    for dir in dirs {
        let rel = child(&dir, MODULE);
        let text = read_required(root, &rel)?;
        let invalid = |(line, message)| {
            GraphError::manifest(root.join(&rel), format!("line {line}: {message}"))
        };
        let directives = parse_directives(&text).map_err(invalid)?;
        let module = module_path(&text)
            .ok_or_else(|| GraphError::manifest(root.join(&rel), "missing module directive"))?;
        let (requires, replaces) = requires_and_replaces(&dir, &directives);
        let id = builder.add_package(&module, &dir, Ecosystem::Go)?;
        by_path.insert(module, id);
        by_dir.insert(dir, id);
        modules.push((id, requires, replaces));
    }
    let in_workspace = work.is_some();
    let work_replaces = work.map(|w| w.replaces).unwrap_or_default();
    for (id, requires, replaces) in modules {
        // A local replace makes the build use that directory: an edge to
        // the module there, or a source outside every module.
        let mut local: Vec<&str> = Vec::new();
        // go.work's replaces apply to the modules that require the path.
        let work_local = work_replaces
            .iter()
            .filter(|(old, _)| requires.iter().any(|(r, _)| r == old));
        for (old, dir) in replaces.iter().chain(work_local) {
            local.push(old);
            match by_dir.get(dir) {
                Some(&target) if target != id => builder.add_edge(id, target, DepKind::Replace),
                Some(_) => {}
                None if dir.starts_with("..") => {
                    builder.add_path_link(id, dir, DepKind::Replace);
                }
                None => builder.add_outside_source(id, dir),
            }
        }
        for (required, version) in requires {
            match by_path.get(&required) {
                // In a go.work workspace a required module of the workspace
                // is the local copy.
                Some(&target) if target != id && in_workspace => {
                    builder.add_edge(id, target, DepKind::Normal);
                }
                Some(&target) if target != id && !local.contains(&required.as_str()) => {
                    tracing::debug!(
                        module = required,
                        version,
                        "required without a local replace: builds against the published version"
                    );
                    builder.add_external(id, &required, &version);
                }
                Some(_) => {}
                None => builder.add_external(id, &required, &version),
            }
        }
    }
    Ok(true)
}

/// A module's `require`s (path, version) and local `replace`s (path,
/// directory).
fn requires_and_replaces(dir: &str, directives: &[Directive<'_>]) -> (Pairs, Pairs) {
    let mut requires = Vec::new();
    let mut replaces = Vec::new();
    for (_, verb, arg) in directives {
        match *verb {
            "require" => {
                let mut words = arg.split_whitespace();
                let module = unquote(words.next().unwrap_or("")).to_owned();
                requires.push((module, words.next().unwrap_or("").to_owned()));
            }
            "replace" => replaces.extend(replace(dir, arg)),
            _ => {}
        }
    }
    (requires, replaces)
}

/// What a `go.work` declares.
struct Work {
    uses: Vec<String>,
    /// `replace old => ./dir`: module path and the local directory.
    replaces: Vec<(String, String)>,
}

fn read_work(root: &Path, text: &str) -> Result<Work, GraphError> {
    let directives = parse_directives(text).map_err(|(line, message)| {
        GraphError::manifest(root.join(WORK), format!("line {line}: {message}"))
    })?;
    let mut uses = Vec::new();
    let mut replaces = Vec::new();
    for (line, verb, arg) in directives {
        match verb {
            "use" => {
                let dir = join(".", unquote(first_word(arg))).ok_or_else(|| {
                    GraphError::manifest(
                        root.join(WORK),
                        format!("line {line}: use {arg} leaves the repository root"),
                    )
                })?;
                if !root.join(&dir).join(MODULE).is_file() {
                    return Err(GraphError::manifest(
                        root.join(WORK),
                        format!("line {line}: used directory {arg} has no {MODULE}"),
                    ));
                }
                uses.push(dir);
            }
            "replace" => replaces.extend(replace(".", arg)),
            _ => {}
        }
    }
    uses.sort_unstable();
    uses.dedup();
    Ok(Work { uses, replaces })
}

/// `old [version] => ./dir`, from a module or workspace at `dir`: the old
/// module path and the replacement's directory, when it is a local path
/// inside the repository. A replacement by another module version is no
/// directory.
fn replace(dir: &str, arg: &str) -> Option<(String, String)> {
    let (old, new) = arg.split_once("=>")?;
    let old = unquote(first_word(old)).to_owned();
    let new = unquote(first_word(new));
    if !(new.starts_with("./") || new.starts_with("../") || new == "." || new == "..") {
        return None;
    }
    // A directory leaving the root keeps its `..`: a neighbouring root's
    // module, joined once every root is discovered.
    Some((
        old,
        join(dir, new).unwrap_or_else(|| crate::paths::join_outward(dir, new)),
    ))
}

/// Every directory below `root` holding a `go.mod`, as the go command sees
/// modules without a `go.work`: `vendor`, `testdata`, hidden and `_`
/// directories (and `node_modules`) are skipped. Bounded: a tree of more
/// than [`MAX_WALK`] directories is an error rather than a long walk.
fn find_modules(root: &Path) -> Result<Vec<String>, GraphError> {
    let mut found = Vec::new();
    let mut stack = vec![".".to_owned()];
    let mut visited = 0usize;
    while let Some(dir) = stack.pop() {
        visited += 1;
        if visited > MAX_WALK {
            return Err(GraphError::manifest(
                root.join(MODULE),
                format!("more than {MAX_WALK} directories to look through for go.mod files"),
            ));
        }
        let path = if dir == "." {
            root.to_path_buf()
        } else {
            root.join(&dir)
        };
        if path.join(MODULE).is_file() {
            found.push(dir.clone());
        }
        let Ok(entries) = std::fs::read_dir(&path) else {
            continue;
        };
        for entry in entries.flatten() {
            let name = entry.file_name();
            let Some(name) = name.to_str() else { continue };
            let skipped = name.starts_with('.')
                || name.starts_with('_')
                || matches!(name, "vendor" | "testdata" | "node_modules");
            if skipped || !entry.file_type().is_ok_and(|t| t.is_dir()) {
                continue;
            }
            stack.push(child(&dir, name));
        }
    }
    found.sort_unstable();
    Ok(found)
}

/// Most directories [`find_modules`] looks through.
const MAX_WALK: usize = 1_000_000;

/// The module path a `go.mod` declares.
pub(super) fn module_path(text: &str) -> Option<String> {
    let directives = parse_directives(text).ok()?;
    let (_, _, arg) = directives
        .into_iter()
        .find(|(_, verb, _)| *verb == "module")?;
    Some(unquote(first_word(arg)).to_owned())
}

/// One directive: one-based line, verb, argument.
type Directive<'a> = (usize, &'a str, &'a str);
/// Module paths with a version or a directory.
type Pairs = Vec<(String, String)>;

/// A one-based line and what is wrong there.
type LineError = (usize, String);

/// Splits a `go.mod` or `go.work` file into `(line, verb, argument)`
/// directives, unfolding `verb ( … )` blocks. Comments are dropped.
/// Errors carry the one-based line number.
fn parse_directives(text: &str) -> Result<Vec<Directive<'_>>, LineError> {
    let mut out = Vec::new();
    let mut block: Option<(usize, &str)> = None;
    for (index, raw) in text.lines().enumerate() {
        let line = index + 1;
        let content = raw.find("//").map_or(raw, |i| &raw[..i]).trim();
        if content.is_empty() {
            continue;
        }
        if let Some((_, verb)) = block {
            if content == ")" {
                block = None;
            } else {
                out.push((line, verb, content));
            }
            continue;
        }
        let (verb, arg) = match content.split_once(char::is_whitespace) {
            Some((verb, arg)) => (verb, arg.trim()),
            None => (content, ""),
        };
        if arg == "(" {
            block = Some((line, verb));
        } else if arg.is_empty() {
            return Err((line, format!("{verb} needs an argument")));
        } else {
            out.push((line, verb, arg));
        }
    }
    if let Some((line, verb)) = block {
        return Err((line, format!("{verb} block is not closed")));
    }
    Ok(out)
}

fn first_word(arg: &str) -> &str {
    arg.split_whitespace().next().unwrap_or("")
}

fn unquote(word: &str) -> &str {
    word.strip_prefix('"')
        .and_then(|w| w.strip_suffix('"'))
        .or_else(|| word.strip_prefix('`').and_then(|w| w.strip_suffix('`')))
        .unwrap_or(word)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn directives_unfold_blocks_and_drop_comments() {
        let text = "module example.com/a // the module\n\ngo 1.22\nrequire (\n\texample.com/b v0.0.0 // indirect\n\t\"example.com/c\" v1.0.0\n)\nrequire example.com/d v1\n";
        let got = parse_directives(text).unwrap();
        assert_eq!(
            got,
            [
                (1, "module", "example.com/a"),
                (3, "go", "1.22"),
                (5, "require", "example.com/b v0.0.0"),
                (6, "require", "\"example.com/c\" v1.0.0"),
                (8, "require", "example.com/d v1"),
            ]
        );
        assert_eq!(unquote(first_word(got[3].2)), "example.com/c");
    }

    #[test]
    fn unclosed_block_names_its_line() {
        assert_eq!(
            parse_directives("go 1.22\nuse (\n ./a\n").unwrap_err(),
            (2, "use block is not closed".to_owned())
        );
        assert_eq!(
            parse_directives("module\n").unwrap_err(),
            (1, "module needs an argument".to_owned())
        );
    }
}

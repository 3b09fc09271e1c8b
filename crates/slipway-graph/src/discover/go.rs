//! Go workspaces: modules from `go.work` `use` directives, edges from
//! `require` lines naming another module of the workspace. A lone `go.mod`
//! at the root is a workspace of one module.

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
    let dirs = if let Some(text) = read_optional(root, WORK)? {
        let directives = parse_directives(&text).map_err(|(line, message)| {
            GraphError::manifest(root.join(WORK), format!("line {line}: {message}"))
        })?;
        let mut dirs = Vec::new();
        for (line, verb, arg) in directives {
            if verb != "use" {
                continue;
            }
            let dir = join(".", arg).ok_or_else(|| {
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
            dirs.push(dir);
        }
        dirs.sort_unstable();
        dirs.dedup();
        dirs
    } else if root.join(MODULE).is_file() {
        vec![".".to_owned()]
    } else {
        return Ok(false);
    };

    let mut modules = Vec::with_capacity(dirs.len());
    let mut by_path: HashMap<String, PackageId> = HashMap::with_capacity(dirs.len());
    for dir in dirs {
        let rel = child(&dir, MODULE);
        let text = read_required(root, &rel)?;
        let invalid = |(line, message)| {
            GraphError::manifest(root.join(&rel), format!("line {line}: {message}"))
        };
        let directives = parse_directives(&text).map_err(invalid)?;
        let module = module_path(&text)
            .ok_or_else(|| GraphError::manifest(root.join(&rel), "missing module directive"))?;
        let requires: Vec<(String, String)> = directives
            .iter()
            .filter(|(_, verb, _)| *verb == "require")
            .map(|(_, _, arg)| {
                let mut words = arg.split_whitespace();
                let module = unquote(words.next().unwrap_or("")).to_owned();
                (module, words.next().unwrap_or("").to_owned())
            })
            .collect();
        let id = builder.add_package(&module, &dir, Ecosystem::Go)?;
        by_path.insert(module, id);
        modules.push((id, requires));
    }
    for (id, requires) in modules {
        for (required, version) in requires {
            match by_path.get(&required) {
                Some(&target) if target != id => builder.add_edge(id, target, DepKind::Normal),
                Some(_) => {}
                None => builder.add_external(id, &required, &version),
            }
        }
    }
    Ok(true)
}

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

//! YAML read with bounds: a pull request controls `pnpm-workspace.yaml`,
//! `pnpm-lock.yaml` and `yarn.lock`, and nine lines of nested aliases (a
//! "billion laughs") expand to gigabytes under a plain loader. Here alias
//! expansion counts against a node budget, nesting has a depth limit, and
//! the first error stops the parse.

use std::collections::HashMap;

use yaml_rust2::Yaml;
use yaml_rust2::parser::{Event, Parser};
use yaml_rust2::scanner::TScalarStyle;
use yaml_rust2::yaml::Hash;

/// Nodes a document may hold, aliases expanded, beyond one per byte of
/// its text. Without aliases a document cannot reach one node per byte
/// (every node takes at least a character and a separator), so only alias
/// expansion meets the bound: the nine-line bomb stops at about 100,000
/// nodes, a few megabytes.
pub(crate) const MAX_NODES: usize = 100_000;
/// Deepest nesting of sequences and mappings.
pub(crate) const MAX_DEPTH: usize = 128;

/// Why a YAML text was not read, with the position (1-based line and
/// column) where that became clear.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct YamlError {
    pub(crate) line: usize,
    pub(crate) column: usize,
    pub(crate) message: String,
}

impl std::fmt::Display for YamlError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "line {}, column {}: {}",
            self.line, self.column, self.message
        )
    }
}

/// Most documents one stream may hold.
pub(crate) const MAX_DOCUMENTS: usize = 16;

/// The first document of `text` (`Null` when there is none).
pub(crate) fn load(text: &str) -> Result<Yaml, YamlError> {
    Ok(load_with(text, MAX_NODES + text.len(), MAX_DEPTH, 1)?
        .into_iter()
        .next()
        .unwrap_or(Yaml::Null))
}

/// Every document of `text` (pnpm 11 writes two into one lockfile), the
/// node budget shared among them, at most [`MAX_DOCUMENTS`].
pub(crate) fn load_all(text: &str) -> Result<Vec<Yaml>, YamlError> {
    load_with(text, MAX_NODES + text.len(), MAX_DEPTH, MAX_DOCUMENTS)
}

struct Frame {
    node: Yaml,
    anchor: usize,
    /// Nodes in this subtree, itself included.
    size: usize,
    /// For a mapping: the key waiting for its value.
    key: Option<Yaml>,
}

fn load_with(
    text: &str,
    max_nodes: usize,
    max_depth: usize,
    max_documents: usize,
) -> Result<Vec<Yaml>, YamlError> {
    let mut parser = Parser::new_from_str(text);
    let mut stack: Vec<Frame> = Vec::new();
    let mut anchors: HashMap<usize, (Yaml, usize)> = HashMap::new();
    let mut nodes = 0usize;
    let mut documents: Vec<Yaml> = Vec::new();
    loop {
        let (event, mark) = parser.next_token().map_err(|err| YamlError {
            line: err.marker().line(),
            column: err.marker().col() + 1,
            message: err.info().to_owned(),
        })?;
        let fail = |message: String| YamlError {
            line: mark.line(),
            column: mark.col() + 1,
            message,
        };
        let (node, anchor, size) = match event {
            Event::StreamEnd => return Ok(documents),
            Event::DocumentEnd => {
                // Anchors name nodes of their own document only.
                anchors.clear();
                continue;
            }
            Event::DocumentStart if documents.len() >= max_documents => return Ok(documents),
            Event::Nothing | Event::StreamStart | Event::DocumentStart => continue,
            Event::SequenceStart(anchor, _) | Event::MappingStart(anchor, _) => {
                if stack.len() >= max_depth {
                    return Err(fail(format!("nesting deeper than {max_depth} levels")));
                }
                let node = if matches!(event, Event::SequenceStart(..)) {
                    Yaml::Array(Vec::new())
                } else {
                    Yaml::Hash(Hash::new())
                };
                stack.push(Frame {
                    node,
                    anchor,
                    size: 1,
                    key: None,
                });
                continue;
            }
            Event::SequenceEnd | Event::MappingEnd => {
                let Some(frame) = stack.pop() else {
                    return Err(fail("unbalanced collection end".to_owned()));
                };
                (frame.node, frame.anchor, frame.size)
            }
            Event::Scalar(value, style, anchor, tag) => {
                let node = if style != TScalarStyle::Plain || tag.is_some() {
                    Yaml::String(value)
                } else {
                    Yaml::from_str(&value)
                };
                (node, anchor, 1)
            }
            Event::Alias(id) => match anchors.get(&id) {
                Some((node, size)) => (node.clone(), 0, *size),
                None => (Yaml::BadValue, 0, 1),
            },
        };
        nodes += size;
        if nodes > max_nodes {
            return Err(fail(format!(
                "more than {max_nodes} nodes with aliases expanded"
            )));
        }
        if anchor > 0 {
            anchors.insert(anchor, (node.clone(), size));
        }
        let Some(parent) = stack.last_mut() else {
            // A document's root node.
            documents.push(node);
            continue;
        };
        parent.size += size;
        match &mut parent.node {
            Yaml::Array(items) => items.push(node),
            Yaml::Hash(map) => match parent.key.take() {
                None => parent.key = Some(node),
                Some(key) => {
                    if map.contains_key(&key) {
                        return Err(fail(format!("{key:?}: duplicated key in mapping")));
                    }
                    map.insert(key, node);
                }
            },
            _ => unreachable!("only collections are pushed"),
        }
    }
}

/// The string-keyed entries of a mapping; nothing for anything else.
pub(crate) fn entries(yaml: &Yaml) -> impl Iterator<Item = (&str, &Yaml)> {
    yaml.as_hash()
        .into_iter()
        .flatten()
        .filter_map(|(k, v)| k.as_str().map(|k| (k, v)))
}

/// A scalar as text, whatever YAML typed it as (`1.0` is a float to YAML).
pub(crate) fn scalar(yaml: &Yaml) -> String {
    match yaml {
        Yaml::String(s) | Yaml::Real(s) => s.clone(),
        Yaml::Integer(i) => i.to_string(),
        Yaml::Boolean(b) => b.to_string(),
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use std::fmt::Write as _;

    use super::*;

    /// Nine lines of aliases, each level nine times the one before.
    pub(crate) fn alias_bomb() -> String {
        let mut text = String::from(
            "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n",
        );
        for (prev, name) in ["a", "b", "c", "d", "e", "f", "g", "h"]
            .iter()
            .zip(["b", "c", "d", "e", "f", "g", "h", "i"])
        {
            let refs = vec![format!("*{prev}"); 9].join(",");
            let _ = writeln!(text, "{name}: &{name} [{refs}]");
        }
        text
    }

    #[test]
    fn the_same_documents_as_the_plain_loader() {
        for text in [
            "packages:\n  - 'packages/*'\n  - apps/*\n",
            "a: &x {b: 1, c: [1, 2.5, true, ~]}\nd: *x\ne: \"quoted\"\nf: !!str 12\n",
            "",
            "# only a comment\n",
            "- 1\n- [2, [3]]\n",
            "k: v\n---\nsecond: doc\n",
        ] {
            let plain = yaml_rust2::YamlLoader::load_from_str(text)
                .unwrap()
                .into_iter()
                .next()
                .unwrap_or(Yaml::Null);
            assert_eq!(load(text).unwrap(), plain, "{text:?}");
        }
    }

    #[test]
    fn an_alias_bomb_stops_at_the_budget() {
        let started = std::time::Instant::now();
        let err = load(&alias_bomb()).unwrap_err();
        assert!(err.message.contains("nodes with aliases expanded"), "{err}");
        assert!(err.line > 1, "{err}");
        assert!(started.elapsed() < std::time::Duration::from_secs(5));
    }

    #[test]
    fn deep_nesting_stops_at_the_limit() {
        // yaml-rust2's parser stops deep flow collections itself; block
        // collections reach the loader's own limit.
        for text in [
            format!("{}{}", "[".repeat(100_000), "]".repeat(100_000)),
            format!("{}x", "- ".repeat(100_000)),
            (0..100_000).fold(String::new(), |mut t, i| {
                let _ = writeln!(t, "{}k{i}:", " ".repeat(i));
                t
            }),
        ] {
            let err = load(&text).unwrap_err();
            assert!(
                err.message == "nesting deeper than 128 levels"
                    || err.message == "recursion limit exceeded",
                "{err}"
            );
        }
    }

    #[test]
    fn every_document_is_read_with_anchors_of_its_own_and_a_bounded_count() {
        let docs = load_all("---\na: &x 1\nb: *x\n---\nc: *x\n").unwrap();
        assert_eq!(docs.len(), 2);
        assert_eq!(docs[0]["b"].as_i64(), Some(1));
        assert!(docs[1]["c"].is_badvalue(), "an anchor of another document");
        assert_eq!(
            load("---\na: 1\n---\nb: 2\n").unwrap()["a"].as_i64(),
            Some(1)
        );
        let many = "---\nx: 1\n".repeat(MAX_DOCUMENTS + 5);
        assert_eq!(load_all(&many).unwrap().len(), MAX_DOCUMENTS);
    }

    #[test]
    fn duplicated_keys_and_syntax_errors_have_positions() {
        let err = load("a: 1\na: 2\n").unwrap_err();
        assert!(err.message.contains("duplicated key"), "{err}");
        let err = load("a: [\n").unwrap_err();
        assert_eq!(err.line, 2, "{err}");
    }
}

//! A scanner for `pnpm-lock.yaml` version 9 as pnpm writes it: two-space
//! indentation, one key per line, flow maps only as values. It reads the
//! entries the comparison needs in one pass over the lines, without
//! building a YAML tree (a 2 MB lockfile: milliseconds instead of ~100 ms).
//!
//! Anything else it meets (another lockfile version, tabs, anchors,
//! aliases, block scalars, deeper nesting, a line it cannot split) makes
//! it give up; the caller then reads both revisions with the YAML parser.
//! Both readings give the same entries, children and members; they are
//! tested on the same inputs.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};

use super::lock_graph::{LockGraph, Member, Node};
use super::pnpm_lock::{DEP_SECTIONS, split_key};
use crate::graph::PackageGraph;
use crate::model::Ecosystem;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Section {
    Importers,
    Packages,
    Snapshots,
    Other,
}

/// One entry of `importers`, `packages` or `snapshots`, borrowed from the
/// text.
#[derive(Default)]
struct Entry<'t> {
    key: Cow<'t, str>,
    /// Byte range of the entry's lines, for its fingerprint.
    start: usize,
    end: usize,
    /// `(name, version)` of its dependency sections (for an importer, the
    /// `version` of each).
    deps: Vec<(Cow<'t, str>, Cow<'t, str>)>,
}

/// The lockfile's entries, or `None` when the text is not in the shape
/// pnpm 9 writes.
pub(super) fn scan(graph: &PackageGraph, text: &str) -> Option<LockGraph> {
    let mut scanner = Scanner::default();
    let mut offset = 0;
    for raw in text.split_inclusive('\n') {
        let line = raw.trim_end_matches(['\n', '\r']);
        scanner.line(line, offset, offset + raw.len())?;
        offset += raw.len();
    }
    scanner.finish_entry();
    if !scanner.version_seen {
        return None;
    }
    Some(build(graph, text, &scanner))
}

#[derive(Default)]
struct Scanner<'t> {
    section: Option<Section>,
    version_seen: bool,
    importers: Vec<Entry<'t>>,
    packages: HashMap<Cow<'t, str>, (usize, usize)>,
    snapshots: Vec<Entry<'t>>,
    current: Option<(Section, Entry<'t>)>,
    /// Whether the current field of the entry is a dependency section.
    in_deps: bool,
    /// In an importer: the dependency whose `version` comes next.
    pending: Option<Cow<'t, str>>,
}

impl<'t> Scanner<'t> {
    fn finish_entry(&mut self) {
        if let Some((section, entry)) = self.current.take() {
            match section {
                Section::Importers => self.importers.push(entry),
                Section::Packages => {
                    self.packages.insert(entry.key, (entry.start, entry.end));
                }
                Section::Snapshots => self.snapshots.push(entry),
                Section::Other => {}
            }
        }
    }

    /// Takes one line, at bytes `start..end` of the text; `None` when it is
    /// not of the expected shape.
    fn line(&mut self, line: &'t str, start: usize, end: usize) -> Option<()> {
        let content = line.trim_start_matches(' ');
        if content.is_empty() || content.starts_with('#') {
            return Some(());
        }
        let indent = line.len() - content.len();
        if content.starts_with('\t') || content.starts_with("---") {
            return None;
        }
        if let Some(item) = content.strip_prefix("- ") {
            // A list item (`transitivePeerDependencies`, `os`): text only.
            let in_deps = self.in_deps;
            let (_, entry) = self.current.as_mut().filter(|_| !in_deps && indent >= 6)?;
            if item.starts_with(['&', '*']) {
                return None;
            }
            entry.end = end;
            return Some(());
        }
        let (key, value) = split_line(content)?;
        let special = |s: &str| s.starts_with(['&', '*', '|', '>']);
        if special(value) || special(&key) || key == "<<" {
            return None;
        }
        let section = self.section.unwrap_or(Section::Other);
        match indent {
            0 => self.top_level(&key, value),
            2 if section != Section::Other => {
                self.finish_entry();
                if !value.is_empty() && value != "{}" {
                    return None;
                }
                let entry = Entry {
                    key,
                    start,
                    end,
                    deps: Vec::new(),
                };
                self.current = Some((section, entry));
                self.in_deps = false;
                self.pending = None;
                Some(())
            }
            4 | 6 | 8 if section != Section::Other => self.field(end, indent, key, value),
            _ if section == Section::Other => Some(()),
            _ => None,
        }
    }

    fn top_level(&mut self, key: &str, value: &str) -> Option<()> {
        self.finish_entry();
        let section = match key {
            "importers" => Section::Importers,
            "packages" => Section::Packages,
            "snapshots" => Section::Snapshots,
            "lockfileVersion" => {
                if value != "'9.0'" && value != "\"9.0\"" {
                    return None;
                }
                self.version_seen = true;
                Section::Other
            }
            _ => Section::Other,
        };
        if section != Section::Other && !value.is_empty() && value != "{}" {
            return None;
        }
        self.section = Some(section);
        Some(())
    }

    /// A line inside an entry, indented 4, 6 or 8, ending at byte `end`.
    fn field(
        &mut self,
        end: usize,
        indent: usize,
        key: Cow<'t, str>,
        value: &'t str,
    ) -> Option<()> {
        let (section, entry) = self.current.as_mut()?;
        entry.end = end;
        match (indent, *section) {
            (4, _) => {
                self.in_deps = DEP_SECTIONS.contains(&key.as_ref()) && value.is_empty();
                self.pending = None;
            }
            (6, Section::Snapshots) if self.in_deps => {
                if value.is_empty() || value.starts_with(['{', '[']) {
                    return None;
                }
                entry.deps.push((key, unquote(value)?));
            }
            (6, Section::Importers) if self.in_deps => {
                if !value.is_empty() {
                    return None;
                }
                self.pending = Some(key);
            }
            (8, Section::Importers) if self.in_deps && key == "version" => {
                let name = self.pending.take()?;
                entry.deps.push((name, unquote(value)?));
            }
            (8, Section::Importers) if self.in_deps => {}
            (6 | 8, Section::Packages) => {}
            (6 | 8, _) if !self.in_deps => {}
            _ => return None,
        }
        Some(())
    }
}

fn build(graph: &PackageGraph, text: &str, scanned: &Scanner<'_>) -> LockGraph {
    let resolved: HashSet<&str> = scanned.snapshots.iter().map(|e| e.key.as_ref()).collect();
    let mut key = String::new();
    let mut child = |name: &str, version: &str| -> Option<String> {
        key.clear();
        key.push_str(name);
        key.push('@');
        key.push_str(version);
        if resolved.contains(key.as_str()) {
            return Some(key.clone());
        }
        // An alias (`npm:real@1`) or a key given whole.
        resolved.contains(version).then(|| version.to_owned())
    };
    let mut nodes = HashMap::with_capacity(scanned.snapshots.len() + scanned.importers.len());
    for entry in &scanned.snapshots {
        let (name, version) = split_key(&entry.key);
        let mut children: Vec<String> = entry
            .deps
            .iter()
            .filter_map(|(dep, version)| child(dep, version))
            .collect();
        children.sort();
        let meta = scanned
            .packages
            .get(entry.key.split('(').next().unwrap_or(&entry.key))
            .map_or("", |&(start, end)| &text[start..end]);
        nodes.insert(
            entry.key.to_string(),
            Node {
                name: name.to_owned(),
                version: version.split('(').next().unwrap_or(version).to_owned(),
                fingerprint: fingerprint(&text[entry.start..entry.end], meta),
                children,
                member: None,
            },
        );
    }
    for entry in &scanned.importers {
        let path = entry.key.as_ref();
        let Some(member) = Member::at(graph, path, Ecosystem::Pnpm) else {
            continue;
        };
        let children: Vec<String> = entry
            .deps
            .iter()
            .filter(|(_, version)| !version.starts_with("link:"))
            .filter_map(|(dep, version)| child(dep, version))
            .collect();
        nodes.insert(
            format!("importer:{path}"),
            Node::workspace(path, children, member),
        );
    }
    LockGraph { nodes }
}

/// 128 bits of the entry's text, its `packages` metadata included: two
/// revisions' entries are the same when these are.
fn fingerprint(text: &str, meta: &str) -> String {
    use std::hash::{Hash as _, Hasher as _};
    let half = |salt: u8| {
        let mut hasher = std::hash::DefaultHasher::new();
        salt.hash(&mut hasher);
        text.hash(&mut hasher);
        meta.hash(&mut hasher);
        hasher.finish()
    };
    format!("{:016x}{:016x}", half(0), half(1))
}

/// `key: value` or `key:` into the unquoted key and the raw value.
fn split_line(content: &str) -> Option<(Cow<'_, str>, &str)> {
    let (key, rest) = if content.starts_with(['\'', '"']) {
        let quote = content.chars().next()?;
        let end = closing_quote(content, quote)?;
        (unquote(&content[..=end])?, &content[end + 1..])
    } else {
        let colon = content
            .find(": ")
            .or_else(|| content.strip_suffix(':').map(str::len))?;
        (Cow::Borrowed(&content[..colon]), &content[colon..])
    };
    let rest = rest.strip_prefix(':')?;
    if !rest.is_empty() && !rest.starts_with(' ') {
        return None;
    }
    Some((key, rest.trim()))
}

/// The byte index of the quote closing the one at 0 (`''` escapes `'`).
fn closing_quote(s: &str, quote: char) -> Option<usize> {
    let bytes = s.as_bytes();
    let mut i = 1;
    while i < bytes.len() {
        if bytes[i] == quote as u8 {
            if quote == '\'' && bytes.get(i + 1) == Some(&b'\'') {
                i += 2;
                continue;
            }
            return Some(i);
        }
        if quote == '"' && bytes[i] == b'\\' {
            return None;
        }
        i += 1;
    }
    None
}

fn unquote(value: &str) -> Option<Cow<'_, str>> {
    if let Some(inner) = value.strip_prefix('\'') {
        let inner = inner.strip_suffix('\'')?;
        return Some(if inner.contains("''") {
            Cow::Owned(inner.replace("''", "'"))
        } else {
            Cow::Borrowed(inner)
        });
    }
    if let Some(inner) = value.strip_prefix('"') {
        let inner = inner.strip_suffix('"')?;
        return (!inner.contains('\\')).then_some(Cow::Borrowed(inner));
    }
    Some(Cow::Borrowed(value))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::GraphBuilder;

    /// What both readings must agree on: keys, names, versions, children
    /// and members (fingerprints differ in form, and are only compared
    /// within one reading).
    pub(crate) fn shape(lock: &LockGraph) -> Vec<String> {
        let mut out: Vec<String> = lock
            .nodes
            .iter()
            .map(|(k, n)| {
                format!(
                    "{k} {} {} {:?} {:?}",
                    n.name, n.version, n.children, n.member
                )
            })
            .collect();
        out.sort();
        out
    }

    fn graph() -> PackageGraph {
        let mut b = GraphBuilder::new();
        for (name, dir) in [
            ("a", "packages/a"),
            ("b", "packages/b"),
            ("c", "packages/c"),
            ("plain", "packages/plain"),
        ] {
            b.add_package(name, dir, Ecosystem::Pnpm).unwrap();
        }
        b.build()
    }

    const FIXTURES: [&str; 7] = [
        include_str!("../../../../tests/it/fixtures/lockfiles/pnpm/base.pnpm-lock.yaml"),
        include_str!("../../../../tests/it/fixtures/lockfiles/pnpm/head.pnpm-lock.yaml"),
        include_str!("../../../../tests/it/fixtures/lockfiles/pnpm-root/base.pnpm-lock.yaml"),
        include_str!("../../../../tests/it/fixtures/lockfiles/pnpm-root/head-a.pnpm-lock.yaml"),
        include_str!("../../../../tests/it/fixtures/lockfiles/pnpm-root/head-root.pnpm-lock.yaml"),
        include_str!("../../../../tests/it/fixtures/lockfiles/pnpm-catalog/base.pnpm-lock.yaml"),
        include_str!("../../../../tests/it/fixtures/lockfiles/pnpm-catalog/head.pnpm-lock.yaml"),
    ];

    /// What pnpm writes for peers, aliases, optional and platform packages.
    const PEERS: &str = "lockfileVersion: '9.0'

settings:
  autoInstallPeers: true
  excludeLinksFromLockfile: false

importers:

  .:
    devDependencies:
      '@types/react':
        specifier: ^18
        version: 18.3.1
      string-width-cjs:
        specifier: npm:string-width@^4.2.0
        version: string-width@4.2.3

  packages/a:
    dependencies:
      react-dom:
        specifier: ^18.3.1
        version: 18.3.1(react@18.3.1)
    dependenciesMeta:
      react-dom:
        injected: true

packages:

  '@types/react@18.3.1':
    resolution: {integrity: sha512-x}

  fsevents@2.3.3:
    resolution: {integrity: sha512-y}
    engines: {node: ^8.16.0 || ^10.6.0 || >=11.0.0}
    os: [darwin]

  react-dom@18.3.1:
    resolution: {integrity: sha512-z}
    peerDependencies:
      react: ^18.3.1
    peerDependenciesMeta:
      react:
        optional: true

  react@18.3.1:
    resolution: {integrity: sha512-w}

  string-width@4.2.3:
    resolution: {integrity: sha512-v}

snapshots:

  '@types/react@18.3.1': {}

  fsevents@2.3.3:
    optional: true

  react-dom@18.3.1(react@18.3.1):
    dependencies:
      react: 18.3.1
    optionalDependencies:
      fsevents: 2.3.3
    transitivePeerDependencies:
      - supports-color

  react@18.3.1: {}

  string-width@4.2.3: {}
";

    #[test]
    fn the_scanner_and_the_yaml_parser_agree() {
        let graph = graph();
        for text in FIXTURES.iter().copied().chain([PEERS]) {
            let scanned = scan(&graph, text).expect("pnpm's own output scans");
            let parsed = super::super::pnpm_lock::parse(&graph, text).unwrap();
            assert_eq!(shape(&scanned), shape(&parsed), "{text}");
        }
    }

    #[test]
    fn anything_unusual_is_left_to_the_yaml_parser() {
        let graph = graph();
        for text in [
            "lockfileVersion: '6.0'\nimporters: {}\n",
            "lockfileVersion: '9.0'\nimporters:\n  .:\n    dependencies: &x\n      a:\n        version: 1.0.0\n",
            "lockfileVersion: '9.0'\nimporters: {packages/a: {}}\n",
            "lockfileVersion: '9.0'\nsnapshots:\n  a@1.0.0:\n    dependencies:\n      b: |\n        1.0.0\n",
            "lockfileVersion: '9.0'\nsnapshots:\n\ta@1.0.0: {}\n",
            "lockfileVersion: '9.0'\nsnapshots:\n  a@1.0.0:\n      too: deep\n          deeper: still\n",
            "importers:\n  .: {}\n",
        ] {
            assert!(scan(&graph, text).is_none(), "{text}");
        }
    }
}

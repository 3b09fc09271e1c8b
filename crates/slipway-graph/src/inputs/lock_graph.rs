//! The shape every lockfile reduces to: resolved packages with their
//! dependencies, some of them workspace packages. Comparing two versions
//! finds the changed entries and walks up to the workspace packages that
//! reach them.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use super::InputDiff;
use crate::affected::Resolution;
use crate::graph::PackageGraph;
use crate::model::{Ecosystem, PackageId};

/// What a workspace node stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Member {
    /// A workspace package of the graph.
    Package(PackageId),
    /// The workspace root's own dependencies (root `package.json`), which no
    /// package owns: a change reaching them is a change to every package's
    /// tooling.
    Root,
}

#[derive(Debug, Clone, Default)]
pub(super) struct Node {
    /// The package's name, to describe a change (`serde`).
    pub(super) name: String,
    pub(super) version: String,
    /// Everything that makes two versions of the entry the same.
    pub(super) fingerprint: String,
    /// Keys of the entries it depends on.
    pub(super) children: Vec<String>,
    pub(super) member: Option<Member>,
}

impl Member {
    /// The member whose directory is `path`: a package of `ecosystem`, or
    /// the root when `path` is `.` and the root is no package. `None` for
    /// any other directory (a project the graph does not have).
    pub(super) fn at(graph: &PackageGraph, path: &str, ecosystem: Ecosystem) -> Option<Member> {
        match graph.package_at(path, ecosystem) {
            Some(_) if path == "." && graph.root_is_shared() => Some(Member::Root),
            Some(id) => Some(Member::Package(id)),
            None if path == "." => Some(Member::Root),
            None => None,
        }
    }
}

impl Node {
    /// The node of a workspace member or the root: what it depends on
    /// directly, sorted, and nothing to fingerprint (its own changes are
    /// its manifest's, which ownership covers).
    pub(super) fn workspace(name: &str, mut children: Vec<String>, member: Member) -> Node {
        children.sort();
        children.dedup();
        Node {
            name: name.to_owned(),
            version: String::new(),
            fingerprint: String::new(),
            children,
            member: Some(member),
        }
    }
}

/// A parsed lockfile: entries by key.
#[derive(Debug, Default)]
pub(super) struct LockGraph {
    pub(super) nodes: HashMap<String, Node>,
}

/// From this size on, the two revisions of a lockfile are parsed at once.
const PARALLEL_FROM: usize = 64 * 1024;

/// Parses one version of a lockfile.
pub(super) type Parser = fn(&PackageGraph, &str) -> Result<LockGraph, String>;

pub(super) fn compare(
    graph: &PackageGraph,
    base: Option<&str>,
    head: Option<&str>,
    parse: Parser,
) -> Result<InputDiff, String> {
    let parse_side = |text: Option<&str>, side: &str| match text {
        Some(text) => parse(graph, text).map_err(|err| format!("at {side}: {err}")),
        None => Ok(LockGraph::default()),
    };
    let (base, head) = both(base, head, parse_side);
    let (base, head) = (base?, head?);
    Ok(compare_parsed(&base, &head))
}

/// `read` of both revisions; of large lockfiles at once, one on each core.
pub(super) fn both<T: Send>(
    base: Option<&str>,
    head: Option<&str>,
    read: impl Fn(Option<&str>, &str) -> T + Sync,
) -> (T, T) {
    let large = |text: Option<&str>| text.is_some_and(|t| t.len() >= PARALLEL_FROM);
    if large(base) && large(head) {
        std::thread::scope(|scope| {
            let old = scope.spawn(|| read(base, "base"));
            let new = read(head, "head");
            let old = old
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
            (old, new)
        })
    } else {
        (read(base, "base"), read(head, "head"))
    }
}

/// Compares two parsed revisions of a lockfile.
pub(super) fn compare_parsed(base: &LockGraph, head: &LockGraph) -> InputDiff {
    let starts = starts(base, head);
    let mut reached: BTreeMap<Member, BTreeSet<String>> = BTreeMap::new();
    let mut unreached: BTreeSet<String> = BTreeSet::new();
    for side in [base, head] {
        let parents = parents(side);
        for (key, label) in &starts {
            if !side.nodes.contains_key(*key) {
                continue;
            }
            let members = members_reaching(side, &parents, key);
            if members.is_empty() {
                unreached.insert(label.clone());
            }
            for member in members {
                reached.entry(member).or_default().insert(label.clone());
            }
        }
    }
    for labels in reached.values() {
        for label in labels {
            unreached.remove(label);
        }
    }

    let root = reached.remove(&Member::Root);
    if !unreached.is_empty() {
        tracing::info!(
            "changed lockfile entries that reach no workspace package: {}",
            join_limited(&unreached)
        );
    }
    let packages = reached
        .into_iter()
        .filter_map(|(member, labels)| match member {
            Member::Package(id) => Some((id, join_limited(&labels))),
            Member::Root => None,
        })
        .collect();
    InputDiff {
        resolution: Resolution::Packages {
            packages,
            root: root.map(|labels| join_limited(&labels)),
        },
        warnings: Vec::new(),
    }
}

/// Where to walk up from, and what to call each change. Entries that
/// changed themselves (a new fingerprint, or on one side only) are starts.
/// So is an entry whose dependencies now point at entries that did not
/// change themselves (a switch to a version already locked); one whose
/// dependencies changed only because they did is not.
fn starts<'g>(base: &'g LockGraph, head: &'g LockGraph) -> Vec<(&'g str, String)> {
    let mut changed: BTreeSet<&str> = BTreeSet::new();
    for (key, node) in &head.nodes {
        if base
            .nodes
            .get(key)
            .is_none_or(|old| old.fingerprint != node.fingerprint)
        {
            changed.insert(key);
        }
    }
    changed.extend(
        base.nodes
            .keys()
            .filter(|k| !head.nodes.contains_key(*k))
            .map(String::as_str),
    );

    let mut starts: Vec<(&str, String)> = changed
        .iter()
        .map(|&k| (k, describe(base, head, k)))
        .collect();
    for (key, node) in &head.nodes {
        let Some(old) = base.nodes.get(key) else {
            continue;
        };
        if old.children == node.children {
            continue;
        }
        let (was, now): (BTreeSet<&String>, BTreeSet<&String>) = (
            old.children.iter().collect(),
            node.children.iter().collect(),
        );
        for child in was.symmetric_difference(&now) {
            if !changed.contains(child.as_str()) {
                starts.push((key, describe(base, head, child)));
            }
        }
    }

    starts
}

/// Members that declare a dependency on one of `names`.
pub(super) fn users_of(graph: &PackageGraph, names: &BTreeSet<String>) -> Vec<PackageId> {
    graph
        .ids()
        .filter(|&id| {
            graph
                .externals(id)
                .iter()
                .any(|(name, _)| names.contains(name))
        })
        .collect()
}

/// `a, b, c and 4 more`.
pub(super) fn join_limited(labels: &BTreeSet<String>) -> String {
    const SHOWN: usize = 3;
    let mut out: Vec<&str> = labels.iter().take(SHOWN).map(String::as_str).collect();
    let more = labels.len().saturating_sub(SHOWN);
    let more_text = format!("and {more} more");
    if more > 0 {
        out.push(&more_text);
    }
    out.join(", ")
}

/// `serde 1.0.1 -> 1.0.2`, `left-pad 1.3.0 added`, `rand 0.7.3 removed`.
fn describe(base: &LockGraph, head: &LockGraph, key: &str) -> String {
    let node = head
        .nodes
        .get(key)
        .or_else(|| base.nodes.get(key))
        .expect("key from one side");
    let (old, new) = (versions(base, &node.name), versions(head, &node.name));
    let join = |set: &BTreeSet<&str>| set.iter().copied().collect::<Vec<_>>().join("/");
    if node.member.is_some() {
        return format!("{} dependencies", node.name);
    }
    match (old.is_empty(), new.is_empty()) {
        (true, _) => format!("{} {} added", node.name, join(&new)),
        (_, true) => format!("{} {} removed", node.name, join(&old)),
        _ if old == new => format!("{} {} changed", node.name, join(&new)),
        _ => format!("{} {} -> {}", node.name, join(&old), join(&new)),
    }
}

fn versions<'a>(side: &'a LockGraph, name: &str) -> BTreeSet<&'a str> {
    side.nodes
        .values()
        .filter(|n| n.name == name && n.member.is_none())
        .map(|n| n.version.as_str())
        .collect()
}

fn parents(side: &LockGraph) -> HashMap<&str, Vec<&str>> {
    let mut parents: HashMap<&str, Vec<&str>> = HashMap::new();
    for (key, node) in &side.nodes {
        for child in &node.children {
            parents
                .entry(child.as_str())
                .or_default()
                .push(key.as_str());
        }
    }
    parents
}

fn members_reaching(
    side: &LockGraph,
    parents: &HashMap<&str, Vec<&str>>,
    start: &str,
) -> Vec<Member> {
    let mut seen: BTreeSet<&str> = BTreeSet::from([start]);
    let mut stack = vec![start];
    let mut members = Vec::new();
    while let Some(key) = stack.pop() {
        if let Some(member) = side.nodes.get(key).and_then(|n| n.member) {
            members.push(member);
            // A workspace node depends on other workspace nodes only through
            // the package graph, which propagates on its own.
            continue;
        }
        for &parent in parents.get(key).map_or(&[][..], Vec::as_slice) {
            if seen.insert(parent) {
                stack.push(parent);
            }
        }
    }
    members
}

impl PartialOrd for Member {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Member {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        let rank = |m: &Member| match m {
            Member::Package(id) => (0, id.index()),
            Member::Root => (1, 0),
        };
        rank(self).cmp(&rank(other))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inputs::testing::{graph, render};

    /// A lock graph from `key -> child, child` lines; `@name` marks the
    /// entry as the workspace package of that name.
    #[expect(clippy::unnecessary_wraps, reason = "the shape of a lockfile parser")]
    fn lock(graph: &PackageGraph, text: &str) -> Result<LockGraph, String> {
        let mut nodes = HashMap::new();
        for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
            // `#…` changes the fingerprint only: the same entry, changed.
            let entry = line.split('#').next().unwrap_or(line);
            let (key, children) = entry.split_once("->").unwrap_or((entry, ""));
            let (key, member) = match key.trim().split_once('@') {
                Some((key, name)) => (key, graph.find(name).map(Member::Package)),
                None => (key.trim(), None),
            };
            nodes.insert(
                key.to_owned(),
                Node {
                    name: key.to_owned(),
                    version: "1".to_owned(),
                    fingerprint: line.to_owned(),
                    children: children
                        .split(',')
                        .map(str::trim)
                        .filter(|c| !c.is_empty())
                        .map(str::to_owned)
                        .collect(),
                    member,
                },
            );
        }
        Ok(LockGraph { nodes })
    }

    fn check(base: &str, head: &str, expected: &str) {
        let graph = graph();
        let diff = compare(&graph, Some(base), Some(head), lock).unwrap();
        let expected: Vec<&str> = expected
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect();
        assert_eq!(render(&graph, &diff), expected.join("\n"));
    }

    #[test]
    fn changes_walk_up_to_the_members_that_reach_them() {
        let base = "core@core -> leaf\napp@app -> core, other\nleaf\nother";
        check(base, base, "");
        check(
            base,
            &base.replace("\nleaf", "\nleaf #2"),
            "core: leaf 1 changed",
        );
        check(
            base,
            &base.replace("\nother", "\nother #2"),
            "app: other 1 changed",
        );
        check(base, &format!("{base}\nstray"), "");
    }
}

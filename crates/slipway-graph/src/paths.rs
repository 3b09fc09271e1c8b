//! Repository-relative paths: `/`-separated, no `.` or `..` parts, `.` for
//! the root. Every path the crate stores or compares is in this form.

/// The directories holding `path`, deepest first, ending with the root `.`.
/// `path` itself comes first, so a directory owns itself.
pub(crate) fn ancestors(path: &str) -> impl Iterator<Item = &str> {
    let mut rest = Some(path);
    std::iter::from_fn(move || {
        let current = rest?;
        rest = match current.rfind('/') {
            Some(i) => Some(&current[..i]),
            None if current == "." => None,
            None => Some("."),
        };
        Some(current)
    })
}

/// Normalizes a user- or git-supplied path to the repository-relative form.
/// Returns `None` for a path that leaves the root.
#[must_use]
pub fn normalize(path: &str) -> Option<String> {
    join(".", path)
}

/// Joins `rel` onto the repository-relative directory `base`, resolving `.`
/// and `..`. Returns `None` when the result would leave the root.
pub(crate) fn join(base: &str, rel: &str) -> Option<String> {
    let joined = join_outward(base, rel);
    (joined != ".." && !joined.starts_with("../")).then_some(joined)
}

/// As [`join`], but a path that leaves the root keeps its leading `..`
/// (`../shared`): for path dependencies on a neighbouring root, resolved
/// once every root is discovered.
pub(crate) fn join_outward(base: &str, rel: &str) -> String {
    let mut parts: Vec<&str> = if base == "." {
        Vec::new()
    } else {
        base.split('/').collect()
    };
    for part in rel.split(['/', '\\']) {
        match part {
            "" | "." => {}
            ".." => {
                if parts.last().is_none_or(|p| *p == "..") {
                    parts.push("..");
                } else {
                    parts.pop();
                }
            }
            other => parts.push(other),
        }
    }
    if parts.is_empty() {
        ".".to_owned()
    } else {
        parts.join("/")
    }
}

/// The parent directory of a repository-relative path.
pub(crate) fn parent(path: &str) -> &str {
    match path.rfind('/') {
        Some(i) => &path[..i],
        None if path == "." => ".",
        None => ".",
    }
}

/// Appends a file name to a repository-relative directory.
pub(crate) fn child(dir: &str, name: &str) -> String {
    if dir == "." {
        name.to_owned()
    } else {
        format!("{dir}/{name}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ancestors_end_at_root() {
        let all: Vec<&str> = ancestors("a/b/c.rs").collect();
        assert_eq!(all, ["a/b/c.rs", "a/b", "a", "."]);
        assert_eq!(ancestors(".").collect::<Vec<_>>(), ["."]);
        assert_eq!(ancestors("x").collect::<Vec<_>>(), ["x", "."]);
    }

    #[test]
    fn join_resolves_dots_and_refuses_to_leave_root() {
        assert_eq!(join("crates/a", "../b").as_deref(), Some("crates/b"));
        assert_eq!(join(".", "./x/./y/").as_deref(), Some("x/y"));
        assert_eq!(join("a", "..").as_deref(), Some("."));
        assert_eq!(join("a", "../.."), None);
        assert_eq!(
            normalize("./packages\\ui/x.ts").as_deref(),
            Some("packages/ui/x.ts")
        );
    }

    #[test]
    fn join_outward_keeps_what_leaves_the_root() {
        assert_eq!(join_outward(".", "../b"), "../b");
        assert_eq!(join_outward("a", "../../x/y"), "../x/y");
        assert_eq!(join_outward("a/b", "../c"), "a/c");
    }

    #[test]
    fn parent_and_child() {
        assert_eq!(parent("a/b/Cargo.toml"), "a/b");
        assert_eq!(parent("Cargo.toml"), ".");
        assert_eq!(child(".", "Cargo.toml"), "Cargo.toml");
        assert_eq!(child("a", "Cargo.toml"), "a/Cargo.toml");
    }
}

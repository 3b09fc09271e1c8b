//! `cargo xtask structure`: the workspace's shape, measured and checked.
//!
//! - **Module cycles.** Within each crate, a file that names another
//!   module through a `crate::` path depends on it. A module may name its
//!   own ancestors (what a parent declares for its children), but the
//!   remaining edges must form no cycle: modules import downwards only.
//! - **Sizes.** The median `.rs` file under `crates/*/src` and every
//!   function outside test modules longer than [`MAX_FN_LINES`], counted
//!   from its signature to its closing brace by brace matching (strings,
//!   characters and comments skipped).
//!
//! `cargo xtask test` runs both checks; `cargo xtask structure` prints the
//! figures.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use crate::tools::root;

/// The longest function allowed outside tests, in lines.
pub(crate) const MAX_FN_LINES: usize = 80;
/// The largest median `.rs` file under `crates/*/src`, in lines.
pub(crate) const MAX_MEDIAN_LINES: usize = 150;

/// Prints the figures; fails when a check fails.
pub(crate) fn run(args: &[String]) -> anyhow::Result<()> {
    let report = measure()?;
    println!(
        "{} files under crates/*/src, median {} lines (at most {MAX_MEDIAN_LINES})",
        report.files, report.median
    );
    println!(
        "{} functions outside tests over {MAX_FN_LINES} lines",
        report.long_fns.len()
    );
    for f in &report.long_fns {
        println!("  {:>4}  {}:{} {}", f.lines, f.file, f.line, f.name);
    }
    if args.iter().any(|a| a == "--all") {
        for (len, file) in &report.sizes {
            println!("  {len:>5}  {file}");
        }
    }
    for c in &report.cycles {
        println!("cycle: {c}");
    }
    report.check()
}

/// What [`measure`] found.
pub(crate) struct Report {
    files: usize,
    median: usize,
    sizes: Vec<(usize, String)>,
    long_fns: Vec<LongFn>,
    cycles: Vec<String>,
}

struct LongFn {
    file: String,
    line: usize,
    name: String,
    lines: usize,
}

impl Report {
    pub(crate) fn check(&self) -> anyhow::Result<()> {
        self.check_cycles()?;
        self.check_median()?;
        anyhow::ensure!(
            self.long_fns.is_empty(),
            "{} functions outside tests are over {MAX_FN_LINES} lines, the longest {}",
            self.long_fns.len(),
            self.long_fns
                .first()
                .map(|f| format!("{}:{} {} ({} lines)", f.file, f.line, f.name, f.lines))
                .unwrap_or_default()
        );
        Ok(())
    }

    pub(crate) fn check_median(&self) -> anyhow::Result<()> {
        anyhow::ensure!(
            self.median <= MAX_MEDIAN_LINES,
            "the median .rs file under crates/*/src has {} lines (at most {MAX_MEDIAN_LINES})",
            self.median
        );
        Ok(())
    }

    /// One line for `cargo xtask test`'s log.
    pub(crate) fn summary(&self) -> String {
        format!(
            "{} files under crates/*/src, median {} lines; {} functions outside tests over {MAX_FN_LINES} lines",
            self.files,
            self.median,
            self.long_fns.len()
        )
    }

    pub(crate) fn check_cycles(&self) -> anyhow::Result<()> {
        anyhow::ensure!(
            self.cycles.is_empty(),
            "modules import each other in a circle: {}",
            self.cycles.join("; ")
        );
        Ok(())
    }
}

/// Reads every crate's sources.
pub(crate) fn measure() -> anyhow::Result<Report> {
    let root = root();
    let mut sizes = Vec::new();
    let mut long_fns = Vec::new();
    let mut cycles = Vec::new();
    let mut crate_dirs: Vec<PathBuf> = std::fs::read_dir(root.join("crates"))?
        .filter_map(Result::ok)
        .map(|e| e.path().join("src"))
        .filter(|p| p.is_dir())
        .collect();
    crate_dirs.sort();
    for src in crate_dirs
        .iter()
        .chain(std::iter::once(&root.join("xtask/src")))
    {
        let files = rust_files(src)?;
        let mut modules = BTreeMap::new();
        for file in &files {
            let text = std::fs::read_to_string(file)?;
            let shown = file
                .strip_prefix(&root)
                .unwrap_or(file)
                .display()
                .to_string();
            let module = module_path(src, file);
            if src.starts_with(root.join("crates")) {
                sizes.push((text.lines().count(), shown.clone()));
                for (line, name, lines) in functions(&text) {
                    if lines > MAX_FN_LINES {
                        long_fns.push(LongFn {
                            file: shown.clone(),
                            line,
                            name,
                            lines,
                        });
                    }
                }
            }
            modules.insert(module, (shown, crate_paths(&text)));
        }
        cycles.extend(module_cycles(&modules));
    }
    sizes.sort();
    long_fns.sort_by_key(|f| std::cmp::Reverse(f.lines));
    let median = sizes
        .get(sizes.len().saturating_sub(1) / 2)
        .map_or(0, |s| s.0);
    Ok(Report {
        files: sizes.len(),
        median,
        sizes,
        long_fns,
        cycles,
    })
}

fn rust_files(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir)? {
            let path = entry?.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }
    out.sort();
    Ok(out)
}

/// `src/a/b.rs` and `src/a/b/mod.rs` are `a::b`; `lib.rs` and `main.rs`
/// are the crate root (the empty path).
fn module_path(src: &Path, file: &Path) -> Vec<String> {
    let rel = file.strip_prefix(src).unwrap_or(file);
    let mut parts: Vec<String> = rel
        .iter()
        .map(|p| p.to_string_lossy().trim_end_matches(".rs").to_owned())
        .collect();
    if matches!(
        parts.last().map(String::as_str),
        Some("mod" | "lib" | "main")
    ) {
        parts.pop();
    }
    parts
}

/// Every `crate::a::b…` path in the text outside comments and strings,
/// with `use crate::{a, b::{c, d}}` groups expanded one level.
fn crate_paths(text: &str) -> Vec<Vec<String>> {
    let code = code_only(text);
    let mut out = Vec::new();
    let mut rest = code.as_str();
    while let Some(at) = rest.find("crate::") {
        let before = rest[..at].chars().next_back();
        rest = &rest[at + "crate::".len()..];
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '$') {
            continue;
        }
        if let Some(group) = rest.strip_prefix('{') {
            let end = matching_brace(group).unwrap_or(group.len());
            for item in split_top_level(&group[..end]) {
                out.push(path_segments(item));
            }
        } else {
            out.push(path_segments(rest));
        }
    }
    out
}

fn path_segments(text: &str) -> Vec<String> {
    let mut segs = Vec::new();
    let mut rest = text.trim_start();
    loop {
        let end = rest
            .find(|c: char| !(c.is_alphanumeric() || c == '_'))
            .unwrap_or(rest.len());
        if end == 0 {
            break;
        }
        segs.push(rest[..end].to_owned());
        match rest[end..].strip_prefix("::") {
            Some(next) => rest = next.trim_start(),
            None => break,
        }
    }
    segs
}

fn matching_brace(text: &str) -> Option<usize> {
    let mut depth = 0usize;
    for (i, c) in text.char_indices() {
        match c {
            '{' => depth += 1,
            '}' if depth == 0 => return Some(i),
            '}' => depth -= 1,
            _ => {}
        }
    }
    None
}

fn split_top_level(text: &str) -> Vec<&str> {
    let mut items = Vec::new();
    let (mut depth, mut start) = (0usize, 0);
    for (i, c) in text.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth = depth.saturating_sub(1),
            ',' if depth == 0 => {
                items.push(&text[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    items.push(&text[start..]);
    items.into_iter().filter(|s| !s.trim().is_empty()).collect()
}

/// Cycles among the modules' `crate::` edges, ancestors excepted; each as
/// `a.rs -> b.rs -> a.rs`.
fn module_cycles(modules: &BTreeMap<Vec<String>, (String, Vec<Vec<String>>)>) -> Vec<String> {
    let mut edges: BTreeMap<&Vec<String>, BTreeSet<&Vec<String>>> = BTreeMap::new();
    for (module, (_, paths)) in modules {
        let targets = edges.entry(module).or_default();
        for path in paths {
            // The longest prefix of the path that is a module file.
            let Some(target) = (0..=path.len())
                .rev()
                .find_map(|n| modules.get_key_value(&path[..n]).map(|(k, _)| k))
            else {
                continue;
            };
            if target != module && !module.starts_with(target) {
                targets.insert(target);
            }
        }
    }
    // Tarjan-free: a DFS that reports the first back edge per component.
    let mut state: BTreeMap<&Vec<String>, u8> = BTreeMap::new();
    let mut cycles = Vec::new();
    for start in edges.keys() {
        let mut stack: Vec<&Vec<String>> = Vec::new();
        visit(start, &edges, &mut state, &mut stack, &mut |cycle| {
            let names: Vec<&str> = cycle.iter().map(|m| modules[*m].0.as_str()).collect();
            cycles.push(names.join(" -> "));
        });
    }
    cycles
}

fn visit<'a>(
    node: &'a Vec<String>,
    edges: &BTreeMap<&'a Vec<String>, BTreeSet<&'a Vec<String>>>,
    state: &mut BTreeMap<&'a Vec<String>, u8>,
    stack: &mut Vec<&'a Vec<String>>,
    report: &mut dyn FnMut(Vec<&'a Vec<String>>),
) {
    match state.get(node) {
        Some(2) => return,
        Some(1) => {
            let from = stack.iter().position(|n| *n == node).unwrap_or(0);
            let mut cycle = stack[from..].to_vec();
            cycle.push(node);
            report(cycle);
            return;
        }
        _ => {}
    }
    state.insert(node, 1);
    stack.push(node);
    for next in edges.get(node).into_iter().flatten() {
        visit(next, edges, state, stack, report);
    }
    stack.pop();
    state.insert(node, 2);
}

/// The text with comments, strings and character literals blanked (kept
/// the same length, newlines kept), so braces and paths in them are not
/// counted.
fn code_only(text: &str) -> String {
    let b = text.as_bytes();
    let mut out = b.to_vec();
    let mut i = 0;
    let blank = |out: &mut Vec<u8>, from: usize, to: usize| {
        for c in &mut out[from..to] {
            if *c != b'\n' {
                *c = b' ';
            }
        }
    };
    while i < b.len() {
        match b[i] {
            b'/' if b.get(i + 1) == Some(&b'/') => {
                let end = memchr_from(b, i, b'\n');
                blank(&mut out, i, end);
                i = end;
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                let end = text[i + 2..].find("*/").map_or(b.len(), |e| i + 2 + e + 2);
                blank(&mut out, i, end);
                i = end;
            }
            b'r' if matches!(b.get(i + 1), Some(b'"' | b'#'))
                && (i == 0 || !is_ident(b[i - 1])) =>
            {
                let hashes = b[i + 1..].iter().take_while(|c| **c == b'#').count();
                if b.get(i + 1 + hashes) != Some(&b'"') {
                    i += 1;
                    continue;
                }
                let close = format!("\"{}", "#".repeat(hashes));
                let body = i + 2 + hashes;
                let end = text[body..]
                    .find(&close)
                    .map_or(b.len(), |e| body + e + close.len());
                blank(&mut out, i, end);
                i = end;
            }
            b'"' => {
                let mut j = i + 1;
                while j < b.len() && b[j] != b'"' {
                    j += if b[j] == b'\\' { 2 } else { 1 };
                }
                let end = (j + 1).min(b.len());
                blank(&mut out, i, end);
                i = end;
            }
            b'\'' => {
                // A character literal ('x', '\n', '\u{..}'), not a lifetime.
                let end = if b.get(i + 1) == Some(&b'\\') {
                    b[i + 2..]
                        .iter()
                        .position(|c| *c == b'\'')
                        .map(|e| i + 2 + e + 1)
                } else if b.get(i + 2) == Some(&b'\'') {
                    Some(i + 3)
                } else {
                    text[i + 1..]
                        .chars()
                        .next()
                        .filter(|c| c.len_utf8() > 1)
                        .and_then(|c| {
                            (b.get(i + 1 + c.len_utf8()) == Some(&b'\''))
                                .then_some(i + 2 + c.len_utf8())
                        })
                };
                match end {
                    Some(end) => {
                        blank(&mut out, i, end);
                        i = end;
                    }
                    None => i += 1,
                }
            }
            _ => i += 1,
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn is_ident(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

fn memchr_from(b: &[u8], from: usize, needle: u8) -> usize {
    b[from..]
        .iter()
        .position(|c| *c == needle)
        .map_or(b.len(), |e| from + e)
}

/// Every function outside `#[cfg(test)]` modules: (line of its signature,
/// name, lines from signature to closing brace).
fn functions(text: &str) -> Vec<(usize, String, usize)> {
    let code = code_only(text);
    let lines: Vec<&str> = code.lines().collect();
    let skip = test_module_lines(&lines);
    let mut out = Vec::new();
    for (n, line) in lines.iter().enumerate() {
        if skip.contains(&n) {
            continue;
        }
        let Some(at) = find_fn_keyword(line) else {
            continue;
        };
        let name: String = line[at + 3..]
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        if name.is_empty() {
            continue;
        }
        // The body starts at the first `{` after the signature, unless a
        // `;` ends the declaration first (a trait method without a body).
        let mut depth = 0usize;
        let mut opened = false;
        let mut end = None;
        'scan: for (m, l) in lines.iter().enumerate().skip(n) {
            let from = if m == n { at } else { 0 };
            for c in l[from..].chars() {
                match c {
                    ';' if !opened => break 'scan,
                    '{' => {
                        depth += 1;
                        opened = true;
                    }
                    '}' if opened => {
                        depth -= 1;
                        if depth == 0 {
                            end = Some(m);
                            break 'scan;
                        }
                    }
                    _ => {}
                }
            }
        }
        if let Some(end) = end {
            out.push((n + 1, name, end - n + 1));
        }
    }
    out
}

fn find_fn_keyword(line: &str) -> Option<usize> {
    let mut from = 0;
    while let Some(at) = line[from..].find("fn ") {
        let at = from + at;
        if at == 0 || !is_ident(line.as_bytes()[at - 1]) {
            return Some(at);
        }
        from = at + 3;
    }
    None
}

/// The lines of every `#[cfg(test)]` module.
fn test_module_lines(lines: &[&str]) -> BTreeSet<usize> {
    let mut skip = BTreeSet::new();
    let mut n = 0;
    while n < lines.len() {
        if lines[n].trim_start().starts_with("#[cfg(test)]") {
            let mut depth = 0usize;
            let mut opened = false;
            let mut m = n + 1;
            'find: while m < lines.len() {
                // An attribute on one item (a `use`, a `fn`) ends at `;`
                // before any brace: only the module or item that follows.
                for c in lines[m].chars() {
                    match c {
                        ';' if !opened => break 'find,
                        '{' => {
                            depth += 1;
                            opened = true;
                        }
                        '}' => {
                            depth = depth.saturating_sub(1);
                            if opened && depth == 0 {
                                break 'find;
                            }
                        }
                        _ => {}
                    }
                }
                m += 1;
            }
            skip.extend(n..=m.min(lines.len() - 1));
            n = m + 1;
        } else {
            n += 1;
        }
    }
    skip
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn functions_are_measured_from_signature_to_closing_brace() {
        let text = "fn a() {\n    let s = \"}\";\n    let c = '}';\n}\n\n#[cfg(test)]\nmod tests {\n    fn long() {\n    }\n}\nfn b(x: &'static str) -> usize {\n    // }\n    1\n}\n";
        let found = functions(text);
        assert_eq!(found, vec![(1, "a".to_owned(), 4), (11, "b".to_owned(), 4)]);
    }

    #[test]
    fn crate_paths_expand_groups() {
        let text = "use crate::{a::B, c::{d, e}};\nfn f() { crate::g::h(); } // crate::z\n";
        assert_eq!(
            crate_paths(text),
            vec![
                vec!["a".to_owned(), "B".to_owned()],
                vec!["c".to_owned()],
                vec!["g".to_owned(), "h".to_owned()],
            ]
        );
    }

    #[test]
    fn a_cycle_is_found_and_an_ancestor_is_not_one() {
        let m = |s: &str| {
            s.split("::")
                .filter(|p| !p.is_empty())
                .map(str::to_owned)
                .collect::<Vec<_>>()
        };
        let mut modules = BTreeMap::new();
        modules.insert(m(""), ("lib.rs".to_owned(), vec![m("a::f")]));
        modules.insert(m("a"), ("a.rs".to_owned(), vec![m("b::g"), m("Error")]));
        modules.insert(m("b"), ("b.rs".to_owned(), vec![m("c::h")]));
        modules.insert(m("c"), ("c.rs".to_owned(), vec![]));
        assert!(module_cycles(&modules).is_empty());
        modules.insert(m("c"), ("c.rs".to_owned(), vec![m("a::x")]));
        assert_eq!(
            module_cycles(&modules),
            vec!["a.rs -> b.rs -> c.rs -> a.rs"]
        );
    }
}

//! Just enough lexing of Groovy and Kotlin build scripts to find string
//! literals, calls and blocks without running Gradle: comments blanked
//! out (positions kept), literals read with their escapes, brackets
//! matched outside strings. Everything is linear in the text and uses no
//! recursion, so a hostile script costs its length and nothing more.

/// `text` with `//` and `/* */` comments replaced by spaces (newlines
/// kept), outside string literals.
pub(crate) fn strip_comments(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'"' | b'\'' => {
                let end = string_end(bytes, i).unwrap_or(bytes.len());
                out.extend_from_slice(&bytes[i..end]);
                i = end;
            }
            b'/' if bytes.get(i + 1) == Some(&b'/') => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    out.push(b' ');
                    i += 1;
                }
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                let end = text[i + 2..]
                    .find("*/")
                    .map_or(bytes.len(), |e| i + 2 + e + 2);
                for &b in &bytes[i..end] {
                    out.push(if b == b'\n' { b'\n' } else { b' ' });
                }
                i = end;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    // Only ASCII bytes were replaced, by ASCII: still UTF-8.
    String::from_utf8(out).unwrap_or_default()
}

/// The index just past the string literal opening at `start` (`"…"`,
/// `'…'`, or a triple-quoted one); `None` when it never closes.
fn string_end(bytes: &[u8], start: usize) -> Option<usize> {
    let quote = bytes[start];
    if bytes.get(start + 1) == Some(&quote) && bytes.get(start + 2) == Some(&quote) {
        let mut i = start + 3;
        while i + 2 < bytes.len() {
            if bytes[i] == quote && bytes[i + 1] == quote && bytes[i + 2] == quote {
                return Some(i + 3);
            }
            i += 1;
        }
        return None;
    }
    let mut i = start + 1;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'\n' => return None,
            b if b == quote => return Some(i + 1),
            _ => i += 1,
        }
    }
    None
}

/// The string literal at `i` after optional whitespace: its content and
/// the index past it.
pub(crate) fn string_at(text: &str, i: usize) -> Option<(&str, usize)> {
    let start = skip_space(text, i);
    let bytes = text.as_bytes();
    match bytes.get(start) {
        Some(b'"' | b'\'') => {
            let end = string_end(bytes, start)?;
            let quotes = if end - start >= 6 && bytes[start + 1] == bytes[start] {
                3
            } else {
                1
            };
            Some((&text[start + quotes..end - quotes], end))
        }
        _ => None,
    }
}

/// Every string literal in `text[from..to]`.
pub(crate) fn strings_in(text: &str, from: usize, to: usize) -> Vec<&str> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = from;
    while i < to {
        if matches!(bytes[i], b'"' | b'\'') {
            match string_at(text, i) {
                Some((s, end)) if end <= to => {
                    out.push(s);
                    i = end;
                }
                _ => i += 1,
            }
        } else {
            i += 1;
        }
    }
    out
}

pub(crate) fn skip_space(text: &str, mut i: usize) -> usize {
    let bytes = text.as_bytes();
    while i < bytes.len() && bytes[i].is_ascii_whitespace() {
        i += 1;
    }
    i
}

pub(crate) fn is_ident(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// Where `word` occurs in `text` as a whole identifier, outside strings.
pub(crate) fn words<'t>(text: &'t str, word: &'t str) -> impl Iterator<Item = usize> + 't {
    let bytes = text.as_bytes();
    let strings = string_spans(text);
    let mut from = 0;
    std::iter::from_fn(move || {
        loop {
            let at = from + text[from..].find(word)?;
            from = at + word.len();
            let before = at.checked_sub(1).map(|j| bytes[j]);
            let after = bytes.get(at + word.len()).copied();
            if before.is_some_and(|b| is_ident(b) || b == b'.' || b == b'$')
                || after.is_some_and(is_ident)
                || in_spans(&strings, at)
            {
                continue;
            }
            return Some(at);
        }
    })
}

/// The byte spans of every string literal, in order.
pub(crate) fn string_spans(text: &str) -> Vec<(usize, usize)> {
    let bytes = text.as_bytes();
    let mut spans = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if matches!(bytes[i], b'"' | b'\'') {
            let end = string_end(bytes, i).unwrap_or(i + 1);
            spans.push((i, end));
            i = end;
        } else {
            i += 1;
        }
    }
    spans
}

pub(crate) fn in_spans(spans: &[(usize, usize)], at: usize) -> bool {
    let i = spans.partition_point(|&(start, _)| start <= at);
    i > 0 && at < spans[i - 1].1
}

/// The index of the bracket closing the one at `open` (`(`, `{`, `[`),
/// strings skipped; `None` when it never closes.
pub(crate) fn closing(text: &str, open: usize) -> Option<usize> {
    let bytes = text.as_bytes();
    let (o, c) = match bytes.get(open)? {
        b'(' => (b'(', b')'),
        b'{' => (b'{', b'}'),
        b'[' => (b'[', b']'),
        _ => return None,
    };
    let mut depth = 0usize;
    let mut i = open;
    while i < bytes.len() {
        match bytes[i] {
            b'"' | b'\'' => {
                i = string_end(bytes, i)?;
                continue;
            }
            b if b == o => depth += 1,
            b if b == c => {
                depth -= 1;
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
        i += 1;
    }
    None
}

/// The end of the statement starting at `i`: the end of its line, or of
/// the next lines while a line ends in `,` (a Groovy argument list).
pub(crate) fn statement_end(text: &str, i: usize) -> usize {
    let mut end = i;
    loop {
        let line_end = text[end..].find('\n').map_or(text.len(), |e| end + e);
        if text[end..line_end].trim_end().ends_with(',') && line_end < text.len() {
            end = line_end + 1;
        } else {
            return line_end;
        }
    }
}

/// The identifier ending just before `i` (whitespace and one `(` skipped):
/// `testImplementation` in `testImplementation(project(":a"))`.
pub(crate) fn identifier_before(text: &str, i: usize) -> &str {
    let bytes = text.as_bytes();
    let mut end = i;
    while end > 0 && bytes[end - 1].is_ascii_whitespace() {
        end -= 1;
    }
    if end > 0 && bytes[end - 1] == b'(' {
        end -= 1;
    }
    while end > 0 && bytes[end - 1].is_ascii_whitespace() {
        end -= 1;
    }
    let mut start = end;
    while start > 0 && is_ident(bytes[start - 1]) {
        start -= 1;
    }
    &text[start..end]
}

/// The dotted identifier chain at `i`: `androidx.core.ktx` in
/// `libs.androidx.core.ktx)`.
pub(crate) fn chain_at(text: &str, i: usize) -> &str {
    let bytes = text.as_bytes();
    let mut end = i;
    while end < bytes.len() && (is_ident(bytes[end]) || bytes[end] == b'.') {
        end += 1;
    }
    text[i..end].trim_end_matches('.')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comments_go_and_strings_stay() {
        let text = "a // x \"y\"\nb /* c\n d */ e \"// kept\" '/* kept */'";
        let out = strip_comments(text);
        assert_eq!(out.len(), text.len());
        assert!(!out.contains('x') && !out.contains(" c"));
        assert!(out.contains("\"// kept\"") && out.contains("'/* kept */'"));
        assert_eq!(out.lines().count(), text.lines().count());
    }

    #[test]
    fn literals_words_and_brackets() {
        let text = r#"include(":a", ':b') includeBuild("x") "include" f("(", g())"#;
        assert_eq!(words(text, "include").collect::<Vec<_>>(), [0]);
        assert_eq!(strings_in(text, 0, closing(text, 7).unwrap()), [":a", ":b"]);
        let f = text.find("f(").unwrap() + 1;
        assert_eq!(closing(text, f), Some(text.len() - 1));
        assert_eq!(string_at(text, 8), Some((":a", 12)));
        assert_eq!(
            identifier_before("testImplementation(project", 19),
            "testImplementation"
        );
        assert_eq!(chain_at("libs.a.b_c.d) x", 5), "a.b_c.d");
        assert_eq!(statement_end("include 'a',\n  'b'\nx", 0), 18);
    }

    #[test]
    fn unclosed_things_end_quietly() {
        assert_eq!(closing("f(\"x", 1), None);
        assert_eq!(string_at("'abc", 0), None);
        assert_eq!(strip_comments("/* never closed"), "               ");
        assert_eq!(strings_in("'a' \"b", 0, 6), ["a"]);
    }
}

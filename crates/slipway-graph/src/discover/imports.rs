//! The module specifiers a JavaScript or TypeScript source imports, found
//! by a byte-level tokenizer rather than a parser: static `import` and
//! `export … from`, side-effect imports, `require('…')`, `import('…')` with
//! a literal, and `jest.mock('…')`/`vi.mock('…')`. Comments, strings,
//! template literals and regular expressions are skipped as the language
//! defines them, so `// import x from 'y'` or `/from 'y'/` imports nothing.
//!
//! The tokenizer never fails: on text it cannot make sense of (a stray
//! quote in JSX text, an unterminated regular expression) it resumes at the
//! next line, which is as far as such a token can reach.

/// One specifier and the 1-based line its string starts on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Import<'a> {
    pub(crate) specifier: &'a str,
    pub(crate) line: u32,
}

/// The extensions scanned for imports.
pub(crate) const SOURCE_EXTENSIONS: [&str; 10] = [
    "ts", "tsx", "mts", "cts", "js", "jsx", "mjs", "cjs", "vue", "svelte",
];

/// Whether `path` is a source file scanned for imports. Declaration
/// files (`.d.ts`) count: they import too.
pub(crate) fn is_source(path: &str) -> bool {
    path.rsplit_once('.')
        .is_some_and(|(_, ext)| SOURCE_EXTENSIONS.contains(&ext))
}

/// The specifiers `text` imports, in order. `.vue` and `.svelte` files
/// (by `path`) are scanned in their `<script>` blocks only.
pub(crate) fn scan<'a>(path: &str, text: &'a str) -> Vec<Import<'a>> {
    let mut out = Vec::new();
    let ext = path.rsplit_once('.').map_or("", |(_, ext)| ext);
    if ext == "vue" || ext == "svelte" {
        for (start, end) in script_blocks(text.as_bytes()) {
            let line = line_at(text.as_bytes(), start);
            Scanner::new(text, start, end, line).run(&mut out);
        }
    } else {
        Scanner::new(text, 0, text.len(), 1).run(&mut out);
    }
    out
}

fn line_at(bytes: &[u8], offset: usize) -> u32 {
    let newlines = memchr::memchr_iter(b'\n', &bytes[..offset]).count();
    u32::try_from(newlines + 1).unwrap_or(u32::MAX)
}

/// The byte ranges of the contents of each `<script …>…</script>` block.
fn script_blocks(bytes: &[u8]) -> Vec<(usize, usize)> {
    let mut blocks = Vec::new();
    let mut at = 0;
    while let Some(open) = find(bytes, at, b"<script") {
        let after = open + b"<script".len();
        // `<scripts>` is no script tag.
        if !matches!(bytes.get(after), Some(b'>' | b' ' | b'\t' | b'\n' | b'\r')) {
            at = after;
            continue;
        }
        let Some(gt) = bytes[after..].iter().position(|&b| b == b'>') else {
            break;
        };
        let start = after + gt + 1;
        let end = find(bytes, start, b"</script").unwrap_or(bytes.len());
        blocks.push((start, end));
        at = end;
    }
    blocks
}

fn find(bytes: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    bytes
        .get(from..)?
        .windows(needle.len())
        .position(|w| w.eq_ignore_ascii_case(needle))
        .map(|p| from + p)
}

/// What came before the current token, enough to tell a regular
/// expression from a division and a specifier from any other string.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Prev {
    /// Start of input, an operator or punctuation: a `/` starts a
    /// regular expression.
    Operator,
    /// A value (identifier, number, string, `)`, `]`): a `/` divides.
    Value,
    /// `.` or `?.`: the next identifier is a property, never a keyword.
    Dot,
    /// A keyword after which an expression starts (`return`, `typeof`):
    /// a `/` starts a regular expression.
    Keyword,
}

/// A pending import form waiting for its string.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Want {
    None,
    /// After `from`, or `import` at a statement: the next token may be the
    /// specifier.
    String,
    /// After `require`, `import`, `jest.mock`: `(` then the specifier.
    Paren,
    /// After `require(`: the specifier, then it counts.
    StringInParen,
}

struct Scanner<'a> {
    text: &'a str,
    bytes: &'a [u8],
    at: usize,
    end: usize,
    line: u32,
    prev: Prev,
    want: Want,
    /// The last identifier was `jest` or `vi` and then `.`.
    mock_object: bool,
    /// Brace depth of each open `${` of a template literal.
    templates: Vec<u32>,
    braces: u32,
}

impl<'a> Scanner<'a> {
    fn new(text: &'a str, start: usize, end: usize, line: u32) -> Self {
        Scanner {
            text,
            bytes: text.as_bytes(),
            at: start,
            end,
            line,
            prev: Prev::Operator,
            want: Want::None,
            mock_object: false,
            templates: Vec::new(),
            braces: 0,
        }
    }

    fn peek(&self, ahead: usize) -> u8 {
        if self.at + ahead < self.end {
            self.bytes[self.at + ahead]
        } else {
            0
        }
    }

    fn run(mut self, out: &mut Vec<Import<'a>>) {
        while self.at < self.end {
            let b = self.bytes[self.at];
            match b {
                b'\n' => {
                    self.line += 1;
                    self.at += 1;
                }
                b' ' | b'\t' | b'\r' | 0x0b | 0x0c => self.at += 1,
                b'/' if self.peek(1) == b'/' => self.skip_line(),
                b'/' if self.peek(1) == b'*' => self.skip_block_comment(),
                b'/' => {
                    if matches!(self.prev, Prev::Value) {
                        self.at += 1;
                        self.punct();
                    } else {
                        self.skip_regex();
                    }
                }
                b'\'' | b'"' => self.string(b, out),
                b'`' => {
                    self.at += 1;
                    self.template();
                }
                b'{' => {
                    self.braces += 1;
                    self.at += 1;
                    self.punct();
                }
                b'}' => {
                    self.at += 1;
                    if self.templates.last() == Some(&self.braces) {
                        // The end of a `${…}`: back into the template.
                        self.templates.pop();
                        self.braces -= 1;
                        self.template();
                    } else {
                        self.braces = self.braces.saturating_sub(1);
                        // A block's end starts a statement; an object
                        // literal's end is a value. A statement is likelier.
                        self.prev = Prev::Operator;
                        self.want = Want::None;
                    }
                }
                b'(' => {
                    self.at += 1;
                    self.want = if self.want == Want::Paren {
                        Want::StringInParen
                    } else {
                        Want::None
                    };
                    self.prev = Prev::Operator;
                }
                b')' | b']' => {
                    self.at += 1;
                    self.prev = Prev::Value;
                    self.want = Want::None;
                }
                b'.' if !self.peek(1).is_ascii_digit() => {
                    self.at += 1;
                    self.prev = Prev::Dot;
                    if self.want != Want::Paren {
                        self.want = Want::None;
                    }
                }
                b'?' if self.peek(1) == b'.' && !self.peek(2).is_ascii_digit() => {
                    self.at += 2;
                    self.prev = Prev::Dot;
                    self.want = Want::None;
                }
                b if b.is_ascii_digit() || (b == b'.') => self.number(),
                b if is_ident_start(b) => self.ident(),
                _ => {
                    self.at += 1;
                    self.punct();
                }
            }
        }
    }

    fn punct(&mut self) {
        self.prev = Prev::Operator;
        self.want = Want::None;
        self.mock_object = false;
    }

    fn skip_line(&mut self) {
        while self.at < self.end && self.bytes[self.at] != b'\n' {
            self.at += 1;
        }
    }

    fn skip_block_comment(&mut self) {
        self.at += 2;
        while self.at < self.end {
            if self.bytes[self.at] == b'*' && self.peek(1) == b'/' {
                self.at += 2;
                return;
            }
            if self.bytes[self.at] == b'\n' {
                self.line += 1;
            }
            self.at += 1;
        }
    }

    /// A regular expression literal, up to its closing `/` outside a
    /// class, then its flags. One that reaches the end of its line was a
    /// division after all: resume after the `/`.
    fn skip_regex(&mut self) {
        let start = self.at;
        self.at += 1;
        let mut in_class = false;
        while self.at < self.end {
            match self.bytes[self.at] {
                b'\\' if self.peek(1) != b'\n' => self.at += 2,
                b'\n' => break,
                b'[' => {
                    in_class = true;
                    self.at += 1;
                }
                b']' => {
                    in_class = false;
                    self.at += 1;
                }
                b'/' if !in_class => {
                    self.at += 1;
                    while self.at < self.end && is_ident_part(self.bytes[self.at]) {
                        self.at += 1;
                    }
                    self.prev = Prev::Value;
                    self.want = Want::None;
                    return;
                }
                _ => self.at += 1,
            }
        }
        self.at = start + 1;
        self.punct();
    }

    /// A quoted string; a specifier when an import form waits for one.
    /// Quoted strings end at a line break (only `\` continues them), so a
    /// stray quote in JSX text costs one line at most.
    fn string(&mut self, quote: u8, out: &mut Vec<Import<'a>>) {
        let line = self.line;
        let start = self.at + 1;
        self.at = start;
        let mut escaped = false;
        while self.at < self.end {
            let b = self.bytes[self.at];
            if b == b'\\' {
                escaped = true;
                if self.peek(1) == b'\n' {
                    self.line += 1;
                }
                self.at += 2;
                continue;
            }
            if b == quote {
                let value = &self.text[start..self.at];
                self.at += 1;
                match self.want {
                    Want::String | Want::StringInParen if !escaped && !value.is_empty() => {
                        out.push(Import {
                            specifier: value,
                            line,
                        });
                    }
                    _ => {}
                }
                self.want = Want::None;
                self.prev = Prev::Value;
                self.mock_object = false;
                return;
            }
            if b == b'\n' {
                break;
            }
            self.at += 1;
        }
        // Unterminated: give up on this line.
        self.want = Want::None;
        self.prev = Prev::Operator;
    }

    /// The rest of a template literal after its opening backtick (or a
    /// `${…}`'s closing brace), up to its end or the next `${`.
    fn template(&mut self) {
        while self.at < self.end {
            match self.bytes[self.at] {
                b'\\' => {
                    if self.peek(1) == b'\n' {
                        self.line += 1;
                    }
                    self.at += 2;
                }
                b'`' => {
                    self.at += 1;
                    self.prev = Prev::Value;
                    self.want = Want::None;
                    return;
                }
                b'$' if self.peek(1) == b'{' => {
                    self.at += 2;
                    self.braces += 1;
                    self.templates.push(self.braces);
                    self.prev = Prev::Operator;
                    self.want = Want::None;
                    return;
                }
                b'\n' => {
                    self.line += 1;
                    self.at += 1;
                }
                _ => self.at += 1,
            }
        }
    }

    fn number(&mut self) {
        while self.at < self.end
            && (is_ident_part(self.bytes[self.at]) || self.bytes[self.at] == b'.')
        {
            self.at += 1;
        }
        self.prev = Prev::Value;
        self.want = Want::None;
    }

    fn ident(&mut self) {
        let start = self.at;
        // The first byte may be `#` (a private name), which no later is.
        self.at += 1;
        while self.at < self.end && is_ident_part(self.bytes[self.at]) {
            self.at += 1;
        }
        let word = &self.bytes[start..self.at];
        let after_dot = self.prev == Prev::Dot;
        let mock_object = std::mem::take(&mut self.mock_object);
        let want = self.want;
        self.want = Want::None;
        self.prev = Prev::Value;
        if after_dot {
            // `jest.mock(`, `vi.mock(`, `jest.requireActual(`.
            if mock_object
                && matches!(
                    word,
                    b"mock" | b"doMock" | b"requireActual" | b"importActual" | b"requireMock"
                )
            {
                self.want = Want::Paren;
            }
            return;
        }
        match word {
            b"import" => {
                // `import.meta` is no import; `import(` is dynamic;
                // `import x from`, `import 'x'`, `import type … from`.
                if self.next_significant() == b'.' {
                    return;
                }
                self.want = if self.next_significant() == b'(' {
                    Want::Paren
                } else {
                    Want::String
                };
                self.prev = Prev::Operator;
            }
            b"from" => {
                self.want = Want::String;
                self.prev = Prev::Operator;
            }
            b"require" => self.want = Want::Paren,
            b"jest" | b"vi" => self.mock_object = self.next_significant() == b'.',
            // A name bound by `import x` or `import type`, or `* as x`:
            // the statement goes on to `from`.
            _ if want == Want::String => self.want = Want::None,
            b"return" | b"typeof" | b"instanceof" | b"in" | b"of" | b"new" | b"delete"
            | b"void" | b"throw" | b"case" | b"do" | b"else" | b"yield" | b"await" => {
                self.prev = Prev::Keyword;
            }
            _ => {}
        }
    }

    /// The next byte that is no whitespace or comment, without moving.
    fn next_significant(&self) -> u8 {
        let mut i = self.at;
        while i < self.end {
            match self.bytes[i] {
                b' ' | b'\t' | b'\r' | b'\n' => i += 1,
                b'/' if self.bytes.get(i + 1) == Some(&b'/') => {
                    while i < self.end && self.bytes[i] != b'\n' {
                        i += 1;
                    }
                }
                b'/' if self.bytes.get(i + 1) == Some(&b'*') => {
                    i += 2;
                    while i + 1 < self.end && !(self.bytes[i] == b'*' && self.bytes[i + 1] == b'/')
                    {
                        i += 1;
                    }
                    i += 2;
                }
                b => return b,
            }
        }
        0
    }
}

fn is_ident_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_' || b == b'$' || b == b'#' || b >= 0x80
}

fn is_ident_part(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'$' || b >= 0x80
}

#[cfg(test)]
mod tests {
    use super::*;

    fn specifiers(path: &str, text: &str) -> Vec<(String, u32)> {
        scan(path, text)
            .into_iter()
            .map(|i| (i.specifier.to_owned(), i.line))
            .collect()
    }

    fn names(text: &str) -> Vec<String> {
        specifiers("a.ts", text)
            .into_iter()
            .map(|(s, _)| s)
            .collect()
    }

    #[test]
    fn every_import_form_is_found_with_its_line() {
        let text = "\
import a from '@acme/a';
import { b,
  c } from \"@acme/b\";
import type { T } from '@acme/types';
import * as ns from './ns';
import 'side-effect';
export { x } from '@acme/x';
export * from '@acme/star';
export type { Y } from '@acme/y';
const r = require('@acme/req');
const lazy = await import('@acme/lazy');
jest.mock('@acme/mocked');
vi.mock('@acme/vi', () => ({}));
import fs = require('node:fs');
const actual = jest.requireActual('@acme/actual');
";
        assert_eq!(
            specifiers("a.ts", text),
            [
                ("@acme/a".to_owned(), 1),
                ("@acme/b".to_owned(), 3),
                ("@acme/types".to_owned(), 4),
                ("./ns".to_owned(), 5),
                ("side-effect".to_owned(), 6),
                ("@acme/x".to_owned(), 7),
                ("@acme/star".to_owned(), 8),
                ("@acme/y".to_owned(), 9),
                ("@acme/req".to_owned(), 10),
                ("@acme/lazy".to_owned(), 11),
                ("@acme/mocked".to_owned(), 12),
                ("@acme/vi".to_owned(), 13),
                ("node:fs".to_owned(), 14),
                ("@acme/actual".to_owned(), 15),
            ]
        );
    }

    /// The table of tricky sources: each must import exactly what it says.
    #[test]
    fn tricky_sources() {
        let cases: &[(&str, &[&str])] = &[
            // Comments.
            ("// import a from 'a'\nimport b from 'b';", &["b"]),
            ("/* import a from 'a' */ import b from 'b';", &["b"]),
            ("/**\n * require('a')\n */\nrequire('b')", &["b"]),
            // Strings that are not specifiers.
            ("const s = \"import a from 'a'\";", &[]),
            ("const s = 'from'; f('x');", &[]),
            ("log('require(\"a\")')", &[]),
            // Template literals, nested ones, and code inside them.
            ("const t = `import a from 'a'`;", &[]),
            (
                "const t = `${x} from 'a' ${`inner ${y}`}`; import b from 'b';",
                &["b"],
            ),
            ("const t = `${require('a')}`;", &["a"]),
            (
                "const t = `${ {a: 1}.a } import x from 'x'`; import 'c';",
                &["c"],
            ),
            // Regular expressions containing `from '…'` and quotes.
            ("const re = /from 'a'/; import b from 'b';", &["b"]),
            ("const re = /['\"]/g; import b from 'b';", &["b"]),
            ("if (/import '(a)'/.test(s)) {}\nimport 'b';", &["b"]),
            ("const re = /[/]from 'a'/; import 'b';", &["b"]),
            ("return /require('a')/;", &[]),
            // Division is no regular expression.
            (
                "const x = a / b; import c from 'c'; const y = d / e;",
                &["c"],
            ),
            ("const x = (a) / 2 / 3; import 'c';", &["c"]),
            // import.meta and member names.
            ("const u = import.meta.url; import 'a';", &["a"]),
            ("obj.import('a'); x.require('b'); Array.from('c');", &[]),
            ("obj?.require('b');", &[]),
            ("const from = 'a';", &[]),
            // Type-only and multi-line forms.
            (
                "import type {\n  A,\n  B,\n} from\n  '@acme/t';",
                &["@acme/t"],
            ),
            (
                "import {\n  a, // from 'x'\n  b /* from 'y' */\n} from 'z';",
                &["z"],
            ),
            ("import\n  // comment\n  ('lazy')", &["lazy"]),
            ("export default from;", &[]),
            // Non-literal dynamic imports are no specifier.
            ("import(name); require(`x`); require(a + 'b');", &[]),
            // A stray quote in JSX text costs only its line.
            (
                "const el = <p>Don't do this</p>;\nimport 'after';",
                &["after"],
            ),
            // Escapes.
            ("const s = 'it\\'s'; import 'a';", &["a"]),
            // Numbers, including ones with a dot.
            ("const n = 1.5 / 2; const m = .5; import 'a';", &["a"]),
            // Private fields and an odd identifier.
            ("class A { #from = 1; }\nimport 'a';", &["a"]),
        ];
        for (text, expected) in cases {
            assert_eq!(names(text), *expected, "in {text:?}");
        }
    }

    #[test]
    fn vue_and_svelte_files_are_scanned_in_their_script_blocks() {
        let vue = "<template>\n  <p>import x from 'no'</p>\n</template>\n<script setup lang=\"ts\">\nimport Button from '@acme/ui';\n</script>\n<script>\nexport { y } from './y';\n</script>\n";
        assert_eq!(
            specifiers("App.vue", vue),
            [("@acme/ui".to_owned(), 5), ("./y".to_owned(), 8)]
        );
        let svelte =
            "<script>\n  import { store } from '$lib/store';\n</script>\n<h1>from 'nothing'</h1>";
        assert_eq!(
            specifiers("A.svelte", svelte),
            [("$lib/store".to_owned(), 2)]
        );
    }

    #[test]
    fn source_files_are_told_by_extension() {
        for path in [
            "a.ts", "b/c.tsx", "x.d.ts", "m.mjs", "c.cts", "App.vue", "A.svelte",
        ] {
            assert!(is_source(path), "{path}");
        }
        for path in ["a.json", "README.md", "tsconfig", "a.ts.snap", "x.css"] {
            assert!(!is_source(path), "{path}");
        }
    }
}

#[cfg(test)]
mod properties {
    use proptest::prelude::*;

    use super::scan;

    /// Lines that import nothing, whatever they hold that looks like an
    /// import.
    fn noise() -> impl Strategy<Value = String> {
        prop_oneof![
            Just("// import a from 'noise'".to_owned()),
            Just("/* require('noise') */".to_owned()),
            Just("const s = \"import 'noise'\";".to_owned()),
            Just("const t = `from 'noise' ${x / 2}`;".to_owned()),
            Just("const re = /from 'noise'/g;".to_owned()),
            Just("const q = a / b / c;".to_owned()),
            Just("obj.require('noise');".to_owned()),
            Just("const u = import.meta.url;".to_owned()),
            Just("function f() { return { a: 1 }; }".to_owned()),
            Just("<p>Don't import 'noise'</p>".to_owned()),
            "[a-z ]{0,20};",
        ]
    }

    /// A line importing `spec` in one of the forms.
    fn import(spec: String) -> impl Strategy<Value = (String, String)> {
        (0usize..9).prop_map(move |form| {
            let line = match form {
                0 => format!("import x from '{spec}';"),
                1 => format!("import {{ a,\n  b }} from \"{spec}\";"),
                2 => format!("import type {{ T }} from '{spec}';"),
                3 => format!("import '{spec}';"),
                4 => format!("export * from '{spec}';"),
                5 => format!("const r = require('{spec}');"),
                6 => format!("const m = await import('{spec}');"),
                7 => format!("jest.mock('{spec}');"),
                _ => format!("vi.mock(\"{spec}\", () => ({{}}));"),
            };
            (line, spec.clone())
        })
    }

    fn file() -> impl Strategy<Value = (String, Vec<String>)> {
        prop::collection::vec(
            prop_oneof![
                noise().prop_map(|n| (n, None)),
                "@[a-z]{1,6}/[a-z]{1,6}(/[a-z]{1,4})?"
                    .prop_flat_map(import)
                    .prop_map(|(line, spec)| (line, Some(spec))),
            ],
            0..30,
        )
        .prop_map(|lines| {
            let mut text = String::new();
            let mut specs = Vec::new();
            for (line, spec) in lines {
                text.push_str(&line);
                text.push('\n');
                specs.extend(spec);
            }
            (text, specs)
        })
    }

    proptest! {
        #[test]
        fn never_panics_on_arbitrary_bytes(bytes in prop::collection::vec(any::<u8>(), 0..2048)) {
            let text = String::from_utf8_lossy(&bytes);
            for path in ["a.ts", "a.vue", "a.svelte"] {
                for import in scan(path, &text) {
                    prop_assert!(!import.specifier.is_empty());
                    prop_assert!(import.line >= 1);
                }
            }
        }

        #[test]
        fn finds_every_specifier_and_nothing_else((text, specs) in file()) {
            let found: Vec<&str> = scan("a.ts", &text).iter().map(|i| i.specifier).collect();
            prop_assert_eq!(found, specs, "in {}", text);
        }
    }
}

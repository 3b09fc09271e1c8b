//! Where a project reference in a Gradle build script stands: which
//! project's configuration it is in (`project(':x') { … }`,
//! `subprojects { … }`, `allprojects { … }`, `configure(…) { … }`, or the
//! script's own project), whether it is a dependency at all (inside a
//! `dependencies { … }` block, a `dependencySubstitution`, a
//! `testFixtures(…)`, or the argument of a configuration call), and whether
//! it is a test-only one (a test configuration or test source set).

use super::groovy::{closing, identifier_before, in_spans, is_ident, string_at, string_spans};

/// Which projects a reference configures.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Target {
    /// The project whose script this is.
    Own,
    /// `project(':x') { … }`: that project (a path as written).
    Project(String),
    /// `subprojects { … }` or a `configure(…)` that cannot be narrowed:
    /// every project below the script's own.
    Subprojects,
    /// `allprojects { … }`: the script's project and every one below it.
    All,
    /// `configure([project(':a'), project(':b')]) { … }`: those projects.
    Listed(Vec<String>),
}

/// What a reference at one position means.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Place {
    pub(crate) target: Target,
    /// A dependency declaration (not coverage wiring, publication or a
    /// task's input).
    pub(crate) dependency: bool,
    /// Used only by tests (a test configuration or source set).
    pub(crate) test: bool,
}

/// One `{ … }` block and the text that opens it.
#[derive(Debug)]
struct Block<'t> {
    /// Where the call opening it starts.
    start: usize,
    open: usize,
    close: usize,
    /// The call or name right before the `{`: `dependencies`,
    /// `project(':x')`, `configure(subprojects.filter { … })`.
    call: &'t str,
    /// The whole line up to the `{` (`val jvmTest by getting`).
    line: &'t str,
}

/// The blocks of a script (comments already blanked), outermost first.
pub(crate) struct Blocks<'t> {
    text: &'t str,
    blocks: Vec<Block<'t>>,
}

impl<'t> Blocks<'t> {
    pub(crate) fn new(text: &'t str) -> Blocks<'t> {
        let strings = string_spans(text);
        let bytes = text.as_bytes();
        let mut blocks = Vec::new();
        for (open, _) in text.match_indices('{') {
            if in_spans(&strings, open) || (open > 0 && bytes[open - 1] == b'$') {
                continue;
            }
            let Some(close) = closing(text, open) else {
                continue;
            };
            let call_start = call_start(text, open);
            let line_start = text[..call_start].rfind('\n').map_or(0, |i| i + 1);
            blocks.push(Block {
                start: call_start,
                open,
                close,
                call: text[call_start..open].trim(),
                line: &text[line_start..open],
            });
        }
        Blocks { text, blocks }
    }

    /// The outermost `project(':x') { … }` blocks: the project path as
    /// written, and the byte range from the call to the closing brace.
    pub(crate) fn project_blocks(&self) -> Vec<(String, usize, usize)> {
        let mut out: Vec<(String, usize, usize)> = Vec::new();
        for block in &self.blocks {
            if out
                .iter()
                .any(|&(_, start, end)| start <= block.open && block.open < end)
            {
                continue;
            }
            if let Some(Target::Project(path)) = block_target(block.call) {
                out.push((path, block.start, block.close + 1));
            }
        }
        out
    }

    /// What the reference at `at` means.
    pub(crate) fn place(&self, at: usize) -> Place {
        let enclosing: Vec<&Block<'_>> = self
            .blocks
            .iter()
            .filter(|b| b.open < at && at < b.close)
            .collect();
        // Innermost first, up to the block that names the target.
        let mut target = Target::Own;
        let mut inner: Vec<&Block<'_>> = Vec::new();
        for block in enclosing.iter().rev() {
            if let Some(t) = block_target(block.call) {
                target = t;
                break;
            }
            inner.push(block);
        }
        let config = configuration_before(self.text, at);
        let in_dependencies = inner.iter().any(|b| {
            let name = last_identifier(b.call);
            matches!(
                name,
                "dependencies" | "dependencySubstitution" | "constraints"
            )
        });
        let dependency = in_dependencies || config.is_some();
        let test = config.as_deref().is_some_and(is_test_configuration)
            || inner.iter().any(|b| is_test_source_set(b.line));
        Place {
            target,
            dependency,
            test,
        }
    }
}

/// Where the call opening a block at `open` starts: back over spaces, a
/// balanced `( … )` and the identifier chain before it.
fn call_start(text: &str, open: usize) -> usize {
    let bytes = text.as_bytes();
    let mut i = open;
    while i > 0 && bytes[i - 1].is_ascii_whitespace() && bytes[i - 1] != b'\n' {
        i -= 1;
    }
    if i > 0 && bytes[i - 1] == b')' {
        let mut depth = 0usize;
        let mut j = i;
        while j > 0 {
            j -= 1;
            match bytes[j] {
                b')' => depth += 1,
                b'(' => {
                    depth -= 1;
                    if depth == 0 {
                        break;
                    }
                }
                _ => {}
            }
        }
        i = j;
    }
    while i > 0 && (is_ident(bytes[i - 1]) || bytes[i - 1] == b'.') {
        i -= 1;
    }
    i
}

/// The last identifier of a call's name: `dependencies` in
/// `kotlin.sourceSets.jvmMain.dependencies`.
fn last_identifier(call: &str) -> &str {
    let name = call.split('(').next().unwrap_or(call).trim();
    name.rsplit('.').next().unwrap_or(name)
}

/// The projects a block configures, when it is a configuring block.
fn block_target(call: &str) -> Option<Target> {
    let name = call.split('(').next().unwrap_or(call).trim();
    match name {
        "subprojects" => Some(Target::Subprojects),
        "allprojects" => Some(Target::All),
        "project" => {
            let args = &call[name.len()..];
            let open = args.find('(')?;
            let (path, _) = string_at(args, open + 1 + leading_space(&args[open + 1..]))?;
            Some(Target::Project(path.to_owned()))
        }
        "configure" => {
            let args = &call[name.len()..];
            if args.contains("subprojects") || args.contains("allprojects") {
                return Some(Target::Subprojects);
            }
            let mut listed = Vec::new();
            for (at, _) in args.match_indices("project(") {
                let rest = &args[at + "project(".len()..];
                if let Some((path, _)) = string_at(rest, leading_space(rest)) {
                    listed.push(path.to_owned());
                }
            }
            Some(if listed.is_empty() {
                Target::Subprojects
            } else {
                Target::Listed(listed)
            })
        }
        _ => None,
    }
}

fn leading_space(text: &str) -> usize {
    text.len() - text.trim_start().len()
}

/// The configuration a reference at `at` is passed to:
/// `testImplementation` in `testImplementation(testFixtures(project(":a")))`,
/// `api` in `api project(':b')`, `"implementation"` in Kotlin's
/// `"implementation"(project(":c"))`, `add("testImplementation", …)`.
fn configuration_before(text: &str, at: usize) -> Option<String> {
    let mut name = identifier_before(text, at);
    let mut end = at;
    // `testFixtures(project(…))` is the configuration's argument: look one
    // call further out.
    if name == "testFixtures" || name == "platform" || name == "enforcedPlatform" {
        end = text[..at].rfind(name).unwrap_or(0);
        name = identifier_before(text, end);
    }
    if !name.is_empty() {
        return is_configuration(name).then(|| name.to_owned());
    }
    let before = text[..end].trim_end();
    let before = before.strip_suffix('(').unwrap_or(before).trim_end();
    // `"implementation"(project(":c"))` or `add("api", project(":d"))`.
    if let Some(quoted) = before
        .strip_suffix('"')
        .or_else(|| before.strip_suffix('\''))
    {
        let start = quoted.rfind(['"', '\''])?;
        let name = &quoted[start + 1..];
        return is_configuration(name).then(|| name.to_owned());
    }
    if let Some(args) = before.strip_suffix(',') {
        let args = args.trim_end();
        let quoted = args.strip_suffix('"').or_else(|| args.strip_suffix('\''))?;
        let start = quoted.rfind(['"', '\''])?;
        let name = &quoted[start + 1..];
        return is_configuration(name).then(|| name.to_owned());
    }
    None
}

/// Whether `name` reads as a dependency configuration: Gradle's own
/// (`implementation`, `api`, `compileOnly`, `runtimeOnly`, `annotationProcessor`,
/// the old `compile`/`testCompile`) and what plugins add in the same
/// shape (`kapt`, `ksp`, `jvmMainImplementation`, `testFixturesApi`).
fn is_configuration(name: &str) -> bool {
    const ENDINGS: [&str; 10] = [
        "implementation",
        "api",
        "compileonly",
        "runtimeonly",
        "compile",
        "runtime",
        "annotationprocessor",
        "kapt",
        "ksp",
        "compileonlyapi",
    ];
    let lower = name.to_ascii_lowercase();
    ENDINGS.iter().any(|e| lower.ends_with(e))
        || lower.starts_with("kapt")
        || lower.starts_with("ksp")
}

/// A test configuration (`testImplementation`, `androidTestApi`,
/// `jvmTestImplementation`, `kaptTest`); `testFixtures*` is not one: other
/// projects' tests consume it.
fn is_test_configuration(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    lower.contains("test") && !lower.starts_with("testfixtures")
}

/// Whether a block's line names a test source set: `test { … }`,
/// `val jvmTest by getting { … }`, `commonTest.dependencies { … }`,
/// `getByName("androidUnitTest") { … }`.
fn is_test_source_set(line: &str) -> bool {
    line.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .any(|word| {
            !word.starts_with("testFixtures")
                && (word == "test" || (word.ends_with("Test") && word.len() > 4))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn place_of(text: &str, needle: &str) -> Place {
        let at = text.find(needle).unwrap();
        Blocks::new(text).place(at)
    }

    #[test]
    fn a_root_script_configures_other_projects() {
        let text = r"
allprojects { repositories { mavenCentral() } }
project(':app') {
    dependencies {
        implementation project(':lib')
        testImplementation project(':testkit')
    }
}
subprojects {
    dependencies { implementation project(':common') }
}
configure([project(':a'), project(':b')]) {
    dependencies { api project(':shared') }
}
configure(subprojects.findAll { it.name != 'x' }) {
    dependencies { compileOnly project(':annotations') }
}
jacocoMerge { executionData project(':lib').file('x') }
";
        let p = place_of(text, "project(':lib')");
        assert_eq!(p.target, Target::Project(":app".into()));
        assert!(p.dependency && !p.test, "{p:?}");
        let p = place_of(text, "project(':testkit')");
        assert!(p.dependency && p.test, "{p:?}");
        assert_eq!(
            place_of(text, "project(':common')").target,
            Target::Subprojects
        );
        assert_eq!(
            place_of(text, "project(':shared')").target,
            Target::Listed(vec![":a".into(), ":b".into()])
        );
        assert_eq!(
            place_of(text, "project(':annotations')").target,
            Target::Subprojects
        );
        let p = place_of(text, "project(':lib').file");
        assert!(!p.dependency, "coverage wiring is no dependency: {p:?}");
        let p = place_of(text, "project(':app')");
        assert!(!p.dependency, "the configuring call itself: {p:?}");
    }

    #[test]
    fn kotlin_source_sets_and_configuration_calls() {
        let text = r#"
kotlin {
    sourceSets {
        commonMain.dependencies { api(projects.core) }
        val jvmTest by getting {
            dependencies { implementation(projects.addon) }
        }
        androidUnitTest.dependencies { implementation(projects.fake) }
    }
}
dependencies {
    testImplementation(testFixtures(project(":fixtures")))
    testFixturesApi(project(":base"))
    "implementation"(project(":quoted"))
    add("testRuntimeOnly", project(":driver"))
}
publishing { publications { create("x") { from(projects.core) } } }
"#;
        let p = place_of(text, "projects.core)");
        assert!(p.dependency && !p.test, "{p:?}");
        let p = place_of(text, "projects.addon");
        assert!(p.dependency && p.test, "{p:?}");
        assert!(place_of(text, "projects.fake").test);
        let p = place_of(text, "project(\":fixtures\")");
        assert!(p.dependency && p.test, "{p:?}");
        let p = place_of(text, "project(\":base\")");
        assert!(
            p.dependency && !p.test,
            "test fixtures stay transitive: {p:?}"
        );
        assert!(place_of(text, "project(\":quoted\")").dependency);
        let p = place_of(text, "project(\":driver\")");
        assert!(p.dependency && p.test, "{p:?}");
        let p = place_of(text, "projects.core) } } }");
        assert!(!p.dependency, "publication is no dependency: {p:?}");
    }
}

use crate::inputs::SharedInput;

fn check(base: &str, head: &str, expected: &str) {
    crate::inputs::testing::check(SharedInput::CargoLock, Some(base), Some(head), expected);
}

const BASE: &str = r#"
version = 4
[[package]]
name = "app"
version = "0.1.0"
dependencies = ["core", "serde"]
[[package]]
name = "core"
version = "0.1.0"
dependencies = ["itoa"]
[[package]]
name = "itoa"
version = "1.0.1"
source = "registry+https://github.com/rust-lang/crates.io-index"
[[package]]
name = "serde"
version = "1.0.1"
source = "registry+https://github.com/rust-lang/crates.io-index"
"#;

#[test]
fn a_bump_reaches_the_members_that_use_it() {
    check(BASE, BASE, "");
    check(
        BASE,
        &BASE.replace("1.0.1\"\nsource", "1.0.2\"\nsource"),
        concat!("app: serde 1.0.1 -> 1.0.2\n", "core: itoa 1.0.1 -> 1.0.2"),
    );
    check(
        BASE,
        &BASE.replace("\"serde\"]", "]"),
        "app: serde 1.0.1 changed",
    );
}

#[test]
fn a_lockfile_that_does_not_parse_is_everything() {
    check(
        BASE,
        "[[package]\n",
        concat!(
            "everything: Cargo.lock could not be parsed (at head: unclosed array table, expected `]`), so every package is affected\n",
            "warning: Cargo.lock could not be parsed (at head: unclosed array table, expected `]`), so every package is affected"
        ),
    );
    check(
        BASE,
        &BASE.replace("\"core\", ", "\"nothing\", "),
        concat!(
            "everything: Cargo.lock could not be parsed (at head: app depends on \"nothing\", which the lockfile does not list), so every package is affected\n",
            "warning: Cargo.lock could not be parsed (at head: app depends on \"nothing\", which the lockfile does not list), so every package is affected"
        ),
    );
}

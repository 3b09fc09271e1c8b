use crate::inputs::SharedInput;

fn check(base: &str, head: &str, expected: &str) {
    crate::inputs::testing::check(SharedInput::UvLock, Some(base), Some(head), expected);
}

const BASE: &str = r#"version = 1
revision = 5

[manifest]
members = ["lib", "service"]

[manifest.dependency-groups]
dev = [{ name = "iniconfig", specifier = "==2.0.0" }]

[[package]]
name = "service"
version = "0.1.0"
source = { editable = "py/app" }
dependencies = [{ name = "lib" }, { name = "httpx" }]

[[package]]
name = "lib"
version = "0.1.0"
source = { editable = "py/lib" }

[package.optional-dependencies]
fast = [{ name = "idna" }]

[[package]]
name = "httpx"
version = "0.27.0"
source = { registry = "https://pypi.org/simple" }
dependencies = [{ name = "idna" }]

[[package]]
name = "idna"
version = "3.6"
source = { registry = "https://pypi.org/simple" }

[[package]]
name = "iniconfig"
version = "2.0.0"
source = { registry = "https://pypi.org/simple" }
"#;

#[test]
fn changes_walk_up_to_members_and_the_virtual_root() {
    check(BASE, BASE, "");
    check(
        BASE,
        &BASE.replace("version = \"3.6\"", "version = \"3.7\""),
        "lib: idna 3.6 -> 3.7\nservice: idna 3.6 -> 3.7",
    );
    check(
        BASE,
        &BASE.replace("0.27.0", "0.28.0"),
        "service: httpx 0.27.0 -> 0.28.0",
    );
    check(
        BASE,
        &BASE.replace("version = \"2.0.0\"", "version = \"2.1.0\""),
        "(root): iniconfig 2.0.0 -> 2.1.0",
    );
}

#[test]
fn junk_is_everything() {
    check(
        BASE,
        "[[package]\n",
        concat!(
            "everything: uv.lock could not be parsed (at head: unclosed array table, expected `]`), so every package is affected\n",
            "warning: uv.lock could not be parsed (at head: unclosed array table, expected `]`), so every package is affected"
        ),
    );
}

use crate::inputs::SharedInput;

fn check(base: &str, head: &str, expected: &str) {
    crate::inputs::testing::check(SharedInput::NpmLock, Some(base), Some(head), expected);
}

const BASE: &str = r#"{"lockfileVersion": 3, "packages": {
    "": {"workspaces": ["apps/*", "packages/*"]},
    "apps/web": {"name": "web", "dependencies": {"@x/ui": "*", "react": "^18"}},
    "packages/ui": {"name": "@x/ui", "dependencies": {"lodash": "^4"}},
    "node_modules/web": {"resolved": "apps/web", "link": true},
    "node_modules/@x/ui": {"resolved": "packages/ui", "link": true},
    "node_modules/react": {"version": "18.2.0", "integrity": "sha512-a"},
    "node_modules/lodash": {"version": "4.17.20", "integrity": "sha512-b"}
}}"#;

#[test]
fn node_resolution_reaches_the_members() {
    check(BASE, BASE, "");
    check(
        BASE,
        &BASE.replace(
            "4.17.20\", \"integrity\": \"sha512-b",
            "4.17.21\", \"integrity\": \"sha512-c",
        ),
        "@x/ui: lodash 4.17.20 -> 4.17.21",
    );
    check(
        BASE,
        &BASE.replace(
            "18.2.0\", \"integrity\": \"sha512-a",
            "18.3.0\", \"integrity\": \"sha512-d",
        ),
        "web: react 18.2.0 -> 18.3.0",
    );
}

#[test]
fn the_roots_own_dependencies_are_the_roots() {
    let base = BASE.replace(
        r#""": {"workspaces": ["apps/*", "packages/*"]},"#,
        r#""": {"workspaces": ["apps/*", "packages/*"], "devDependencies": {"vitest": "3.1.0"}},
    "node_modules/vitest": {"version": "3.1.0", "dev": true, "integrity": "sha512-v"},"#,
    );
    check(
        &base,
        &base.replace(
            r#""3.1.0", "dev": true, "integrity": "sha512-v""#,
            r#""3.2.0", "dev": true, "integrity": "sha512-w""#,
        ),
        "(root): vitest 3.1.0 -> 3.2.0",
    );
}

#[test]
fn junk_is_everything() {
    check(
        BASE,
        "{\"packages\": ",
        concat!(
            "everything: package-lock.json could not be parsed (at head: EOF while parsing a value at line 1 column 13), so every package is affected\n",
            "warning: package-lock.json could not be parsed (at head: EOF while parsing a value at line 1 column 13), so every package is affected"
        ),
    );
    check(
        BASE,
        "[]",
        concat!(
            "everything: package-lock.json could not be parsed (at head: lockfileVersion 0 has no \"packages\" map (version 1 lockfiles are not supported; npm 7 and later write version 2 or 3)), so every package is affected\n",
            "warning: package-lock.json could not be parsed (at head: lockfileVersion 0 has no \"packages\" map (version 1 lockfiles are not supported; npm 7 and later write version 2 or 3)), so every package is affected"
        ),
    );
}

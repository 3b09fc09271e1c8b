use crate::inputs::SharedInput;

fn check(base: &str, head: &str, expected: &str) {
    crate::inputs::testing::check(SharedInput::BunLock, Some(base), Some(head), expected);
}

const BASE: &str = r#"{
  "lockfileVersion": 1,
  "workspaces": {
"": { "name": "root", "devDependencies": { "vitest": "3.1.0" } },
"packages/ui": { "name": "@x/ui", "dependencies": { "lodash": "^4" } },
"apps/web": { "name": "web", "dependencies": { "@x/ui": "workspace:*", "lodash": "^3" } },
  },
  "packages": {
"@x/ui": ["@x/ui@workspace:packages/ui"],
"web": ["web@workspace:apps/web"],
"lodash": ["lodash@4.17.20", "", {}, "sha512-a"],
"web/lodash": ["lodash@3.10.1", "", {}, "sha512-b"],
"vitest": ["vitest@3.1.0", "", { "dependencies": { "tinyspy": "^3" } }, "sha512-c"],
"tinyspy": ["tinyspy@3.0.0", "", {}, "sha512-d"],
  }
}"#;

#[test]
fn nested_copies_and_the_root() {
    check(BASE, BASE, "");
    check(
        BASE,
        &BASE.replace(
            "lodash@4.17.20\", \"\", {}, \"sha512-a",
            "lodash@4.17.21\", \"\", {}, \"sha512-e",
        ),
        "@x/ui: lodash 3.10.1/4.17.20 -> 3.10.1/4.17.21",
    );
    check(
        BASE,
        &BASE.replace(
            "lodash@3.10.1\", \"\", {}, \"sha512-b",
            "lodash@3.10.2\", \"\", {}, \"sha512-f",
        ),
        "web: lodash 3.10.1/4.17.20 -> 3.10.2/4.17.20",
    );
    check(
        BASE,
        &BASE.replace(
            "tinyspy@3.0.0\", \"\", {}, \"sha512-d",
            "tinyspy@3.0.2\", \"\", {}, \"sha512-g",
        ),
        "(root): tinyspy 3.0.0 -> 3.0.2",
    );
}

use super::*;

#[test]
fn unknown_keys_are_named() {
    let err = parse(
        Path::new(".ci-matrix.toml"),
        "global = []\nignored = [\"x\"]\n",
    )
    .unwrap_err();
    let text = err.to_string();
    assert!(
        text.starts_with(
            "invalid configuration in .ci-matrix.toml: line 2: unknown field `ignored`"
        ),
        "{text}"
    );
    let err = parse(Path::new("c"), "[packages.web]\nextra-input = []\n").unwrap_err();
    assert!(
        err.to_string().contains("unknown field `extra-input`"),
        "{err}"
    );
}

#[test]
fn a_full_file_reads() {
    let config = parse(
        Path::new("c"),
        "global = [\"a\"]\nignore = [\"b\"]\n[packages.web]\nimplicit-dependencies = [\"ui\"]\nextra-inputs = [\"c/**\"]\n",
    )
    .unwrap();
    assert_eq!(config.global, ["a"]);
    assert_eq!(config.packages["web"].implicit_dependencies, ["ui"]);
    assert_eq!(config.packages["web"].extra_inputs, ["c/**"]);
    let config = parse(
        Path::new("c"),
        "unowned = \"all\"\nroot-dependencies = \"ignore\"\n",
    )
    .unwrap();
    assert_eq!(config.unowned, Some(slipway_graph::Unowned::All));
    assert_eq!(
        config.root_dependencies,
        Some(slipway_graph::RootDependencies::Ignore)
    );
    let config = parse(
        Path::new("c"),
        "[tasks.lint]\ninputs = [\"src/**\"]\ndependencies = false\n[packages.web.tasks.lint]\ninputs = []\n",
    )
    .unwrap();
    assert_eq!(config.tasks["lint"].dependencies, Some(false));
    assert_eq!(
        config.packages["web"].tasks["lint"].inputs.as_deref(),
        Some(&[][..])
    );
    let err = parse(Path::new("c"), "[tasks.lint]\ninput = []\n").unwrap_err();
    assert!(err.to_string().contains("unknown field `input`"), "{err}");
    let err = parse(Path::new("c"), "unowned = \"none\"\n").unwrap_err();
    assert!(
        err.to_string()
            .contains("unknown variant `none`, expected `root` or `all`"),
        "{err}"
    );
}

//! Maven builds read from their POMs alone: modules (profiles' too),
//! groupIds inherited from the parent, every kind of edge, and the root
//! aggregator POM compared precisely. The layout is that of common public
//! multi-module builds: a root parent with CI-friendly `${revision}`
//! versions and managed dependency versions, an intermediate parent for a
//! group of services, an in-repository BOM, and a module only a profile
//! adds.

use super::{affected_by, explain};
use crate::support::Repo;

fn pom(body: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<project xmlns=\"http://maven.apache.org/POM/4.0.0\">\n  <modelVersion>4.0.0</modelVersion>\n{body}\n</project>\n"
    )
}

fn parent(artifact: &str) -> String {
    format!(
        "  <parent><groupId>org.acme</groupId><artifactId>{artifact}</artifactId><version>${{revision}}</version></parent>"
    )
}

const ROOT: &str = r"  <groupId>org.acme</groupId>
  <artifactId>acme-parent</artifactId>
  <version>${revision}</version>
  <packaging>pom</packaging>
  <properties>
    <revision>1.0.0-SNAPSHOT</revision>
    <jackson.version>2.17.0</jackson.version>
    <jackson-databind.version>${jackson.version}</jackson-databind.version>
    <guava.version>33.0.0-jre</guava.version>
  </properties>
  <modules>
    <module>bom</module>
    <module>common</module>
    <module>services</module>
    <module>app</module>
  </modules>
  <profiles>
    <profile><id>it</id><modules><module>integration-tests</module></modules></profile>
    <profile><id>tools</id><modules><module>tools/common</module></modules></profile>
  </profiles>
  <dependencyManagement>
    <dependencies>
      <dependency><groupId>com.fasterxml.jackson.core</groupId><artifactId>jackson-databind</artifactId><version>${jackson-databind.version}</version></dependency>
      <dependency><groupId>com.google.guava</groupId><artifactId>guava</artifactId><version>${guava.version}</version></dependency>
    </dependencies>
  </dependencyManagement>
  <build><plugins><plugin><artifactId>maven-surefire-plugin</artifactId><version>3.2.5</version></plugin></plugins></build>";

fn build() -> Repo {
    let dep = |group: &str, artifact: &str, extra: &str| {
        format!(
            "<dependency><groupId>{group}</groupId><artifactId>{artifact}</artifactId>{extra}</dependency>"
        )
    };
    let files = [
        ("pom.xml".to_owned(), pom(ROOT)),
        (
            "bom/pom.xml".to_owned(),
            pom(&format!(
                "{}\n  <artifactId>acme-bom</artifactId>\n  <packaging>pom</packaging>",
                parent("acme-parent")
            )),
        ),
        (
            "common/pom.xml".to_owned(),
            pom(&format!(
                "{}\n  <artifactId>common</artifactId>\n  <dependencies>{}</dependencies>",
                parent("acme-parent"),
                dep("com.google.guava", "guava", "")
            )),
        ),
        (
            "services/pom.xml".to_owned(),
            pom(&format!(
                "{}\n  <artifactId>services-parent</artifactId>\n  <packaging>pom</packaging>\n  <modules><module>billing</module><module>users</module></modules>",
                parent("acme-parent")
            )),
        ),
        (
            "services/billing/pom.xml".to_owned(),
            pom(&format!(
                "{}\n  <artifactId>billing</artifactId>\n  <dependencies>{}{}</dependencies>",
                parent("services-parent"),
                dep(
                    "${project.groupId}",
                    "common",
                    "<version>${project.version}</version>"
                ),
                dep("com.fasterxml.jackson.core", "jackson-databind", "")
            )),
        ),
        (
            "services/users/pom.xml".to_owned(),
            pom(&format!(
                "{}\n  <groupId>org.acme.users</groupId>\n  <artifactId>users</artifactId>\n  <dependencies>{}</dependencies>",
                parent("services-parent"),
                dep("org.acme", "common", "<scope>test</scope>")
            )),
        ),
        (
            "app/pom.xml".to_owned(),
            pom(&format!(
                "{}\n  <artifactId>app</artifactId>\n  <dependencyManagement><dependencies>{}</dependencies></dependencyManagement>\n  <dependencies>{}{}</dependencies>",
                parent("acme-parent"),
                dep(
                    "org.acme",
                    "acme-bom",
                    "<version>${revision}</version><type>pom</type><scope>import</scope>"
                ),
                dep("org.acme", "billing", ""),
                dep("org.acme.users", "users", "")
            )),
        ),
        (
            "integration-tests/pom.xml".to_owned(),
            pom(&format!(
                "{}\n  <artifactId>integration-tests</artifactId>\n  <dependencies>{}</dependencies>",
                parent("acme-parent"),
                dep("org.acme", "app", "<scope>test</scope>")
            )),
        ),
        (
            "tools/common/pom.xml".to_owned(),
            // Its parent is two levels up: relativePath says so.
            pom(
                "  <parent><groupId>org.acme</groupId><artifactId>acme-parent</artifactId><version>${revision}</version><relativePath>../../pom.xml</relativePath></parent>\n  <groupId>org.acme.tools</groupId>\n  <artifactId>common</artifactId>",
            ),
        ),
        (
            "common/src/main/java/org/acme/Strings.java".to_owned(),
            "class Strings {}\n".to_owned(),
        ),
        ("README.md".to_owned(), "# acme\n".to_owned()),
    ];
    Repo::with_owned_files(&files)
}

#[test]
fn a_change_in_a_library_module_affects_its_dependents_of_every_scope() {
    let repo = build();
    let got = affected_by(
        &repo,
        &[(
            "common/src/main/java/org/acme/Strings.java",
            Some("class Strings { int x; }\n"),
        )],
    );
    insta::assert_snapshot!(got, @r"
    app (maven) app: app <- billing <- org.acme:common <- common/src/main/java/org/acme/Strings.java
    billing (maven) services/billing: billing <- org.acme:common <- common/src/main/java/org/acme/Strings.java
    integration-tests (maven) integration-tests: integration-tests <- app <- billing <- org.acme:common <- common/src/main/java/org/acme/Strings.java
    org.acme:common (maven) common: org.acme:common <- common/src/main/java/org/acme/Strings.java
    users (maven) services/users: users <- org.acme:common <- common/src/main/java/org/acme/Strings.java
    ");
    let why = explain(&repo, "users");
    assert!(
        why.contains("edges: users -> org.acme:common (test-only)"),
        "{why}"
    );
}

/// A test-scoped module ends at the module whose tests use it, and a build
/// plugin declared without a groupId (`org.apache.maven.plugins`) is never
/// matched to a module of another group with the same artifactId (an
/// integration-test stub).
#[test]
fn test_scope_ends_at_the_module_and_plugins_match_by_full_coordinates() {
    let repo = build();
    repo.write(
        "it-stubs/compiler/pom.xml",
        &pom(&format!(
            "{}\n  <groupId>org.acme.it</groupId>\n  <artifactId>maven-compiler-plugin</artifactId>",
            parent("acme-parent")
        )),
    );
    let root = std::fs::read_to_string(repo.path().join("pom.xml")).unwrap();
    repo.write(
        "pom.xml",
        &root.replace(
            "<module>tools/common</module>",
            "<module>tools/common</module><module>it-stubs/compiler</module>",
        ),
    );
    let billing = std::fs::read_to_string(repo.path().join("services/billing/pom.xml")).unwrap();
    repo.write(
        "services/billing/pom.xml",
        &billing.replace(
            "</project>",
            "  <build><plugins><plugin><artifactId>maven-compiler-plugin</artifactId></plugin></plugins></build>\n</project>",
        ),
    );
    repo.commit("an integration-test stub named like a plugin");
    let got = affected_by(
        &repo,
        &[("it-stubs/compiler/src/Stub.java", Some("class Stub {}\n"))],
    );
    assert_eq!(
        got,
        "maven-compiler-plugin (maven) it-stubs/compiler: maven-compiler-plugin <- it-stubs/compiler/src/Stub.java\n"
    );
    // users' tests use common: users is affected, its dependent app is not.
    let got = affected_by(
        &repo,
        &[("services/users/src/Users.java", Some("class Users {}\n"))],
    );
    assert!(got.contains("app (maven) app: app <- users"), "{got}");
    let got = affected_by(&repo, &[("tools/common/src/T.java", Some("class T {}\n"))]);
    assert!(!got.contains("users"), "{got}");
}

#[test]
fn a_managed_version_bump_in_the_root_pom_affects_only_the_modules_declaring_it() {
    let repo = build();
    let bumped = ROOT.replace("<jackson.version>2.17.0<", "<jackson.version>2.17.1<");
    let got = affected_by(&repo, &[("pom.xml", Some(&pom(&bumped)))]);
    insta::assert_snapshot!(got, @r"
    app (maven) app: app <- billing <- pom.xml (dependencyManagement com.fasterxml.jackson.core:jackson-databind ${jackson-databind.version} -> ${jackson-databind.version})
    billing (maven) services/billing: billing <- pom.xml (dependencyManagement com.fasterxml.jackson.core:jackson-databind ${jackson-databind.version} -> ${jackson-databind.version})
    integration-tests (maven) integration-tests: integration-tests <- app <- billing <- pom.xml (dependencyManagement com.fasterxml.jackson.core:jackson-databind ${jackson-databind.version} -> ${jackson-databind.version})
    ");
}

#[test]
fn the_revision_property_is_every_modules_version() {
    let repo = build();
    let bumped = ROOT.replace("<revision>1.0.0-SNAPSHOT<", "<revision>1.1.0-SNAPSHOT<");
    let got = affected_by(&repo, &[("pom.xml", Some(&pom(&bumped)))]);
    assert_eq!(got.lines().count(), 8, "every module: {got}");
    assert!(
        got.contains("org.acme.tools:common (maven) tools/common: org.acme.tools:common <- pom.xml (property revision 1.0.0-SNAPSHOT -> 1.1.0-SNAPSHOT)"),
        "{got}"
    );
}

#[test]
fn any_other_change_to_the_root_pom_affects_every_module_and_says_why() {
    let repo = build();
    let changed = ROOT.replace("<version>3.2.5</version>", "<version>3.3.0</version>");
    repo.write("pom.xml", &pom(&changed));
    repo.commit("surefire");
    let out = repo
        .ci_matrix()
        .args(["--base", "HEAD~1", "--format", "json"])
        .success();
    let report: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(report["affected"].as_array().unwrap().len(), 8);
    assert_eq!(
        report["global_triggers"][0]["why"],
        "pom.xml changed outside <properties> and <dependencyManagement>, and the root POM is every module's parent"
    );
    // Reformatting and comments are no change.
    let reformatted = pom(ROOT).replace("<modules>", "<!-- the build -->\n  <modules>");
    let got = affected_by(
        &repo,
        &[("pom.xml", Some(&reformatted.replace("3.2.5", "3.3.0")))],
    );
    assert_eq!(got, "");
}

#[test]
fn an_intermediate_parent_marks_its_children_and_a_readme_at_the_root_nothing() {
    let repo = build();
    let services = std::fs::read_to_string(repo.path().join("services/pom.xml")).unwrap();
    let got = affected_by(
        &repo,
        &[
            (
                "services/pom.xml",
                Some(&services.replace(
                    "</modules>",
                    "</modules>\n  <description>services</description>",
                )),
            ),
            ("README.md", Some("# acme, documented\n")),
        ],
    );
    insta::assert_snapshot!(got, @r#"
    app (maven) app: app <- users <- services-parent <- services/pom.xml
    billing (maven) services/billing: billing <- services-parent <- services/pom.xml
    integration-tests (maven) integration-tests: integration-tests <- app <- users <- services-parent <- services/pom.xml
    services-parent (maven) services: services-parent <- services/pom.xml
    users (maven) services/users: users <- services-parent <- services/pom.xml
    unowned: ["README.md"]
    "#);
    let why = explain(&repo, "billing");
    assert!(why.contains("billing -> services-parent (parent)"), "{why}");
}

#[test]
fn an_in_repository_bom_import_is_an_edge() {
    let repo = build();
    let bom = std::fs::read_to_string(repo.path().join("bom/pom.xml")).unwrap();
    let got = affected_by(
        &repo,
        &[(
            "bom/pom.xml",
            Some(&bom.replace(
                "<packaging>pom</packaging>",
                "<packaging>pom</packaging><description>x</description>",
            )),
        )],
    );
    insta::assert_snapshot!(got, @r"
    acme-bom (maven) bom: acme-bom <- bom/pom.xml
    app (maven) app: app <- acme-bom <- bom/pom.xml
    integration-tests (maven) integration-tests: integration-tests <- app <- acme-bom <- bom/pom.xml
    ");
}

#[test]
fn a_module_without_a_pom_and_a_broken_pom_are_named() {
    let repo = build();
    repo.write(
        "pom.xml",
        &pom(&ROOT.replace(
            "<module>app</module>",
            "<module>app</module><module>gone</module>",
        )),
    );
    let out = repo.ci_matrix().args(["--changed-files", "[]"]).output();
    let err = out.failure(3);
    assert!(
        err.contains("pom.xml: module \"gone\" has no pom.xml"),
        "{err}"
    );

    let repo = build();
    repo.write("common/pom.xml", "<project><artifactId>common</project>\n");
    let out = repo.ci_matrix().args(["--changed-files", "[]"]).output();
    let err = out.failure(3);
    assert!(
        err.contains("invalid XML in") && err.contains("common/pom.xml at line 1"),
        "{err}"
    );
}

#[test]
fn an_edge_matched_by_artifact_id_alone_is_explained_as_assumed() {
    let repo = build();
    let app = std::fs::read_to_string(repo.path().join("app/pom.xml")).unwrap();
    repo.write(
        "app/pom.xml",
        &app.replace(
            "<dependencies><dependency><groupId>org.acme</groupId><artifactId>billing</artifactId>",
            "<dependencies><dependency><groupId>${billing.group}</groupId><artifactId>billing</artifactId>",
        ),
    );
    repo.commit("an unresolvable groupId");
    let got = affected_by(
        &repo,
        &[(
            "services/billing/src/Billing.java",
            Some("class Billing {}\n"),
        )],
    );
    assert!(
        got.contains("app (maven) app: app <- billing <- services/billing/src/Billing.java"),
        "{got}"
    );
    let why = explain(&repo, "app");
    assert!(
        why.contains("assumed: the groupId \"${billing.group}\" of billing could not be resolved, so the edge to module billing was matched by artifactId"),
        "{why}"
    );
}

/// A root POM with a parent outside the repository (the Apache parent)
/// may override that parent's properties: a changed property no module
/// reads is the parent's, which every module inherits, so every module is
/// affected, and the report says why. One a module reads stays precise.
#[test]
fn a_property_only_an_outside_parent_can_read_affects_every_module() {
    let repo = build();
    let root = std::fs::read_to_string(repo.path().join("pom.xml")).unwrap();
    let with_parent = root.replace(
        "  <groupId>org.acme</groupId>\n  <artifactId>acme-parent</artifactId>",
        "  <parent><groupId>org.apache</groupId><artifactId>apache</artifactId><version>35</version><relativePath/></parent>\n  <groupId>org.acme</groupId>\n  <artifactId>acme-parent</artifactId>",
    )
    .replace(
        "<revision>1.0.0-SNAPSHOT</revision>",
        "<revision>1.0.0-SNAPSHOT</revision>\n    <versions.junit5>5.14.4</versions.junit5>",
    );
    assert_ne!(root, with_parent);
    repo.write("pom.xml", &with_parent);
    repo.commit("an outside parent, and an override of its property");
    repo.write("pom.xml", &with_parent.replace("5.14.4", "5.14.5"));
    repo.commit("the junit override");
    let out = repo
        .ci_matrix()
        .args(["--base", "HEAD~1", "--format", "json"])
        .success();
    let report: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(report["affected"].as_array().unwrap().len(), 8, "{out}");
    assert_eq!(
        report["global_triggers"][0]["why"],
        "pom.xml: property versions.junit5 changed, no module uses it, and the parent POM org.apache:apache outside the repository may (assumed)"
    );
    // A property a module reads stays precise.
    let got = affected_by(
        &repo,
        &[(
            "pom.xml",
            Some(
                &with_parent
                    .replace("5.14.4", "5.14.5")
                    .replace("<guava.version>33.0.0-jre", "<guava.version>33.1.0-jre"),
            ),
        )],
    );
    // common declares guava; its dependents follow it, the rest do not.
    assert!(
        got.contains("org.acme:common (maven) common: org.acme:common <- pom.xml (dependencyManagement com.google.guava:guava"),
        "{got}"
    );
    assert_eq!(
        got.lines().count(),
        5,
        "common and its four dependents, of 8: {got}"
    );
}

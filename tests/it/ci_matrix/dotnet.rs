//! .NET solutions read from their project files alone, no SDK. The
//! fixture has the shape of public clean-architecture solutions (eShop,
//! the Clean Architecture template): a `.sln` at the root, `src/` and
//! `tests/`, central package management in `Directory.Packages.props`,
//! a root `Directory.Build.props` and another in `tests/` (the nearest
//! wins, as `MSBuild` imports it), Windows separators and
//! `$(MSBuildThisFileDirectory)` in references, an F# project, and a
//! `packages.lock.json` owned by its project. Each feature has its own case.

use std::fmt::Write as _;

use super::{affected_by, explain};
use crate::support::Repo;

const SLN: &str = "\u{feff}
Microsoft Visual Studio Solution File, Format Version 12.00
# Visual Studio Version 17
Project(\"{2150E333-8FDC-42A3-9474-1A3956D46DE8}\") = \"src\", \"src\", \"{A1}\"
EndProject
Project(\"{FAE04EC0-301F-11D3-BF4B-00C04F79EFBC}\") = \"Api\", \"src\\Api\\Api.csproj\", \"{B1}\"
EndProject
Project(\"{FAE04EC0-301F-11D3-BF4B-00C04F79EFBC}\") = \"Domain\", \"src\\Domain\\Domain.csproj\", \"{B2}\"
EndProject
Project(\"{FAE04EC0-301F-11D3-BF4B-00C04F79EFBC}\") = \"Infrastructure\", \"src\\Infrastructure\\Infrastructure.csproj\", \"{B3}\"
EndProject
Project(\"{FAE04EC0-301F-11D3-BF4B-00C04F79EFBC}\") = \"Api.Tests\", \"tests\\Api.Tests\\Api.Tests.csproj\", \"{B4}\"
EndProject
Project(\"{F2A71F9B-5D33-465A-A702-920D77279786}\") = \"Gen\", \"tools\\Gen\\Gen.fsproj\", \"{B5}\"
EndProject
Global
EndGlobal
";

const PACKAGES: &str = r#"<Project>
  <PropertyGroup>
    <ManagePackageVersionsCentrally>true</ManagePackageVersionsCentrally>
  </PropertyGroup>
  <ItemGroup>
    <PackageVersion Include="Serilog.AspNetCore" Version="8.0.2" />
    <PackageVersion Include="Microsoft.EntityFrameworkCore" Version="8.0.8" />
    <PackageVersion Include="xunit" Version="2.9.0" />
    <PackageVersion Include="FSharp.Core" Version="8.0.400" />
  </ItemGroup>
</Project>
"#;

fn csproj(items: &str) -> String {
    format!(
        "<Project Sdk=\"Microsoft.NET.Sdk\">\n  <PropertyGroup><TargetFramework>net8.0</TargetFramework></PropertyGroup>\n  <ItemGroup>\n{items}  </ItemGroup>\n</Project>\n"
    )
}

fn solution() -> Repo {
    let files: Vec<(String, String)> = vec![
        ("Shop.sln".into(), SLN.into()),
        ("Directory.Packages.props".into(), PACKAGES.into()),
        (
            "Directory.Build.props".into(),
            "<Project>\n  <PropertyGroup><Nullable>enable</Nullable></PropertyGroup>\n</Project>\n".into(),
        ),
        (
            "tests/Directory.Build.props".into(),
            "<Project>\n  <PropertyGroup><IsPackable>false</IsPackable></PropertyGroup>\n</Project>\n".into(),
        ),
        (
            "src/Api/Api.csproj".into(),
            csproj("    <ProjectReference Include=\"..\\Infrastructure\\Infrastructure.csproj\" />\n    <ProjectReference Include=\"..\\Domain\\Domain.csproj\" />\n    <PackageReference Include=\"Serilog.AspNetCore\" />\n"),
        ),
        ("src/Api/packages.lock.json".into(), "{\n  \"version\": 1\n}\n".into()),
        ("src/Domain/Domain.csproj".into(), csproj("")),
        ("src/Domain/Order.cs".into(), "public record Order(int Id);\n".into()),
        (
            "src/Infrastructure/Infrastructure.csproj".into(),
            csproj("    <ProjectReference Include=\"..\\Domain\\Domain.csproj\" />\n    <PackageReference Include=\"Microsoft.EntityFrameworkCore\" />\n"),
        ),
        (
            "tests/Api.Tests/Api.Tests.csproj".into(),
            csproj("    <ProjectReference Include=\"$(MSBuildThisFileDirectory)..\\..\\src\\Api\\Api.csproj\" />\n    <PackageReference Include=\"xunit\" />\n    <PackageReference Include=\"Microsoft.EntityFrameworkCore\" VersionOverride=\"8.0.0\" />\n"),
        ),
        (
            "tools/Gen/Gen.fsproj".into(),
            csproj("    <PackageReference Include=\"FSharp.Core\" />\n"),
        ),
        ("README.md".into(), "# shop\n".into()),
    ];
    Repo::with_owned_files(&files)
}

#[test]
fn a_source_change_follows_project_references() {
    let repo = solution();
    let got = affected_by(
        &repo,
        &[(
            "src/Domain/Order.cs",
            Some("public record Order(long Id);\n"),
        )],
    );
    insta::assert_snapshot!(got, @r"
    Api (dotnet) src/Api: Api <- Domain <- src/Domain/Order.cs
    Api.Tests (dotnet) tests/Api.Tests: Api.Tests <- Api <- Domain <- src/Domain/Order.cs
    Domain (dotnet) src/Domain: Domain <- src/Domain/Order.cs
    Infrastructure (dotnet) src/Infrastructure: Infrastructure <- Domain <- src/Domain/Order.cs
    ");
    let why = explain(&repo, "Api.Tests");
    assert!(why.contains("edges: Api.Tests -> Api (normal)"), "{why}");
}

#[test]
fn a_central_version_bump_affects_only_the_projects_referencing_it() {
    let repo = solution();
    let got = affected_by(
        &repo,
        &[(
            "Directory.Packages.props",
            Some(&PACKAGES.replace("8.0.8", "8.0.10")),
        )],
    );
    insta::assert_snapshot!(got, @r"
    Api (dotnet) src/Api: Api <- Infrastructure <- Directory.Packages.props (PackageVersion Microsoft.EntityFrameworkCore 8.0.8 -> 8.0.10)
    Api.Tests (dotnet) tests/Api.Tests: Api.Tests <- Api <- Infrastructure <- Directory.Packages.props (PackageVersion Microsoft.EntityFrameworkCore 8.0.8 -> 8.0.10)
    Infrastructure (dotnet) src/Infrastructure: Infrastructure <- Directory.Packages.props (PackageVersion Microsoft.EntityFrameworkCore 8.0.8 -> 8.0.10)
    ");
    let got = affected_by(
        &repo,
        &[(
            "Directory.Packages.props",
            Some(
                &PACKAGES
                    .replace("2.9.0", "2.9.2")
                    .replace("8.0.8", "8.0.10"),
            ),
        )],
    );
    insta::assert_snapshot!(got, @"Api.Tests (dotnet) tests/Api.Tests: Api.Tests <- Directory.Packages.props (PackageVersion xunit 2.9.0 -> 2.9.2)");
    // Anything else in it concerns every project below it.
    let got = affected_by(
        &repo,
        &[(
            "Directory.Packages.props",
            Some(&PACKAGES.replace("2.9.0", "2.9.2").replace("8.0.8", "8.0.10").replace(
                "</Project>",
                "  <ItemGroup><GlobalPackageReference Include=\"Nerdbank.GitVersioning\" Version=\"3.6.143\" /></ItemGroup>\n</Project>",
            )),
        )],
    );
    assert_eq!(got.lines().count(), 5, "{got}");
    assert!(got.contains("Gen (dotnet) tools/Gen: Gen <- Directory.Packages.props (changed outside its <PackageVersion> items"), "{got}");
}

#[test]
fn the_nearest_directory_build_props_wins() {
    let repo = solution();
    let got = affected_by(
        &repo,
        &[(
            "tests/Directory.Build.props",
            Some(
                "<Project>\n  <PropertyGroup><IsPackable>true</IsPackable></PropertyGroup>\n</Project>\n",
            ),
        )],
    );
    insta::assert_snapshot!(got, @"Api.Tests (dotnet) tests/Api.Tests: Api.Tests <- tests/Directory.Build.props");
    let got = affected_by(
        &repo,
        &[(
            "Directory.Build.props",
            Some(
                "<Project>\n  <PropertyGroup><Nullable>disable</Nullable></PropertyGroup>\n</Project>\n",
            ),
        )],
    );
    insta::assert_snapshot!(got, @r"
    Api (dotnet) src/Api: Api <- Directory.Build.props
    Api.Tests (dotnet) tests/Api.Tests: Api.Tests <- Api <- Directory.Build.props
    Domain (dotnet) src/Domain: Domain <- Directory.Build.props
    Gen (dotnet) tools/Gen: Gen <- Directory.Build.props
    Infrastructure (dotnet) src/Infrastructure: Infrastructure <- Directory.Build.props
    ");
}

#[test]
fn a_props_file_importing_its_parent_carries_the_parents_changes() {
    let repo = solution();
    repo.write(
        "tests/Directory.Build.props",
        "<Project>\n  <Import Project=\"$([MSBuild]::GetPathOfFileAbove('Directory.Build.props', '$(MSBuildThisFileDirectory)../'))\" />\n</Project>\n",
    );
    repo.commit("tests import the root props");
    let got = affected_by(
        &repo,
        &[(
            "Directory.Build.props",
            Some(
                "<Project>\n  <PropertyGroup><Nullable>disable</Nullable></PropertyGroup>\n</Project>\n",
            ),
        )],
    );
    assert!(
        got.contains("Api.Tests (dotnet) tests/Api.Tests: Api.Tests <- Directory.Build.props"),
        "{got}"
    );
}

#[test]
fn a_lockfile_belongs_to_its_project() {
    let repo = solution();
    let got = affected_by(
        &repo,
        &[(
            "src/Api/packages.lock.json",
            Some("{\n  \"version\": 2\n}\n"),
        )],
    );
    insta::assert_snapshot!(got, @r"
    Api (dotnet) src/Api: Api <- src/Api/packages.lock.json
    Api.Tests (dotnet) tests/Api.Tests: Api.Tests <- Api <- src/Api/packages.lock.json
    ");
}

#[test]
fn an_slnx_solution_and_a_tree_without_one_read_the_same_projects() {
    for (name, text) in [
        (
            "Shop.slnx",
            "<Solution>\n  <Folder Name=\"/src/\">\n    <Project Path=\"src/Lib/Lib.csproj\" />\n    <Project Path=\"src\\App\\App.vbproj\" />\n  </Folder>\n</Solution>\n",
        ),
        ("global.json", "{ \"sdk\": { \"version\": \"8.0.400\" } }\n"),
    ] {
        let repo = Repo::with_files(&[
            (name, text),
            ("src/Lib/Lib.csproj", &csproj("")),
            ("src/Lib/Lib.cs", "class Lib {}\n"),
            (
                "src/App/App.vbproj",
                &csproj("    <ProjectReference Include=\"../Lib/Lib.csproj\" />\n"),
            ),
        ]);
        let got = affected_by(&repo, &[("src/Lib/Lib.cs", Some("class Lib { }\n"))]);
        assert_eq!(
            got,
            "App (dotnet) src/App: App <- Lib <- src/Lib/Lib.cs\nLib (dotnet) src/Lib: Lib <- src/Lib/Lib.cs\n",
            "{name}"
        );
    }
}

#[test]
fn entity_bombs_end_at_once_with_exit_3_naming_the_file() {
    // Internal entities nested ten deep: 10^10 expansions if expanded.
    let mut dtd = String::from("<!ENTITY e0 \"lol\">");
    for i in 1..10 {
        let prev = format!("&e{};", i - 1);
        let _ = write!(dtd, "<!ENTITY e{i} \"{}\">", prev.repeat(10));
    }
    for (file, root) in [
        ("src/Domain/Domain.csproj", "Project"),
        ("pom.xml", "project"),
    ] {
        let repo = solution();
        repo.write(
            file,
            &format!("<?xml version=\"1.0\"?>\n<!DOCTYPE {root} [{dtd}]>\n<{root}>&e9;</{root}>\n"),
        );
        let out = repo.ci_matrix().args(["--changed-files", "[]"]).output();
        let err = out.failure(3);
        assert!(
            err.contains(file) && err.contains("invalid XML"),
            "{file}: {err}"
        );
    }
}

/// The shape of large .NET repositories: references built from a property
/// the root `Directory.Build.props` sets to `$(MSBuildThisFileDirectory)`,
/// a nested `Directory.Build.props` importing it with `GetPathOfFileAbove`,
/// a property from an imported `eng/` file, a wildcard include, and one
/// reference through a property nothing defines (assumed, and said so).
fn source_root_solution() -> Repo {
    let files: Vec<(String, String)> = vec![
        (
            "Directory.Build.props".into(),
            "<Project>\n  <PropertyGroup>\n    <SourceRoot>$(MSBuildThisFileDirectory)</SourceRoot>\n  </PropertyGroup>\n  <Import Project=\"$(SourceRoot)eng\\Paths.props\" />\n</Project>\n".into(),
        ),
        (
            "eng/Paths.props".into(),
            "<Project>\n  <PropertyGroup><LibsDir>$(SourceRoot)src\\libs\\</LibsDir></PropertyGroup>\n</Project>\n".into(),
        ),
        (
            "src/Directory.Build.props".into(),
            "<Project>\n  <Import Project=\"$([MSBuild]::GetPathOfFileAbove('Directory.Build.props', '$(MSBuildThisFileDirectory)../'))\" />\n  <PropertyGroup Condition=\"'$(Configuration)' == 'Debug'\"><Flavour>Debug</Flavour></PropertyGroup>\n</Project>\n".into(),
        ),
        // The shape some repositories use instead of GetPathOfFileAbove:
        // a property of the .NET SDK's own props names the file.
        (
            "tools/Directory.Build.props".into(),
            "<Project>\n  <PropertyGroup>\n    <_ParentProps Condition=\"'$(_DirectoryBuildPropsFile)' != ''\">$([System.IO.Path]::Combine('..', '$(_DirectoryBuildPropsFile)'))</_ParentProps>\n  </PropertyGroup>\n  <Import Project=\"$(_ParentProps)\" Condition=\"Exists('$(_ParentProps)')\" />\n</Project>\n".into(),
        ),
        (
            "tools/Gen/Gen.csproj".into(),
            csproj("    <ProjectReference Include=\"$(SourceRoot)src\\libs\\Core\\Core.csproj\" />\n"),
        ),
        ("src/libs/Core/Core.csproj".into(), csproj("")),
        ("src/libs/Core/Clock.cs".into(), "class Clock {}\n".into()),
        (
            "src/libs/Io/Io.csproj".into(),
            csproj("    <ProjectReference Include=\"$(LibsDir)Core\\Core.csproj\" />\n"),
        ),
        ("src/plugins/A/A.csproj".into(), csproj("")),
        ("src/plugins/B/B.csproj".into(), csproj("")),
        ("src/plugins/B/B.cs".into(), "class B {}\n".into()),
        (
            "src/App/App.csproj".into(),
            csproj("    <ProjectReference Include=\"$(SourceRoot)src\\libs\\Io\\Io.csproj\" />\n    <ProjectReference Include=\"..\\plugins\\*\\*.csproj\" />\n"),
        ),
        (
            "src/Tool/Tool.csproj".into(),
            csproj("    <ProjectReference Include=\"$(GeneratorRoot)Gen.csproj\" />\n"),
        ),
        (
            "src/Leaf/Leaf.csproj".into(),
            csproj("    <ProjectReference Include=\"$(SourceRoot)src\\libs\\Core\\Core.csproj\" />\n"),
        ),
        ("README.md".into(), "# big\n".into()),
    ];
    Repo::with_owned_files(&files)
}

#[test]
fn references_through_properties_imports_and_wildcards_are_evaluated() {
    let repo = source_root_solution();
    let got = affected_by(
        &repo,
        &[("src/libs/Core/Clock.cs", Some("class Clock { }\n"))],
    );
    insta::assert_snapshot!(got, @r"
    App (dotnet) src/App: App <- Io <- Core <- src/libs/Core/Clock.cs
    Core (dotnet) src/libs/Core: Core <- src/libs/Core/Clock.cs
    Gen (dotnet) tools/Gen: Gen <- Core <- src/libs/Core/Clock.cs
    Io (dotnet) src/libs/Io: Io <- Core <- src/libs/Core/Clock.cs
    Leaf (dotnet) src/Leaf: Leaf <- Core <- src/libs/Core/Clock.cs
    Tool (dotnet) src/Tool: Tool <- Core <- src/libs/Core/Clock.cs
    ");
    let why = explain(&repo, "Tool");
    assert!(
        why.contains("assumed: the ProjectReference \"$(GeneratorRoot)Gen.csproj\" in src/Tool/Tool.csproj uses $(GeneratorRoot), which no imported file defines, so src/Tool/Tool.csproj is taken to depend on every .NET project"),
        "{why}"
    );
    // The wildcard reaches both plugins, and nothing but Tool assumes.
    let got = affected_by(&repo, &[("src/plugins/B/B.cs", Some("class B { }\n"))]);
    insta::assert_snapshot!(got, @r"
    App (dotnet) src/App: App <- B <- src/plugins/B/B.cs
    B (dotnet) src/plugins/B: B <- src/plugins/B/B.cs
    Tool (dotnet) src/Tool: Tool <- B <- src/plugins/B/B.cs
    ");
    let report = repo
        .ci_matrix()
        .args(["--base", "HEAD~1", "--format", "json"])
        .success();
    let report: serde_json::Value = serde_json::from_str(&report).unwrap();
    let assumptions = report["assumptions"].as_array().unwrap();
    assert_eq!(assumptions.len(), 1, "{assumptions:?}");
    assert_eq!(assumptions[0]["package"], "Tool");
}

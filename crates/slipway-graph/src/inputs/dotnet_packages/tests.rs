use super::*;
use crate::graph::GraphBuilder;
use crate::model::Ecosystem;

const PROPS: &str = "Directory.Packages.props";
const BASE: &str = r#"<Project>
  <PropertyGroup><ManagePackageVersionsCentrally>true</ManagePackageVersionsCentrally></PropertyGroup>
  <ItemGroup>
<PackageVersion Include="Newtonsoft.Json" Version="13.0.1" />
<PackageVersion Include="xunit" Version="2.9.0" />
  </ItemGroup>
</Project>"#;

fn run(head: &str) -> Vec<String> {
    let mut b = GraphBuilder::new();
    for (name, packages) in [("Api", &["newtonsoft.json"][..]), ("Tests", &["xunit"][..])] {
        let id = b.add_package(name, name, Ecosystem::Dotnet).unwrap();
        b.add_read(id, keyed_read(PROPS, "below"));
        for p in packages {
            b.add_read(id, keyed_read(PROPS, &format!("package:{p}")));
        }
    }
    let g = b.build();
    let Resolution::Packages { packages, .. } =
        compare(&g, PROPS, Some(BASE), Some(head)).resolution
    else {
        panic!("packages expected");
    };
    packages
        .iter()
        .map(|(id, why)| format!("{} {why}", g.package(*id).name))
        .collect()
}

#[test]
fn a_changed_version_marks_its_referrers_only() {
    assert_eq!(
        run(&BASE.replace("13.0.1", "13.0.3")),
        ["Api PackageVersion Newtonsoft.Json 13.0.1 -> 13.0.3"]
    );
    assert!(run(BASE).is_empty());
    assert!(run(&BASE.replace("  <ItemGroup>", "  <!-- pinned -->\n  <ItemGroup>")).is_empty());
}

#[test]
fn any_other_change_marks_every_project_below() {
    let head = BASE.replace("</ItemGroup>", "</ItemGroup><ItemGroup><GlobalPackageReference Include=\"Nerdbank.GitVersioning\" /></ItemGroup>");
    assert_eq!(run(&head).len(), 2);
    assert_eq!(run("<Project").len(), 2, "unparseable");
}

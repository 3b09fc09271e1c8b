//! The matrix contract: GitHub's 256-job limit and 1 MB output limit.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use crate::support::Repo;

/// A graph-file workspace of `n` independent packages with long names.
fn many(n: usize, name_len: usize) -> Repo {
    let mut graph = String::from("{");
    for i in 0..n {
        if i > 0 {
            graph.push(',');
        }
        let _ = write!(graph, "\"p{i:04}{}\": {{}}", "x".repeat(name_len));
    }
    graph.push('}');
    Repo::with_files(&[("dep-graph.json", &graph)])
}

#[test]
fn three_hundred_packages_fit_in_256_jobs_with_none_dropped() {
    let repo = many(300, 0);
    let out = repo
        .ci_matrix()
        .args(["dep-graph.json", "[\"Makefile\"]", "--unowned", "all"])
        .success();
    let matrix: serde_json::Value = serde_json::from_str(&out).unwrap();
    let entries = matrix["include"].as_array().unwrap();
    assert!(entries.len() <= 256, "{} entries", entries.len());
    assert_eq!(entries.len(), 256);
    let mut seen = BTreeSet::new();
    for (i, entry) in entries.iter().enumerate() {
        assert_eq!(entry["shard"], i + 1);
        let packages = entry["packages"].as_array().unwrap();
        let paths = entry["paths"].as_array().unwrap();
        assert_eq!(packages.len(), paths.len());
        assert!((1..=2).contains(&packages.len()), "balanced shards");
        for p in packages {
            assert!(seen.insert(p.as_str().unwrap().to_owned()), "{p} twice");
        }
    }
    assert_eq!(seen.len(), 300, "every package exactly once");

    let out = repo
        .ci_matrix()
        .args([
            "dep-graph.json",
            "[\"Makefile\"]",
            "--unowned",
            "all",
            "--max-jobs",
            "300",
        ])
        .success();
    let matrix: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        matrix["include"][0],
        serde_json::json!({"package": "p0000", "path": "packages/p0000"})
    );
}

#[test]
fn a_matrix_over_the_output_limit_fails_or_goes_to_a_file() {
    // 2,000 packages with 400-character names: about 2 MB of matrix.
    let repo = many(2000, 400);
    let dir = tempfile::tempdir().unwrap();
    let output = dir.path().join("output");
    let out = repo
        .ci_matrix()
        .args([
            "dep-graph.json",
            "[\"Makefile\"]",
            "--unowned",
            "all",
            "--max-jobs",
            "2000",
        ])
        .env("GITHUB_OUTPUT", &output)
        .output();
    let stderr = out.failure(6);
    assert!(stderr.contains("over GitHub's limit"), "{stderr}");
    assert!(
        stderr.contains("--max-jobs") && stderr.contains("--output-file"),
        "{stderr}"
    );
    let written = std::fs::read_to_string(&output).unwrap_or_default();
    assert!(
        !written.contains("matrix<<"),
        "nothing cut short is written"
    );

    let file = dir.path().join("matrix.json");
    let out = repo
        .ci_matrix()
        .args([
            "dep-graph.json",
            "[\"Makefile\"]",
            "--unowned",
            "all",
            "--max-jobs",
            "2000",
            "--output-file",
        ])
        .args([&file])
        .env("GITHUB_OUTPUT", &output)
        .output();
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert_eq!(out.stdout, "", "data went to the file");
    let matrix: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    assert_eq!(matrix["include"].as_array().unwrap().len(), 2000);
    let written = std::fs::read_to_string(&output).unwrap();
    assert!(written.contains("output_file<<"), "{written}");
    assert!(written.contains("has_affected<<"));
    assert!(!written.contains("matrix<<"));
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(leftovers.len(), 2, "no temporary file left: {leftovers:?}");
}

/// A skewed distribution of job durations (1 to 10,000 seconds).
fn skewed(i: usize) -> f64 {
    let x = f64::from(u32::try_from((i * 7919) % 100 + 1).unwrap());
    x * x
}

fn max_shard_weight(matrix: &serde_json::Value, weight: &dyn Fn(&str) -> f64) -> (f64, usize) {
    let mut heaviest: f64 = 0.0;
    let mut count = 0;
    for entry in matrix["include"].as_array().unwrap() {
        let total: f64 = entry["packages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| weight(p.as_str().unwrap()))
            .sum();
        count += entry["packages"].as_array().unwrap().len();
        heaviest = heaviest.max(total);
    }
    (heaviest, count)
}

#[test]
fn weighted_shards_are_balanced_by_time() {
    let repo = many(300, 0);
    let timings: serde_json::Map<String, serde_json::Value> = (0..300)
        .map(|i| (format!("p{i:04}"), serde_json::json!(skewed(i))))
        .collect();
    let file = repo.path().join("timings.json");
    std::fs::write(&file, serde_json::Value::Object(timings).to_string()).unwrap();
    let weight = |name: &str| skewed(name[1..].parse().unwrap());
    let total: f64 = (0..300).map(skewed).sum();
    let heaviest_package = (0..300).map(skewed).fold(0.0, f64::max);
    for shards in [16usize, 100, 256] {
        let jobs = shards.to_string();
        let run = |timings: bool| {
            let mut run = repo.ci_matrix().args([
                "dep-graph.json",
                "[\"Makefile\"]",
                "--unowned",
                "all",
                "--max-jobs",
                &jobs,
            ]);
            if timings {
                run = run.arg_path("--timings", &file);
            }
            serde_json::from_str::<serde_json::Value>(&run.success()).unwrap()
        };
        let weighted = run(true);
        let (largest, count) = max_shard_weight(&weighted, &weight);
        assert_eq!(count, 300, "every package once");
        let bound = (1.1 * total / f64::from(u32::try_from(shards).unwrap())).max(heaviest_package);
        assert!(
            largest <= bound,
            "{shards} shards: largest {largest}, bound {bound}"
        );
        let said: f64 = weighted["include"][0]["weight"].as_f64().unwrap();
        assert!(said > 0.0, "each shard carries its weight");
        // Count-balanced packing of the same durations is the control.
        let counted = run(false);
        assert!(
            counted["include"][0].get("weight").is_none(),
            "no weight without weights"
        );
        if shards == 16 {
            let (largest, _) = max_shard_weight(&counted, &weight);
            assert!(
                largest > bound,
                "the control should be unbalanced: {largest} <= {bound}"
            );
        }
    }
    std::fs::write(&file, "{\"p0001\": \"slow\"}").unwrap();
    let out = repo
        .ci_matrix()
        .args(["dep-graph.json", "[\"Makefile\"]", "--max-jobs", "2"])
        .arg_path("--timings", &file)
        .output();
    let stderr = out.failure(3);
    assert!(
        stderr.contains("invalid timings in") && stderr.contains("\"p0001\""),
        "{stderr}"
    );
}

use super::*;

#[test]
fn task_names_are_checked() {
    let names = |given: &[&str]| {
        task_names(&given.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>())
            .map_err(|e| e.to_string())
    };
    assert_eq!(names(&["build", " test"]).unwrap(), ["build", "test"]);
    assert_eq!(
        names(&["build", "build"]).unwrap_err(),
        "--tasks \"build\": named twice"
    );
    assert!(names(&[""]).unwrap_err().contains("empty"));
    assert!(names(&["a#b"]).unwrap_err().contains("letters, digits"));
}

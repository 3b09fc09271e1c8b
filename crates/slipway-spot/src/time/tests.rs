use proptest::prelude::*;

use super::*;

#[test]
fn known_instants() {
    assert_eq!(parse_rfc3339("1970-01-01T00:00:00Z"), Some(0));
    assert_eq!(
        parse_rfc3339("2022-06-07T10:07:52+00:00"),
        Some(1_654_596_472)
    );
    assert_eq!(
        parse_rfc3339("2022-06-07T12:07:52+02:00"),
        Some(1_654_596_472)
    );
    assert_eq!(
        parse_rfc3339("2022-06-07T10:07:52.999Z"),
        Some(1_654_596_472)
    );
    assert_eq!(parse_rfc3339("2000-02-29T00:00:00Z"), Some(951_782_400));
    assert_eq!(format_rfc3339(1_654_596_472), "2022-06-07T10:07:52Z");
    for bad in [
        "",
        "2022-06-07",
        "2022-13-01T00:00:00Z",
        "2022-06-07T10:07:52",
        "2022-06-07T10:07:52+0000",
        "２０２２-06-07T10:07:52Z",
    ] {
        assert_eq!(parse_rfc3339(bad), None, "{bad}");
    }
    assert_eq!(parse_duration("7d"), Some(604_800));
    assert_eq!(parse_duration("90m"), Some(5400));
    assert_eq!(parse_duration("0h"), None);
    assert_eq!(parse_duration("7w"), None);
}

proptest! {
    #[test]
    fn format_and_parse_round_trip(seconds in -5_000_000_000i64..5_000_000_000) {
        prop_assert_eq!(parse_rfc3339(&format_rfc3339(seconds)), Some(seconds));
    }

    #[test]
    fn arbitrary_text_never_panics(text in "\\PC{0,40}") {
        let _ = parse_rfc3339(&text);
        let _ = parse_duration(&text);
    }
}

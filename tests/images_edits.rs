//! Byte-exact marker edits on a fixture with comments, tabs, anchors, aliases, merge keys,
//! single and double quotes, flow style, several documents, a block scalar, trailing
//! whitespace and no final newline, checked as LF, CRLF and with a byte-order mark.

use std::path::Path;

use kubeship::images::markers::{self, Setter};

fn fixture(name: &str) -> String {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/images/edits")
        .join(name);
    // Read as bytes so that nothing is normalized on the way in.
    String::from_utf8(std::fs::read(p).expect("fixture")).expect("UTF-8 fixture")
}

/// What the policies of the fixture choose.
fn new_value(policy: &str, setter: Setter) -> Option<&'static str> {
    Some(match (policy, setter) {
        ("web", Setter::Image) => "registry.example.com/web:1.1.0",
        ("web", Setter::Tag) => "1.1.0",
        ("web", Setter::Name) => "registry.example.com/web",
        ("web", Setter::Digest) => "sha256:abcd",
        ("side", Setter::Image) => "registry.example.com/side:2.0.0",
        ("numeric", Setter::Tag) => "1.10",
        ("unchanged", Setter::Tag) => "v1",
        _ => return None,
    })
}

fn update(text: &str) -> (String, usize) {
    let (found, problems) = markers::find(text);
    assert!(problems.is_empty(), "{problems:?}");
    let edits: Vec<(&markers::Marker, &str)> = found
        .iter()
        .filter_map(|m| {
            let new = new_value(&m.policy.name, m.setter)
                .unwrap_or_else(|| panic!("unexpected marker {m:?}"));
            (new != m.value).then_some((m, new))
        })
        .collect();
    (
        markers::apply(text, &edits).expect("edits apply"),
        found.len(),
    )
}

#[test]
fn every_byte_but_the_values_stays() {
    let input = fixture("input.yaml");
    let expected = fixture("expected.yaml");
    let (output, markers) = update(&input);
    assert_eq!(markers, 12);
    pretty_assertions::assert_eq!(output, expected);
    // Nothing left to do on the result.
    let (again, _) = update(&output);
    assert_eq!(again, expected);
}

#[test]
fn crlf_and_byte_order_mark_survive() {
    let crlf_in = fixture("input.yaml").replace('\n', "\r\n");
    let crlf_expected = fixture("expected.yaml").replace('\n', "\r\n");
    assert_eq!(update(&crlf_in).0, crlf_expected);

    let bom_in = format!("\u{feff}{}", fixture("input.yaml"));
    let bom_expected = format!("\u{feff}{}", fixture("expected.yaml"));
    assert_eq!(update(&bom_in).0, bom_expected);
}

#[test]
fn marker_positions_point_at_the_values() {
    let input = fixture("input.yaml");
    let (found, _) = markers::find(&input);
    let at: Vec<(u32, u32, &str)> = found
        .iter()
        .map(|m| (m.line, m.column, m.reference.as_str()))
        .collect();
    assert_eq!(at[0], (14, 16, "ns:web"));
    assert_eq!(at[1], (15, 29, "ns:side"));
    // The block scalar's text is not a marker; the last one has no newline after it.
    assert!(!at.iter().any(|(line, _, _)| *line == 35));
    assert_eq!(at.last().copied(), Some((37, 7, "ns:side")));
}

//! Quantity parsing against apimachinery's behaviour, case by case.

use super::*;

fn value(s: &str) -> i128 {
    Quantity::parse(s)
        .unwrap_or_else(|e| panic!("{s}: {e}"))
        .value()
        .unwrap()
}

fn canonical(s: &str) -> String {
    Quantity::parse(s).unwrap().canonical().unwrap()
}

#[test]
fn issue_vectors() {
    assert_eq!(value("2048m"), 3);
    assert_eq!(value("1E"), 1_000_000_000_000_000_000);
    assert_eq!(value("1E3"), 1000);
    assert_eq!(value("1e3"), 1000);
    assert_eq!(value("0.5Gi"), 536_870_912);
    assert_eq!(value("1.1Gi"), 1_181_116_007);
    assert_eq!(value("2Gi"), 2_147_483_648);
    assert_eq!(value("512m"), 1);
    for bad in ["1K", "1Gb", "1GiB", "1KB", "2 Gi", "16GiB"] {
        assert!(Quantity::parse(bad).is_err(), "{bad} must be rejected");
    }
}

#[test]
fn explanations_name_the_likely_intent() {
    let e = Quantity::parse("1K").unwrap_err();
    assert_eq!(e.kind, QuantityErrorKind::Suffix);
    assert!(
        e.message.contains("`k`") && e.message.contains("`Ki`"),
        "{e}"
    );
    let e = Quantity::parse("1Gb").unwrap_err();
    assert_eq!(e.kind, QuantityErrorKind::FormatWrong);
    assert!(e.message.contains("`Gi`"), "{e}");
    let e = Quantity::parse(" 1").unwrap_err();
    assert!(e.message.contains("whitespace"), "{e}");
    let e = Quantity::parse("1gi").unwrap_err();
    assert!(e.message.contains("`Gi`"), "{e}");
}

#[test]
fn canonical_for_patches() {
    // 2.5 × 16Gi, the recommended limit for a 16Gi request.
    assert_eq!(canonical_bytes(16 * (1 << 30) * 5 / 2), "40Gi");
    assert_eq!(canonical_bytes(1536 * (1 << 20)), "1536Mi");
    // Below 1024 there is no binary suffix: apimachinery switches to DecimalSI.
    assert_eq!(canonical_bytes(1000), "1k");
    assert_eq!(canonical_bytes(1025), "1025");
    assert_eq!(canonical_bytes(0), "0");
    assert_eq!(canonical("1.5Gi"), "1536Mi");
    assert_eq!(canonical("1.5"), "1500m");
}

#[test]
fn milli_value_is_millicores_rounded_up() {
    for (text, millis) in [
        ("500m", 500),
        ("2", 2000),
        ("0.1", 100),
        ("1.0001", 1001),
        ("1500m", 1500),
    ] {
        assert_eq!(
            Quantity::parse(text).unwrap().milli_value(),
            Some(millis),
            "{text}"
        );
    }
}

//! Kubernetes quantities: the vectors of apimachinery's `quantity_test.go` that apply to a
//! parser (TestQuantityParse, its invalid list, TestQuantityString, TestQuantityParseEmit,
//! TestInterpretExponentInt32Bounds), rewritten here, plus property tests.
//!
//! Values are compared in nano-units (10^-9) so fractional results are exact: `v("1.5")` is
//! 1_500_000_000.

use proptest::prelude::*;
use redline::units::quantity::{Format, Quantity, QuantityErrorKind, canonical_bytes};

const N: i128 = 1_000_000_000;

fn parse(s: &str) -> Quantity {
    Quantity::parse(s).unwrap_or_else(|e| panic!("{s:?} must parse: {e}"))
}

/// The value in nano-units, read back from the canonical string (which is exact).
fn nanos(q: &Quantity) -> i128 {
    let c = q.canonical().unwrap();
    let (sign, body) = c.strip_prefix('-').map_or((1, c.as_str()), |b| (-1, b));
    let split = body
        .find(|ch: char| !ch.is_ascii_digit())
        .unwrap_or(body.len());
    let (digits, suffix) = body.split_at(split);
    let m: i128 = digits.parse().unwrap();
    let scaled = match suffix {
        "" => m * N,
        "n" => m,
        "u" => m * 1_000,
        "m" => m * 1_000_000,
        "k" => m * 1_000 * N,
        "M" => m * 1_000_000 * N,
        "G" => m * 1_000_000_000 * N,
        "T" => m * 1_000_000_000_000 * N,
        "P" => m * 1_000_000_000_000_000 * N,
        "E" => m * 1_000_000_000_000_000_000 * N,
        "Ki" => m * (1 << 10) * N,
        "Mi" => m * (1 << 20) * N,
        "Gi" => m * (1 << 30) * N,
        "Ti" => m * (1 << 40) * N,
        "Pi" => m * (1 << 50) * N,
        "Ei" => m * (1 << 60) * N,
        e => {
            let exp: i32 = e[1..].parse().unwrap();
            if exp >= -9 {
                m * 10i128.pow((exp + 9) as u32)
            } else {
                panic!("below nano: {c}")
            }
        }
    };
    sign * scaled
}

/// `decQuantity(mantissa, exponent, format)` of the Go tests, in nanos.
fn dec(mantissa: i128, exponent: i32) -> i128 {
    if exponent >= -9 {
        mantissa * 10i128.pow((exponent + 9) as u32)
    } else {
        mantissa / 10i128.pow((-9 - exponent) as u32)
    }
}

use Format::{BinarySI as B, DecimalExponent as X, DecimalSI as D};

/// TestQuantityParse's table: input, expected value, expected format.
const PARSE_TABLE: &[(&str, i128, i32, Format)] = &[
    ("0", 0, 0, D),
    ("0n", 0, 0, D),
    ("0u", 0, 0, D),
    ("0m", 0, 0, D),
    ("0Ki", 0, 0, B),
    ("0k", 0, 0, D),
    ("0Mi", 0, 0, B),
    ("0M", 0, 0, D),
    ("0Gi", 0, 0, B),
    ("0G", 0, 0, D),
    ("0Ti", 0, 0, B),
    ("0T", 0, 0, D),
    ("1", 1, 0, D),
    ("1Ki", 1024, 0, B),
    ("8Ki", 8 * 1024, 0, B),
    ("7Mi", 7 * 1024 * 1024, 0, B),
    ("6Gi", 6 * 1024 * 1024 * 1024, 0, B),
    ("5Ti", 5 * 1024 * 1024 * 1024 * 1024, 0, B),
    ("4Pi", 4 * 1024 * 1024 * 1024 * 1024 * 1024, 0, B),
    ("3Ei", 3 * 1024 * 1024 * 1024 * 1024 * 1024 * 1024, 0, B),
    ("10Ti", 10 * 1024 * 1024 * 1024 * 1024, 0, B),
    ("100Ti", 100 * 1024 * 1024 * 1024 * 1024, 0, B),
    ("5n", 5, -9, D),
    ("4u", 4, -6, D),
    ("3m", 3, -3, D),
    ("9", 9, 0, D),
    ("8k", 8, 3, D),
    ("50k", 5, 4, D),
    ("7M", 7, 6, D),
    ("6G", 6, 9, D),
    ("5T", 5, 12, D),
    ("40T", 4, 13, D),
    ("300T", 3, 14, D),
    ("2P", 2, 15, D),
    ("1E", 1, 18, D),
    ("1E-3", 1, -3, X),
    ("1e3", 1, 3, X),
    ("1E6", 1, 6, X),
    ("1e9", 1, 9, X),
    ("1E12", 1, 12, X),
    ("1e15", 1, 15, X),
    ("1E18", 1, 18, X),
    ("1e14", 1, 14, X),
    ("1e13", 1, 13, X),
    ("100.035k", 100035, 0, D),
    ("0.001", 1, -3, D),
    ("0.0005k", 5, -1, D),
    ("0.005", 5, -3, D),
    ("0.05", 5, -2, D),
    ("0.5", 5, -1, D),
    ("0.00050k", 5, -1, D),
    ("0.00500", 5, -3, D),
    ("0.05000", 5, -2, D),
    ("0.50000", 5, -1, D),
    ("0.5e0", 5, -1, X),
    ("0.5e-1", 5, -2, X),
    ("0.5e-2", 5, -3, X),
    ("10.035M", 10035, 3, D),
    ("1.2e3", 12, 2, X),
    ("1.3E+6", 13, 5, X),
    ("1.40e9", 14, 8, X),
    ("1.53E12", 153, 10, X),
    ("1.6e15", 16, 14, X),
    ("1.7E18", 17, 17, X),
    ("9.01", 901, -2, D),
    ("8.1k", 81, 2, D),
    ("7.123456M", 7123456, 0, D),
    ("6.987654321G", 6987654321, 0, D),
    ("5.444T", 5444, 9, D),
    ("40.1T", 401, 11, D),
    ("300.2T", 3002, 11, D),
    ("2.5P", 25, 14, D),
    ("1.01E", 101, 16, D),
    // Things that saturate/round.
    ("3.001n", 4, -9, D),
    ("1.1E-9", 2, -9, X),
    ("0.0000000001", 1, -9, D),
    ("0.0000000005", 1, -9, D),
    ("0.00000000050", 1, -9, D),
    ("0.5e-9", 1, -9, X),
    ("0.9n", 1, -9, D),
    ("0.00000012345", 124, -9, D),
    ("0.00000012354", 124, -9, D),
    ("9Ei", i64::MAX as i128, 0, B),
    ("9223372036854775807Ki", i64::MAX as i128, 0, B),
    ("12E", 12, 18, D),
    // Fractional binary.
    ("100.035Ki", 10243584, -2, B),
    ("0.5Mi", 512 * 1024, 0, B),
    ("0.05Gi", 536870912, -1, B),
    ("0.025Ti", 274877906944, -1, B),
    // "Things written by trolls".
    ("0.000000000001Ki", 2, -9, D),
    (".001", 1, -3, D),
    (".0001k", 100, -3, D),
    ("1.", 1, 0, D),
    ("1.G", 1, 9, D),
];

fn check_parse_table(prefix: &str, sign: i128) {
    for (input, mantissa, exponent, format) in PARSE_TABLE {
        let text = format!("{prefix}{input}");
        let q = parse(&text);
        assert_eq!(nanos(&q), sign * dec(*mantissa, *exponent), "{text}");
        assert_eq!(q.format(), *format, "{text}");
    }
}

#[test]
fn parse_table_plain_negative_and_plus() {
    check_parse_table("", 1);
    check_parse_table("-", -1);
    check_parse_table("+", 1);
}

#[test]
fn invalid_inputs() {
    let invalid = [
        "",
        "1.1.M",
        "1+1.0M",
        "0.1mi",
        "0.1am",
        "aoeu",
        ".5i",
        "1i",
        "-3.01i",
        "-3.01e-",
        "1e4294967297",
        " 1",
        "1 ",
        // The issue's vectors and the usual mistakes.
        "1K",
        "1Gb",
        "1GiB",
        "1KB",
        "2 Gi",
        "1.5e3Gi",
        "1e",
        "1ee3",
    ];
    for s in invalid {
        assert!(Quantity::parse(s).is_err(), "{s:?} parsed unexpectedly");
    }
    assert_eq!(
        Quantity::parse("1K").unwrap_err().kind,
        QuantityErrorKind::Suffix
    );
    assert_eq!(
        Quantity::parse("1Gb").unwrap_err().kind,
        QuantityErrorKind::FormatWrong
    );
}

#[test]
fn exponent_bounds() {
    // TestInterpretExponentInt32Bounds, seen through ParseQuantity.
    assert!(Quantity::parse("1e14").is_ok());
    assert!(Quantity::parse("1E2147483647").is_ok());
    assert!(Quantity::parse("1E-2147483647").is_ok());
    for bad in [
        "1E2147483648",
        "1E-2147483648",
        "1E4294967297",
        "1E8589934592",
        "1E9223372036854775807",
        "1E9223372036854775808",
        "1E6024865272343",
    ] {
        assert!(Quantity::parse(bad).is_err(), "{bad}");
    }
    // A tiny value rounds up to one nano-unit; a huge one has no exact byte count.
    assert_eq!(nanos(&parse("1E-2147483647")), 1);
    assert_eq!(parse("1E2147483647").value(), None);
}

#[test]
fn parse_quantity_string_oddities() {
    // TestParseQuantityString: "." and "-." are numbers with no digits; the fast path reads 0.
    assert_eq!(parse(".").value(), Some(0));
    assert_eq!(parse("-.").value(), Some(0));
    // inf.Dec (the slow path) refuses a number without digits.
    assert_eq!(
        Quantity::parse(".e-10").unwrap_err().kind,
        QuantityErrorKind::Numeric
    );
}

#[test]
fn issue_values() {
    assert_eq!(parse("2048m").value(), Some(3));
    assert_eq!(parse("1E").value(), Some(1_000_000_000_000_000_000));
    assert_eq!(parse("0.5Gi").bytes(), Some(536_870_912));
    assert_eq!(parse("1.1Gi").bytes(), Some(1_181_116_007));
    assert!(parse("2048m").has_fraction());
    assert!(!parse("1.5Gi").has_fraction());
}

/// TestQuantityString: (value as mantissa, exponent, format) → canonical string, and the
/// alternate spellings that canonicalize to it.
#[test]
fn canonical_strings() {
    let table: &[(&str, &str)] = &[
        ("1Gi", "1024Mi"),
        ("300Mi", "307200Ki"),
        ("6Ki", ""),
        ("1001Gi", "1025024Mi"),
        ("1Ti", "1024Gi"),
        ("1G", "1000M"),
        ("1G", "0.001T"),
        ("1m", "1000u"),
        ("80m", ""),
        ("1080m", "1.08"),
        ("1080m", "1080000000n"),
        ("300M", ""),
        ("1T", ""),
        ("1E", ""),
        ("1e21", "1000E"),
        ("5e21", "5000E"),
        ("1e24", "1000000E"),
        ("1234567M", ""),
        ("3k", ""),
        ("1025", ""),
        ("0", ""),
        ("1e9", ".001e12"),
        ("1e-3", "0.001e0"),
        ("1e-9", "1000e-12"),
        ("80e-3", ""),
        ("300e6", ""),
        ("1e12", ""),
        ("1e3", ""),
        ("3e3", ""),
        ("0", "00"),
        ("1n", ""),
        ("80n", ""),
        ("1080n", ""),
        ("1u", ""),
        ("80u", ""),
        ("1080u", ""),
    ];
    for (expect, alternate) in table {
        assert_eq!(parse(expect).canonical().unwrap(), *expect, "{expect}");
        if !alternate.is_empty() {
            assert_eq!(
                parse(alternate).canonical().unwrap(),
                *expect,
                "{alternate}"
            );
        }
        if *expect != "0" {
            assert_eq!(
                parse(&format!("-{expect}")).canonical().unwrap(),
                format!("-{expect}")
            );
        }
    }
    // TestQuantityParseEmit.
    for (input, expect) in [
        ("1Ki", "1Ki"),
        ("1Mi", "1Mi"),
        ("1Gi", "1Gi"),
        ("1024Mi", "1Gi"),
        ("1000M", "1G"),
        (".001Ki", "1024m"),
        (".000001Ki", "1024u"),
        (".000000001Ki", "1024n"),
        (".000000000001Ki", "2n"),
    ] {
        assert_eq!(parse(input).canonical().unwrap(), expect, "{input}");
        assert_eq!(
            parse(&format!("-{input}")).canonical().unwrap(),
            format!("-{expect}")
        );
    }
    // Binary values below 1024 and fractions are shown as DecimalSI.
    assert_eq!(parse("5").canonical().unwrap(), "5");
    assert_eq!(parse("0.5Ki").canonical().unwrap(), "512");
    assert_eq!(canonical_bytes(40 << 30), "40Gi");
}

fn suffix() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec![
        "", "n", "u", "m", "k", "M", "G", "T", "P", "E", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei", "e3",
        "e-3", "E6", "e0", "e-9", "e+2",
    ])
}

proptest! {
    /// parse ∘ canonical is the identity on values, and canonical is a fixed point.
    #[test]
    fn canonical_round_trips(
        sign in prop::sample::select(vec!["", "-", "+"]),
        int in "[0-9]{0,12}",
        frac in prop::option::of("[0-9]{0,12}"),
        suffix in suffix(),
    ) {
        let number = match &frac {
            Some(f) => format!("{int}.{f}"),
            None => int.clone(),
        };
        prop_assume!(!int.is_empty() || frac.as_ref().is_some_and(|f| !f.is_empty()));
        let text = format!("{sign}{number}{suffix}");
        let q = Quantity::parse(&text).unwrap();
        let canonical = q.canonical().unwrap();
        let again = Quantity::parse(&canonical).unwrap();
        prop_assert_eq!(q.cmp_value(&again), std::cmp::Ordering::Equal, "{} -> {}", text, canonical);
        prop_assert_eq!(again.canonical().unwrap(), canonical.clone());
        prop_assert_eq!(q.value(), again.value());
    }

    /// Every byte count Kubernetes can hold (BinarySI caps at 2^63-1) formats to a quantity
    /// that parses back to the same bytes.
    #[test]
    fn bytes_round_trip(bytes in 0..=i64::MAX as u64) {
        let text = canonical_bytes(bytes);
        prop_assert_eq!(Quantity::parse(&text).unwrap().bytes(), Some(bytes), "{}", text);
    }

    /// Value() rounds up: it is never below the exact value and less than one above it.
    #[test]
    fn value_rounds_up(int in 0u64..1_000_000, frac in 0u32..1000) {
        let q = Quantity::parse(&format!("{int}.{frac:03}")).unwrap();
        let expected = if frac == 0 { int as i128 } else { int as i128 + 1 };
        prop_assert_eq!(q.value(), Some(expected));
    }

    /// Arbitrary strings never panic.
    #[test]
    fn never_panics(s in "\\PC{0,24}") {
        let _ = Quantity::parse(&s);
    }
}

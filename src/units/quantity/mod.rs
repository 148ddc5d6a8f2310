//! Kubernetes `resource.Quantity`, parsed exactly as apimachinery's `ParseQuantity` does.
//!
//! Why our own parser: every memory rule compares a Kubernetes quantity with a Redis size, and
//! the crates that parse quantities get the traps wrong (`kube_quantity` reads `0.5Gi` as 0,
//! `byte-unit` reads `500m` as mega). The grammar and the traps come from
//! kubernetes/apimachinery@eed236c `pkg/api/resource/quantity.go` (`ParseQuantity`),
//! `suffix.go` and `quantity_test.go`, and from "Resource Management for Pods and Containers"
//! (https://kubernetes.io/docs/concepts/configuration/manage-resources-containers/):
//!
//! ```text
//! <quantity> ::= <sign>? <number> <suffix>
//! <number>   ::= digits | digits.digits | digits. | .digits
//! <suffix>   ::= Ki | Mi | Gi | Ti | Pi | Ei | n | u | m | "" | k | M | G | T | P | E
//!              | (e|E) <sign>? digits
//! ```
//!
//! - `m` is milli: `2048m` of memory is 2.048 bytes, and `Value()` rounds it **up** to 3.
//! - `1E` is 10^18 (exa) but `1E3` is 1000 (exponent).
//! - Suffixes are case-sensitive: `1K`, `1Gb`, `1GiB`, `1 Gi` are all invalid.
//! - Parsing rounds up (away from zero) to the nearest 10^-9; BinarySI values are capped at
//!   2^63-1; a BinarySI value strictly between 0 and 1 becomes DecimalSI.
//!
//! The port follows `parseQuantityString` and `ParseQuantity` of
//! `k8s.io/apimachinery/pkg/api/resource/quantity.go` step by step, so that it accepts and
//! rejects the same strings. One deliberate choice: an exponent outside ±(2^31-1) is rejected,
//! as current apimachinery does (`TestInterpretExponentInt32Bounds`); older releases truncated
//! it to an unrelated int32.

use std::cmp::Ordering;
use std::fmt;

use num_bigint::{BigInt, Sign};
use num_integer::Integer;
use num_traits::{One, Signed, ToPrimitive, Zero};

/// How a quantity is written; kept so that canonical output stays in the user's family.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// `12e6`, `1E-3`.
    DecimalExponent,
    /// `Ki`, `Mi`, … (powers of 1024).
    BinarySI,
    /// `n`, `u`, `m`, ``, `k`, `M`, … (powers of 1000).
    DecimalSI,
}

/// Why a string is not a quantity. `message` explains it to a human, with the likely intent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid quantity {input:?}: {message}")]
pub struct QuantityError {
    pub input: String,
    pub kind: QuantityErrorKind,
    pub message: String,
}

/// The three errors apimachinery distinguishes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QuantityErrorKind {
    /// `ErrFormatWrong`: not of the form `<number><suffix>`.
    FormatWrong,
    /// `ErrSuffix`: the suffix is not one Kubernetes knows.
    Suffix,
    /// `ErrNumeric`: the number part cannot be read.
    Numeric,
}

/// 10^-9 is the smallest unit a Quantity holds; values are stored as an exact count of it.
const NANO_PER_UNIT: u64 = 1_000_000_000;
/// Values of this magnitude are not materialised as big integers: a value of 10^400 bytes (or
/// more) is "out of range" for every purpose of this tool, and 10^2147483647 would not fit in
/// memory. Acceptance is unaffected: such strings still parse. (BinarySI values are capped
/// at 2^63-1 instead, as apimachinery caps them.)
const MAX_MATERIALISED_EXPONENT: i64 = 400;

/// A parsed quantity: its exact value (in nano-units, after apimachinery's rounding) and format.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Quantity {
    amount: Amount,
    format: Format,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Amount {
    /// Exact value × 10^9.
    Nanos(BigInt),
    /// The magnitude exceeds 10^400; only the sign is kept.
    Huge { negative: bool },
}

impl Quantity {
    /// Parses like `resource.ParseQuantity`. Whitespace is not trimmed (apimachinery trims only
    /// in `UnmarshalJSON`; YAML scalars reach us already trimmed).
    pub fn parse(input: &str) -> Result<Quantity, QuantityError> {
        parse(input)
    }

    /// A BinarySI quantity of exactly `bytes` (e.g. for a patch); prints as `40Gi`, `1536Mi`.
    pub fn from_bytes(bytes: u64) -> Quantity {
        Quantity {
            amount: Amount::Nanos(BigInt::from(bytes) * BigInt::from(NANO_PER_UNIT)),
            format: Format::BinarySI,
        }
    }

    pub fn format(&self) -> Format {
        self.format
    }

    /// `Quantity.Value()`: the value rounded up, away from zero, to an integer. `None` when it
    /// does not fit an i128 (apimachinery's own `Value()` would overflow int64 there too).
    pub fn value(&self) -> Option<i128> {
        match &self.amount {
            Amount::Nanos(n) => ceil_away_div(n, &BigInt::from(NANO_PER_UNIT)).to_i128(),
            Amount::Huge { .. } => None,
        }
    }

    /// `Quantity.MilliValue()`: thousandths, rounded up away from zero (a CPU in millicores).
    pub fn milli_value(&self) -> Option<i128> {
        match &self.amount {
            Amount::Nanos(n) => ceil_away_div(n, &BigInt::from(NANO_PER_UNIT / 1000)).to_i128(),
            Amount::Huge { .. } => None,
        }
    }

    /// The value as a byte count: `None` for negative values and values above u64::MAX.
    pub fn bytes(&self) -> Option<u64> {
        self.value().and_then(|v| u64::try_from(v).ok())
    }

    /// True when the quantity has a fractional part (e.g. `2048m`, `0.5`): a memory size with
    /// a fraction of a byte is always a mistake.
    pub fn has_fraction(&self) -> bool {
        match &self.amount {
            Amount::Nanos(n) => !(n % BigInt::from(NANO_PER_UNIT)).is_zero(),
            Amount::Huge { .. } => false,
        }
    }

    pub fn is_negative(&self) -> bool {
        match &self.amount {
            Amount::Nanos(n) => n.is_negative(),
            Amount::Huge { negative } => *negative,
        }
    }

    /// Compares two quantities by value (formats do not matter).
    pub fn cmp_value(&self, other: &Quantity) -> Ordering {
        match (&self.amount, &other.amount) {
            (Amount::Nanos(a), Amount::Nanos(b)) => a.cmp(b),
            (Amount::Huge { negative: a }, Amount::Huge { negative: b }) => b.cmp(a),
            (Amount::Huge { negative }, Amount::Nanos(_)) => {
                if *negative {
                    Ordering::Less
                } else {
                    Ordering::Greater
                }
            }
            (Amount::Nanos(_), Amount::Huge { negative }) => {
                if *negative {
                    Ordering::Greater
                } else {
                    Ordering::Less
                }
            }
        }
    }

    /// The canonical string, as `Quantity.String()` writes it: the suffix family is kept, with
    /// the largest suffix that leaves no fraction (`1.5Gi` → `1536Mi`, `1.5` → `1500m`).
    /// `None` only for values beyond 10^400, which this tool never writes.
    pub fn canonical(&self) -> Option<String> {
        let Amount::Nanos(nanos) = &self.amount else {
            return None;
        };
        if nanos.is_zero() {
            return Some("0".to_string());
        }
        let sign = if nanos.is_negative() { "-" } else { "" };
        let magnitude = nanos.abs();
        let nano = BigInt::from(NANO_PER_UNIT);
        let mut format = self.format;
        if format == Format::BinarySI {
            // apimachinery: values in (-1024, 1024) and values with a fraction are shown as
            // DecimalSI ("This avoids rounding and hopefully confusion, too").
            if magnitude < BigInt::from(1024u64) * &nano || !(&magnitude % &nano).is_zero() {
                format = Format::DecimalSI;
            }
        }
        let body = match format {
            Format::BinarySI => {
                let mut mantissa = magnitude / nano;
                let mut exponent = 0usize;
                let k = BigInt::from(1024u32);
                while exponent < BINARY_SUFFIXES.len() - 1 && (&mantissa % &k).is_zero() {
                    mantissa /= &k;
                    exponent += 1;
                }
                format!("{mantissa}{}", BINARY_SUFFIXES[exponent])
            }
            Format::DecimalSI | Format::DecimalExponent => {
                // Mantissa × 10^exponent with the exponent a multiple of 3, as large as possible.
                let mut mantissa = magnitude;
                let mut exponent: i64 = -9;
                let thousand = BigInt::from(1000u32);
                while (&mantissa % &thousand).is_zero() {
                    mantissa /= &thousand;
                    exponent += 3;
                }
                let suffix = match (format, decimal_suffix(exponent)) {
                    (Format::DecimalSI, Some(s)) => s.to_string(),
                    (_, _) if exponent == 0 => String::new(),
                    // No DecimalSI suffix beyond E: exponent notation keeps the magnitude.
                    _ => format!("e{exponent}"),
                };
                format!("{mantissa}{suffix}")
            }
        };
        Some(format!("{sign}{body}"))
    }
}

impl fmt::Display for Quantity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.canonical() {
            Some(s) => f.write_str(&s),
            None if self.is_negative() => f.write_str("-(more than 1e400)"),
            None => f.write_str("(more than 1e400)"),
        }
    }
}

/// The canonical BinarySI spelling of a byte count, as a patch should write it: `40Gi`,
/// `1536Mi`, `1k` (below 1024 apimachinery switches to DecimalSI). Kubernetes caps binary
/// quantities at 2^63-1, so larger counts do not survive a round trip through the API.
pub fn canonical_bytes(bytes: u64) -> String {
    Quantity::from_bytes(bytes).to_string()
}

const BINARY_SUFFIXES: [&str; 7] = ["", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"];

fn decimal_suffix(exponent: i64) -> Option<&'static str> {
    Some(match exponent {
        -9 => "n",
        -6 => "u",
        -3 => "m",
        0 => "",
        3 => "k",
        6 => "M",
        9 => "G",
        12 => "T",
        15 => "P",
        18 => "E",
        _ => return None,
    })
}

/// What `parseQuantityString` extracts; `digits_seen` tells whether any digit was present
/// (inf.Dec refuses a number without digits, apimachinery's fast path does not notice).
struct Parts<'a> {
    positive: bool,
    /// Integer digits without leading zeros ("0" when none are left).
    num: &'a str,
    denom: &'a str,
    suffix: &'a str,
    digits_seen: bool,
}

fn error(input: &str, kind: QuantityErrorKind, message: impl Into<String>) -> QuantityError {
    QuantityError {
        input: input.to_string(),
        kind,
        message: message.into(),
    }
}

/// `parseQuantityString`, byte for byte.
fn parse_quantity_string(s: &str) -> Result<Parts<'_>, QuantityError> {
    let b = s.as_bytes();
    let end = b.len();
    let mut pos = 0;
    let mut positive = true;
    match b.first() {
        Some(b'-') => {
            positive = false;
            pos += 1;
        }
        Some(b'+') => pos += 1,
        _ => {}
    }
    let sign_end = pos;
    while pos < end && b[pos] == b'0' {
        pos += 1;
    }
    if pos >= end {
        return Ok(Parts {
            positive,
            num: "0",
            denom: "",
            suffix: "",
            digits_seen: pos > sign_end,
        });
    }
    let num_start = pos;
    while pos < end && b[pos].is_ascii_digit() {
        pos += 1;
    }
    let digits_seen_int = pos > sign_end;
    let mut num = &s[num_start..pos];
    if num.is_empty() {
        num = "0";
    }
    let mut denom = "";
    if pos < end && b[pos] == b'.' {
        pos += 1;
        let denom_start = pos;
        while pos < end && b[pos].is_ascii_digit() {
            pos += 1;
        }
        denom = &s[denom_start..pos];
    }
    let digits_seen = digits_seen_int || !denom.is_empty();
    let suffix_start = pos;
    while pos < end && b"eEinumkKMGTP".contains(&b[pos]) {
        pos += 1;
    }
    if pos < end && (b[pos] == b'-' || b[pos] == b'+') {
        pos += 1;
    }
    while pos < end && b[pos].is_ascii_digit() {
        pos += 1;
    }
    if pos < end {
        return Err(explain_format_wrong(s, pos));
    }
    Ok(Parts {
        positive,
        num,
        denom,
        suffix: &s[suffix_start..],
        digits_seen,
    })
}

fn explain_format_wrong(s: &str, pos: usize) -> QuantityError {
    let kind = QuantityErrorKind::FormatWrong;
    if s.trim() != s {
        return error(s, kind, "leading or trailing whitespace is not allowed");
    }
    if s.contains(char::is_whitespace) {
        return error(
            s,
            kind,
            "no space is allowed between the number and the suffix",
        );
    }
    let rest = &s[pos..];
    let suffix: String = s
        .trim_start_matches(['+', '-'])
        .trim_start_matches(|c: char| c.is_ascii_digit() || c == '.')
        .to_string();
    if rest.starts_with(['b', 'B']) {
        let hint = binary_hint(suffix.trim_end_matches(['b', 'B']));
        return error(
            s,
            kind,
            format!("`{suffix}` is not a Kubernetes suffix: b/B are never part of one{hint}"),
        );
    }
    let lower = suffix.to_ascii_lowercase();
    if lower.len() == 2 && lower.ends_with('i') && "kmgtpe".contains(&lower[..1]) {
        let fixed = format!("{}i", lower[..1].to_ascii_uppercase());
        return error(
            s,
            kind,
            format!(
                "unknown suffix `{suffix}`: suffixes are case-sensitive; binary ones are written `{fixed}`"
            ),
        );
    }
    if rest.starts_with('.') {
        return error(s, kind, "a number has at most one decimal point");
    }
    error(
        s,
        kind,
        format!(
            "unexpected `{}` at offset {pos}: expected <number><suffix> with a suffix among \
             Ki Mi Gi Ti Pi Ei, n u m k M G T P E, or an exponent such as e6",
            rest.chars().next().unwrap_or(' ')
        ),
    )
}

fn binary_hint(prefix: &str) -> String {
    let upper = prefix.to_ascii_uppercase();
    let letter = upper.trim_end_matches('I');
    match letter {
        "K" => "; did you mean `Ki` (1024) or `k` (1000)?".to_string(),
        "M" | "G" | "T" | "P" | "E" => {
            format!("; did you mean `{letter}i` (binary) or `{letter}` (decimal)?")
        }
        _ => String::new(),
    }
}

/// The suffix table (`suffix.go`): base, exponent, format.
fn interpret(suffix: &str) -> Option<(u32, i64, Format)> {
    let decimal = |e| Some((10, e, Format::DecimalSI));
    let binary = |e| Some((2, e, Format::BinarySI));
    match suffix {
        "" => decimal(0),
        "n" => decimal(-9),
        "u" => decimal(-6),
        "m" => decimal(-3),
        "k" => decimal(3),
        "M" => decimal(6),
        "G" => decimal(9),
        "T" => decimal(12),
        "P" => decimal(15),
        "E" => decimal(18),
        "Ki" => binary(10),
        "Mi" => binary(20),
        "Gi" => binary(30),
        "Ti" => binary(40),
        "Pi" => binary(50),
        "Ei" => binary(60),
        s if s.len() > 1 && s.starts_with(['e', 'E']) => {
            // strconv.ParseInt(s[1:], 10, 64): optional sign, then decimal digits only.
            let exp_str = &s[1..];
            let digits = exp_str.strip_prefix(['+', '-']).unwrap_or(exp_str);
            if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            let parsed: i64 = exp_str.parse().ok()?;
            if parsed.unsigned_abs() > i32::MAX as u64 {
                return None;
            }
            Some((10, parsed, Format::DecimalExponent))
        }
        _ => None,
    }
}

fn explain_suffix(input: &str, suffix: &str) -> QuantityError {
    let kind = QuantityErrorKind::Suffix;
    let message = match suffix {
        "K" => "unknown suffix `K`: suffixes are case-sensitive; use `k` (1000) or `Ki` (1024)"
            .to_string(),
        "KI" | "ki" | "mi" | "gi" | "ti" | "pi" | "ei" | "MI" | "GI" | "TI" | "PI" | "EI" => {
            let fixed = format!("{}i", suffix[..1].to_ascii_uppercase());
            format!("unknown suffix `{suffix}`: binary suffixes are written `{fixed}`")
        }
        "i" => "unknown suffix `i`: a binary suffix needs its letter, e.g. `Mi`".to_string(),
        s if s.starts_with(['e', 'E']) && s.len() > 1 => format!(
            "bad exponent `{s}`: expected e or E, an optional sign and digits, within ±2147483647"
        ),
        s => format!(
            "unknown suffix `{s}`: expected one of Ki Mi Gi Ti Pi Ei (binary), n u m k M G T P E \
             (decimal) or an exponent such as e6"
        ),
    };
    error(input, kind, message)
}

fn pow10(exp: u32) -> BigInt {
    num_traits::pow(BigInt::from(10u32), exp as usize)
}

/// Division rounding away from zero (inf.RoundUp), for a positive divisor.
fn ceil_away_div(n: &BigInt, d: &BigInt) -> BigInt {
    let (q, r) = n.div_rem(d);
    if r.is_zero() {
        q
    } else if n.sign() == Sign::Minus {
        q - 1
    } else {
        q + 1
    }
}

fn parse(input: &str) -> Result<Quantity, QuantityError> {
    if input.is_empty() {
        return Err(error(
            input,
            QuantityErrorKind::FormatWrong,
            "an empty string is not a quantity",
        ));
    }
    let parts = parse_quantity_string(input)?;
    let Some((base, exponent, mut format)) = interpret(parts.suffix) else {
        return Err(explain_suffix(input, parts.suffix));
    };

    // apimachinery's fast path (int64Amount) handles what fits in int64 without rounding; it
    // never consults the digits, so `.` or `-` parse as 0 there. Everything else goes through
    // inf.Dec, whose scanner insists on at least one digit.
    let mut fast_path = false;
    let digit_count = (parts.num.len() + parts.denom.len()) as i64;
    match format {
        Format::DecimalExponent | Format::DecimalSI => {
            let precision = 18 - digit_count;
            let scale = exponent - parts.denom.len() as i64;
            if precision >= 0 && scale >= -9 {
                fast_path = true;
            }
        }
        Format::BinarySI => {
            if parts.denom.is_empty() {
                // precision = 15 - len(num) - int(exponent*3/10) - 1; the int64 multiply
                // must not overflow either (else the slow path caps the value).
                let precision = 15 - parts.num.len() as i64 - (exponent * 3 / 10) - 1;
                if precision >= 0 {
                    fast_path = true;
                }
            }
        }
    }
    if !fast_path && !parts.digits_seen {
        return Err(error(
            input,
            QuantityErrorKind::Numeric,
            "the number has no digits",
        ));
    }

    // Exact value × 10^9, rounded up (away from zero) to an integer: ParseQuantity rounds to
    // nano precision with inf.RoundUp.
    let mut digits = BigInt::parse_bytes(format!("{}{}", parts.num, parts.denom).as_bytes(), 10)
        .unwrap_or_default();
    if !parts.positive {
        digits = -digits;
    }
    let amount = if digits.is_zero() {
        Amount::Nanos(BigInt::zero())
    } else {
        let (ten_exp, two_exp) = if base == 2 {
            (0, exponent)
        } else {
            (exponent, 0)
        };
        let shift = ten_exp - parts.denom.len() as i64 + 9;
        // The value is `digits` × 10^shift nano-units: about `significant + shift` digits of
        // them. Deciding on the magnitude, not on the exponent as written, keeps one value
        // one thing however it is spelled (fuzzing found `3…0E376` materialised while its
        // canonical `3…e393` was not, so the two compared unequal).
        let significant = format!("{}{}", parts.num, parts.denom)
            .trim_start_matches('0')
            .len() as i64;
        if base == 10 && significant + shift > MAX_MATERIALISED_EXPONENT + 9 + 1 {
            Amount::Huge {
                negative: !parts.positive,
            }
        } else {
            let scaled = digits * (BigInt::one() << two_exp as usize);
            if shift >= 0 {
                Amount::Nanos(scaled * pow10(shift as u32))
            } else if -shift > digit_count + 20 {
                // |value| < 10^-9: rounds up (away from zero) to one nano-unit.
                Amount::Nanos(if parts.positive {
                    BigInt::one()
                } else {
                    -BigInt::one()
                })
            } else {
                Amount::Nanos(ceil_away_div(&scaled, &pow10((-shift) as u32)))
            }
        }
    };

    let limit = pow10((MAX_MATERIALISED_EXPONENT + 9) as u32);
    let amount = match amount {
        // At most one digit over the estimate above: the exact test.
        Amount::Nanos(n) if format != Format::BinarySI && n.abs() >= limit => Amount::Huge {
            negative: n.is_negative(),
        },
        Amount::Nanos(n) if format == Format::BinarySI => {
            // BinarySI is capped at 2^63-1 ("9Ei" and above), and a value strictly between 0
            // and 1 is shown as DecimalSI.
            let cap = BigInt::from(i64::MAX) * BigInt::from(NANO_PER_UNIT);
            let magnitude = n.abs();
            let capped = if magnitude > cap { cap } else { magnitude };
            if !capped.is_zero() && capped < BigInt::from(NANO_PER_UNIT) {
                format = Format::DecimalSI;
            }
            Amount::Nanos(if n.is_negative() { -capped } else { capped })
        }
        other => other,
    };
    Ok(Quantity { amount, format })
}

#[cfg(test)]
mod tests;

//! Redis memory sizes (`memtoull`, src/util.c) and the C number parsers redis.conf relies on.
//!
//! Redis reads sizes its own way, and the differences from Kubernetes are where crashes hide
//! (`memtoull()` in redis/redis@4f8cdc2 `src/util.c`, which `numericParseString` in
//! `src/config.c` uses for every memory config):
//!
//! | written | bytes |
//! |---|---|
//! | `N`, `Nb` | N |
//! | `k` / `kb` | 1000 / 1024 |
//! | `m` / `mb` | 10^6 / 2^20 |
//! | `g` / `gb` | 10^9 / 2^30 |
//!
//! Units are case-insensitive. There is no `t`/`tb`; signs, decimals (`1.5gb`), spaces and
//! Kubernetes suffixes (`512Mi`) are refused. Two inputs are accepted by accident and mean 0
//! (unlimited): the empty string and a bare unit (`gb`). A number of more than 64 bits
//! saturates at 2^64−1 (`strtoull`), and a product with the unit that overflows wraps
//! (`20000000000gb`), both silently. Each of these is reported by [`MemoryValue::accident`].

use std::fmt;

/// A redis.conf memory value as redis-server reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MemoryValue {
    /// What redis-server stores: the product, wrapped at 2^64 like the C code.
    pub bytes: u64,
    /// A way the value differs from what the writer almost certainly meant.
    pub accident: Option<MemoryAccident>,
    /// True when the unit is a power of 1000 (`k`, `m`, `g`): worth an info, since `1g` is
    /// 7% less than `1gb` and people rarely mean that.
    pub decimal_unit: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemoryAccident {
    /// `""` or a unit without digits: silently 0, which means "no limit" for maxmemory.
    SilentZero,
    /// The number times the unit exceeds 2^64 and wrapped around.
    Wrapped,
    /// The number itself exceeds 2^64−1 and was read as 2^64−1 (no unit to multiply by).
    Saturated,
}

/// Why redis-server refuses a memory value ("argument must be a memory value").
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{input:?} is not a Redis memory value: {reason}")]
pub struct MemoryError {
    pub input: String,
    pub reason: String,
}

impl fmt::Display for MemoryAccident {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            MemoryAccident::SilentZero => "redis-server reads it as 0 (no limit) without an error",
            MemoryAccident::Wrapped => "the size overflows 64 bits and wraps around",
            MemoryAccident::Saturated => {
                "the number exceeds 64 bits and redis-server reads it as 2^64-1"
            }
        })
    }
}

/// `memtoull`, exactly: the digits, then an optional unit, nothing else.
pub fn parse_memory(input: &str) -> Result<MemoryValue, MemoryError> {
    let refuse = |reason: String| MemoryError {
        input: input.to_string(),
        reason,
    };
    if input.starts_with('-') {
        return Err(refuse("negative sizes are not allowed".into()));
    }
    let digits_end = input
        .bytes()
        .position(|b| !b.is_ascii_digit())
        .unwrap_or(input.len());
    let (digits, unit) = input.split_at(digits_end);
    let (multiplier, decimal_unit): (u64, bool) = match unit.to_ascii_lowercase().as_str() {
        "" | "b" => (1, false),
        "k" => (1000, true),
        "kb" => (1024, false),
        "m" => (1_000_000, true),
        "mb" => (1 << 20, false),
        "g" => (1_000_000_000, true),
        "gb" => (1 << 30, false),
        _ => return Err(refuse(explain_unit(unit))),
    };
    // memtoull copies the digits into a 128-byte buffer and refuses longer numbers.
    if digits.len() >= 128 {
        return Err(refuse("more than 127 digits".into()));
    }
    // strtoull saturates at 2^64-1 (errno ERANGE is not checked), then the multiply wraps.
    let number = digits
        .parse::<u64>()
        .unwrap_or(if digits.is_empty() { 0 } else { u64::MAX });
    let (bytes, overflowed) = number.overflowing_mul(multiplier);
    let saturated = !digits.is_empty() && digits.parse::<u64>().is_err();
    let accident = if digits.is_empty() {
        Some(MemoryAccident::SilentZero)
    } else if overflowed {
        Some(MemoryAccident::Wrapped)
    } else if saturated {
        Some(MemoryAccident::Saturated)
    } else {
        None
    };
    Ok(MemoryValue {
        bytes,
        accident,
        decimal_unit: decimal_unit && !digits.is_empty(),
    })
}

fn explain_unit(unit: &str) -> String {
    let lower = unit.to_ascii_lowercase();
    if unit.starts_with('+') {
        return "a sign is not allowed".into();
    }
    if unit.starts_with('.') || unit.starts_with(',') {
        return "decimals are not allowed: write whole bytes or a whole number of kb/mb/gb".into();
    }
    if unit.starts_with(char::is_whitespace) {
        return "no space is allowed between the number and the unit".into();
    }
    if let Some(letter) = lower
        .strip_suffix('i')
        .filter(|l| ["k", "m", "g", "t"].contains(l))
    {
        return format!(
            "`{unit}` is a Kubernetes suffix; Redis writes 1024-based sizes as `{letter}b`"
        );
    }
    if lower == "t" || lower == "tb" {
        return "Redis has no terabyte unit: write the size in gb".into();
    }
    if lower.starts_with('e') {
        return "exponent notation is not allowed".into();
    }
    format!("unknown unit `{unit}`: Redis knows b, k, kb, m, mb, g, gb (case-insensitive)")
}

/// C `strtoll(s, &end, 10)` followed by `*end == '\0'`: leading white space and a sign are
/// allowed, the rest must be digits. An empty string is 0 (no digits, end points at the NUL);
/// a string of only blanks or only a sign is refused (end points back at its start).
/// Overflow saturates (the callers we model do not check errno).
pub fn c_strtoll_full(s: &str) -> Option<i64> {
    c_strtoll(s, 10)
        .map(|r| r.unwrap_or_else(|negative| if negative { i64::MIN } else { i64::MAX }))
}

/// C `strtoll(s, &end, 8)` with `errno == 0 && *end == '\0'` (octal configs): as
/// [`c_strtoll_full`], but overflow (ERANGE) is a failure.
pub fn c_strtoll_octal_full(s: &str) -> Option<i64> {
    c_strtoll(s, 8).and_then(Result::ok)
}

/// `strtoll` over the whole string: `None` when characters remain, `Some(Err(negative))` on
/// overflow.
fn c_strtoll(s: &str, radix: u32) -> Option<Result<i64, bool>> {
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() && is_c_space(b[i]) {
        i += 1;
    }
    let mut negative = false;
    if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
        negative = b[i] == b'-';
        i += 1;
    }
    let start = i;
    while i < b.len() && (b[i] as char).is_digit(radix) {
        i += 1;
    }
    if start == i {
        // No conversion: end = s. Accepted only when s itself is empty.
        return b.is_empty().then_some(Ok(0));
    }
    if i != b.len() {
        return None;
    }
    let magnitude = i128::from_str_radix(&s[start..i], radix).unwrap_or(i128::MAX);
    let value = if negative { -magnitude } else { magnitude };
    Some(i64::try_from(value).map_err(|_| negative))
}

/// C `isspace` in the "C" locale.
pub fn is_c_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\x0b' | b'\x0c' | b'\r')
}

/// Redis `string2ll`: an optional `-`, no `+`, no leading zeros, no blanks, at most 20 chars.
pub fn string2ll(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.is_empty() || b.len() >= 21 {
        return None;
    }
    if b == b"0" {
        return Some(0);
    }
    let (negative, digits) = match b[0] {
        b'-' => (true, &b[1..]),
        _ => (false, b),
    };
    if digits.is_empty() || !(b'1'..=b'9').contains(&digits[0]) {
        return None;
    }
    if !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let v: u128 = std::str::from_utf8(digits).ok()?.parse().ok()?;
    if negative {
        if v > i64::MAX as u128 + 1 {
            return None;
        }
        Some((-(v as i128)) as i64)
    } else {
        i64::try_from(v).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bytes(s: &str) -> u64 {
        parse_memory(s).unwrap_or_else(|e| panic!("{e}")).bytes
    }

    #[test]
    fn units_are_redis_units() {
        assert_eq!(bytes("2G"), 2_000_000_000);
        assert_eq!(bytes("2GB"), 2_147_483_648);
        assert_eq!(bytes("2gb"), 2_147_483_648);
        assert_eq!(bytes("100mb"), 104_857_600);
        assert_eq!(bytes("100m"), 100_000_000);
        assert_eq!(bytes("1kb"), 1024);
        assert_eq!(bytes("1k"), 1000);
        assert_eq!(bytes("17179869184"), 17_179_869_184);
        assert_eq!(bytes("5b"), 5);
    }

    #[test]
    fn refusals_and_accidents() {
        for bad in ["2Gi", "1.5gb", "-1", "1tb", "+1", "1 gb", "1e9", "512Mi"] {
            assert!(parse_memory(bad).is_err(), "{bad}");
        }
        for zero in ["", "gb", "GB", "b"] {
            let v = parse_memory(zero).unwrap();
            assert_eq!(v.bytes, 0);
            assert_eq!(v.accident, Some(MemoryAccident::SilentZero), "{zero}");
        }
        let wrapped = parse_memory("20000000000gb").unwrap();
        assert_eq!(wrapped.bytes, 3_028_092_406_290_448_384);
        assert_eq!(wrapped.accident, Some(MemoryAccident::Wrapped));
        // strtoull saturates a number of more than 64 bits; without a unit nothing wraps.
        let saturated = parse_memory("99999999999999999999999").unwrap();
        assert_eq!(saturated.bytes, u64::MAX);
        assert_eq!(saturated.accident, Some(MemoryAccident::Saturated));
        // With one, the saturated number times the unit wraps.
        let both = parse_memory("99999999999999999999999kb").unwrap();
        assert_eq!(both.bytes, u64::MAX.wrapping_mul(1024));
        assert_eq!(both.accident, Some(MemoryAccident::Wrapped));
        assert!(parse_memory("2Gi").unwrap_err().reason.contains("`gb`"));
    }

    #[test]
    fn c_parsers() {
        assert_eq!(c_strtoll_full(""), Some(0));
        assert_eq!(c_strtoll_full("+60"), Some(60));
        assert_eq!(c_strtoll_full(" 7"), Some(7));
        assert_eq!(c_strtoll_full(" "), None);
        assert_eq!(c_strtoll_full("-"), None);
        assert_eq!(c_strtoll_full("1a"), None);
        assert_eq!(string2ll("0"), Some(0));
        assert_eq!(string2ll("01"), None);
        assert_eq!(string2ll("+1"), None);
        assert_eq!(string2ll("-5"), Some(-5));
        assert_eq!(string2ll("9223372036854775808"), None);
        assert_eq!(c_strtoll_octal_full("0777"), Some(511));
        assert_eq!(c_strtoll_octal_full("8"), None);
    }
}

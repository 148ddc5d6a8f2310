//! `sdssplitargs` and `sdscatrepr` (src/sds.c), the tokenizer and quoter of redis.conf lines.

use crate::units::redis::is_c_space;

/// One argument of a line, with the byte offset where it starts in that line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    pub text: String,
    pub offset: usize,
}

/// Why a line cannot be split. Redis says only "Unbalanced quotes in configuration line";
/// we also say where and what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SplitError {
    /// Byte offset of the quote that is at fault.
    pub offset: usize,
    pub detail: &'static str,
}

/// Splits a line like `sdssplitargs`:
/// - blanks (C `isspace`) separate arguments; an unquoted argument ends at space, tab, CR, LF;
/// - `"…"` knows `\xHH`, `\n \r \t \b \a` and `\<any>` → `<any>`;
/// - `'…'` knows only `\'`;
/// - a closing quote must be followed by a blank or the end; quotes may open mid-argument
///   (`ab"cd"` is `abcd`).
pub fn split_args(line: &str) -> Result<Vec<Token>, SplitError> {
    let b = line.as_bytes();
    let n = b.len();
    let at = |i: usize| if i < n { b[i] } else { 0 };
    // At a closing quote (or the end of the line inside quotes): where the token ends.
    let close_quote = |c: u8, p: usize, quote_at: usize, unclosed: &'static str| {
        if c == 0 {
            return Err(SplitError {
                offset: quote_at,
                detail: unclosed,
            });
        }
        if at(p + 1) != 0 && !is_c_space(at(p + 1)) {
            return Err(SplitError {
                offset: p,
                detail: "a closing quote must be followed by a space or the end of the line",
            });
        }
        Ok(p + 1)
    };
    let mut tokens = Vec::new();
    let mut p = 0;
    loop {
        while p < n && is_c_space(b[p]) {
            p += 1;
        }
        if p >= n || b[p] == 0 {
            return Ok(tokens);
        }
        let start = p;
        let mut current: Vec<u8> = Vec::new();
        let (mut in_dq, mut in_sq) = (false, false);
        let mut quote_at = 0;
        loop {
            let c = at(p);
            if in_dq {
                if c == b'\\'
                    && at(p + 1) == b'x'
                    && at(p + 2).is_ascii_hexdigit()
                    && at(p + 3).is_ascii_hexdigit()
                {
                    let hex = std::str::from_utf8(&b[p + 2..p + 4]).unwrap_or("00");
                    current.push(u8::from_str_radix(hex, 16).unwrap_or(0));
                    p += 3;
                } else if c == b'\\' && at(p + 1) != 0 {
                    p += 1;
                    current.push(match at(p) {
                        b'n' => b'\n',
                        b'r' => b'\r',
                        b't' => b'\t',
                        b'b' => 0x08,
                        b'a' => 0x07,
                        other => other,
                    });
                } else if c == b'"' || c == 0 {
                    p = close_quote(c, p, quote_at, "this double quote is never closed")?;
                    break;
                } else {
                    current.push(c);
                }
            } else if in_sq {
                if c == b'\\' && at(p + 1) == b'\'' {
                    p += 1;
                    current.push(b'\'');
                } else if c == b'\'' || c == 0 {
                    p = close_quote(c, p, quote_at, "this single quote is never closed")?;
                    break;
                } else {
                    current.push(c);
                }
            } else {
                match c {
                    b' ' | b'\n' | b'\r' | b'\t' | 0 => {
                        if c != 0 {
                            p += 1;
                        }
                        break;
                    }
                    b'"' => {
                        in_dq = true;
                        quote_at = p;
                    }
                    b'\'' => {
                        in_sq = true;
                        quote_at = p;
                    }
                    other => current.push(other),
                }
            }
            p += 1;
        }
        tokens.push(Token {
            text: String::from_utf8_lossy(&current).into_owned(),
            offset: start,
        });
    }
}

/// `sdscatrepr`: how redis-server quotes a command-line value before parsing it as a line.
pub fn repr(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for &c in s.as_bytes() {
        match c {
            b'\\' => out.push_str("\\\\"),
            b'"' => out.push_str("\\\""),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b'\t' => out.push_str("\\t"),
            0x07 => out.push_str("\\a"),
            0x08 => out.push_str("\\b"),
            c if (0x20..0x7f).contains(&c) => out.push(c as char),
            c => out.push_str(&format!("\\x{c:02x}")),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(line: &str) -> Vec<String> {
        split_args(line)
            .unwrap()
            .into_iter()
            .map(|t| t.text)
            .collect()
    }

    #[test]
    fn quoting_rules() {
        assert_eq!(texts("maxmemory 2gb"), ["maxmemory", "2gb"]);
        assert_eq!(texts(r#"save "" "#), ["save", ""]);
        assert_eq!(texts(r#"a "x\x41\ty" 'it\'s'"#), ["a", "xA\ty", "it's"]);
        assert_eq!(texts(r#"ab"cd" e"#), ["abcd", "e"]);
        assert_eq!(texts(r#"a "\q""#), ["a", "q"]);
        assert!(split_args(r#"a "foo"bar"#).is_err());
        assert!(split_args(r#"a "open"#).is_err());
        assert!(split_args("a 'open").is_err());
        assert_eq!(split_args("  x  y").unwrap()[1].offset, 5);
    }

    #[test]
    fn repr_round_trips_through_split() {
        for s in [
            "plain",
            "with space",
            "q\"uote",
            "back\\slash",
            "tab\there",
            "",
            "\u{7f}",
        ] {
            let line = format!("x {}", repr(s));
            assert_eq!(texts(&line), ["x", s], "{line}");
        }
    }
}

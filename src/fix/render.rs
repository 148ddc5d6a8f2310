//! Writing JSON values as YAML text that reads back as the same data: scalars in the
//! quietest style that keeps their type, flow collections (YAML or JSON), and block
//! collections at a given indentation.

use serde_json::Value;

use crate::source::{Node, NodeKind, Scalar, Style};

/// How the surrounding text is written, so new text looks like its neighbours.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Layout {
    /// Spaces per nesting level of block mappings (2 unless the document shows another).
    pub step: usize,
    /// Whether block sequences under a key are indented (`key:\n  - a`) or not (`key:\n- a`).
    pub indent_sequences: bool,
}

impl Default for Layout {
    fn default() -> Self {
        Layout {
            step: 2,
            indent_sequences: true,
        }
    }
}

/// The style a replaced scalar had, which a new value keeps when it can.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Quote {
    /// Plain when the text stays a string, else quoted.
    Auto,
    Single,
    Double,
    /// JSON: strings double-quoted, keys too.
    Json,
}

/// A scalar value as text. `flow`: inside `[…]`/`{…}`, where `,[]{}` end a plain scalar.
/// `None` for a collection.
pub fn scalar(value: &Value, quote: Quote, flow: bool) -> Option<String> {
    Some(match value {
        Value::Null => "null".to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => string(s, quote, flow),
        Value::Array(_) | Value::Object(_) => return None,
    })
}

/// A string in the quietest style that reads back as this string: plain, then single-quoted,
/// then double-quoted (JSON escapes are valid YAML double-quoted escapes).
pub fn string(s: &str, quote: Quote, flow: bool) -> String {
    let printable = !s.is_empty()
        && s.chars()
            .all(|c| !c.is_control() && c != '\u{feff}' && c != '\u{2028}' && c != '\u{2029}');
    match quote {
        Quote::Json => json_string(s),
        Quote::Double => json_string(s),
        Quote::Auto if printable && plain_is_string(s, flow) => s.to_string(),
        // One printable line: single quotes keep every character but `'` as written.
        Quote::Auto | Quote::Single if printable => single_quoted(s),
        _ => json_string(s),
    }
}

fn json_string(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| format!("{s:?}"))
}

fn single_quoted(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// Whether `s` written plain reads back as the string `s` — for our reader and for the YAML
/// 1.1 reader Kubernetes tools use (`yes`, `0777`, `1_000`, `1:20`, dates are not strings
/// there). Conservative: anything doubtful is quoted.
pub fn plain_is_string(s: &str, flow: bool) -> bool {
    let Some(first) = s.chars().next() else {
        return false;
    };
    if s.trim() != s || s.contains(": ") || s.contains(" #") || s.ends_with(':') {
        return false;
    }
    if "?:,[]{}#&*!|>'\"%@`".contains(first) || s.starts_with("---") || s.starts_with("...") {
        return false;
    }
    if first == '-' && s.chars().nth(1).is_none_or(|c| c == ' ') {
        return false;
    }
    if flow && s.contains([',', '[', ']', '{', '}']) {
        return false;
    }
    // Numbers, dates, sexagesimals and the like in either YAML version.
    if s.chars().any(|c| c.is_ascii_digit())
        && s.chars()
            .all(|c| c.is_ascii_digit() || "_+-.:eExXoObB".contains(c))
    {
        return false;
    }
    let node = Node {
        kind: NodeKind::Scalar(Scalar {
            text: s.to_string(),
            style: Style::Plain,
            runs: Vec::new(),
        }),
        span: None,
    };
    let yaml11_words = [
        "y", "Y", "n", "N", ".inf", ".Inf", ".INF", "-.inf", ".nan", ".NaN", ".NAN",
    ];
    matches!(node.to_json(), Value::String(_)) && !yaml11_words.contains(&s)
}

/// A mapping key.
pub fn key(k: &str, json: bool) -> String {
    if json {
        json_string(k)
    } else {
        string(k, Quote::Auto, true)
    }
}

/// A value in flow style on one line: `{limits: {memory: 2Gi}}`, or JSON when `json`.
pub fn flow(value: &Value, json: bool) -> String {
    let quote = if json { Quote::Json } else { Quote::Auto };
    match value {
        Value::Array(items) => {
            let inner: Vec<String> = items.iter().map(|v| flow(v, json)).collect();
            format!("[{}]", inner.join(", "))
        }
        Value::Object(map) => {
            let inner: Vec<String> = map
                .iter()
                .map(|(k, v)| format!("{}: {}", key(k, json), flow(v, json)))
                .collect();
            format!("{{{}}}", inner.join(", "))
        }
        _ => scalar(value, quote, true).unwrap_or_default(),
    }
}

/// Pretty JSON whose continuation lines start at `indent` spaces (for multi-line JSON files).
pub fn json_pretty(value: &Value, indent: usize) -> String {
    let text = serde_json::to_string_pretty(value).unwrap_or_default();
    let pad = " ".repeat(indent);
    text.lines()
        .enumerate()
        .map(|(i, l)| {
            if i == 0 {
                l.to_string()
            } else {
                format!("{pad}{l}")
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// `key: value` as block lines at `indent` spaces, each ending in a line break.
pub fn block_entry(k: &str, value: &Value, indent: usize, layout: Layout) -> String {
    let pad = " ".repeat(indent);
    let k = key(k, false);
    match value {
        Value::Object(map) if !map.is_empty() => {
            let mut out = format!("{pad}{k}:\n");
            for (ck, cv) in map {
                out.push_str(&block_entry(ck, cv, indent + layout.step, layout));
            }
            out
        }
        Value::Array(items) if !items.is_empty() => {
            let child = if layout.indent_sequences {
                indent + layout.step
            } else {
                indent
            };
            format!("{pad}{k}:\n{}", block_items(items, child, layout))
        }
        Value::String(s) if s.contains('\n') => {
            format!("{pad}{k}: {}", literal(s, indent + layout.step))
        }
        _ => format!("{pad}{k}: {}\n", flow(value, false)),
    }
}

/// Sequence items as block lines with their dashes at `indent` spaces.
pub fn block_items(items: &[Value], indent: usize, layout: Layout) -> String {
    let pad = " ".repeat(indent);
    let mut out = String::new();
    for item in items {
        let nested = match item {
            Value::Object(map) if !map.is_empty() => Some(
                map.iter()
                    .map(|(k, v)| block_entry(k, v, indent + 2, layout))
                    .collect::<String>(),
            ),
            Value::Array(inner) if !inner.is_empty() => {
                Some(block_items(inner, indent + 2, layout))
            }
            Value::String(s) if s.contains('\n') => {
                out.push_str(&format!("{pad}- {}", literal(s, indent + 2)));
                continue;
            }
            _ => None,
        };
        match nested {
            // The first line's indentation becomes the dash: `- name: x\n  image: y`.
            Some(text) => {
                out.push_str(&pad);
                out.push_str("- ");
                out.push_str(&text[indent + 2..]);
            }
            None => out.push_str(&format!("{pad}- {}\n", flow(item, false))),
        }
    }
    out
}

/// A literal block scalar (header, then lines at `indent` spaces), ending in a line break;
/// chomping chosen so that it reads back as exactly `s`. Falls back to a double-quoted
/// string when a literal cannot hold it (control characters, trailing spaces on the last
/// line are fine, but a first line starting with a space needs an indentation indicator).
pub fn literal(s: &str, indent: usize) -> String {
    let representable =
        s.chars().all(|c| c == '\n' || c == '\t' || !c.is_control()) && !s.contains('\r');
    if !representable || s.is_empty() {
        return format!("{}\n", json_string(s));
    }
    let chomp = if !s.ends_with('\n') {
        "-"
    } else if s.ends_with("\n\n") {
        "+"
    } else {
        ""
    };
    let indicator = if s.starts_with(' ') || s.starts_with('\n') {
        indent.to_string()
    } else {
        String::new()
    };
    let pad = " ".repeat(indent);
    let mut out = format!("|{indicator}{chomp}\n");
    for line in s.split_inclusive('\n') {
        let body = line.strip_suffix('\n').unwrap_or(line);
        if !body.is_empty() {
            out.push_str(&pad);
            out.push_str(body);
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn plain_only_when_it_stays_a_string() {
        for s in [
            "2560Mi",
            "--maxmemory",
            "-c",
            "redis-cli ping",
            "allkeys-lru",
            "a|b",
        ] {
            assert!(plain_is_string(s, false), "{s}");
        }
        for s in [
            "",
            "1500",
            "0777",
            "1_000",
            "1:20",
            "2001-12-14",
            "true",
            "yes",
            "on",
            "null",
            "~",
            "y",
            "-",
            " x",
            "x ",
            "a: b",
            "a #b",
            "*x",
            "&x",
            "!x",
            "%x",
            "@x",
            "'x",
            "\"x",
            "{x",
            "[x",
            "? x",
            "x:",
            "1e3",
            ".inf",
            "0x1F",
        ] {
            assert!(!plain_is_string(s, false), "{s:?}");
        }
        assert!(plain_is_string("a,b", false));
        assert!(!plain_is_string("a,b", true));
    }

    #[test]
    fn strings_keep_their_quoting_when_they_can() {
        assert_eq!(string("512Mi", Quote::Auto, false), "512Mi");
        assert_eq!(string("1500", Quote::Auto, false), "'1500'");
        assert_eq!(string("512Mi", Quote::Double, false), "\"512Mi\"");
        assert_eq!(string("it's", Quote::Single, false), "'it''s'");
        assert_eq!(string("a\nb", Quote::Auto, false), "\"a\\nb\"");
        assert_eq!(string("", Quote::Auto, false), "\"\"");
    }

    #[test]
    fn blocks_nest_with_the_layout() {
        let v = json!({"limits": {"memory": "2Gi"}, "args": ["--port", "6379"]});
        let mut out = String::new();
        for (k, v) in v.as_object().unwrap() {
            out.push_str(&block_entry(k, v, 4, Layout::default()));
        }
        assert_eq!(
            out,
            "    limits:\n      memory: 2Gi\n    args:\n      - --port\n      - '6379'\n"
        );
        let flat = Layout {
            step: 2,
            indent_sequences: false,
        };
        // `y` is a boolean to YAML 1.1 readers (Kubernetes' go-yaml): quoted.
        let items = json!([{"name": "a", "value": 1}, ["x"], "y"]);
        assert_eq!(
            block_items(items.as_array().unwrap(), 0, flat),
            "- name: a\n  value: 1\n- - x\n- 'y'\n"
        );
    }

    #[test]
    fn literals_choose_their_chomping() {
        assert_eq!(literal("a\nb\n", 2), "|\n  a\n  b\n");
        assert_eq!(literal("a\nb", 2), "|-\n  a\n  b\n");
        assert_eq!(literal("a\n\n", 2), "|+\n  a\n\n");
        assert_eq!(literal(" a\n", 2), "|2\n   a\n");
    }

    #[test]
    fn flow_in_yaml_and_json() {
        let v = json!({"memory": "2Gi", "n": 1, "s": "a,b"});
        assert_eq!(flow(&v, false), "{memory: 2Gi, 'n': 1, s: 'a,b'}");
        assert_eq!(
            flow(&v, true),
            "{\"memory\": \"2Gi\", \"n\": 1, \"s\": \"a,b\"}"
        );
    }
}

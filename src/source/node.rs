//! The document tree every extractor reads: YAML (with positions) and JSON (without) end up
//! as the same [`Node`]s, so the linter and the webhook share one extraction path.

use std::fmt;

/// A position in a file: 1-based line, 1-based column in characters, and the byte offset
/// (what `fix` edits at).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Pos {
    pub line: u32,
    pub column: u32,
    pub offset: usize,
}

impl fmt::Display for Pos {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.column)
    }
}

/// Start (inclusive) and end (exclusive) of a node in its file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Span {
    pub start: Pos,
    pub end: Pos,
}

/// How a scalar was written; it decides its type the way Kubernetes' YAML decoder does
/// (a quoted `"1"` is a string, a plain `1` a number).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    Plain,
    SingleQuoted,
    DoubleQuoted,
    Literal,
    Folded,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Scalar {
    pub text: String,
    pub style: Style,
    /// Where the decoded text comes from: `(byte offset in text, file position)` at the start
    /// of each run of characters copied verbatim from the file. Empty when unknown (JSON).
    pub runs: Vec<(usize, Pos)>,
}

impl Scalar {
    /// The file position of the character at byte `offset` of the decoded text.
    pub fn pos_at(&self, offset: usize) -> Option<Pos> {
        let i = self.runs.partition_point(|(o, _)| *o <= offset);
        let (run_offset, run_pos) = *self.runs.get(i.checked_sub(1)?)?;
        let prefix = self.text.get(run_offset..offset)?;
        Some(Pos {
            line: run_pos.line,
            column: run_pos.column + prefix.chars().count() as u32,
            offset: run_pos.offset + prefix.len(),
        })
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum NodeKind {
    Scalar(Scalar),
    Seq(Vec<Node>),
    Map(Vec<Entry>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub key: Node,
    pub value: Node,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub kind: NodeKind,
    /// `None` for nodes that did not come from a file (AdmissionReview JSON).
    pub span: Option<Span>,
}

const NULLS: [&str; 5] = ["", "~", "null", "Null", "NULL"];

impl Node {
    pub fn scalar(&self) -> Option<&Scalar> {
        match &self.kind {
            NodeKind::Scalar(s) => Some(s),
            _ => None,
        }
    }

    /// The text of any scalar that is not null.
    pub fn as_str(&self) -> Option<&str> {
        self.scalar()
            .filter(|_| !self.is_null())
            .map(|s| s.text.as_str())
    }

    pub fn is_null(&self) -> bool {
        matches!(&self.kind, NodeKind::Scalar(s) if s.style == Style::Plain && NULLS.contains(&s.text.as_str()))
    }

    /// An integer written as a plain scalar (YAML 1.2 core schema, and the `0x`/`0o` forms).
    pub fn as_i64(&self) -> Option<i64> {
        let s = self.scalar().filter(|s| s.style == Style::Plain)?;
        let t = s.text.strip_prefix('+').unwrap_or(&s.text);
        if let Some(hex) = t.strip_prefix("0x") {
            return i64::from_str_radix(hex, 16).ok();
        }
        if let Some(oct) = t.strip_prefix("0o") {
            return i64::from_str_radix(oct, 8).ok();
        }
        t.parse().ok()
    }

    /// A boolean as Kubernetes' YAML decoder reads it (YAML 1.1: `yes`/`no`/`on`/`off` too).
    pub fn as_bool(&self) -> Option<bool> {
        let s = self.scalar().filter(|s| s.style == Style::Plain)?;
        match s.text.as_str() {
            "true" | "True" | "TRUE" | "yes" | "Yes" | "YES" | "on" | "On" | "ON" | "y" | "Y" => {
                Some(true)
            }
            "false" | "False" | "FALSE" | "no" | "No" | "NO" | "off" | "Off" | "OFF" | "n"
            | "N" => Some(false),
            _ => None,
        }
    }

    pub fn entries(&self) -> &[Entry] {
        match &self.kind {
            NodeKind::Map(e) => e,
            _ => &[],
        }
    }

    pub fn items(&self) -> &[Node] {
        match &self.kind {
            NodeKind::Seq(v) => v,
            _ => &[],
        }
    }

    pub fn is_map(&self) -> bool {
        matches!(self.kind, NodeKind::Map(_))
    }

    pub fn is_seq(&self) -> bool {
        matches!(self.kind, NodeKind::Seq(_))
    }

    /// The value under `key` (the last one, when a key is repeated).
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.entry(key).map(|e| &e.value)
    }

    pub fn entry(&self, key: &str) -> Option<&Entry> {
        self.entries()
            .iter()
            .rev()
            .find(|e| e.key.scalar().is_some_and(|s| s.text == key))
    }

    /// The node at an RFC 6901 JSON pointer (`""` is the node itself).
    pub fn pointer(&self, pointer: &str) -> Option<&Node> {
        if pointer.is_empty() {
            return Some(self);
        }
        let mut node = self;
        for token in pointer.strip_prefix('/')?.split('/') {
            let key = crate::pointer::unescape(token);
            node = match &node.kind {
                NodeKind::Map(_) => &node.entry(&key)?.value,
                NodeKind::Seq(items) => items.get(key.parse::<usize>().ok()?)?,
                NodeKind::Scalar(_) => return None,
            };
        }
        Some(node)
    }

    pub fn start(&self) -> Option<Pos> {
        self.span.map(|s| s.start)
    }

    /// The node as JSON, the way Kubernetes' YAML decoder converts it.
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value as J;
        match &self.kind {
            NodeKind::Scalar(s) => {
                if s.style != Style::Plain {
                    return J::String(s.text.clone());
                }
                if self.is_null() {
                    J::Null
                } else if let Some(b) = self.as_bool() {
                    J::Bool(b)
                } else if let Some(i) = self.as_i64() {
                    J::from(i)
                } else if let Some(f) = plain_float(&s.text) {
                    serde_json::Number::from_f64(f).map_or(J::String(s.text.clone()), J::Number)
                } else {
                    J::String(s.text.clone())
                }
            }
            NodeKind::Seq(items) => J::Array(items.iter().map(Node::to_json).collect()),
            NodeKind::Map(entries) => {
                let mut map = serde_json::Map::new();
                for e in entries {
                    let key = match e.key.scalar() {
                        Some(s) => s.text.clone(),
                        None => e.key.to_json().to_string(),
                    };
                    map.insert(key, e.value.to_json());
                }
                J::Object(map)
            }
        }
    }

    /// A tree from JSON (an AdmissionReview object): no positions; strings are quoted scalars
    /// so that `"1"` stays a string.
    pub fn from_json(value: &serde_json::Value) -> Node {
        use serde_json::Value as J;
        let scalar = |text: String, style| {
            NodeKind::Scalar(Scalar {
                text,
                style,
                runs: Vec::new(),
            })
        };
        let kind = match value {
            J::Null => scalar("null".into(), Style::Plain),
            J::Bool(b) => scalar(b.to_string(), Style::Plain),
            J::Number(n) => scalar(n.to_string(), Style::Plain),
            J::String(s) => scalar(s.clone(), Style::DoubleQuoted),
            J::Array(items) => NodeKind::Seq(items.iter().map(Node::from_json).collect()),
            J::Object(map) => NodeKind::Map(
                map.iter()
                    .map(|(k, v)| Entry {
                        key: Node {
                            kind: scalar(k.clone(), Style::DoubleQuoted),
                            span: None,
                        },
                        value: Node::from_json(v),
                    })
                    .collect(),
            ),
        };
        Node { kind, span: None }
    }
}

fn plain_float(text: &str) -> Option<f64> {
    let t = text.strip_prefix(['+', '-']).unwrap_or(text);
    let numeric = !t.is_empty()
        && t.chars().any(|c| c.is_ascii_digit())
        && t.chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '.' | 'e' | 'E' | '+' | '-'));
    if numeric { text.parse().ok() } else { None }
}

/// `parent` + `/` + the escaped token, in one allocation.
fn child(parent: &str, token: &str) -> String {
    let token = crate::pointer::escape(token);
    let mut out = String::with_capacity(parent.len() + 1 + token.len());
    out.push_str(parent);
    out.push('/');
    out.push_str(&token);
    out
}

/// A node together with its JSON pointer from the document root, and the key it was reached
/// by: what extractors walk, so that every value they keep knows where it is.
#[derive(Debug, Clone)]
pub struct Cursor<'a> {
    pub node: &'a Node,
    pub pointer: String,
    /// The mapping key this node is the value of (its position is where a missing child is
    /// reported).
    pub key: Option<&'a Node>,
}

impl<'a> Cursor<'a> {
    pub fn root(node: &'a Node) -> Self {
        Cursor {
            node,
            pointer: String::new(),
            key: None,
        }
    }

    pub fn get(&self, key: &str) -> Option<Cursor<'a>> {
        let entry = self.node.entry(key)?;
        if entry.value.is_null() {
            return None;
        }
        Some(Cursor {
            node: &entry.value,
            pointer: child(&self.pointer, key),
            key: Some(&entry.key),
        })
    }

    /// `get` along a path of keys. The pointer is built once, at the end.
    pub fn at(&self, path: &[&str]) -> Option<Cursor<'a>> {
        let (last, init) = match path.split_last() {
            Some(split) => split,
            None => return Some(self.clone()),
        };
        let mut node = self.node;
        for k in init {
            node = node_get(node, k)?;
        }
        let entry = node.entry(last)?;
        if entry.value.is_null() {
            return None;
        }
        let mut pointer = self.pointer.clone();
        for k in path {
            pointer.push('/');
            pointer.push_str(&crate::pointer::escape(k));
        }
        Some(Cursor {
            node: &entry.value,
            pointer,
            key: Some(&entry.key),
        })
    }

    /// The pointer a child `key` would have (for fields that are absent).
    pub fn child_pointer(&self, key: &str) -> String {
        child(&self.pointer, key)
    }

    pub fn items(&self) -> Vec<Cursor<'a>> {
        self.node
            .items()
            .iter()
            .enumerate()
            .map(|(i, node)| Cursor {
                node,
                pointer: format!("{}/{i}", self.pointer),
                key: None,
            })
            .collect()
    }

    pub fn entries(&self) -> Vec<(&'a str, Cursor<'a>)> {
        self.node
            .entries()
            .iter()
            .filter_map(|e| {
                let k = e.key.scalar()?.text.as_str();
                Some((
                    k,
                    Cursor {
                        node: &e.value,
                        pointer: child(&self.pointer, k),
                        key: Some(&e.key),
                    },
                ))
            })
            .collect()
    }

    pub fn str(&self) -> Option<&'a str> {
        self.node.as_str()
    }

    pub fn i64(&self) -> Option<i64> {
        self.node.as_i64()
    }

    pub fn bool(&self) -> Option<bool> {
        self.node.as_bool()
    }

    /// The value's position (the key's, for a value without one).
    pub fn pos(&self) -> Option<Pos> {
        self.node.start().or_else(|| self.key.and_then(Node::start))
    }

    pub fn key_pos(&self) -> Option<Pos> {
        self.key.and_then(Node::start).or_else(|| self.node.start())
    }

    /// The string at a path of keys (no pointer is built).
    pub fn str_at(&self, path: &[&str]) -> Option<&'a str> {
        let mut node = self.node;
        for k in path {
            node = node_get(node, k)?;
        }
        node.as_str()
    }
}

/// What `Cursor::get` walks to, without the pointer: a child that is present and not null.
fn node_get<'a>(node: &'a Node, key: &str) -> Option<&'a Node> {
    let entry = node.entry(key)?;
    (!entry.value.is_null()).then_some(&entry.value)
}

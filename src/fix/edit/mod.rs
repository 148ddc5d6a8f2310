//! RFC 6902 operations turned into byte edits of the YAML (or JSON) text an object was read
//! from. Each operation touches the smallest span it can: the scalar it replaces, the lines a
//! new key or item adds, the changed lines of a literal block. Everything else stays as
//! written. Whatever this module produces is checked by the caller (the edited text must
//! parse to the patched data), so a case it gets wrong is refused, never written.

use serde_json::{Map, Value};

use crate::patch::PatchOp;
use crate::source::{Node, NodeKind, Style};

use super::render::{self, Layout, Quote};

mod ops;
mod text;

use text::*;

/// Replace `start..end` of the text by `text` (an insertion when the range is empty).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextEdit {
    pub start: usize,
    pub end: usize,
    pub text: String,
}

/// How many items `old` and `new` share at their start, and then at their end (the two
/// never overlap).
pub fn common_ends<T: PartialEq>(old: &[T], new: &[T]) -> (usize, usize) {
    let prefix = old.iter().zip(new).take_while(|(a, b)| a == b).count();
    let max_suffix = old.len().min(new.len()) - prefix;
    let suffix = old
        .iter()
        .rev()
        .zip(new.iter().rev())
        .take(max_suffix)
        .take_while(|(a, b)| a == b)
        .count();
    (prefix, suffix)
}

/// The one edit that turns `old` into `new`: what they share at both ends kept, the middle
/// replaced, on character boundaries (the language server sends a fixed file so). `None`
/// when they are equal.
pub fn replacement(old: &str, new: &str) -> Option<TextEdit> {
    if old == new {
        return None;
    }
    let (mut prefix, mut suffix) = common_ends(old.as_bytes(), new.as_bytes());
    while !old.is_char_boundary(prefix) || !new.is_char_boundary(prefix) {
        prefix -= 1;
    }
    while !old.is_char_boundary(old.len() - suffix) || !new.is_char_boundary(new.len() - suffix) {
        suffix -= 1;
    }
    Some(TextEdit {
        start: prefix,
        end: old.len() - suffix,
        text: new[prefix..new.len() - suffix].to_string(),
    })
}

/// Apply non-overlapping edits; insertions at one offset keep their order.
pub fn apply(text: &str, edits: &[TextEdit]) -> String {
    let mut sorted: Vec<&TextEdit> = edits.iter().collect();
    sorted.sort_by_key(|e| (e.start, e.end));
    let mut out = String::with_capacity(text.len() + 256);
    let mut at = 0;
    for e in sorted {
        out.push_str(&text[at..e.start]);
        out.push_str(&e.text);
        at = e.end;
    }
    out.push_str(&text[at..]);
    out
}

/// Whether two edits touch the same bytes (two insertions at one point do not).
pub fn overlap(a: &TextEdit, b: &TextEdit) -> bool {
    a.start < b.end && b.start < a.end
        || a.start == b.start && (a.start != a.end || b.start != b.end)
}

/// One step of a pointer walk: a node, the key it sits under (for a mapping value), and
/// whether it is inside a flow collection.
#[derive(Clone, Copy)]
struct Frame<'a> {
    node: &'a Node,
    key: Option<&'a Node>,
    in_flow: bool,
}

/// Edits for the operations of one fix on the object rooted at `root` (a node of `text`).
pub struct Editor<'a> {
    text: &'a str,
    root: &'a Node,
    json: bool,
    eol: &'static str,
}

type Result<T> = std::result::Result<T, String>;

/// The line ending a file's new lines take: its own (`\r\n` if it has any). Computed once
/// per file: scanning the text for every fix made a file of many objects quadratic.
pub fn eol_of(text: &str) -> &'static str {
    if text.contains("\r\n") { "\r\n" } else { "\n" }
}

impl<'a> Editor<'a> {
    pub fn new(text: &'a str, root: &'a Node, eol: &'static str) -> Self {
        let mut editor = Editor {
            text,
            root,
            json: false,
            eol,
        };
        editor.json = editor.is_flow(root)
            && root
                .entries()
                .first()
                .and_then(|e| e.key.scalar())
                .is_some_and(|s| s.style == Style::DoubleQuoted);
        editor
    }

    pub fn edits(&self, ops: &[PatchOp]) -> Result<Vec<TextEdit>> {
        let mut out = Vec::new();
        for op in ops {
            match op {
                PatchOp::Replace { path, value } => {
                    let frames = self.resolve(path)?;
                    out.extend(self.replace(&frames, value)?);
                }
                PatchOp::Add { path, value } => out.extend(self.add(path, value)?),
                // A guard on the API server's object; the caller checks it on the data.
                PatchOp::Test { .. } => {}
            }
        }
        for (i, a) in out.iter().enumerate() {
            if out[i + 1..].iter().any(|b| overlap(a, b)) {
                return Err("two operations of this fix edit the same text".into());
            }
        }
        for e in &mut out {
            if self.eol != "\n" {
                // Some renderers already end their lines with the file's `\r\n`: normalize
                // first, or those lines would end `\r\r\n` (an extra line break).
                e.text = e.text.replace("\r\n", "\n").replace('\n', self.eol);
            }
        }
        Ok(out)
    }

    /// The frames from the root to the node at `pointer`; every token must exist.
    fn resolve(&self, pointer: &str) -> Result<Vec<Frame<'a>>> {
        let mut frames = vec![Frame {
            node: self.root,
            key: None,
            in_flow: false,
        }];
        if pointer.is_empty() {
            return Ok(frames);
        }
        let Some(rest) = pointer.strip_prefix('/') else {
            return Err(format!("`{pointer}` is not a JSON pointer"));
        };
        for token in rest.split('/') {
            let token = crate::pointer::unescape(token);
            let parent = deepest(&frames)?;
            let in_flow = parent.in_flow || self.is_flow(parent.node);
            let (node, key) = match &parent.node.kind {
                NodeKind::Map(entries) => {
                    let entry = entries
                        .iter()
                        .rev()
                        .find(|e| e.key.scalar().is_some_and(|s| s.text == token))
                        .ok_or_else(|| format!("`{pointer}`: no key `{token}`"))?;
                    (&entry.value, Some(&entry.key))
                }
                NodeKind::Seq(items) => {
                    let i: usize = token
                        .parse()
                        .map_err(|_| format!("`{pointer}`: `{token}` is not a list index"))?;
                    let item = items
                        .get(i)
                        .ok_or_else(|| format!("`{pointer}`: no item {i}"))?;
                    (item, None)
                }
                NodeKind::Scalar(_) => return Err(format!("`{pointer}`: goes through a scalar")),
            };
            self.check_in_place(parent.node, key, node, pointer)?;
            frames.push(Frame { node, key, in_flow });
        }
        Ok(frames)
    }

    /// A node copied from an anchor (`*alias`, `<<: *merge`) sits elsewhere in the text:
    /// editing it there would change every user of the anchor.
    fn check_in_place(
        &self,
        parent: &Node,
        key: Option<&Node>,
        node: &Node,
        pointer: &str,
    ) -> Result<()> {
        let (Some(p), Some(n)) = (parent.span, node.span) else {
            return Err(format!("`{pointer}`: no position in the file"));
        };
        let after_key = key
            .and_then(|k| k.span)
            .is_none_or(|k| k.start.offset >= p.start.offset && n.start.offset >= k.end.offset);
        if n.start.offset < p.start.offset
            || n.end.offset > p.end.offset.max(n.start.offset)
            || !after_key
        {
            return Err(format!(
                "`{pointer}` comes from a YAML anchor (alias or merge key); change the anchor \
                 by hand"
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::{TextEdit, replacement};

    fn edit(start: usize, end: usize, text: &str) -> Option<TextEdit> {
        Some(TextEdit {
            start,
            end,
            text: text.to_string(),
        })
    }

    #[test]
    fn a_replacement_keeps_what_both_share() {
        assert_eq!(replacement("a: 1\n", "a: 1\n"), None);
        assert_eq!(
            replacement("maxmemory 4gb\n", "maxmemory 3gb\n"),
            edit(10, 11, "3")
        );
        // Never inside a character: é (c3 a9) and è (c3 a8) share their first byte.
        assert_eq!(replacement("xé", "xè"), edit(1, 3, "è"));
        assert_eq!(replacement("ab", "aXb"), edit(1, 1, "X"));
        assert_eq!(replacement("aXb", "ab"), edit(1, 2, ""));
    }
}

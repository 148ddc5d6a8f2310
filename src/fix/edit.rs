//! RFC 6902 operations turned into byte edits of the YAML (or JSON) text an object was read
//! from. Each operation touches the smallest span it can: the scalar it replaces, the lines a
//! new key or item adds, the changed lines of a literal block. Everything else stays as
//! written. Whatever this module produces is checked by the caller (the edited text must
//! parse to the patched data), so a case it gets wrong is refused, never written.

use serde_json::{Map, Value};

use crate::patch::PatchOp;
use crate::source::{Node, NodeKind, Style};

use super::render::{self, Layout, Quote};

/// Replace `start..end` of the text by `text` (an insertion when the range is empty).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextEdit {
    pub start: usize,
    pub end: usize,
    pub text: String,
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

    fn add(&self, path: &str, value: &Value) -> Result<Vec<TextEdit>> {
        let (parent_path, last) = path
            .rsplit_once('/')
            .ok_or_else(|| format!("`{path}` is not a JSON pointer"))?;
        let token = crate::pointer::unescape(last);
        let frames = self.resolve(parent_path)?;
        let parent = deepest(&frames)?;
        let in_flow = parent.in_flow || self.is_flow(parent.node);
        let layout = self.layout_near(&frames);
        self.check_anchors(&frames, None)?;
        match &parent.node.kind {
            NodeKind::Map(entries) => {
                if entries
                    .iter()
                    .any(|e| e.key.scalar().is_some_and(|s| s.text == token))
                {
                    // RFC 6902: `add` on an existing member replaces it.
                    let frames = self.resolve(path)?;
                    return self.replace(&frames, value);
                }
                if entries.is_empty() {
                    let mut map = Map::new();
                    map.insert(token.into_owned(), value.clone());
                    return self.replace(&frames, &Value::Object(map));
                }
                if in_flow {
                    let last = &entries[entries.len() - 1];
                    let key = render::key(&token, self.json);
                    return Ok(vec![self.flow_append(
                        parent.node,
                        self.start(&last.key)?,
                        self.content_end(&last.value)?,
                        &format!("{key}: "),
                        value,
                    )?]);
                }
                let indent = self.column(self.start(&entries[0].key)?);
                let at = self.after_line(self.content_end(parent.node)?);
                Ok(vec![self.insert_lines(
                    at,
                    render::block_entry(&token, value, indent, layout),
                )])
            }
            NodeKind::Seq(items) => {
                if token != "-" && token != items.len().to_string() {
                    return Err(format!(
                        "`{path}`: inserting inside a list is not supported"
                    ));
                }
                if items.is_empty() {
                    return self.replace(&frames, &Value::Array(vec![value.clone()]));
                }
                let last = &items[items.len() - 1];
                let at = self.content_end(last)?;
                if in_flow {
                    return Ok(vec![self.flow_append(
                        parent.node,
                        self.start(last)?,
                        at,
                        "",
                        value,
                    )?]);
                }
                let dash = self.dash_before(self.start(&items[0])?)?;
                Ok(vec![self.insert_lines(
                    self.after_line(at),
                    render::block_items(std::slice::from_ref(value), self.column(dash), layout),
                )])
            }
            NodeKind::Scalar(_) => Err(format!("`{path}`: the parent is a scalar")),
        }
    }

    /// A new member after the last one of a flow collection: `, key: value` on the same line,
    /// or on a line of its own at the last member's column when the collection spans lines
    /// (pretty JSON).
    fn flow_append(
        &self,
        collection: &Node,
        last_start: usize,
        at: usize,
        lead: &str,
        value: &Value,
    ) -> Result<TextEdit> {
        let multi_line = self.later_line(at, self.start(collection)?);
        let text = if multi_line {
            let col = self.column(last_start);
            let v = if self.json {
                render::json_pretty(value, col)
            } else {
                render::flow(value, false)
            };
            format!(",\n{}{lead}{v}", " ".repeat(col))
        } else {
            format!(", {lead}{}", render::flow(value, self.json))
        };
        Ok(insert(at, text))
    }

    fn replace(&self, frames: &[Frame<'a>], value: &Value) -> Result<Vec<TextEdit>> {
        let Frame { node, key, in_flow } = deepest(frames)?;
        let layout = self.layout_near(&frames[..frames.len() - 1]);
        let colon = key.map(|k| self.colon_after(k)).transpose()?;
        // A block scalar's header (`|`, `>-`) sits between the colon and its first line, and
        // a block collection under a key starts on a line of its own: a new value replaces
        // everything from the colon.
        let block = match &node.kind {
            NodeKind::Scalar(s) => matches!(s.style, Style::Literal | Style::Folded),
            _ => !self.is_flow(node),
        };
        let (start, lead) = match colon {
            Some(colon) if block => (self.after_properties(colon), " "),
            None if node.scalar().is_some() && block => {
                return Err("a block scalar in a list cannot be rewritten in place".into());
            }
            _ => (self.start(node)?, ""),
        };
        self.check_anchors(frames, Some((start, self.content_end(node)?)))?;
        if let (NodeKind::Scalar(s), Some(text)) = (
            &node.kind,
            render::scalar(value, self.quote(node), in_flow || self.json),
        ) {
            let implicit_null = s.style == Style::Plain && s.text.is_empty();
            if implicit_null {
                let colon = colon.ok_or("an empty list item cannot be edited in place")?;
                return Ok(vec![insert(colon + 1, format!(" {text}"))]);
            }
            if let (Style::Literal, Value::String(new)) = (s.style, value)
                && let Some(edit) = self.literal_lines(node, &s.text, new)
            {
                return Ok(vec![edit]);
            }
            if let (Value::String(new), Some(colon), Some(key)) = (value, colon, key)
                && new.contains('\n')
                && !in_flow
                && !self.json
            {
                let indent = self.column(self.start(key)?);
                let literal = render::literal(new, indent + layout.step);
                return Ok(vec![TextEdit {
                    start: self.after_properties(colon),
                    end: self.content_end(node)?,
                    text: format!(" {}", literal.trim_end_matches('\n')),
                }]);
            }
            return Ok(vec![TextEdit {
                start,
                end: self.content_end(node)?,
                text: format!("{lead}{text}"),
            }]);
        }
        let end = self.content_end(node)?.max(start);
        let non_empty = match value {
            Value::Object(m) => !m.is_empty(),
            Value::Array(a) => !a.is_empty(),
            _ => false,
        };
        match colon.zip(key) {
            // A block value under a key: the new lines go below the key, after anything
            // (a comment) left on the line where the old value ended.
            Some((colon, key)) if !in_flow && !self.json && non_empty => {
                let indent = self.column(self.start(key)?);
                let lines = if let Value::Array(items) = value {
                    let dash = if layout.indent_sequences {
                        indent + layout.step
                    } else {
                        indent
                    };
                    render::block_items(items, dash, layout)
                } else {
                    let map = value.as_object().into_iter().flatten();
                    map.map(|(k, v)| render::block_entry(k, v, indent + layout.step, layout))
                        .collect::<String>()
                };
                let eol = self.line_end(end);
                Ok(vec![TextEdit {
                    start: colon + 1,
                    end: eol,
                    text: format!("{}\n{}", &self.text[end..eol], lines.trim_end_matches('\n')),
                }])
            }
            // Flow (JSON in a JSON file) in place of the old value.
            _ => {
                let text = if self.json && non_empty {
                    render::json_pretty(value, self.line_indent(start))
                } else {
                    render::flow(value, in_flow || self.json)
                };
                Ok(vec![TextEdit {
                    start,
                    end,
                    text: format!("{lead}{text}"),
                }])
            }
        }
    }

    /// The changed lines of a literal block scalar, rewritten at the block's indentation:
    /// one more line of a mounted redis.conf is one more line in the diff. `None` when the
    /// text cannot be matched line by line (the caller rewrites the whole block).
    fn literal_lines(&self, node: &Node, old: &str, new: &str) -> Option<TextEdit> {
        let scalar = node.scalar()?;
        let old_lines: Vec<&str> = old.split_inclusive('\n').collect();
        let new_lines: Vec<&str> = new.split_inclusive('\n').collect();
        let prefix = old_lines
            .iter()
            .zip(&new_lines)
            .take_while(|(a, b)| a == b)
            .count();
        let max_suffix = old_lines.len().min(new_lines.len()) - prefix;
        let suffix = old_lines
            .iter()
            .rev()
            .zip(new_lines.iter().rev())
            .take(max_suffix)
            .take_while(|(a, b)| a == b)
            .count();
        // A change at the very end meets the chomping indicator: rewrite the block.
        if suffix == 0 && (!old.ends_with('\n') || !new.ends_with('\n') || new.ends_with("\n\n")) {
            return None;
        }
        // Where each decoded line starts in the file, from the first line with content.
        let first = old_lines.iter().position(|l| !l.trim().is_empty())?;
        let offset_in_text: usize = old_lines[..first].iter().map(|l| l.len()).sum();
        let pos = scalar.pos_at(offset_in_text)?;
        let indent = (pos.column - 1) as usize;
        let mut starts = vec![0usize; old_lines.len() + 1];
        starts[first] = pos.offset.checked_sub(indent)?;
        for i in (0..first).rev() {
            let before = self.text.get(..starts[i + 1].checked_sub(1)?)?;
            starts[i] = before.rfind('\n').map_or(0, |p| p + 1);
        }
        for i in first..old_lines.len() {
            let rest = self.text.get(starts[i]..)?;
            starts[i + 1] = starts[i] + rest.find('\n')? + 1;
        }
        // Every line must be where the decoding says, with the block's indentation.
        for (i, line) in old_lines.iter().enumerate() {
            let body = line.trim_end_matches('\n');
            let file_line = self.text.get(starts[i]..starts[i + 1])?;
            let file_line = file_line.trim_end_matches('\n').trim_end_matches('\r');
            let ok = if body.is_empty() {
                file_line.trim().is_empty()
            } else {
                file_line.len() == indent + body.len()
                    && file_line[..indent].bytes().all(|b| b == b' ')
                    && &file_line[indent..] == body
            };
            if !ok {
                return None;
            }
        }
        let changed = &new_lines[prefix..new_lines.len() - suffix];
        if prefix == 0 && changed.first().is_some_and(|l| l.starts_with(' ')) {
            return None;
        }
        let pad = " ".repeat(indent);
        let text: String = changed
            .iter()
            .map(|l| {
                if l.trim_end_matches('\n').is_empty() {
                    "\n".to_string()
                } else {
                    format!("{pad}{l}")
                }
            })
            .collect();
        Some(TextEdit {
            start: starts[prefix],
            end: starts[old_lines.len() - suffix],
            text: if self.eol == "\n" {
                text
            } else {
                text.replace('\n', self.eol)
            },
        })
    }

    /// An anchored node (`&name`) is shared by its aliases and merge keys: changing it, or
    /// anything inside it, changes them too, and replacing it removes the anchor. Refused
    /// when any node on the path is anchored or the replaced text holds an anchor.
    fn check_anchors(&self, frames: &[Frame], replaced: Option<(usize, usize)>) -> Result<()> {
        let mut regions = Vec::new();
        for pair in frames.windows(2) {
            let (parent, f) = (pair[0], pair[1]);
            let start = self.start(f.node)?;
            let before = match f.key {
                Some(k) => self.colon_after(k)? + 1,
                None if !self.is_flow(parent.node) => self.dash_before(start)? + 1,
                None => continue,
            };
            // An anchored collection starts at its `&name`.
            regions.push((before.min(start), (start + 2).min(self.text.len())));
        }
        regions.extend(replaced);
        // An anchor no alias names is only a label: the value is this node's alone.
        let aliased = |name: &[u8]| {
            let text = self.text.as_bytes();
            text.windows(name.len() + 1).enumerate().any(|(i, w)| {
                w[0] == b'*'
                    && &w[1..] == name
                    && text
                        .get(i + name.len() + 1)
                        .is_none_or(|c| c.is_ascii_whitespace() || b",]}".contains(c))
            })
        };
        let anchored = regions.iter().any(|&(a, b)| {
            let bytes = &self.text.as_bytes()[a..b.max(a)];
            bytes.iter().enumerate().any(|(i, &c)| {
                if c != b'&' || !(i == 0 && a > 0 || i > 0 && b" \t\r\n[{,".contains(&bytes[i - 1]))
                {
                    return false;
                }
                let name = &self.text.as_bytes()[a + i + 1..];
                let name = &name[..name
                    .iter()
                    .position(|c| c.is_ascii_whitespace() || b",[]{}".contains(c))
                    .unwrap_or(name.len())];
                !name.is_empty() && aliased(name)
            })
        });
        if anchored {
            return Err(
                "the value is a YAML anchor (`&name`) that aliases share; change it by hand".into(),
            );
        }
        Ok(())
    }

    fn quote(&self, node: &Node) -> Quote {
        if self.json {
            return Quote::Json;
        }
        match node.scalar().map(|s| s.style) {
            Some(Style::SingleQuoted) => Quote::Single,
            Some(Style::DoubleQuoted) => Quote::Double,
            _ => Quote::Auto,
        }
    }

    /// Block lines inserted at a line start (after a final line that lacks its break).
    fn insert_lines(&self, at: usize, lines: String) -> TextEdit {
        if at == self.text.len() && !self.text.is_empty() && !self.text.ends_with('\n') {
            insert(at, format!("\n{lines}"))
        } else {
            insert(at, lines)
        }
    }

    fn start(&self, node: &Node) -> Result<usize> {
        node.span
            .map(|s| s.start.offset)
            .ok_or_else(|| "no position in the file".to_string())
    }

    /// A flow collection starts at its bracket; a block one at its first child.
    fn is_flow(&self, node: &Node) -> bool {
        let Some(span) = node.span else {
            return false;
        };
        let first = match &node.kind {
            NodeKind::Map(entries) => entries.first().and_then(|e| e.key.span),
            NodeKind::Seq(items) => items.first().and_then(|i| i.span),
            NodeKind::Scalar(_) => return false,
        };
        first.is_none_or(|f| f.start.offset > span.start.offset)
            && matches!(
                self.text.as_bytes().get(span.start.offset),
                Some(b'{' | b'[')
            )
    }

    /// Where the node's own text ends: after its last character, its closing bracket, or
    /// its last child (block collections run until the next token otherwise).
    fn content_end(&self, node: &Node) -> Result<usize> {
        let span = node.span.ok_or("no position in the file")?;
        match &node.kind {
            NodeKind::Scalar(s) if matches!(s.style, Style::Literal | Style::Folded) => {
                let before = &self.text[..span.end.offset];
                let mut end = before.trim_end().len().max(span.start.offset);
                // `|+` keeps trailing blank lines: they are content, and what follows the
                // scalar goes after them.
                let trailing = s.text.len() - s.text.trim_end_matches('\n').len();
                for _ in 1..trailing {
                    end = self.line_end(self.after_line(end));
                }
                Ok(end)
            }
            // The parser's end of a quoted scalar or a flow collection can run past a
            // comment that follows it on the line: find the closing quote or bracket.
            NodeKind::Scalar(s)
                if s.style == Style::DoubleQuoted || s.style == Style::SingleQuoted =>
            {
                closing(self.text, span.start.offset)
                    .ok_or_else(|| "unterminated quoted scalar".into())
            }
            NodeKind::Scalar(_) => Ok(span.end.offset),
            _ if self.is_flow(node) => closing(self.text, span.start.offset)
                .ok_or_else(|| "cannot find the end of a flow collection".into()),
            // The last child written here: entries a merge key (`<<: *base`) brings in sit
            // at their anchor.
            NodeKind::Map(entries) => {
                let last = entries
                    .iter()
                    .rev()
                    .find(|e| {
                        e.key
                            .span
                            .is_some_and(|k| k.start.offset >= span.start.offset)
                    })
                    .ok_or("a mapping made only of merged keys")?;
                self.content_end(&last.value)
            }
            NodeKind::Seq(items) => self.content_end(items.last().ok_or("empty")?),
        }
    }

    /// The offset of the `:` after a mapping key.
    /// After the properties (a tag `!!str`, an anchor `&conf`) a value written after the
    /// colon at `colon` carries, or just after the colon: a rewritten value keeps them.
    fn after_properties(&self, colon: usize) -> usize {
        let mut at = colon + 1;
        loop {
            let rest = &self.text[at..];
            let blanks = rest.len() - rest.trim_start_matches([' ', '\t']).len();
            if !rest[blanks..].starts_with(['!', '&']) {
                return at;
            }
            let token = rest[blanks..]
                .find(char::is_whitespace)
                .unwrap_or(rest.len() - blanks);
            at += blanks + token;
        }
    }

    fn colon_after(&self, key: &Node) -> Result<usize> {
        let end = key.span.ok_or("no position in the file")?.end.offset;
        let rest = &self.text[end..];
        let skipped = rest.len() - rest.trim_start_matches([' ', '\t']).len();
        if rest[skipped..].starts_with(':') {
            Ok(end + skipped)
        } else {
            Err("the key is not followed by `:` (a complex key)".into())
        }
    }

    /// The `-` of the block sequence item starting at `at`.
    fn dash_before(&self, at: usize) -> Result<usize> {
        let before = self.text[..at].trim_end_matches([' ', '\t']);
        if before.ends_with('-') {
            Ok(before.len() - 1)
        } else {
            Err("cannot find the `-` of a list item".into())
        }
    }

    /// Column (0-based, in bytes: indentation is ASCII) of an offset.
    fn column(&self, at: usize) -> usize {
        at - self.text[..at].rfind('\n').map_or(0, |p| p + 1)
    }

    /// The indentation of the line holding `at`.
    fn line_indent(&self, at: usize) -> usize {
        let start = at - self.column(at);
        self.text[start..].len() - self.text[start..].trim_start_matches(' ').len()
    }

    /// `at` is on a line after the line of `from` (`from` ≤ `at`; lines between them only
    /// are scanned: counting from the start of the file made a file of many objects
    /// quadratic).
    fn later_line(&self, at: usize, from: usize) -> bool {
        from < at && self.text[from..at].contains('\n')
    }

    /// The offset of the line break ending the line of `at` (or the end of the text).
    fn line_end(&self, at: usize) -> usize {
        let end = self.text[at..]
            .find('\n')
            .map_or(self.text.len(), |p| at + p);
        if end > at && self.text.as_bytes()[end - 1] == b'\r' {
            end - 1
        } else {
            end
        }
    }

    /// The start of the line after the one holding `at`.
    fn after_line(&self, at: usize) -> usize {
        self.text[at..]
            .find('\n')
            .map_or(self.text.len(), |p| at + p + 1)
    }

    /// Indentation step and sequence style as the text around an edit uses them: found in
    /// the innermost enclosing node that shows them (files mix styles: an `initContainers`
    /// list indented, the `containers` list below it not).
    fn layout_near(&self, frames: &[Frame]) -> Layout {
        let (mut step, mut seq) = (None, None);
        for f in frames.iter().rev() {
            let (s, q) = self.detect_layout(f.node);
            step = step.or(s);
            seq = seq.or(q);
            if step.is_some() && seq.is_some() {
                break;
            }
        }
        let default = Layout::default();
        Layout {
            step: step.unwrap_or(default.step),
            indent_sequences: seq.unwrap_or(default.indent_sequences),
        }
    }

    /// The first nesting step and sequence style written under `start`, in document order.
    fn detect_layout(&self, start: &Node) -> (Option<usize>, Option<bool>) {
        let (mut step, mut seq) = (None, None);
        let mut stack = vec![start];
        while let Some(node) = stack.pop() {
            if step.is_some() && seq.is_some() {
                break;
            }
            if let NodeKind::Map(entries) = &node.kind {
                if self.is_flow(node) {
                    continue;
                }
                // Depth first in document order: the first nesting written is the style.
                let mut children = Vec::new();
                for e in entries {
                    let (Ok(key_at), Some(v)) = (self.start(&e.key), Some(&e.value)) else {
                        continue;
                    };
                    match &v.kind {
                        NodeKind::Map(children) if step.is_none() && !self.is_flow(v) => {
                            if let Some(Ok(child_at)) = children.first().map(|c| self.start(&c.key))
                            {
                                let (k, c) = (self.column(key_at), self.column(child_at));
                                if c > k && self.later_line(child_at, key_at) {
                                    step = Some(c - k);
                                }
                            }
                        }
                        NodeKind::Seq(items) if seq.is_none() && !self.is_flow(v) => {
                            if let Some(Ok(dash)) = items
                                .first()
                                .map(|i| self.start(i).and_then(|a| self.dash_before(a)))
                                && self.later_line(dash, key_at)
                            {
                                seq = Some(self.column(dash) > self.column(key_at));
                            }
                        }
                        _ => {}
                    }
                    children.push(v);
                }
                stack.extend(children.into_iter().rev());
            } else if let NodeKind::Seq(items) = &node.kind {
                stack.extend(items.iter().rev());
            }
        }
        (step, seq)
    }
}

/// The offset just after the quoted scalar or flow collection that starts at `start`:
/// its closing quote, or its matching bracket (skipping quoted scalars and comments).
fn closing(text: &str, start: usize) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut i = start;
    let mut depth = 0usize;
    loop {
        match *bytes.get(i)? {
            b'"' => {
                i += 1;
                loop {
                    match *bytes.get(i)? {
                        b'\\' => i += 2,
                        b'"' => break,
                        _ => i += 1,
                    }
                }
            }
            b'\'' => {
                i += 1;
                loop {
                    match *bytes.get(i)? {
                        b'\'' if bytes.get(i + 1) == Some(&b'\'') => i += 2,
                        b'\'' => break,
                        _ => i += 1,
                    }
                }
            }
            b'{' | b'[' => depth += 1,
            b'}' | b']' => depth = depth.checked_sub(1)?,
            b'#' if i > 0 && matches!(bytes[i - 1], b' ' | b'\t' | b'\n' | b'\r') => {
                i += text[i..].find('\n')?;
            }
            _ => {}
        }
        i += 1;
        if depth == 0 {
            return Some(i);
        }
    }
}

/// The deepest frame (a walk always holds the root; an error, not a panic, if it did not).
fn deepest<'a>(frames: &[Frame<'a>]) -> Result<Frame<'a>> {
    frames
        .last()
        .copied()
        .ok_or_else(|| "internal: an empty pointer walk".to_string())
}

fn insert(at: usize, text: String) -> TextEdit {
    TextEdit {
        start: at,
        end: at,
        text,
    }
}

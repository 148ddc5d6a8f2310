//! Positions in the text: where a node starts and ends, its key's colon, the item's dash,
//! columns, line ends, and the indentation and style of the block around it.

use super::*;

impl<'a> Editor<'a> {
    pub(super) fn quote(&self, node: &Node) -> Quote {
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
    pub(super) fn insert_lines(&self, at: usize, lines: String) -> TextEdit {
        if at == self.text.len() && !self.text.is_empty() && !self.text.ends_with('\n') {
            insert(at, format!("\n{lines}"))
        } else {
            insert(at, lines)
        }
    }

    pub(super) fn start(&self, node: &Node) -> Result<usize> {
        node.span
            .map(|s| s.start.offset)
            .ok_or_else(|| "no position in the file".to_string())
    }

    /// A flow collection starts at its bracket; a block one at its first child.
    pub(super) fn is_flow(&self, node: &Node) -> bool {
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
    pub(super) fn content_end(&self, node: &Node) -> Result<usize> {
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
    pub(super) fn after_properties(&self, colon: usize) -> usize {
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

    pub(super) fn colon_after(&self, key: &Node) -> Result<usize> {
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
    pub(super) fn dash_before(&self, at: usize) -> Result<usize> {
        let before = self.text[..at].trim_end_matches([' ', '\t']);
        if before.ends_with('-') {
            Ok(before.len() - 1)
        } else {
            Err("cannot find the `-` of a list item".into())
        }
    }

    /// Column (0-based, in bytes: indentation is ASCII) of an offset.
    pub(super) fn column(&self, at: usize) -> usize {
        at - self.text[..at].rfind('\n').map_or(0, |p| p + 1)
    }

    /// The indentation of the line holding `at`.
    pub(super) fn line_indent(&self, at: usize) -> usize {
        let start = at - self.column(at);
        self.text[start..].len() - self.text[start..].trim_start_matches(' ').len()
    }

    /// `at` is on a line after the line of `from` (`from` ≤ `at`; lines between them only
    /// are scanned: counting from the start of the file made a file of many objects
    /// quadratic).
    pub(super) fn later_line(&self, at: usize, from: usize) -> bool {
        from < at && self.text[from..at].contains('\n')
    }

    /// The offset of the line break ending the line of `at` (or the end of the text).
    pub(super) fn line_end(&self, at: usize) -> usize {
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
    pub(super) fn after_line(&self, at: usize) -> usize {
        self.text[at..]
            .find('\n')
            .map_or(self.text.len(), |p| at + p + 1)
    }

    /// Indentation step and sequence style as the text around an edit uses them: found in
    /// the innermost enclosing node that shows them (files mix styles: an `initContainers`
    /// list indented, the `containers` list below it not).
    pub(super) fn layout_near(&self, frames: &[Frame]) -> Layout {
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
    pub(super) fn detect_layout(&self, start: &Node) -> (Option<usize>, Option<bool>) {
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
pub(super) fn closing(text: &str, start: usize) -> Option<usize> {
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
pub(super) fn deepest<'a>(frames: &[Frame<'a>]) -> Result<Frame<'a>> {
    frames
        .last()
        .copied()
        .ok_or_else(|| "internal: an empty pointer walk".to_string())
}

pub(super) fn insert(at: usize, text: String) -> TextEdit {
    TextEdit {
        start: at,
        end: at,
        text,
    }
}

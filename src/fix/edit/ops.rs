//! The edits of one patch operation: `add` (a key, an item, a flow item) and `replace` (a
//! scalar in its own style, a block literal's lines, a whole value), refusing anchors.

use super::*;

impl<'a> Editor<'a> {
    pub(super) fn add(&self, path: &str, value: &Value) -> Result<Vec<TextEdit>> {
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
    pub(super) fn flow_append(
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

    pub(super) fn replace(&self, frames: &[Frame<'a>], value: &Value) -> Result<Vec<TextEdit>> {
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
    pub(super) fn literal_lines(&self, node: &Node, old: &str, new: &str) -> Option<TextEdit> {
        let scalar = node.scalar()?;
        let old_lines: Vec<&str> = old.split_inclusive('\n').collect();
        let new_lines: Vec<&str> = new.split_inclusive('\n').collect();
        let (prefix, suffix) = super::common_ends(&old_lines, &new_lines);
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
    pub(super) fn check_anchors(
        &self,
        frames: &[Frame],
        replaced: Option<(usize, usize)>,
    ) -> Result<()> {
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
}

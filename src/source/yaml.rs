//! Multi-document YAML → [`Node`] trees with positions, in one pass of saphyr-parser's event
//! stream.
//!
//! Why our own tree builder over saphyr's `MarkedYaml`: one pass gives the depth guard
//! (saphyr recurses, and 100k nested `- ` overflow the stack), the alias budget, scalar styles
//! and byte offsets together; and each document is parsed on its own, so a Helm template or a
//! tab in one document does not hide the others.

use std::collections::HashMap;

use saphyr_parser::{Event, Marker, Parser, ScalarStyle, ScanError};

use super::node::{Entry, Node, NodeKind, Pos, Scalar, Span, Style};
use super::scalar::{past_properties, scalar_runs};

/// Bounds on what one document may cost. Input comes from every tenant of a cluster.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Nesting of mappings and sequences (a Kubernetes object rarely passes 20; CRD schemas 40).
    pub max_depth: usize,
    /// Nodes per document, aliases counted expanded (a billion-laughs bomb stops here).
    pub max_nodes: usize,
    /// Bytes per file.
    pub max_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_depth: 128,
            max_nodes: 500_000,
            max_bytes: 64 << 20,
        }
    }
}

/// A problem with the input itself (not a rule finding).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub pos: Pos,
    pub message: String,
    /// Errors mean the document was not read; warnings mean it was, with a caveat.
    pub error: bool,
}

/// One YAML document of a file.
#[derive(Debug, Clone)]
pub struct Document {
    /// 0-based index among the file's documents (empty ones included), as `kubectl` counts.
    pub index: usize,
    pub root: Node,
}

/// A stretch of `helm template` output rendered from one template (after its
/// `# Source: chart/templates/x.yaml` comment).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HelmSection {
    pub template: String,
    /// The input lines the section covers.
    pub first_line: u32,
    pub last_line: u32,
    /// The line of the rendered template that `first_line` is. Helm prints each document of a
    /// template under its own `---` and `# Source:` header; counting the documents of one
    /// template as joined by one `---` line gives the lines of the rendered template (what
    /// `helm template --show-only` prints without its headers).
    pub template_line: u32,
}

/// A whole input file: its text, its documents and what went wrong reading it.
#[derive(Debug, Clone)]
pub struct SourceFile {
    pub name: String,
    pub text: String,
    pub documents: Vec<Document>,
    pub diagnostics: Vec<Diagnostic>,
    /// Present when the input is `helm template` output.
    pub helm_sections: Vec<HelmSection>,
    /// The bytes as read when they are not UTF-8, or the first bytes of a standard input over
    /// the size limit (`text` is then empty): kept so that `fix -`, a filter, passes them
    /// through unchanged.
    pub raw: Option<Vec<u8>>,
}

impl SourceFile {
    /// The template a line of this input was rendered from, and its line there.
    pub fn helm_origin(&self, line: u32) -> Option<(&str, u32)> {
        self.helm_sections
            .iter()
            .find(|s| (s.first_line..=s.last_line).contains(&line))
            .map(|s| (s.template.as_str(), s.template_line + (line - s.first_line)))
    }
}

/// Read every document of `text`. Never panics; problems become diagnostics.
pub fn load_yaml(name: &str, text: String, limits: &Limits) -> SourceFile {
    let mut file = SourceFile {
        name: name.to_string(),
        text: String::new(),
        documents: Vec::new(),
        diagnostics: Vec::new(),
        helm_sections: Vec::new(),
        raw: None,
    };
    if text.len() > limits.max_bytes {
        file.diagnostics.push(Diagnostic {
            pos: Pos {
                line: 1,
                column: 1,
                offset: 0,
            },
            message: format!(
                "file is {} bytes, above the limit of {} bytes; not read",
                text.len(),
                limits.max_bytes
            ),
            error: true,
        });
        return file;
    }
    file.text = text;
    let mut next_template_line: HashMap<String, u32> = HashMap::new();
    for (index, chunk) in split_documents(&file.text).into_iter().enumerate() {
        let chunk_text = &file.text[chunk.start..chunk.end];
        if let Some(section) = helm_section(chunk_text, chunk.line, &mut next_template_line) {
            file.helm_sections.push(section);
        }
        if is_blank_document(chunk_text) {
            continue;
        }
        let template = |pos: Pos| Diagnostic {
            pos,
            message: "Helm/Go template syntax `{{ … }}`: this is a chart template, not a \
                      manifest; render it first (`helm template … | redline lint -`)"
                .to_string(),
            error: true,
        };
        // `{{ }}` is a template only where it makes the YAML what it is: outside every
        // scalar (`name: {{ .Release.Name }}` parses as a flow mapping), or in a document that
        // does not parse. Inside a string it is data (a Grafana dashboard's
        // `"legendFormat": "{{instance}}"`, an alert's `{{ $labels.pod }}`).
        let occurrences = template_syntax(chunk_text, chunk.start, chunk.line);
        let mut builder = Builder::new(&file.text, chunk.start, chunk.line, limits);
        match builder.parse(chunk_text) {
            Ok(roots) => {
                if let Some(pos) = occurrences
                    .into_iter()
                    .find(|p| !roots.iter().any(|r| inside_scalar(r, p.offset)))
                {
                    file.diagnostics.push(template(pos));
                    continue;
                }
                file.diagnostics.append(&mut builder.warnings);
                for root in roots {
                    file.documents.push(Document { index, root });
                }
            }
            Err(d) => match occurrences.first() {
                Some(pos) => file.diagnostics.push(template(*pos)),
                None => file.diagnostics.push(d),
            },
        }
    }
    file
}

/// Byte range and first line of one document's text.
struct Chunk {
    start: usize,
    end: usize,
    line: u32,
}

/// Split at `---` / `...` lines. YAML forbids both markers at column 0 inside any scalar, so
/// this textual split is exact and lets each document fail alone.
fn split_documents(text: &str) -> Vec<Chunk> {
    let mut chunks = Vec::new();
    let mut start = 0;
    let mut start_line = 1;
    let mut offset = 0;
    let mut line_no = 1u32;
    for line in text.split_inclusive('\n') {
        let marker = |m: &str| {
            line.strip_prefix(m)
                .is_some_and(|rest| rest.is_empty() || rest.starts_with([' ', '\t', '\r', '\n']))
        };
        let mut cut = |start: &mut usize, start_line: &mut u32, offset: usize, line_no: u32| {
            chunks.push(Chunk {
                start: *start,
                end: offset,
                line: *start_line,
            });
            *start = offset;
            *start_line = line_no;
        };
        if marker("---") && offset > start && !only_directives(&text[start..offset]) {
            cut(&mut start, &mut start_line, offset, line_no);
        }
        offset += line.len();
        line_no += 1;
        if marker("...") {
            cut(&mut start, &mut start_line, offset, line_no);
        }
    }
    if start < text.len() || chunks.is_empty() {
        chunks.push(Chunk {
            start,
            end: text.len(),
            line: start_line,
        });
    }
    chunks
}

/// Directives (`%YAML`), comments and blank lines belong to the document that follows.
fn only_directives(text: &str) -> bool {
    text.lines().all(|l| {
        let t = l.trim();
        t.is_empty() || t.starts_with('#') || t.starts_with('%')
    })
}

fn is_blank_document(text: &str) -> bool {
    text.lines().all(|l| {
        let t = l.trim().trim_start_matches('\u{feff}');
        t.is_empty() || t.starts_with('#') || t == "---" || t == "..." || t.starts_with("--- #")
    })
}

/// The `# Source:` comment in a document's header, and the lines after it.
fn helm_section(
    text: &str,
    first_line: u32,
    next_template_line: &mut HashMap<String, u32>,
) -> Option<HelmSection> {
    let (index, template) = text
        .lines()
        .map(str::trim)
        .take_while(|l| l.is_empty() || l.starts_with('#') || *l == "---")
        .enumerate()
        .find_map(|(i, l)| Some((i, l.strip_prefix("# Source:")?.trim().to_string())))?;
    let line_count = text.lines().count() as u32;
    let first = first_line + index as u32 + 1;
    let last = (first_line + line_count).saturating_sub(1).max(first);
    let next = next_template_line.entry(template.clone()).or_insert(1);
    let template_line = *next;
    // The next document of the template follows one `---` line.
    *next = template_line + (last - first) + 2;
    Some(HelmSection {
        template,
        first_line: first,
        last_line: last,
        template_line,
    })
}

/// The first `{{` outside a comment, as a file position.
fn template_syntax(text: &str, start: usize, first_line: u32) -> Vec<Pos> {
    let mut out = Vec::new();
    let mut offset = start;
    for (i, line) in text.split_inclusive('\n').enumerate() {
        let code = line.split(" #").next().unwrap_or(line);
        if !line.trim_start().starts_with('#') {
            let mut from = 0;
            while let Some(found) = code[from..].find("{{") {
                let col = from + found;
                if !code[col..].contains("}}") {
                    break;
                }
                out.push(Pos {
                    line: first_line + i as u32,
                    column: code[..col].chars().count() as u32 + 1,
                    offset: offset + col,
                });
                from = col + 2;
            }
        }
        offset += line.len();
    }
    out
}

/// Whether byte `offset` of the file lies inside a scalar of `node`.
fn inside_scalar(node: &Node, offset: usize) -> bool {
    let Some(span) = node.span else { return false };
    if offset < span.start.offset || offset >= span.end.offset {
        return false;
    }
    match &node.kind {
        NodeKind::Scalar(_) => true,
        NodeKind::Seq(items) => items.iter().any(|i| inside_scalar(i, offset)),
        NodeKind::Map(entries) => entries
            .iter()
            .any(|e| inside_scalar(&e.key, offset) || inside_scalar(&e.value, offset)),
    }
}

enum Frame {
    Seq {
        start: Pos,
        anchor: usize,
        items: Vec<Node>,
        size: usize,
    },
    Map {
        start: Pos,
        anchor: usize,
        entries: Vec<Entry>,
        key: Option<Node>,
        size: usize,
    },
}

struct Builder<'t> {
    file: &'t str,
    base_offset: usize,
    base_line: u32,
    /// Byte offset of each character of the chunk, when it is not ASCII.
    char_offsets: Option<Vec<usize>>,
    limits: Limits,
    stack: Vec<Frame>,
    anchors: HashMap<usize, (Node, usize)>,
    nodes: usize,
    roots: Vec<Node>,
    warnings: Vec<Diagnostic>,
}

impl<'t> Builder<'t> {
    fn new(file: &'t str, base_offset: usize, base_line: u32, limits: &Limits) -> Self {
        Builder {
            file,
            base_offset,
            base_line,
            char_offsets: None,
            limits: *limits,
            stack: Vec::new(),
            anchors: HashMap::new(),
            nodes: 0,
            roots: Vec::new(),
            warnings: Vec::new(),
        }
    }

    fn pos(&self, m: &Marker) -> Pos {
        let byte = match &self.char_offsets {
            None => m.index(),
            Some(v) => v.get(m.index()).copied().unwrap_or(*v.last().unwrap_or(&0)),
        };
        Pos {
            line: self.base_line + m.line() as u32 - 1,
            column: m.col() as u32 + 1,
            offset: self.base_offset + byte,
        }
    }

    fn error(&self, pos: Pos, message: String) -> Diagnostic {
        Diagnostic {
            pos,
            message,
            error: true,
        }
    }

    fn parse(&mut self, chunk: &str) -> Result<Vec<Node>, Diagnostic> {
        if !chunk.is_ascii() {
            let mut v: Vec<usize> = chunk.char_indices().map(|(i, _)| i).collect();
            v.push(chunk.len());
            self.char_offsets = Some(v);
        }
        let mut parser = Parser::new_from_str(chunk);
        loop {
            let (event, span) = match parser.next_event() {
                None => break,
                Some(Ok(e)) => e,
                Some(Err(e)) => return Err(self.scan_error(&e, chunk)),
            };
            let start = self.pos(&span.start);
            let end = self.pos(&span.end);
            match event {
                Event::StreamEnd => break,
                Event::Scalar(text, style, anchor, _tag) => {
                    let style = match style {
                        ScalarStyle::Plain => Style::Plain,
                        ScalarStyle::SingleQuoted => Style::SingleQuoted,
                        ScalarStyle::DoubleQuoted => Style::DoubleQuoted,
                        ScalarStyle::Literal => Style::Literal,
                        ScalarStyle::Folded => Style::Folded,
                    };
                    let text = text.into_owned();
                    if matches!(style, Style::SingleQuoted | Style::DoubleQuoted) {
                        for m in parser.take_under_indented_quoted() {
                            let line = self.pos(&m).line;
                            self.warnings.push(Diagnostic {
                                pos: start,
                                message: format!(
                                    "line {line} of this quoted string is indented less than \
                                     YAML 1.2 requires; read as kubectl, kustomize and PyYAML \
                                     read it (a strict YAML 1.2 parser refuses the document)"
                                ),
                                error: false,
                            });
                        }
                    }
                    let start = past_properties(self.file, start, end, style);
                    let runs = scalar_runs(self.file, start, end, style, &text);
                    let node = Node {
                        kind: NodeKind::Scalar(Scalar { text, style, runs }),
                        span: Some(Span { start, end }),
                    };
                    self.count(1, start)?;
                    self.push(node, 1, anchor);
                }
                Event::Alias(id) => {
                    let Some(size) = self.anchors.get(&id).map(|(_, size)| *size) else {
                        return Err(self.error(start, "alias to an unknown anchor".into()));
                    };
                    // Counted before it is copied: a bomb stops before it allocates.
                    self.count(size, start)?;
                    let node = self.anchors[&id].0.clone();
                    self.push(node, size, 0);
                }
                Event::SequenceStart(anchor, _) | Event::MappingStart(anchor, _) => {
                    if self.stack.len() >= self.limits.max_depth {
                        return Err(self.error(
                            start,
                            format!(
                                "nesting deeper than {} levels; not read (no Kubernetes object \
                                 needs this: a malformed or hostile document)",
                                self.limits.max_depth
                            ),
                        ));
                    }
                    self.count(1, start)?;
                    self.stack
                        .push(if matches!(event, Event::SequenceStart(..)) {
                            Frame::Seq {
                                start,
                                anchor,
                                items: Vec::new(),
                                size: 1,
                            }
                        } else {
                            Frame::Map {
                                start,
                                anchor,
                                entries: Vec::new(),
                                key: None,
                                size: 1,
                            }
                        });
                }
                Event::SequenceEnd | Event::MappingEnd => {
                    let Some(frame) = self.stack.pop() else {
                        return Err(self.error(start, "unbalanced collection end".into()));
                    };
                    let (node, size, anchor) = match frame {
                        Frame::Seq {
                            start: s,
                            anchor,
                            items,
                            size,
                        } => (
                            Node {
                                kind: NodeKind::Seq(items),
                                span: Some(Span { start: s, end }),
                            },
                            size,
                            anchor,
                        ),
                        Frame::Map {
                            start: s,
                            anchor,
                            entries,
                            size,
                            ..
                        } => {
                            let entries = self.finish_map(entries);
                            (
                                Node {
                                    kind: NodeKind::Map(entries),
                                    span: Some(Span { start: s, end }),
                                },
                                size,
                                anchor,
                            )
                        }
                    };
                    // Counted as it was read; only its anchor and parent learn of it here.
                    self.push(node, size, anchor);
                }
                Event::StreamStart
                | Event::DocumentStart(_)
                | Event::DocumentEnd
                | Event::Nothing => {}
            }
        }
        Ok(std::mem::take(&mut self.roots))
    }

    fn count(&mut self, size: usize, at: Pos) -> Result<(), Diagnostic> {
        self.nodes = self.nodes.saturating_add(size);
        if self.nodes > self.limits.max_nodes {
            return Err(self.error(
                at,
                format!(
                    "more than {} nodes once aliases are expanded; not read (an alias bomb, or a \
                     document far larger than any Kubernetes object)",
                    self.limits.max_nodes
                ),
            ));
        }
        Ok(())
    }

    fn push(&mut self, node: Node, size: usize, anchor: usize) {
        if anchor != 0 {
            self.anchors.insert(anchor, (node.clone(), size));
        }
        match self.stack.last_mut() {
            None => self.roots.push(node),
            Some(Frame::Seq { items, size: s, .. }) => {
                items.push(node);
                *s = s.saturating_add(size);
            }
            Some(Frame::Map {
                entries,
                key,
                size: s,
                ..
            }) => {
                *s = s.saturating_add(size);
                match key.take() {
                    None => *key = Some(node),
                    Some(k) => entries.push(Entry {
                        key: k,
                        value: node,
                    }),
                }
            }
        }
    }

    /// Apply YAML 1.1 merge keys (`<<: *base`, which Kubernetes' decoder honours) and warn
    /// about repeated keys.
    fn finish_map(&mut self, entries: Vec<Entry>) -> Vec<Entry> {
        let is_merge = |e: &Entry| {
            e.key
                .scalar()
                .is_some_and(|s| s.text == "<<" && s.style == super::node::Style::Plain)
        };
        let (merges, mut own): (Vec<Entry>, Vec<Entry>) = entries.into_iter().partition(is_merge);
        let mut seen: HashMap<String, Pos> = HashMap::new();
        for e in &own {
            if let Some(s) = e.key.scalar() {
                let pos = e.key.start().unwrap_or_default();
                if let Some(first) = seen.insert(s.text.clone(), pos) {
                    self.warnings.push(Diagnostic {
                        pos,
                        message: format!(
                            "key `{}` repeated (first at line {}): redline reads the last \
                             value, as kubectl does; kustomize refuses the document (\"mapping \
                             key already defined\")",
                            s.text, first.line
                        ),
                        error: false,
                    });
                }
            }
        }
        for m in merges {
            let sources: Vec<&Node> = match &m.value.kind {
                NodeKind::Map(_) => vec![&m.value],
                NodeKind::Seq(items) => items.iter().collect(),
                NodeKind::Scalar(_) => Vec::new(),
            };
            for src in sources {
                for e in src.entries() {
                    let key = e.key.scalar().map(|s| s.text.clone()).unwrap_or_default();
                    if let std::collections::hash_map::Entry::Vacant(slot) = seen.entry(key) {
                        slot.insert(e.key.start().unwrap_or_default());
                        own.push(e.clone());
                    }
                }
            }
        }
        own
    }

    fn scan_error(&self, e: &ScanError, chunk: &str) -> Diagnostic {
        let pos = self.pos(e.marker());
        let line = chunk
            .lines()
            .nth(e.marker().line().saturating_sub(1))
            .unwrap_or("");
        let hint = if line.starts_with([' ', '\t']) && line.contains('\t') {
            " (YAML indentation must use spaces, not tabs)"
        } else {
            ""
        };
        Diagnostic {
            pos,
            message: format!("YAML syntax error: {}{hint}; document not read", e.info()),
            error: true,
        }
    }
}

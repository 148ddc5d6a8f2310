//! Where each character of a decoded scalar sits in the file.
//!
//! A `redis.conf: |` block, or a JSON-style `"\
//!    maxmemory 2mb\n\
//!  "` string, is read as one scalar; a finding about its `maxmemory` line must still point at
//! that line. We re-read the scalar's source and compare what we decode with what the parser
//! decoded: when they agree, every character has its position; when they do not (an exotic
//! form we do not model), the scalar keeps one run at its start, which is still true.

use super::node::{Pos, Style};

/// `(byte offset in the decoded text, file position)` at the start of each verbatim run.
pub fn scalar_runs(
    file: &str,
    start: Pos,
    end: Pos,
    style: Style,
    text: &str,
) -> Vec<(usize, Pos)> {
    let raw = file.get(start.offset..end.offset).unwrap_or("");
    let runs = match style {
        Style::Plain if !raw.contains('\n') => Some(vec![(0, start)]),
        Style::DoubleQuoted => double_quoted(raw, start, text),
        _ => align(raw, start, style, text),
    };
    runs.unwrap_or_else(|| vec![(0, start)])
}

/// Where a scalar's content starts when properties (a tag `!!str`, an anchor `&conf`) precede
/// it: the parser's span then starts at the first property, which put every position inside
/// it on the property's line and made `fix` rewrite the property away. Past them is where the
/// parser starts an unadorned scalar: the value itself, or for a block scalar the first
/// content line after its header (`|`, `>-`), after that line's indentation. `end` is the
/// span's end (an empty block scalar starts there).
pub fn past_properties(file: &str, start: Pos, end: Pos, style: Style) -> Pos {
    let Some(rest) = file.get(start.offset..end.offset) else {
        return start;
    };
    if !rest.starts_with(['!', '&']) {
        return start;
    }
    let mut w = Walker { rest, pos: start };
    while let Some(c) = w.peek() {
        match c {
            '!' | '&' => {
                while w.peek().is_some_and(|c| !c.is_whitespace()) {
                    w.bump();
                }
            }
            ' ' | '\t' | '\r' | '\n' => {
                w.bump();
            }
            _ => break,
        }
    }
    if !matches!(style, Style::Literal | Style::Folded) {
        return w.pos;
    }
    // The header line, then blank lines, then the first content line's indentation.
    while w.peek().is_some_and(|c| c != '\n') {
        w.bump();
    }
    w.bump();
    loop {
        let line = Walker {
            rest: w.rest,
            pos: w.pos,
        };
        while w.peek() == Some(' ') {
            w.bump();
        }
        match w.peek() {
            Some('\n') => {
                w.bump();
            }
            Some('\r') if w.rest.starts_with("\r\n") => {
                w.bump();
                w.bump();
            }
            None => return line.pos,
            _ => break,
        }
    }
    if w.pos.offset >= end.offset {
        end
    } else {
        w.pos
    }
}

/// Walks raw text keeping the file position.
struct Walker<'a> {
    rest: &'a str,
    pos: Pos,
}

impl<'a> Walker<'a> {
    fn peek(&self) -> Option<char> {
        self.rest.chars().next()
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.rest.chars().next()?;
        self.rest = &self.rest[c.len_utf8()..];
        self.pos.offset += c.len_utf8();
        if c == '\n' {
            self.pos.line += 1;
            self.pos.column = 1;
        } else {
            self.pos.column += 1;
        }
        Some(c)
    }

    fn skip_blanks(&mut self) {
        while matches!(self.peek(), Some(' ' | '\t' | '\r')) {
            self.bump();
        }
    }
}

/// YAML 1.2 double-quoted scalars: escapes, escaped line breaks and line folding.
fn double_quoted(raw: &str, start: Pos, expected: &str) -> Option<Vec<(usize, Pos)>> {
    let mut w = Walker {
        rest: raw.strip_prefix('"')?,
        pos: Pos {
            column: start.column + 1,
            offset: start.offset + 1,
            ..start
        },
    };
    let mut out = String::new();
    let mut runs = Vec::new();
    let mut new_run = true;
    // Output below this length came from escapes and is never trimmed by folding.
    let mut trim_floor = 0;
    loop {
        let at = w.pos;
        match w.bump()? {
            '"' => break,
            '\\' => {
                let c = w.bump()?;
                if c == '\n' || c == '\r' {
                    if c == '\r' && w.peek() == Some('\n') {
                        w.bump();
                    }
                    w.skip_blanks();
                    new_run = true;
                    continue;
                }
                let decoded = match c {
                    '0' => '\0',
                    'a' => '\x07',
                    'b' => '\x08',
                    't' | '\t' => '\t',
                    'n' => '\n',
                    'v' => '\x0b',
                    'f' => '\x0c',
                    'r' => '\r',
                    'e' => '\x1b',
                    ' ' => ' ',
                    '"' => '"',
                    '/' => '/',
                    '\\' => '\\',
                    'N' => '\u{85}',
                    '_' => '\u{a0}',
                    'L' => '\u{2028}',
                    'P' => '\u{2029}',
                    'x' | 'u' | 'U' => {
                        let n = match c {
                            'x' => 2,
                            'u' => 4,
                            _ => 8,
                        };
                        let hex: String = (0..n).filter_map(|_| w.bump()).collect();
                        char::from_u32(u32::from_str_radix(&hex, 16).ok()?)?
                    }
                    _ => return None,
                };
                runs.push((out.len(), at));
                out.push(decoded);
                trim_floor = out.len();
                new_run = true;
            }
            '\n' => {
                let keep = out.trim_end_matches([' ', '\t']).len().max(trim_floor);
                out.truncate(keep);
                let mut breaks = 0;
                loop {
                    w.skip_blanks();
                    if w.peek() == Some('\n') {
                        w.bump();
                        breaks += 1;
                    } else {
                        break;
                    }
                }
                if breaks == 0 {
                    out.push(' ');
                } else {
                    out.extend(std::iter::repeat_n('\n', breaks));
                }
                new_run = true;
            }
            c => {
                if new_run {
                    runs.push((out.len(), at));
                    new_run = false;
                }
                out.push(c);
            }
        }
    }
    (out == expected).then_some(runs)
}

/// Plain, single-quoted and block scalars: their lines appear in the decoded text in order,
/// separated by folding spaces or line breaks. Match each source line's content in turn.
fn align(raw: &str, start: Pos, style: Style, expected: &str) -> Option<Vec<(usize, Pos)>> {
    let block = matches!(style, Style::Literal | Style::Folded);
    let (raw, mut pos) = match style {
        Style::SingleQuoted => (
            raw.strip_prefix('\'')?.strip_suffix('\'')?,
            Pos {
                column: start.column + 1,
                offset: start.offset + 1,
                ..start
            },
        ),
        _ => (raw, start),
    };
    let indent = (start.column - 1) as usize;
    let mut runs = Vec::new();
    let mut d = if block {
        expected.len() - expected.trim_start_matches('\n').len()
    } else {
        0
    };
    for (i, line) in raw.split('\n').enumerate() {
        let line_pos = if i == 0 {
            pos
        } else {
            Pos {
                line: pos.line,
                column: 1,
                offset: pos.offset,
            }
        };
        let line_body = line.strip_suffix('\r').unwrap_or(line);
        // The part that is content: block scalars drop their indentation, flow scalars every
        // leading and trailing blank.
        let skip = if i == 0 {
            0
        } else if block {
            (line_body.len() - line_body.trim_start_matches(' ').len()).min(indent)
        } else {
            line_body.len() - line_body.trim_start_matches([' ', '\t']).len()
        };
        let content = &line_body[skip..];
        let content = if block {
            content
        } else {
            content.trim_end_matches([' ', '\t'])
        };
        if !content.is_empty() {
            let content_pos = Pos {
                column: line_pos.column + skip as u32,
                offset: line_pos.offset + skip,
                ..line_pos
            };
            d = match_segment(expected, d, content, content_pos, style, &mut runs)?;
        }
        pos = Pos {
            line: line_pos.line + 1,
            column: 1,
            offset: line_pos.offset + line.len() + 1,
        };
    }
    let rest = &expected[d..];
    rest.chars().all(|c| c == '\n' || c == ' ').then_some(runs)
}

/// Find `content` at `d` (after folding separators) and record its run(s); returns the end.
fn match_segment(
    expected: &str,
    mut d: usize,
    content: &str,
    pos: Pos,
    style: Style,
    runs: &mut Vec<(usize, Pos)>,
) -> Option<usize> {
    // Separators between lines: at most a run of line breaks, or one folding space.
    for _ in 0..=expected.len() - d {
        if starts_with_unquoted(&expected[d..], content, style) {
            break;
        }
        match expected[d..].chars().next()? {
            '\n' | ' ' => d += 1,
            _ => return None,
        }
    }
    let mut w = Walker { rest: content, pos };
    let mut new_run = true;
    while let Some(c) = w.peek() {
        let at = w.pos;
        w.bump();
        if style == Style::SingleQuoted && c == '\'' {
            // `''` is one quote.
            w.bump();
            runs.push((d, at));
            d += 1;
            new_run = true;
            continue;
        }
        if new_run {
            runs.push((d, at));
            new_run = false;
        }
        d += c.len_utf8();
    }
    Some(d)
}

fn starts_with_unquoted(decoded: &str, content: &str, style: Style) -> bool {
    if style == Style::SingleQuoted {
        decoded.starts_with(&content.replace("''", "'"))
    } else {
        decoded.starts_with(content)
    }
}

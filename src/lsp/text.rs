//! Positions as the Language Server Protocol counts them: a line (`\n`, `\r\n` or a lone
//! `\r` ends one) and a character offset in UTF-16 code units — the only encoding every
//! client supports (LSP 3.17, "Position"). redline counts bytes; this converts both ways.

use lsp_types::Position;

/// Line starts of one text, to convert byte offsets and LSP positions.
pub struct LineIndex<'t> {
    text: &'t str,
    /// Byte offset of the start of every line; the first is 0.
    starts: Vec<usize>,
}

impl<'t> LineIndex<'t> {
    pub fn new(text: &'t str) -> LineIndex<'t> {
        let bytes = text.as_bytes();
        let mut starts = vec![0];
        for (i, &b) in bytes.iter().enumerate() {
            if b == b'\n' || (b == b'\r' && bytes.get(i + 1) != Some(&b'\n')) {
                starts.push(i + 1);
            }
        }
        LineIndex { text, starts }
    }

    pub fn text(&self) -> &'t str {
        self.text
    }

    /// Byte offset of the start of 0-based `line` (the text's end past the last line).
    pub fn line_start(&self, line: usize) -> usize {
        self.starts.get(line).copied().unwrap_or(self.text.len())
    }

    /// Byte offset of the end of `line`'s content, before its line break.
    pub fn line_end(&self, line: usize) -> usize {
        let Some(&next) = self.starts.get(line + 1) else {
            return self.text.len();
        };
        let bytes = self.text.as_bytes();
        let mut end = next;
        if end > 0 && bytes[end - 1] == b'\n' {
            end -= 1;
        }
        if end > 0 && bytes[end - 1] == b'\r' && end > self.line_start(line) {
            end -= 1;
        }
        end
    }

    /// The position of a byte offset (clamped to the text, and to the start of the
    /// character it falls in).
    pub fn position(&self, offset: usize) -> Position {
        let mut offset = offset.min(self.text.len());
        while !self.text.is_char_boundary(offset) {
            offset -= 1;
        }
        let line = self.starts.partition_point(|&s| s <= offset) - 1;
        let offset = offset.min(self.line_end(line));
        let start = self.starts[line];
        Position {
            line: u32::try_from(line).unwrap_or(u32::MAX),
            character: u32::try_from(self.text[start..offset].encode_utf16().count())
                .unwrap_or(u32::MAX),
        }
    }

    /// The byte offset of a position. As the protocol says, a character past the line's
    /// end means the end of the line, a line past the last the end of the text; a position
    /// between the two halves of a surrogate pair means the start of that character.
    pub fn offset(&self, position: Position) -> usize {
        let line = position.line as usize;
        if line >= self.starts.len() {
            return self.text.len();
        }
        let start = self.starts[line];
        let end = self.line_end(line);
        let mut units = 0usize;
        for (i, c) in self.text[start..end].char_indices() {
            if units + c.len_utf16() > position.character as usize {
                return start + i;
            }
            units += c.len_utf16();
        }
        end
    }

    /// The byte offset of a 1-based line and a 1-based column counted in characters, as
    /// redline's positions are (clamped to the line).
    pub fn offset_of_column(&self, line: u32, column: u32) -> usize {
        let line = line.saturating_sub(1) as usize;
        let start = self.line_start(line);
        let end = self.line_end(line).max(start);
        self.text[start..end]
            .char_indices()
            .nth(column.saturating_sub(1) as usize)
            .map_or(end, |(i, _)| start + i)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pos(line: u32, character: u32) -> Position {
        Position { line, character }
    }

    #[test]
    fn characters_are_utf16_code_units() {
        // é is 2 bytes and 1 unit; 😀 is 4 bytes and 2 units (a surrogate pair).
        let text = "a: é😀x\nb: 1\n";
        let index = LineIndex::new(text);
        let x = text.find('x').unwrap();
        assert_eq!(index.position(x), pos(0, 6));
        assert_eq!(index.offset(pos(0, 6)), x);
        // Between the surrogates: the emoji's start.
        assert_eq!(index.offset(pos(0, 5)), text.find('😀').unwrap());
        // Inside a UTF-8 sequence: the character's start.
        assert_eq!(index.position(text.find('é').unwrap() + 1), pos(0, 3));
        assert_eq!(index.position(text.find('b').unwrap()), pos(1, 0));
        // Past the end of a line: its end; past the last line: the text's end.
        assert_eq!(index.offset(pos(0, 99)), text.find('\n').unwrap());
        assert_eq!(index.offset(pos(9, 0)), text.len());
    }

    #[test]
    fn every_line_break_ends_a_line() {
        let text = "a\r\nb\rc\nd";
        let index = LineIndex::new(text);
        assert_eq!(index.offset(pos(1, 0)), 3);
        assert_eq!(index.offset(pos(2, 0)), 5);
        assert_eq!(index.offset(pos(3, 0)), 7);
        assert_eq!(index.line_end(0), 1);
        assert_eq!(
            index.position(2),
            pos(0, 1),
            "the \\n of \\r\\n is the line's end"
        );
        assert_eq!(index.offset(pos(0, 5)), 1);
    }

    #[test]
    fn redline_columns_are_characters() {
        let text = "x: 1\n  näme: é2\n";
        let index = LineIndex::new(text);
        assert_eq!(index.offset_of_column(2, 9), text.find('é').unwrap());
        assert_eq!(index.offset_of_column(2, 99), text.len() - 1);
    }
}

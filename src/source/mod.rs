//! Input documents with positions: YAML files and stdin (with line:column for every node) and
//! JSON objects from the API server (without). Knows nothing of Redis or rules.

pub mod node;
mod scalar;
pub mod yaml;

pub use node::{Cursor, Entry, Node, NodeKind, Pos, Scalar, Span, Style};
pub use yaml::{Diagnostic, Document, HelmSection, Limits, SourceFile, load_yaml};

#[cfg(test)]
mod tests;

/// A file name as a terminal should show it: control characters (ESC, newlines, tabs)
/// escaped (`\u{1b}`, `\n`), so a name cannot recolour the output, move the cursor or fake a
/// line of the report. The machine formats (JSON, SARIF, JUnit) encode names their own way.
pub fn shown(name: &str) -> std::borrow::Cow<'_, str> {
    if name.chars().any(char::is_control) {
        name.chars()
            .map(|c| {
                if c.is_control() {
                    c.escape_default().to_string()
                } else {
                    c.to_string()
                }
            })
            .collect::<String>()
            .into()
    } else {
        name.into()
    }
}

//! Input documents with positions: YAML files and stdin (with line:column for every node) and
//! JSON objects from the API server (without). Knows nothing of Redis or rules.

pub mod node;
mod scalar;
pub mod yaml;

pub use node::{Cursor, Entry, Node, NodeKind, Pos, Scalar, Span, Style};
pub use yaml::{Diagnostic, Document, HelmSection, Limits, SourceFile, load_yaml};

#[cfg(test)]
mod tests;

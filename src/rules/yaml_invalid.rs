//! ## yaml-invalid
//!
//! **What it does.** Reports documents that do not load: YAML syntax errors (with the line
//! and column the parser stopped at), Helm template syntax in a file that was not rendered,
//! bytes that are not UTF-8, inputs above the size limit, alias expansion or nesting beyond the limits that protect
//! redline from YAML bombs. Keys repeated in one mapping are warnings: the document is read,
//! with the last value.
//!
//! **Why it matters.** Every other rule judges objects it could read. A document that did
//! not load is a document nothing checked, so it fails the run (exit 1) rather than
//! disappearing from the report. kubectl would reject it too.
//!
//! **Fix.** None automatic: the message says what the parser expected. For a chart, render it
//! first: `helm template RELEASE CHART | redline lint -`.
//!
//! The findings come from loading, before any rule runs; this module only names them. A
//! configuration can lower or disable the repeated-key warning; errors always count.
use super::{NoParams, Rule};

pub struct Check;

impl Rule for Check {
    type Params = NoParams;
}

//! The `lint` pipeline shared by the faces that read files: sources → objects → model →
//! engine.

use crate::engine::{self, Outcome, Settings};
use crate::extract::{self, NotAnObject, Options};
use crate::model::Inventory;
use crate::rules::Offline;
use crate::source::{Diagnostic, SourceFile};

/// Everything one lint run produced.
pub struct Linted {
    pub sources: Vec<SourceFile>,
    pub skipped: Vec<NotAnObject>,
    pub inventory: Inventory,
    pub outcome: Outcome,
}

impl Linted {
    /// Documents that did not load, and warnings about documents that did.
    pub fn diagnostics(&self) -> impl Iterator<Item = (&str, &Diagnostic)> {
        self.sources
            .iter()
            .flat_map(|s| s.diagnostics.iter().map(move |d| (s.name.as_str(), d)))
    }

    /// The text of an input by name, for showing source lines.
    pub fn text_of(&self, name: &str) -> Option<&str> {
        self.sources
            .iter()
            .find(|s| s.name == name)
            .map(|s| s.text.as_str())
    }
}

/// Lint loaded sources as one input (so that a StatefulSet finds its ConfigMap and an
/// OpsRequest its Cluster across files).
pub fn lint(sources: Vec<SourceFile>, opts: &Options, settings: &Settings) -> Linted {
    let (objects, skipped) = extract::objects_of(&sources);
    let inventory = extract::extract(objects, opts);
    let outcome = engine::run(&inventory, settings, &Offline);
    Linted {
        sources,
        skipped,
        inventory,
        outcome,
    }
}

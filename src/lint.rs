//! The `lint` pipeline shared by the faces that read files: sources → objects → model →
//! engine.

use crate::engine::{self, Outcome, Settings};
use crate::extract::{self, NotAnObject, Options};
use crate::model::Inventory;
use crate::rules::Severity;
use crate::source::{Pos, SourceFile};

/// The rule loading problems are reported under.
pub const LOAD_RULE: &str = "yaml-invalid";

/// Everything one lint run produced.
pub struct Linted {
    pub sources: Vec<SourceFile>,
    pub skipped: Vec<NotAnObject>,
    /// Documents that did not load (errors), and caveats about documents that did.
    pub load_findings: Vec<LoadFinding>,
    pub inventory: Inventory,
    pub outcome: Outcome,
}

/// A loading diagnostic as a finding of [`LOAD_RULE`].
#[derive(Debug, Clone, PartialEq)]
pub struct LoadFinding {
    /// Index into [`Linted::sources`].
    pub source: usize,
    pub pos: Pos,
    pub severity: Severity,
    pub message: String,
}

impl Linted {
    /// Whether anything did not load: such a run fails whatever `--fail-on` says, since
    /// nothing judged that document.
    pub fn has_load_errors(&self) -> bool {
        self.load_findings
            .iter()
            .any(|f| f.severity == Severity::Error)
    }
}

/// Loading diagnostics as findings. Documents that were not read are errors whatever the
/// configuration says; caveats (repeated keys) follow the rule's configured severity and
/// `enabled`.
fn load_findings(sources: &[SourceFile], settings: &Settings) -> Vec<LoadFinding> {
    let configured = settings.rules.get(LOAD_RULE);
    let caveats = configured.is_none_or(|r| r.enabled);
    let caveat_severity = configured
        .and_then(|r| r.severity)
        .unwrap_or(Severity::Warning);
    let mut out = Vec::new();
    for (source, file) in sources.iter().enumerate() {
        for d in &file.diagnostics {
            if !d.error && !caveats {
                continue;
            }
            out.push(LoadFinding {
                source,
                pos: d.pos,
                severity: if d.error {
                    Severity::Error
                } else {
                    caveat_severity
                },
                message: d.message.clone(),
            });
        }
    }
    out
}

/// Lint loaded sources as one input (so that a StatefulSet finds its ConfigMap and an
/// OpsRequest its Cluster across files).
pub fn lint(mut sources: Vec<SourceFile>, opts: &Options, settings: &Settings) -> Linted {
    let (objects, skipped) = extract::objects_of(&mut sources);
    let inventory = extract::extract(objects, opts);
    let outcome = engine::run(&inventory, settings);
    Linted {
        load_findings: load_findings(&sources, settings),
        sources,
        skipped,
        inventory,
        outcome,
    }
}

#[cfg(test)]
mod tests {
    use super::{LOAD_RULE, lint};
    use crate::engine::Settings;
    use crate::extract::Options;
    use crate::rules::Severity;
    use crate::source::{Limits, load_yaml};

    fn severities(text: &str, settings: &Settings) -> Vec<Severity> {
        let source = load_yaml("x.yaml", text.to_string(), &Limits::default());
        lint(vec![source], &Options::default(), settings)
            .load_findings
            .iter()
            .map(|f| f.severity)
            .collect()
    }

    #[test]
    fn configuration_governs_caveats_but_not_documents_that_did_not_load() {
        let repeated = "kind: ConfigMap\nkind: ConfigMap\n";
        let broken = "kind: [unclosed\n";
        let default = Settings::default();
        assert_eq!(severities(repeated, &default), [Severity::Warning]);
        assert_eq!(severities(broken, &default), [Severity::Error]);

        let mut off = Settings::default();
        off.rules.get_mut(LOAD_RULE).unwrap().enabled = false;
        assert_eq!(severities(repeated, &off), []);
        assert_eq!(severities(broken, &off), [Severity::Error]);

        let mut strict = Settings::default();
        strict.rules.get_mut(LOAD_RULE).unwrap().severity = Some(Severity::Error);
        assert_eq!(severities(repeated, &strict), [Severity::Error]);
    }
}

//! One plan per object, on every real input the tests hold (`tests/realworld/`,
//! `tests/corpus/`, the rule fixtures, `examples/`): `fix` applies exactly the fixes `lint`
//! lists (or refuses, for a value a YAML anchor holds), none of them makes another finding
//! appear (fixing again changes nothing), and at most one manifest is printed per component
//! and parameter.

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use common::{corpus_files, root, subdirs};
use redline::engine::Settings;
use redline::extract::Options;
use redline::fix::{Action, FixOptions, fix};
use redline::lint::lint;
use redline::rules::FixEdit;
use redline::source::{Limits, SourceFile, load_yaml};

fn load(files: &[PathBuf]) -> Vec<SourceFile> {
    files
        .iter()
        .map(|p| {
            let text = std::fs::read_to_string(p).unwrap();
            load_yaml(&p.display().to_string(), text, &Limits::default())
        })
        .collect()
}

/// Every directory the tests lint as a user would: a project of the real-world set or the
/// corpus, a rule's fixtures (each file alone), the examples.
fn inputs() -> Vec<Vec<PathBuf>> {
    let mut out = Vec::new();
    for dir in ["tests/realworld", "tests/corpus"] {
        for sub in subdirs(&root().join(dir)) {
            out.push(corpus_files(&sub));
        }
    }
    for sub in subdirs(&root().join("tests/fixtures/rules")) {
        for f in corpus_files(&sub) {
            out.push(vec![f]);
        }
    }
    out.push(corpus_files(&root().join("examples")));
    out.retain(|files| !files.is_empty());
    out
}

fn label(files: &[PathBuf]) -> String {
    files[0]
        .parent()
        .and_then(|p| p.strip_prefix(root()).ok())
        .unwrap_or(Path::new(""))
        .display()
        .to_string()
}

#[test]
fn fix_does_what_lint_lists_and_a_second_fix_changes_nothing() {
    let (opts, settings, limits) = (Options::default(), Settings::default(), Limits::default());
    let no_rules: [String; 0] = [];
    let mut failures = Vec::new();
    let mut inputs_checked = 0;
    for files in inputs() {
        let sources = load(&files);
        if sources
            .iter()
            .any(|s| s.diagnostics.iter().any(|d| d.error))
        {
            continue; // the yaml-invalid fixtures: a file that does not load is left alone
        }
        inputs_checked += 1;
        let name = label(&files);
        let linted = lint(sources.clone(), &opts, &settings);
        let listed_patches = linted
            .outcome
            .findings
            .iter()
            .filter(|f| matches!(f.fix.as_ref().map(|x| &x.edit), Some(FixEdit::Patch { .. })))
            .count();
        let run = fix(
            sources,
            &opts,
            &settings,
            &FixOptions::new(&no_rules),
            &limits,
        );
        // A value that comes from a YAML anchor is left to a human (an edit there changes
        // every alias of it): such a refusal, and only such, is expected.
        let anchored = |m: &&redline::fix::Manual| matches!(&m.action, Action::Refused { reason, .. } if reason.contains("YAML anchor"));
        let left_to_a_human = run.manual.iter().filter(anchored).count();
        if run.applied.len() + left_to_a_human != listed_patches {
            failures.push(format!(
                "{name}: lint lists {listed_patches} patches, fix applied {}: {:#?}",
                run.applied.len(),
                run.applied
                    .iter()
                    .map(|a| (a.rule, &a.description))
                    .collect::<Vec<_>>()
            ));
        }
        // At most one manifest per component and parameter.
        let mut seen = BTreeSet::new();
        for m in run.manual.iter().filter(|m| !anchored(m)) {
            let Action::Manifest(manifest) = &m.action else {
                failures.push(format!("{name}: not applied: {} {}", m.rule, m.description));
                continue;
            };
            for r in manifest["spec"]["reconfigures"]
                .as_array()
                .into_iter()
                .flatten()
            {
                for p in r["parameters"].as_array().into_iter().flatten() {
                    let key = (
                        manifest["spec"]["clusterName"].to_string(),
                        r["componentName"].to_string(),
                        p["key"].to_string(),
                    );
                    if !seen.insert(key.clone()) {
                        failures.push(format!("{name}: two manifests set {key:?}"));
                    }
                }
            }
        }
        // The fixed files give no fixable finding, so fixing them again changes nothing.
        let fixed: Vec<SourceFile> = run
            .files
            .iter()
            .map(|f| load_yaml(&f.name, f.fixed.clone(), &limits))
            .collect();
        let again = fix(
            fixed,
            &opts,
            &settings,
            &FixOptions::new(&no_rules),
            &limits,
        );
        if !again.applied.is_empty() {
            failures.push(format!(
                "{name}: a second fix applies {:?}",
                again
                    .applied
                    .iter()
                    .map(|a| (a.rule, &a.description))
                    .collect::<Vec<_>>()
            ));
        }
    }
    assert!(inputs_checked > 50, "only {inputs_checked} inputs");
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

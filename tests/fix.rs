//! `redline fix` over every corpus file and every rule fixture (issue 6):
//! - each pass's result loads and equals, as data, the objects with that pass's RFC 6902
//!   patches applied (this test applies them with the `json-patch` crate itself);
//! - each pass changes only lines inside the nodes its patches name (a line diff with
//!   `similar`; everything else byte-identical);
//! - after fixing, linting finds nothing fixable in place, and nothing was refused;
//! - fixing the result again changes nothing, and all passes at once equal one at a time.

mod common;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use redline::engine::Settings;
use redline::extract::{Options, objects_of};
use redline::fix::{self, Action, FixOptions};
use redline::lint::lint;
use redline::rules::{FixEdit, PatchOp};
use redline::source::{Limits, Node, NodeKind, load_yaml};
use serde_json::Value;

type Files = Vec<(String, String)>;

fn load(files: &Files) -> Vec<redline::source::SourceFile> {
    files
        .iter()
        .map(|(n, t)| load_yaml(n, t.clone(), &Limits::default()))
        .collect()
}

fn run(files: &Files, max_passes: usize) -> fix::FixRun {
    let options = FixOptions {
        rules: &[],
        only: None,
        max_passes,
    };
    fix::fix(
        load(files),
        &Options::default(),
        &Settings::default(),
        &options,
        &Limits::default(),
    )
}

fn fixed(run: &fix::FixRun) -> Files {
    run.files
        .iter()
        .map(|f| (f.name.clone(), f.fixed.clone()))
        .collect()
}

/// Lines (1-based, inclusive) a patch operation may change: from the key of the deepest
/// node its path reaches to that node's end.
fn lines_of(root: &Node, path: &str) -> (u32, u32) {
    let mut node = root;
    let mut key: Option<&Node> = None;
    for token in path
        .trim_start_matches('/')
        .split('/')
        .filter(|t| !t.is_empty())
    {
        let token = token.replace("~1", "/").replace("~0", "~");
        let next = match &node.kind {
            NodeKind::Map(entries) => entries
                .iter()
                .find(|e| e.key.as_str() == Some(token.as_str()))
                .map(|e| (&e.value, Some(&e.key))),
            NodeKind::Seq(items) => token
                .parse::<usize>()
                .ok()
                .and_then(|i| items.get(i))
                .map(|n| (n, None)),
            NodeKind::Scalar(_) => None,
        };
        match next {
            Some((n, k)) => {
                node = n;
                key = k;
            }
            None => break,
        }
    }
    let span = node.span.expect("file nodes have spans");
    let first = key
        .and_then(|k| k.span)
        .map_or(span.start.line, |k| k.start.line);
    (first.min(span.start.line), span.end.line)
}

/// One pass, checked; returns the fixed files (`None`: nothing changed).
fn checked_pass(files: &Files, failures: &mut Vec<String>) -> Option<Files> {
    let linted = lint(load(files), &Options::default(), &Settings::default());
    let pass = run(files, 1);
    if pass.files.iter().all(|f| !f.changed()) {
        return None;
    }
    // The patches this pass applied, each once, on the data.
    let mut objects: Vec<Value> = linted
        .inventory
        .objects
        .iter()
        .map(|o| o.root.to_json())
        .collect();
    let mut seen: Vec<(usize, Vec<PatchOp>)> = Vec::new();
    let mut allowed: HashMap<String, Vec<(u32, u32)>> = HashMap::new();
    for a in &pass.applied {
        let f = linted
            .outcome
            .findings
            .iter()
            .find(|f| {
                f.rule == a.rule
                    && f.pos == a.pos
                    && linted.inventory.object(f.object).file.as_deref() == Some(a.file.as_str())
            })
            .unwrap_or_else(|| panic!("applied fix without a finding: {a:?}"));
        let Some(FixEdit::Patch { object, ops }) = f.fix.as_ref().map(|x| &x.edit) else {
            failures.push(format!("{}: applied a fix that is not a patch", a.rule));
            continue;
        };
        if seen.iter().any(|(o, p)| *o == object.0 && p == ops) {
            continue;
        }
        seen.push((object.0, ops.clone()));
        let patch: json_patch::Patch =
            serde_json::from_value(serde_json::to_value(ops).unwrap()).unwrap();
        if let Err(e) = json_patch::patch(&mut objects[object.0], &patch) {
            failures.push(format!("{}: patch does not apply: {e}", a.rule));
        }
        let o = linted.inventory.object(*object);
        for op in ops {
            let (PatchOp::Add { path, .. }
            | PatchOp::Replace { path, .. }
            | PatchOp::Test { path, .. }) = op;
            allowed
                .entry(o.file.clone().unwrap())
                .or_default()
                .push(lines_of(&o.root, path));
        }
    }
    let next = fixed(&pass);
    for ((name, old), (_, new)) in files.iter().zip(&next) {
        if old == new {
            continue;
        }
        // Loads, and reads back as the patched objects of this file.
        let mut back = [load_yaml(name, new.clone(), &Limits::default())];
        if let Some(d) = back[0].diagnostics.iter().find(|d| d.error) {
            failures.push(format!(
                "{name}: fixed text does not load: {}: {}",
                d.pos, d.message
            ));
            continue;
        }
        let (got, _) = objects_of(&mut back);
        let want: Vec<&Value> = linted
            .inventory
            .objects
            .iter()
            .zip(&objects)
            .filter(|(o, _)| o.file.as_deref() == Some(name.as_str()))
            .map(|(_, v)| v)
            .collect();
        let got: Vec<Value> = got.iter().map(|o| o.root.to_json()).collect();
        if got.iter().collect::<Vec<_>>() != want {
            failures.push(format!(
                "{name}: fixed text is not the patched data:\n{new}"
            ));
        }
        // Only lines inside the patched nodes changed.
        let ranges = allowed.get(name).cloned().unwrap_or_default();
        let diff = similar::TextDiff::from_lines(old, new);
        for op in diff.ops() {
            let old_range = op.old_range();
            if matches!(op.tag(), similar::DiffTag::Equal) || old_range.is_empty() {
                continue;
            }
            for i in old_range {
                let line = i as u32 + 1;
                if !ranges.iter().any(|(a, b)| (*a..=*b).contains(&line)) {
                    failures.push(format!(
                        "{name}:{line}: changed outside the patched nodes {ranges:?}:\n{}",
                        fix::unified_diff(name, old, new)
                    ));
                }
            }
        }
    }
    Some(next)
}

/// Every check of the module doc on one input (files judged together).
fn check(files: Files, failures: &mut Vec<String>) {
    let label = files.first().map(|f| f.0.clone()).unwrap_or_default();
    let mut current = files.clone();
    let mut passes = 0;
    while let Some(next) = checked_pass(&current, failures) {
        current = next;
        passes += 1;
        if passes > fix::MAX_PASSES {
            failures.push(format!("{label}: still changing after {passes} passes"));
            return;
        }
    }
    let all_at_once = run(&files, fix::MAX_PASSES);
    if fixed(&all_at_once) != current {
        failures.push(format!(
            "{label}: all passes at once differ from one at a time"
        ));
    }
    for m in &all_at_once.manual {
        if let Action::Refused { reason, .. } = &m.action {
            failures.push(format!("{label}: {} refused: {reason}", m.rule));
        }
    }
    let again = run(&current, fix::MAX_PASSES);
    if again.files.iter().any(|f| f.changed()) || !again.applied.is_empty() {
        failures.push(format!("{label}: fixing twice differs from fixing once"));
    }
    let linted = lint(load(&current), &Options::default(), &Settings::default());
    for f in &linted.outcome.findings {
        if let Some(FixEdit::Patch { .. }) = f.fix.as_ref().map(|x| &x.edit) {
            failures.push(format!(
                "{label}: still fixable after fix: {} {}",
                f.rule, f.message
            ));
        }
    }
}

fn read(paths: &[PathBuf], base: &Path) -> Files {
    paths
        .iter()
        .map(|p| {
            let name = p.strip_prefix(base).unwrap_or(p).display().to_string();
            // Non-UTF-8 corpus files are a loading finding of their own; read them lossily.
            let text = String::from_utf8_lossy(&std::fs::read(p).unwrap()).into_owned();
            (name, text)
        })
        .collect()
}

#[test]
fn every_corpus_file_alone_and_with_its_directory() {
    let dir = common::corpus_dir();
    let all = common::corpus_files(&dir);
    let mut failures = Vec::new();
    let mut changed = 0;
    for p in &all {
        let files = read(std::slice::from_ref(p), &dir);
        if run(&files, fix::MAX_PASSES)
            .files
            .iter()
            .any(|f| f.changed())
        {
            changed += 1;
        }
        check(files, &mut failures);
    }
    // Directories: a StatefulSet and its ConfigMap in different files are fixed together.
    let mut by_dir: HashMap<PathBuf, Vec<PathBuf>> = HashMap::new();
    for p in &all {
        by_dir
            .entry(p.parent().unwrap().to_path_buf())
            .or_default()
            .push(p.clone());
    }
    for paths in by_dir.values() {
        check(read(paths, &dir), &mut failures);
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
    // The corpus does exercise fix (a test over inputs with nothing to fix proves nothing).
    assert!(
        changed >= 5,
        "only {changed} corpus files have something to fix"
    );
}

#[test]
fn every_rule_fixture_and_the_examples() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut failures = Vec::new();
    for rule in redline::rules::all() {
        let dir = root.join("tests/fixtures/rules").join(rule.id());
        for name in ["fail.yaml", "pass.yaml"] {
            check(read(&[dir.join(name)], root), &mut failures);
        }
    }
    let mut examples: Vec<PathBuf> = std::fs::read_dir(root.join("examples"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    examples.sort();
    check(read(&examples, root), &mut failures);
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

/// Every node of a tree with its pointer (document order).
fn pointers(node: &Node, here: String, out: &mut Vec<(String, &'static str)>) {
    let kind = match &node.kind {
        NodeKind::Map(_) => "map",
        NodeKind::Seq(_) => "seq",
        NodeKind::Scalar(_) => "scalar",
    };
    out.push((here.clone(), kind));
    match &node.kind {
        NodeKind::Map(entries) => {
            for e in entries {
                if let Some(k) = e.key.as_str() {
                    let token = k.replace('~', "~0").replace('/', "~1");
                    pointers(&e.value, format!("{here}/{token}"), out);
                }
            }
        }
        NodeKind::Seq(items) => {
            for (i, item) in items.iter().enumerate() {
                pointers(item, format!("{here}/{i}"), out);
            }
        }
        NodeKind::Scalar(_) => {}
    }
}

/// Values that stress quoting and layout: YAML-significant characters, numbers written as
/// strings, line breaks, empty and nested collections.
fn value_strategy() -> impl proptest::strategy::Strategy<Value = Value> {
    use proptest::prelude::*;
    let scalar = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i32>().prop_map(Value::from),
        prop::sample::select(vec![
            "2560Mi",
            "1500",
            "yes",
            "no",
            "~",
            "",
            " lead",
            "trail ",
            "a: b",
            "a #b",
            "#x",
            "- x",
            "-x",
            "x,y",
            "[x]",
            "{x}",
            "'q'",
            "\"q\"",
            "it's",
            "a\nb",
            "a\nb\n",
            "\tx",
            "é ü",
            "--maxmemory",
            "*alias",
            "&anchor",
            "!tag",
            "%x",
            "@x",
            "`x",
            "1:20",
            "0x1F",
            "maxmemory 1gb\nsave \"\"\n",
        ])
        .prop_map(|s| Value::String(s.to_string())),
    ];
    scalar.prop_recursive(2, 8, 3, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..3).prop_map(Value::Array),
            prop::collection::vec(
                (
                    prop::sample::select(vec!["a", "b c", "x:y", "#k", "-", "yes", "1"]),
                    inner
                ),
                0..3
            )
            .prop_map(|kv| Value::Object(
                kv.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
            )),
        ]
    })
}

/// The editor on its own, over random operations on the fixtures and examples: whatever it
/// does not refuse reads back as the patched data (the check `fix` makes before writing is
/// then never what saves a file).
#[test]
fn random_edits_read_back_as_the_patched_data() {
    use proptest::prelude::*;
    use proptest::test_runner::{Config, TestRunner};

    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut docs: Vec<(String, String, usize)> = Vec::new();
    for rule in redline::rules::all() {
        let path = root
            .join("tests/fixtures/rules")
            .join(rule.id())
            .join("fail.yaml");
        let text = std::fs::read_to_string(&path).unwrap();
        let file = load_yaml("f.yaml", text.clone(), &Limits::default());
        if file.diagnostics.iter().any(|d| d.error) {
            continue; // fix leaves such files alone
        }
        for i in 0..file.documents.len() {
            docs.push((rule.id().to_string(), text.clone(), i));
        }
    }
    // Documents in the styles the fixtures do not use: JSON, flow, CRLF, anchors, comments.
    let extra = [
        "{\n  \"apiVersion\": \"v1\",\n  \"kind\": \"ConfigMap\",\n  \"data\": {\"redis.conf\": \"maxmemory 1gb\\n\", \"e\": {}},\n  \"l\": [1, {\"a\": []}]\n}\n",
        "a: {b: [1, 2], c: {}}   # trailing\nd: [ ]\ne: !!str 5\nf: >-\n  folded\n  text\n",
        "a:\r\n  b: 'x'\r\n  c:\r\n  - 1\r\n  d: |\r\n    l1\r\n    l2\r\n",
        "base: &b\n  m: 1\nuse: *b\nmerged:\n  <<: *b\n  n: 2\n",
        "# lead\nlist:\n- a: 1\n  # inner\n  b: |+\n    kept\n\n- \"q\"\nlast: ~\n",
        "k:\n    deep:\n        - x\n        - y: z\n    literal: |2\n       indented\n      less\n",
    ];
    for (i, text) in extra.iter().enumerate() {
        let file = load_yaml("f.yaml", text.to_string(), &Limits::default());
        assert!(file.diagnostics.iter().all(|d| !d.error), "{text}");
        docs.push((format!("extra {i}"), text.to_string(), 0));
    }
    let cases: u32 = std::env::var("REDLINE_FIX_CASES")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(3000);
    let mut runner = TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    });
    let strategy = (
        0..docs.len(),
        any::<prop::sample::Index>(),
        0..3u8,
        value_strategy(),
    );
    let refused = std::cell::Cell::new(0usize);
    let result = runner.run(&strategy, |(d, pick, kind, value)| {
        let (label, text, index) = &docs[d];
        let file = load_yaml("f.yaml", text.clone(), &Limits::default());
        let doc = &file.documents[*index].root;
        let mut all = Vec::new();
        pointers(doc, String::new(), &mut all);
        let (pointer, node_kind) = all[pick.index(all.len())].clone();
        let op = match (kind, node_kind) {
            (1, "map") => PatchOp::Add {
                path: format!("{pointer}/new~1key"),
                value,
            },
            (2, "seq") => PatchOp::Add {
                path: format!("{pointer}/-"),
                value,
            },
            _ if pointer.is_empty() => return Ok(()),
            _ => PatchOp::Replace {
                path: pointer.clone(),
                value,
            },
        };
        let eol = redline::fix::edit::eol_of(text);
        let edits = match redline::fix::edit::Editor::new(text, doc, eol)
            .edits(std::slice::from_ref(&op))
        {
            Ok(e) => e,
            Err(_) => {
                refused.set(refused.get() + 1);
                return Ok(());
            }
        };
        let out = redline::fix::edit::apply(text, &edits);
        let mut want = doc.to_json();
        let patch: json_patch::Patch =
            serde_json::from_value(serde_json::to_value([&op]).unwrap()).unwrap();
        json_patch::patch(&mut want, &patch).unwrap();
        let back = load_yaml("f.yaml", out.clone(), &Limits::default());
        let loaded = back.diagnostics.iter().all(|d| !d.error);
        prop_assert!(
            loaded,
            "{label}: {op:?} gives text that does not load:\n{out}\n{:?}",
            back.diagnostics
        );
        let got = back.documents[*index].root.to_json();
        prop_assert_eq!(got, want, "{}: {:?}:\n{}", label, op, out);
        Ok(())
    });
    if let Err(e) = result {
        panic!("{e}");
    }
    // Refusals are the safe answer, but an editor that refuses everything passes trivially.
    println!("random edits: {} of {cases} refused", refused.get());
    assert!(
        refused.get() < cases as usize / 10,
        "{} of {cases} random edits refused",
        refused.get()
    );
}

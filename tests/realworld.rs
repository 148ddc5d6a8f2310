//! Rendered and static manifests of public projects (`tests/realworld/SOURCES-*.md`: chart
//! output, demo applications, operator samples, KubeBlocks Valkey examples). Each file's
//! model is a reviewed snapshot — every server recognised with its engine and release,
//! every exporter, client and shell sidecar left out — and each project's findings too.
//! The expectations the snapshots were reviewed against are in `tests/realworld/EXPECTED-*.md`.

use std::path::{Path, PathBuf};

mod common;
use common::{corpus_files, findings_of, lint_dir, model_of, subdirs};

fn realworld_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/realworld");
    assert!(
        dir.is_dir(),
        "tests/realworld not found at {}",
        dir.display()
    );
    dir
}

#[test]
fn every_realworld_model_is_as_reviewed() {
    let dir = realworld_dir();
    let files = corpus_files(&dir);
    assert!(files.len() >= 30, "only {} files", files.len());
    assert!(subdirs(&dir).len() >= 10, "fewer than 10 projects");
    for path in &files {
        let name = path.strip_prefix(&dir).unwrap().display().to_string();
        insta::assert_snapshot!(name.replace('/', "__"), model_of(&dir, path));
    }
}

#[test]
fn every_realworld_project_findings_are_as_reviewed() {
    let dir = realworld_dir();
    for sub in subdirs(&dir) {
        let name = sub.file_name().unwrap().to_string_lossy().into_owned();
        insta::assert_snapshot!(format!("findings_{name}"), findings_of(&dir, &sub));
    }
}

/// The deployment blocks of a model: `deployment …` header line and its indented lines.
fn deployments(model: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for line in model.lines() {
        if line.starts_with("deployment ") {
            out.push(String::new());
        }
        if let Some(last) = out.last_mut()
            && (line.starts_with("deployment ") || line.starts_with(' '))
        {
            last.push_str(line);
            last.push('\n');
        }
    }
    out
}

fn model(name: &str) -> String {
    let dir = realworld_dir();
    model_of(&dir, &dir.join(name))
}

/// The acceptance line: the KubeBlocks Valkey example is read as Valkey, with the
/// addon's maxmemory (0.8 × the 0.5Gi limit) and the same maxmemory findings as its Redis twin.
#[test]
fn kubeblocks_valkey_gets_the_valkey_addon_model_and_the_redis_twins_findings() {
    let m = model("kubeblocks-valkey/cluster-standalone.yaml");
    let d = deployments(&m);
    assert_eq!(d.len(), 1, "{m}");
    assert!(d[0].contains("KubeBlocks valkey addon"), "{}", d[0]);
    assert!(d[0].contains("maxmemory: 429496729 B"), "{}", d[0]);
    assert!(d[0].contains("version: Valkey 9.0.0"), "{}", d[0]);
    let dir = realworld_dir();
    let valkey = findings_of(&dir, &dir.join("kubeblocks-valkey"));
    let corpus = common::corpus_dir();
    let redis = findings_of(&corpus, &corpus.join("kubeblocks-addons"));
    let rule = "redis-maxmemory-headroom";
    assert!(
        valkey.contains(rule) && redis.contains(rule),
        "valkey:\n{valkey}\nredis:\n{redis}"
    );
}

/// The findings of one project directory as `file:line:col` and rule.
fn finding_keys(dir: &Path, sub: &Path) -> Vec<(String, String)> {
    common::finding_rows(&lint_dir(dir, sub))
        .into_iter()
        .map(|(file, pos, rule, _)| match pos.as_str() {
            "" => (file, rule),
            _ => (format!("{file}:{pos}"), rule),
        })
        .collect()
}

/// Precision as a number: every finding on `tests/realworld/` has a reviewed verdict and a
/// reason in `REVIEW.tsv`, no verdict is left without a finding, and README states the
/// totals this file gives.
#[test]
fn every_realworld_finding_is_reviewed_and_the_readme_says_how_many() {
    let dir = realworld_dir();
    let review = std::fs::read_to_string(dir.join("REVIEW.tsv")).unwrap();
    let mut reviewed = std::collections::BTreeMap::new();
    for line in review.lines().filter(|l| !l.starts_with('#')).skip(1) {
        let cols: Vec<&str> = line.split('\t').collect();
        assert_eq!(cols.len(), 4, "REVIEW.tsv: `{line}`");
        assert!(
            matches!(cols[2], "true" | "false-positive"),
            "REVIEW.tsv: verdict `{}`",
            cols[2]
        );
        assert!(cols[3].len() > 20, "REVIEW.tsv: no reason in `{line}`");
        let key = (cols[0].to_string(), cols[1].to_string());
        assert!(
            reviewed.insert(key, cols[2] == "false-positive").is_none(),
            "REVIEW.tsv: `{line}` twice"
        );
    }
    let mut found = std::collections::BTreeSet::new();
    for sub in subdirs(&dir) {
        found.extend(finding_keys(&dir, &sub));
    }
    let unreviewed: Vec<_> = found
        .iter()
        .filter(|k| !reviewed.contains_key(*k))
        .collect();
    let stale: Vec<_> = reviewed.keys().filter(|k| !found.contains(*k)).collect();
    assert!(
        unreviewed.is_empty(),
        "findings not in REVIEW.tsv: {unreviewed:#?}"
    );
    assert!(
        stale.is_empty(),
        "REVIEW.tsv lines no finding matches: {stale:#?}"
    );
    let false_positives = reviewed.values().filter(|fp| **fp).count();
    let files = corpus_files(&dir).len();
    let projects = subdirs(&dir).len();
    let sentence = format!(
        "On `tests/realworld/` ({files} files in {projects} project directories) `redline lint` reports {} \
         findings, each reviewed in `tests/realworld/REVIEW.tsv`: {false_positives} false positives.",
        found.len()
    );
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md"))
        .unwrap()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    assert!(readme.contains(&sentence), "README lacks: {sentence}");
}

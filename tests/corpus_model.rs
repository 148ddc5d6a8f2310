//! Every file of the corpus (real upstream manifests, `tests/corpus/SOURCES.md`)
//! loads without a crash, and the model extracted from it is a reviewed snapshot
//! (`cargo insta review` after a deliberate change).
//!
//! The corpus is part of the repository (`tests/corpus`); a missing corpus fails the test
//! instead of skipping it.

use redline::extract::Options;
use redline::source::Limits;

mod common;
use common::{corpus_dir, corpus_files, findings_of, model_of, subdirs};

#[test]
fn every_corpus_file_loads_and_its_model_is_as_reviewed() {
    let dir = corpus_dir();
    let files = corpus_files(&dir);
    assert!(files.len() >= 60, "only {} corpus files", files.len());
    for path in &files {
        let name = path.strip_prefix(&dir).unwrap().display().to_string();
        let model = model_of(&dir, path);
        insta::assert_snapshot!(name.replace('/', "__"), model);
    }
}

#[test]
fn templates_give_a_diagnostic_at_their_line_not_a_crash() {
    let dir = corpus_dir();
    for name in [
        "kubeblocks-addons/cmpd-redis.yaml",
        "kubeblocks-addons/clusterdefinition.yaml",
        "kubeblocks-addons/paramsdef-redis.yaml",
        "kubeblocks-addons/shardingdefinition.yaml",
        "kubeblocks-addons-0.9/configconstraint.yaml",
        "kubeblocks-addons-1.0/pcr-redis.yaml",
    ] {
        let model = model_of(&dir, &dir.join(name));
        let first = model.lines().next().unwrap_or("");
        assert!(
            first.starts_with(&format!("error: {name}:")) && first.contains("helm template"),
            "{name}: {first}"
        );
    }
}

/// The acceptance line: KubeBlocks' own default, 0.8 × the 0.5Gi limit, with origin.
#[test]
fn kubeblocks_default_maxmemory_has_its_origin() {
    let dir = corpus_dir();
    let model = model_of(&dir, &dir.join("kubeblocks-addons/cluster.yaml"));
    let line = model
        .lines()
        .find(|l| l.trim_start().starts_with("maxmemory: "))
        .unwrap();
    assert!(line.contains("429496729 B"), "{line}");
    assert!(line.contains("0.8 × memory limit 0.5Gi"), "{line}");
    assert!(
        line.ends_with(
            "kubeblocks-addons/cluster.yaml:39:19 /spec/componentSpecs/0/resources/limits/memory"
        ),
        "{line}"
    );
}

/// Findings of each corpus directory linted as one input (as a user lints a repository
/// directory), one line per finding: a reviewed snapshot. The review of each finding is in
/// the note of the rules issue.
#[test]
fn corpus_findings_are_as_reviewed() {
    let dir = corpus_dir();
    for sub in subdirs(&dir) {
        let name = sub.file_name().unwrap().to_string_lossy().into_owned();
        insta::assert_snapshot!(format!("findings_{name}"), findings_of(&dir, &sub));
    }
}

/// KubeBlocks' default maxmemory (0.8 × limit) with AOF on is a warning, not an error.
#[test]
fn kubeblocks_default_maxmemory_is_a_warning_not_an_error() {
    let dir = corpus_dir();
    let path = dir.join("kubeblocks-addons/cluster.yaml");
    let source = redline::source::load_yaml(
        "cluster.yaml",
        std::fs::read_to_string(path).unwrap(),
        &Limits::default(),
    );
    let linted = redline::lint::lint(
        vec![source],
        &Options::default(),
        &redline::engine::Settings::default(),
    );
    let headroom: Vec<_> = linted
        .outcome
        .findings
        .iter()
        .filter(|f| f.rule == "redis-maxmemory-headroom")
        .collect();
    assert_eq!(headroom.len(), 1, "{headroom:?}");
    assert_eq!(headroom[0].severity, redline::rules::Severity::Warning);
    assert!(
        headroom[0].message.contains("80%"),
        "{}",
        headroom[0].message
    );
}

/// `redis-readiness-probe-missing` reports only the user's own pods because every operator
/// writes a readiness probe into the pods it manages and the model holds it: over the corpus
/// and the real-world set, no operator-managed data server lacks one (where its Cluster is in
/// the input). KubeDB is the exception the model states: the code that writes its pods
/// (kubedb/provisioner) is not public, so its probes are not modelled at all.
#[test]
fn operators_pods_always_carry_the_operators_readiness_probe() {
    use redline::extract::{extract, objects_of};
    use redline::model::{Platform, Role};
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests");
    let mut checked = 0;
    for dir in [root.join("corpus"), root.join("realworld")] {
        for path in corpus_files(&dir) {
            let text = std::fs::read_to_string(&path).unwrap();
            let name = path.display().to_string();
            let mut file = redline::source::load_yaml(&name, text, &Limits::default());
            let (objects, _) = objects_of(std::slice::from_mut(&mut file));
            let inventory = extract(objects, &Options::default());
            for d in &inventory.deployments {
                let operator = !matches!(
                    d.platform,
                    Platform::Workload | Platform::ConfigMap | Platform::KubeDb
                );
                let data = !matches!(d.role, Role::Sentinel | Role::Proxy);
                let found = d.operation.as_ref().is_none_or(|op| op.cluster_found);
                if operator && data && found {
                    let c = &d.containers[0];
                    assert!(c.probes.readiness.is_some(), "{name}: {:?}", d.component);
                    checked += 1;
                }
            }
        }
    }
    assert!(checked >= 30, "only {checked} operator deployments");
}

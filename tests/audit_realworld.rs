//! `redline audit` on real objects: every project of `tests/realworld/` and `tests/corpus/`,
//! its objects served by the fake API server as a cluster would hold them (in the API
//! version they are written in, through discovery and pages of 7), audited with
//! `--all-namespaces`, gives exactly the findings `lint` gives on the same files for the
//! objects an audit reads. A cluster holds one object per identity: a project whose files
//! are alternatives (the operators' examples, each file a scenario with the same names) is
//! split into clusters file by file, each file joining the first cluster it adds no second
//! copy to, and each cluster is compared alone.

mod common;
#[path = "common/fake_api.rs"]
mod fake_api;
#[path = "common/server.rs"]
mod server;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{Value, json};

use common::{BIN, corpus_dir, corpus_files, root, scratch, subdirs};
use redline::model::Object;

/// rule, severity, message, apiVersion, kind, namespace, name, pointer.
type Row = (
    String,
    String,
    String,
    String,
    String,
    String,
    String,
    String,
);

fn row_of(rule: &str, severity: &str, message: &str, o: &Value, path: &str) -> Row {
    let s = |v: &Value| v.as_str().unwrap_or("").to_string();
    (
        rule.into(),
        severity.into(),
        message.into(),
        s(&o["apiVersion"]),
        s(&o["kind"]),
        s(&o["namespace"]),
        s(&o["name"]),
        path.into(),
    )
}

fn audited(o: &Object) -> Option<redline::audit::Audited> {
    redline::audit::kinds()
        .into_iter()
        .find(|k| k.group == o.group() && k.kind == o.kind)
}

/// The collection path of an object's kind in its own API version.
fn collection(o: &Object, k: &redline::audit::Audited) -> String {
    if k.group.is_empty() {
        format!("/api/{}/{}", o.version(), k.resource)
    } else {
        format!("/apis/{}/{}/{}", k.group, o.version(), k.resource)
    }
}

/// (kind, group, namespace/name).
type Identity = (String, String, String);

/// The identities of the objects of one file.
fn identities_of(dir: &Path, file: &Path) -> BTreeSet<Identity> {
    let linted = lint_files(dir, &[file.to_path_buf()]);
    linted
        .inventory
        .objects
        .iter()
        .map(|o| (o.kind.clone(), o.group().to_string(), o.namespaced_name()))
        .collect()
}

fn lint_files(dir: &Path, files: &[PathBuf]) -> redline::lint::Linted {
    let sources = files
        .iter()
        .map(|p| {
            redline::source::load_yaml(
                &p.strip_prefix(dir).unwrap().display().to_string(),
                std::fs::read_to_string(p).unwrap(),
                &redline::source::Limits::default(),
            )
        })
        .collect();
    redline::lint::lint(
        sources,
        &redline::extract::Options::default(),
        &redline::engine::Settings::default(),
    )
}

/// The project's files as clusters: each file in the first cluster where none of its
/// objects has a copy.
fn clusters(dir: &Path, project: &Path) -> Vec<Vec<PathBuf>> {
    let mut out: Vec<(Vec<PathBuf>, BTreeSet<Identity>)> = Vec::new();
    for file in corpus_files(project) {
        let ids = identities_of(dir, &file);
        match out.iter_mut().find(|(_, held)| held.is_disjoint(&ids)) {
            Some((files, held)) => {
                files.push(file);
                held.extend(ids);
            }
            None => out.push((vec![file], ids)),
        }
    }
    out.into_iter().map(|(files, _)| files).collect()
}

/// What the audit of one cluster's objects and the lint of its files disagree on.
fn differences(dir: &Path, files: &[PathBuf], scratch_dir: &Path) -> Vec<String> {
    let linted = lint_files(dir, files);
    let inv = &linted.inventory;
    let mut fake = fake_api::Fake::default();
    let mut identities = BTreeSet::new();
    for o in &inv.objects {
        let Some(k) = audited(o) else { continue };
        assert!(
            identities.insert((o.kind.clone(), o.group().to_string(), o.namespaced_name())),
            "a cluster holds one {o}"
        );
        if !k.group.is_empty() && !matches!(k.group, "apps" | "policy") {
            fake.serve_group(k.group, o.version(), &[(k.resource, k.kind)]);
        }
        fake.lists
            .entry(collection(o, &k))
            .or_default()
            .push(o.root.to_json());
    }
    let rt = server::tokio();
    let (addr, fake) = rt.block_on(fake_api::start(fake));
    let kubeconfig = fake_api::kubeconfig(scratch_dir, addr, "default");
    let out = Command::new(BIN)
        .args(["audit", "-A", "--format", "json", "--chunk-size", "7"])
        .arg("--kubeconfig")
        .arg(&kubeconfig)
        .current_dir(scratch_dir)
        .output()
        .unwrap();
    let report: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{files:?}: {e}: {}", String::from_utf8_lossy(&out.stderr)));
    let out_stderr = out.stderr.clone();
    let from_audit: BTreeSet<Row> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            row_of(
                f["rule"].as_str().unwrap(),
                f["severity"].as_str().unwrap(),
                f["message"].as_str().unwrap(),
                &f["object"],
                f["path"].as_str().unwrap(),
            )
        })
        .collect();
    let from_lint: BTreeSet<Row> = linted
        .outcome
        .findings
        .iter()
        .filter(|f| audited(inv.object(f.object)).is_some())
        .map(|f| {
            let o = inv.object(f.object);
            let object = json!({"apiVersion": o.api_version, "kind": o.kind,
                                "namespace": o.namespace, "name": o.name});
            row_of(
                f.rule,
                &f.severity.to_string(),
                &f.message,
                &object,
                &f.pointer,
            )
        })
        .collect();
    let mut out = Vec::new();
    if from_lint != from_audit {
        out.push(format!(
            "audit's stderr: {}",
            String::from_utf8_lossy(&out_stderr)
        ));
        out.push(format!("requests: {:?}", fake.requests()));
    }
    for r in from_lint.difference(&from_audit) {
        out.push(format!("lint only: {r:?}"));
    }
    for r in from_audit.difference(&from_lint) {
        out.push(format!("audit only: {r:?}"));
    }
    out
}

#[test]
fn an_audit_of_real_projects_finds_what_lint_finds() {
    let scratch_dir = scratch("audit-realworld");
    let mut report = String::new();
    let (mut projects, mut compared, mut split) = (0, 0, Vec::new());
    for dir in [root().join("tests/realworld"), corpus_dir()] {
        for project in subdirs(&dir) {
            projects += 1;
            let name = project.strip_prefix(root()).unwrap().display().to_string();
            let clusters = clusters(&dir, &project);
            if clusters.len() > 1 {
                split.push(format!("{name} ({} clusters)", clusters.len()));
            }
            for files in clusters {
                compared += 1;
                for line in differences(&dir, &files, &scratch_dir) {
                    report.push_str(&format!("{name} {files:?}: {line}\n"));
                }
            }
        }
    }
    println!(
        "{projects} projects, {compared} clusters compared; split: {}",
        split.join(", ")
    );
    assert!(report.is_empty(), "{report}");
    assert!(projects >= 44, "{projects}");
}

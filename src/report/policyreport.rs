//! Policy Reports (`wgpolicyk8s.io/v1alpha2`, the Policy WG's API that Kyverno, Policy Reporter
//! and other dashboards read): one `PolicyReport` named `redline` per audited namespace, a
//! `ClusterPolicyReport` for findings in cluster-scoped objects, each result one finding.
//!
//! - `policy` and `rule`: the rule ID (one rule per policy); `category` `Redis`; `source`
//!   `redline`.
//! - `result`: an error `fail`, a warning `warn`, an info `pass` (a note, nothing to
//!   change), a finding exempted by `redline.dev/ignore` `skip`; `severity` high, medium, info.
//! - `resources`: the object the finding is in (apiVersion, kind, namespace, name, uid).
//! - `properties` (strings, as the schema requires): `pointer` (the JSON pointer), `fix` (what
//!   the fix does), `patch` (its RFC 6902 operations) or `manifest` (the object to apply),
//!   `exemption` (the annotation's reason).
//! - A namespace audited with nothing found gets a report with no results: applied, it
//!   replaces the failures an earlier audit left there.
//!
//! The schema is the upstream CRD's (`tests/schemas/wgpolicyk8s.io_policyreports.yaml`);
//! `tests/audit.rs` validates the output against it.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use super::{Item, Report};
use crate::patch::FixEdit;
use crate::rules::Severity;
use crate::source::Cursor;

/// The name of every report redline writes.
pub const NAME: &str = "redline";

/// The reports of `report`: one per namespace of `namespaces` and of the findings, a
/// `ClusterPolicyReport` when a finding's object has no namespace. `now_unix` stamps the
/// results.
pub fn reports(report: &Report, namespaces: &[String], now_unix: i64) -> Vec<Value> {
    let mut by_scope: BTreeMap<Option<&str>, Vec<Value>> = namespaces
        .iter()
        .map(|n| (Some(n.as_str()), Vec::new()))
        .collect();
    let exempted = report.exempted.iter().map(|e| (&e.item, Some(e.reason)));
    let results = report.items.iter().map(|i| (i, None)).chain(exempted);
    for (item, exemption) in results {
        let Some(object) = item.object else { continue };
        let result = one(item, exemption, now_unix);
        by_scope
            .entry(object.namespace.as_deref())
            .or_default()
            .push(result);
    }
    // Cluster-scoped first, then namespaces in order.
    by_scope
        .into_iter()
        .map(|(namespace, results)| with_results(namespace, NAME, results))
        .collect()
}

/// A report with no results (what replaces a stale one).
pub fn empty(namespace: Option<&str>, name: &str) -> Value {
    with_results(namespace, name, Vec::new())
}

fn with_results(namespace: Option<&str>, name: &str, results: Vec<Value>) -> Value {
    let count = |r: &str| results.iter().filter(|v| v["result"] == r).count();
    let summary = json!({
        "pass": count("pass"),
        "fail": count("fail"),
        "warn": count("warn"),
        "error": count("error"),
        "skip": count("skip"),
    });
    let mut metadata = Map::new();
    metadata.insert("name".into(), name.into());
    if let Some(ns) = namespace {
        metadata.insert("namespace".into(), ns.into());
    }
    metadata.insert(
        "labels".into(),
        json!({"app.kubernetes.io/managed-by": "redline"}),
    );
    json!({
        "apiVersion": "wgpolicyk8s.io/v1alpha2",
        "kind": if namespace.is_some() { "PolicyReport" } else { "ClusterPolicyReport" },
        "metadata": metadata,
        "summary": summary,
        "results": results,
    })
}

fn one(item: &Item, exemption: Option<Option<&str>>, now_unix: i64) -> Value {
    let object = item.object.expect("results are of objects");
    let (result, severity) = match (exemption, item.severity) {
        (Some(_), Severity::Error) => ("skip", "high"),
        (Some(_), Severity::Warning) => ("skip", "medium"),
        (Some(_), Severity::Info) => ("skip", "info"),
        (None, Severity::Error) => ("fail", "high"),
        (None, Severity::Warning) => ("warn", "medium"),
        (None, Severity::Info) => ("pass", "info"),
    };
    let mut properties = Map::new();
    properties.insert(
        "pointer".into(),
        (if item.path.is_empty() { "/" } else { item.path }).into(),
    );
    if let Some(fix) = item.fix {
        properties.insert("fix".into(), fix.description.clone().into());
        match &fix.edit {
            FixEdit::Patch { ops, .. } => {
                if let Ok(text) = serde_json::to_string(ops) {
                    properties.insert("patch".into(), text.into());
                }
            }
            FixEdit::Manifest(m) => {
                properties.insert(
                    "manifest".into(),
                    yaml_serde::to_string(m).unwrap_or_default().into(),
                );
            }
        }
    }
    if let Some(Some(reason)) = exemption {
        properties.insert("exemption".into(), reason.into());
    }
    let mut resource = Map::new();
    resource.insert("apiVersion".into(), object.api_version.clone().into());
    resource.insert("kind".into(), object.kind.clone().into());
    if let Some(ns) = &object.namespace {
        resource.insert("namespace".into(), ns.clone().into());
    }
    resource.insert("name".into(), object.name.clone().into());
    if let Some(uid) = Cursor::root(&object.root).str_at(&["metadata", "uid"]) {
        resource.insert("uid".into(), uid.into());
    }
    json!({
        "policy": item.rule,
        "rule": item.rule,
        "category": "Redis",
        "source": "redline",
        "scored": true,
        "result": result,
        "severity": severity,
        "message": item.message,
        "timestamp": {"seconds": now_unix, "nanos": 0},
        "resources": [resource],
        "properties": properties,
    })
}

/// The reports as a YAML stream (`kubectl apply -f` reads it).
pub fn render(reports: &[Value]) -> String {
    let mut out = String::new();
    for r in reports {
        out.push_str("---\n");
        out.push_str(&yaml_serde::to_string(r).unwrap_or_default());
    }
    out
}

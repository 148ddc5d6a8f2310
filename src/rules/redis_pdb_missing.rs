//! ## redis-pdb-missing
//!
//! **What it does.** Finds replicated or clustered Redis workloads (StatefulSets and
//! Deployments with more than one pod) that no PodDisruptionBudget in the input selects.
//!
//! **Why it matters.** A node drain (upgrades, autoscaler scale-down) evicts every pod on
//! the node at once; without a budget it can take a primary and its replica together, or
//! several cluster primaries, and the data set is unavailable or lost until they return.
//!
//! **Fix.** Prints a PodDisruptionBudget with `maxUnavailable: 1` selecting what the
//! workload's own `spec.selector.matchLabels` selects (not pod labels such as `chart:` that
//! change on every upgrade), in the workload's namespace — or in none, when the manifest
//! names none and is applied with `-n`. If your PDBs live in another repository, exempt the
//! object with the annotation `redline.dev/ignore: redis-pdb-missing`.
use serde_json::{Map, Value, json};

use crate::model::{Deployment, Loc, Platform, Role};

use super::facts;
use super::{Context, Fix, FixEdit, NoParams, Rule, Violation};

pub struct Check;

impl Rule for Check {
    type Params = NoParams;

    fn deployment(&self, cx: &Context, d: &Deployment, out: &mut Vec<Violation>) {
        if d.platform != Platform::Workload
            || d.pdb.is_some()
            || !matches!(d.role, Role::Replication | Role::ClusterShard)
        {
            return;
        }
        let object = cx.inventory.object(d.object);
        if !matches!(object.kind.as_str(), "StatefulSet" | "Deployment") {
            return;
        }
        let Some(replicas) = &d.replicas else { return };
        if replicas.value < 2 {
            return;
        }
        let selector = facts::stable_selector(d);
        let fix = (!selector.is_empty()).then(|| {
            let labels: Map<String, Value> = selector
                .iter()
                .map(|(k, v)| (k.clone(), Value::String(v.clone())))
                .collect();
            // The namespace the workload is applied to: its own, or none (`kubectl apply
            // -n argocd` puts both in the same place).
            let mut metadata = json!({"name": object.name});
            if let Some(ns) = &object.namespace {
                metadata["namespace"] = json!(ns);
            }
            Fix {
                description: format!("create a PodDisruptionBudget with maxUnavailable: 1 for {object}"),
                edit: FixEdit::Manifest(json!({
                    "apiVersion": "policy/v1",
                    "kind": "PodDisruptionBudget",
                    "metadata": metadata,
                    "spec": {"maxUnavailable": 1, "selector": {"matchLabels": labels}},
                })),
            }
        });
        out.push(
            Violation::new(
                Loc {
                    object: d.object,
                    pointer: String::new(),
                    pos: object.pos,
                },
                format!(
                    "no PodDisruptionBudget selects the {} {} pods of {object}: a node drain \
                     can evict {} at once",
                    replicas.value,
                    d.engine,
                    facts::pods_at_risk(d)
                ),
            )
            .fix(fix),
        );
    }
}

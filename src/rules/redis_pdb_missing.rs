//! ## redis-pdb-missing
//!
//! **What it does.** Finds replicated or clustered Redis workloads (StatefulSets and
//! Deployments with more than one pod) that no PodDisruptionBudget in the input selects.
//!
//! **Why it matters.** A node drain (upgrades, autoscaler scale-down) evicts every pod on
//! the node at once; without a budget it can take a primary and its replica together, or
//! several cluster primaries, and the data set is unavailable or lost until they return.
//!
//! **Fix.** Prints a PodDisruptionBudget with `maxUnavailable: 1` selecting the pods'
//! labels. If your PDBs live in another repository, exempt the object with the annotation
//! `redline.dev/ignore: redis-pdb-missing`.
use serde_json::{Map, Value, json};

use crate::model::{Deployment, Loc, Platform, Role};

use super::{Context, Fix, FixEdit, Rule, Violation};

pub struct Check;

impl Rule for Check {
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
        let fix = (!d.pod_labels.is_empty()).then(|| {
            let labels: Map<String, Value> = d
                .pod_labels
                .iter()
                .map(|(k, v)| (k.clone(), Value::String(v.clone())))
                .collect();
            Fix {
                description: format!("create a PodDisruptionBudget with maxUnavailable: 1 for {object}"),
                edit: FixEdit::Manifest(json!({
                    "apiVersion": "policy/v1",
                    "kind": "PodDisruptionBudget",
                    "metadata": {"name": object.name, "namespace": object.namespace_or_default()},
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
                    "no PodDisruptionBudget selects the {} Redis pods of {object}: a node drain \
                     can evict a primary together with its replica",
                    replicas.value
                ),
            )
            .fix(fix),
        );
    }
}

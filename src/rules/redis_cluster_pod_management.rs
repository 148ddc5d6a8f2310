//! ## redis-cluster-pod-management
//!
//! **What it does.** Finds StatefulSets running Redis in cluster mode whose
//! `podManagementPolicy` is `OrderedReady` (the default when unset).
//!
//! **Why it matters.** OrderedReady starts pod N+1 only when pod N is Ready, but a cluster
//! node's readiness waits for the cluster to form, which needs the other pods: the
//! bootstrap deadlocks, and after a full stop every pod waits for the one before it. It also
//! blocks rolling back a broken template (kubernetes/kubernetes#67250). Bitnami's
//! redis-cluster chart sets Parallel "to be able to complete the cluster join".
//!
//! **Fix.** Sets `podManagementPolicy: Parallel`. The API server refuses to change it on an
//! existing StatefulSet: delete it with `--cascade=orphan` and re-create it.
use crate::patch::set_path;
use serde_json::json;

use crate::model::{Deployment, Platform, Role};

use super::{Context, Fix, FixEdit, NoParams, Rule, Violation};

pub struct Check;

impl Rule for Check {
    type Params = NoParams;

    fn deployment(&self, cx: &Context, d: &Deployment, out: &mut Vec<Violation>) {
        if d.role != Role::ClusterShard || d.platform != Platform::Workload {
            return;
        }
        let object = cx.inventory.object(d.object);
        if object.kind != "StatefulSet" {
            return;
        }
        let (at, written) = match &d.pod_management_policy {
            Some(p) if p.value == "Parallel" => return,
            Some(p) => (p.at.clone(), format!("`{}`", p.value)),
            None => (
                cx.inventory
                    .absent_loc(d.object, "/spec", "podManagementPolicy"),
                "unset (OrderedReady)".to_string(),
            ),
        };
        let fix = set_path(cx.inventory, d.object, "/spec/podManagementPolicy", json!("Parallel")).map(
            |ops| Fix {
                description: "set podManagementPolicy: Parallel (re-create the StatefulSet: the \
                              field cannot be updated)"
                    .into(),
                edit: FixEdit::Patch {
                    object: d.object,
                    ops,
                },
            },
        );
        out.push(
            Violation::new(
                at,
                format!(
                    "podManagementPolicy is {written} on a {} Cluster StatefulSet: pods start \
                     one at a time and wait for readiness that needs the cluster formed, so the \
                     bootstrap and restarts after a full stop can deadlock; use Parallel",
                    d.engine
                ),
            )
            .fix(fix),
        );
    }
}

//! ## kubeblocks-ops-while-unstable
//!
//! **What it does.** Finds KubeBlocks OpsRequests of type Stop, Start, HorizontalScaling,
//! VerticalScaling, Reconfiguring or Switchover, without `spec.force: true`, aimed at a
//! Cluster that is not `Running` (for Start: not `Stopped`).
//!
//! **Why it matters.** An operation started while the previous one is still settling
//! compounds it: a sharded Redis cluster stopped and started right after scaling came back
//! with pods crashing because `CLUSTER MEET` failed and probes killed them (the seed
//! incident). KubeBlocks queues some operations but does not stop a user from piling them
//! up.
//!
//! **Levels.** error when the Cluster's phase is known (a Cluster object in the input with
//! `status.phase`: in the files, or the one the webhook's lookups add); info offline when it is not, so that the
//! operator checks `kubectl get cluster` first.
//!
//! **Fix.** None: wait for the Cluster to be Running (Stopped, for Start), or set
//! `spec.force: true` if you mean it.
use crate::model::ObjectId;

use super::facts::loc_of;
use super::{Context, Rule, Severity, Violation};

pub struct Check;

const GUARDED: [&str; 6] = [
    "Stop",
    "Start",
    "HorizontalScaling",
    "VerticalScaling",
    "Reconfiguring",
    "Switchover",
];

impl Rule for Check {
    fn inventory(&self, cx: &Context, out: &mut Vec<Violation>) {
        let inv = cx.inventory;
        // Clusters by namespace and name, once: a repository may hold many OpsRequests.
        let clusters: std::collections::HashMap<(&str, &str), &crate::model::Object> = inv
            .objects
            .iter()
            .filter(|c| c.kind == "Cluster" && c.group() == "apps.kubeblocks.io")
            .map(|c| ((c.namespace_or_default(), c.name.as_str()), c))
            .collect();
        for (i, o) in inv.objects.iter().enumerate() {
            if o.kind != "OpsRequest" || !o.group().ends_with("kubeblocks.io") {
                continue;
            }
            let id = ObjectId(i);
            let spec = o.root.get("spec");
            let Some(kind) = spec.and_then(|s| s.get("type")).and_then(|t| t.as_str()) else {
                continue;
            };
            if !GUARDED.contains(&kind)
                || spec.and_then(|s| s.get("force")).and_then(|f| f.as_bool()) == Some(true)
            {
                continue;
            }
            let Some((cluster, cluster_pointer)) = ["clusterName", "clusterRef"]
                .iter()
                .find_map(|k| Some((spec?.get(k)?.as_str()?, format!("/spec/{k}"))))
            else {
                continue;
            };
            let namespace = o.namespace_or_default();
            let phase = clusters
                .get(&(namespace, cluster))
                .and_then(|c| c.root.pointer("/status/phase")?.as_str().map(str::to_string));
            let at = loc_of(inv, id, &cluster_pointer);
            let wanted = if kind == "Start" { "Stopped" } else { "Running" };
            match phase {
                Some(p) if p == wanted => {}
                Some(p) => out.push(
                    Violation::new(
                        at,
                        format!(
                            "{kind} on Cluster {namespace}/{cluster} while its phase is {p}, not \
                             {wanted}: operations on an unsettled cluster compound (a sharded \
                             cluster stopped and started after scaling crashed); wait, or set \
                             spec.force: true"
                        ),
                    )
                    .severity(Severity::Error),
                ),
                None => out.push(
                    Violation::new(
                        at,
                        format!(
                            "{kind} on Cluster {namespace}/{cluster}: its phase is not known \
                             offline; apply only when it is {wanted} (the admission webhook \
                             checks it)"
                        ),
                    )
                    .severity(Severity::Info),
                ),
            }
        }
    }
}

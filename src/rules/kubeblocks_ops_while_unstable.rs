//! ## kubeblocks-ops-while-unstable
//!
//! **What it does.** Finds KubeBlocks OpsRequests of type Stop, Start, HorizontalScaling,
//! VerticalScaling, Reconfiguring or Switchover, without `spec.force: true`, aimed at a
//! Cluster that is not `Running` (for Start: not `Stopped`, or `Running`, where a Start
//! changes nothing).
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

use super::{Context, NoParams, Rule, Severity, Violation};

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
    type Params = NoParams;

    fn inventory(&self, cx: &Context, out: &mut Vec<Violation>) {
        for ops in &cx.inventory.ops_requests {
            let kind = ops.kind.as_str();
            if !GUARDED.contains(&kind) || ops.force {
                continue;
            }
            let Some(cluster_name) = &ops.cluster_name else {
                continue;
            };
            let cluster = &cluster_name.value;
            let namespace = cx.inventory.object(ops.object).namespace_or_default();
            let phase = ops.cluster_phase.as_deref();
            let at = cluster_name.at.clone();
            let wanted = if kind == "Start" { "Stopped" } else { "Running" };
            match phase {
                Some(p) if p == wanted => {}
                // Starting a running cluster changes nothing: KubeBlocks runs Start only from
                // Stopped (pkg/operations/start.go `FromClusterPhases`), so nothing unsettled
                // is compounded.
                Some("Running") if kind == "Start" => {}
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

//! ## redis-enterprise-nodes
//!
//! **What it does.** Checks a Redis Enterprise cluster's `nodes` (default 3) and, where
//! `redisEnterpriseNodeResources` is written, that its requests equal its limits for memory
//! and CPU (the operator's default resources do).
//!
//! **Why it matters.** Redis' Kubernetes sizing guide: "The number of nodes in the cluster
//! must be an uneven number equal to or greater than 3" — the cluster keeps its quorum with a
//! majority of nodes, and "Single-node RECs are not supported". Its pod-stability guide: for
//! the Guaranteed QoS class "every container in the pod must have a memory limit and a memory
//! request, and they must be the same" (and the same for CPU); a Burstable node pod is among
//! the first the kubelet evicts under memory pressure, taking its shards with it.
//!
//! **Levels.** error below 3 nodes; warning for an even count and for requests unlike
//! limits.
//!
//! **Fix.** Sets the limits to the requests where both are written; none for the node count
//! (decreasing it is not supported, and adding a node is a capacity decision).
use serde_json::Value;

use crate::model::access::Shape;
use crate::patch::PatchOp;

use super::{Context, Fix, FixEdit, NoParams, Rule, Severity, Violation};

pub struct Check;

impl Rule for Check {
    type Params = NoParams;

    fn inventory(&self, cx: &Context, out: &mut Vec<Violation>) {
        for cluster in &cx.inventory.enterprise {
            let rec = cx.inventory.object(cluster.object);
            let n = cluster.nodes.value;
            if n < 3 {
                out.push(
                    Violation::new(
                        cluster.nodes.at.clone(),
                        format!(
                            "{rec} has {n} node(s): a Redis Enterprise cluster needs an uneven \
                             number of at least 3 to keep its quorum (\"Single-node RECs are \
                             not supported\"); set nodes to 3"
                        ),
                    )
                    .severity(Severity::Error),
                );
            } else if n % 2 == 0 {
                out.push(
                    Violation::new(
                        cluster.nodes.at.clone(),
                        format!(
                            "{rec} has {n} nodes, an even number: losing half of them loses the \
                             quorum, as with {} nodes; Redis' sizing guide asks for an uneven \
                             number (\"Decreasing the number of nodes is not supported\": add \
                             one)",
                            n - 1
                        ),
                    )
                    .severity(Severity::Warning),
                );
            }
            let r = &cluster.node_resources;
            if !r.written {
                continue;
            }
            let memory = (r.memory_request.as_ref(), r.memory_limit.as_ref());
            let cpu = (r.cpu_request_millis.as_ref(), r.cpu_limit_millis.as_ref());
            let mut unlike = Vec::new();
            let mut ops = Vec::new();
            match memory {
                (Some(req), Some(lim)) if req.bytes != lim.bytes => {
                    unlike.push(format!("memory request `{}` ≠ limit `{}`", req.text, lim.text));
                    ops.push(PatchOp::Replace {
                        path: lim.at.pointer.clone(),
                        value: Value::String(req.text.clone()),
                    });
                }
                (Some(_), None) | (None, Some(_)) | (None, None) => {
                    unlike.push("memory request and limit not both written".to_string())
                }
                _ => {}
            }
            match cpu {
                (Some(req), Some(lim)) if req.value != lim.value => {
                    let text = |p: &str| cx.inventory.str_at(cluster.object, p).unwrap_or("?");
                    unlike.push(format!(
                        "CPU request `{}` ≠ limit `{}`",
                        text(&req.at.pointer),
                        text(&lim.at.pointer)
                    ));
                    if let Some(written) = cx.inventory.str_at(cluster.object, &req.at.pointer) {
                        ops.push(PatchOp::Replace {
                            path: lim.at.pointer.clone(),
                            value: Value::String(written.to_string()),
                        });
                    }
                }
                (Some(_), None) | (None, Some(_)) | (None, None) => {
                    unlike.push("CPU request and limit not both written".to_string())
                }
                _ => {}
            }
            if unlike.is_empty() {
                continue;
            }
            // Only a replacement of a written limit: a missing one is the user's to size.
            let complete = unlike.iter().all(|u| u.contains('≠'));
            let fix = (complete
                && !ops.is_empty()
                && cx.inventory.shape_at(cluster.object, &r.at.pointer) == Shape::Map)
                .then(|| Fix {
                    description: "set the node limits to the requests".to_string(),
                    edit: FixEdit::Patch {
                        object: cluster.object,
                        ops,
                    },
                });
            out.push(
                Violation::new(
                    r.at.clone(),
                    format!(
                        "{rec}'s redisEnterpriseNodeResources: {}: its node pods are not in the \
                         Guaranteed QoS class, which Redis' pod-stability guide requires (requests \
                         equal to limits, for memory and CPU), and are evicted first under memory \
                         pressure",
                        unlike.join(", ")
                    ),
                )
                .severity(Severity::Warning)
                .fix(fix),
            );
        }
    }
}

//! ## redis-node-tuning-from-pod
//!
//! **What it does.** Finds Redis pods that reach for the node's kernel: a `vm.*` (or any
//! other non-namespaced) entry of `securityContext.sysctls` — an error, the kubelet refuses
//! the pod — and a privileged init container whose command sets a `vm.` sysctl or writes
//! `/sys/kernel/mm/transparent_hugepage` — a warning, it changes the node for every pod.
//! Workloads' pod specs; the operators' resources (KubeBlocks, OT, Spotahome,
//! valkey-operator) write their own pod specs.
//!
//! **Why it matters.** Redis' start-up warnings ask for `vm.overcommit_memory = 1` (a fork
//! for BGSAVE may fail without it) and transparent huge pages off (latency and copy-on-write
//! memory). Both are settings of the whole node. A pod that lists `vm.overcommit_memory` in
//! its sysctls never starts (`SysctlForbidden`: only namespaced sysctls may be set per pod).
//! A privileged init container that sets them does start — and silently retunes the kernel
//! for every other workload on the node, with a privileged pod the baseline Pod Security
//! Standard forbids (the Bitnami charts' `sysctl.enabled`).
//!
//! **Fix.** None automatic: set the node's kernel once per node (its image, its bootstrap
//! configuration, or a node-tuning DaemonSet the platform owns), schedule Redis onto those
//! nodes, and drop the sysctl entry or the privileged init container.
use crate::model::{Deployment, NodeTuningHow};

use super::facts;
use super::{Context, NoParams, Rule, Severity, Violation};

pub struct Check;

impl Rule for Check {
    type Params = NoParams;

    fn deployment(&self, _cx: &Context, d: &Deployment, out: &mut Vec<Violation>) {
        if !facts::data_role(d) {
            return;
        }
        for t in &d.node_tuning {
            let violation = match &t.how {
                NodeTuningHow::PodSysctl => Violation::new(
                    t.at.clone(),
                    format!(
                        "sysctl `{}` is the node's, not the pod's (not namespaced): the kubelet \
                         refuses the pod (SysctlForbidden) and {engine} never starts; set it on \
                         the nodes {engine} runs on and remove it here",
                        t.what,
                        engine = d.engine
                    ),
                )
                .severity(Severity::Error),
                NodeTuningHow::PrivilegedInit { container } => Violation::new(
                    t.at.clone(),
                    format!(
                        "init container `{container}` runs privileged to set `{}` on the \
                         node: every other pod there gets it too, and the privileged pod \
                         breaks the baseline Pod Security Standard; set it once per node \
                         (node image, bootstrap configuration or a node-tuning DaemonSet) and \
                         drop the init container",
                        t.what
                    ),
                )
                .severity(Severity::Warning),
            };
            out.push(violation);
        }
    }
}

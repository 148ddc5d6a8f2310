//! ## redis-memory-limit-missing
//!
//! **What it does.** Finds Redis containers (and KubeBlocks components) without
//! `resources.limits.memory`.
//!
//! **Why it matters.** Without a limit the pod may use every byte of the node: under memory
//! pressure the kubelet evicts pods and the kernel's OOM killer picks a victim on the node,
//! which may be Redis or a neighbour. Every other memory rule needs the limit to judge
//! `maxmemory`; KubeBlocks derives `maxmemory` from the limit and writes none without one.
//!
//! **Fix.** Adds a limit: `fork_ratio` (2.5) × the request for an instance that forks (the
//! seed incident's advice: maxmemory = request, limit 2.5–3 × request), the request itself
//! for one that never forks. No fix without a request. The mutating webhook does not add
//! limits by default: a new limit can OOM-kill a pod that ran without one.
use crate::model::Deployment;

use super::facts::{self, bytes};
use super::fixes::set_limit;
use super::plan;
use serde::{Deserialize, Serialize};

use super::{Context, Rule, Violation};

/// `rules/redis-memory-limit-missing.yaml` describes it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Params {
    pub fork_ratio: f64,
}

pub struct Check;

impl Rule for Check {
    type Params = Params;

    fn deployment(&self, cx: &Context<Params>, d: &Deployment, out: &mut Vec<Violation>) {
        let Some(c) = facts::data_container(d) else { return };
        if c.memory_limit.is_some()
            || c.memory_limit_unknown.is_some()
            || !c.memory_errors.is_empty()
            || facts::cluster_unknown(d)
        {
            return;
        }
        let fix = plan::memory(cx, d)
            .and_then(|p| p.set_limit_to)
            .and_then(|limit| set_limit(cx.inventory, c, limit));
        let request = c
            .request_bytes()
            .map(|r| format!(" (request {})", bytes(r)))
            .unwrap_or_default();
        out.push(
            Violation::new(
                c.resources_at.clone(),
                format!(
                    "{} no memory limit{request}: {} can take the node's memory and \
                     maxmemory cannot be judged; set limits.memory",
                    if facts::user_owns_pods(d) {
                        format!("container `{}` has", c.name)
                    } else {
                        format!("the {} pods have", d.engine)
                    },
                    d.engine
                ),
            )
            .fix(fix),
        );
    }
}

//! ## redis-maxmemory-unset
//!
//! **What it does.** Finds Redis data instances whose effective `maxmemory` is 0 — unset, or
//! set to 0 — so that Redis has no memory bound of its own.
//!
//! **Why it matters.** "Setting maxmemory to zero results into no memory limits" (Redis'
//! eviction docs): the dataset grows until the kernel kills redis-server at the container's
//! memory limit, instead of Redis evicting keys or refusing writes with an OOM error the
//! client can handle. Without a limit either, the pod grows until the node is under memory
//! pressure and something else gets evicted.
//!
//! **Levels.** error with a memory limit, warning without one.
//!
//! **Fix.** With a limit: sets maxmemory to `fork_ratio` (0.75) × limit for an instance that
//! forks, `ratio` (0.85) × limit otherwise — on the line that sets it to 0, at the end of
//! the mounted redis.conf, as `redis-server` arguments, in Spotahome's `customConfig`, or as
//! a KubeBlocks Reconfiguring OpsRequest.
use crate::model::Deployment;

use super::facts::{self, bytes};
use super::plan;
use serde::{Deserialize, Serialize};

use super::{Context, Rule, Severity, Violation};

/// `rules/redis-maxmemory-unset.yaml` describes each.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Params {
    pub fork_ratio: f64,
    pub ratio: f64,
}

pub struct Check;

impl Rule for Check {
    type Params = Params;

    fn deployment(&self, cx: &Context<Params>, d: &Deployment, out: &mut Vec<Violation>) {
        if !facts::data_role(d)
            || facts::superseded(cx.inventory, d, "maxmemory")
            || !d.config.is_known("maxmemory")
            || d.config.redis.maxmemory_bytes() != 0
        {
            return;
        }
        let Some(c) = d.redis_container() else { return };
        let at = match facts::maxmemory_line(d) {
            Some(line) => facts::arg_loc(d, line, 0),
            None => None,
        }
        .unwrap_or_else(|| c.at.clone());
        let set = match facts::maxmemory_line(d) {
            Some(_) => format!("maxmemory is 0 (no limit){}", facts::set_by(d, "maxmemory")),
            // Without a limit Dragonfly takes 80% of what the node has available at start-up.
            None if d.engine == crate::model::Product::Dragonfly => {
                "maxmemory is not set: Dragonfly takes 80% of the memory the node has available \
                 when it starts"
                    .to_string()
            }
            None => "maxmemory is not set (0: no limit)".to_string(),
        };
        if c.memory_limit.is_none() && c.memory_limit_unknown.is_some() {
            return;
        }
        let Some(limit) = &c.memory_limit else {
            // The limit redis-memory-limit-missing's fix sets, and maxmemory for it.
            let planned = plan::memory(cx, d).filter(|p| p.set_limit_to.is_some());
            let advice = match &planned {
                Some(p) => format!(
                    "with the limit redis-memory-limit-missing sets ({}), set maxmemory to {}",
                    bytes(p.limit_bytes),
                    bytes(p.maxmemory_bytes)
                ),
                None => "set a memory limit and maxmemory below it".to_string(),
            };
            out.push(
                Violation::new(
                    at,
                    format!(
                        "{set} and the container has no memory limit: the dataset grows until \
                         the node runs short of memory; {advice}"
                    ),
                )
                .severity(Severity::Warning)
                .fix(planned.and_then(|p| plan::maxmemory_fix(cx, d, &p))),
            );
            return;
        };
        let Some(plan) = plan::memory(cx, d) else { return };
        out.push(
            Violation::new(
                at,
                format!(
                    "{set}: {} never evicts and the kernel OOM-kills it at the memory limit \
                     `{}` = {}; set maxmemory to at most {}{}",
                    d.engine,
                    limit.text,
                    bytes(limit.bytes),
                    plan.maxmemory_words(),
                    plan::next_step(&plan),
                ),
            )
            .severity(Severity::Error)
            .fix(plan::maxmemory_fix(cx, d, &plan)),
        );
    }
}

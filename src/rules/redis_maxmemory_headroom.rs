//! ## redis-maxmemory-headroom
//!
//! **What it does.** Compares the effective `maxmemory` (the config file, includes,
//! `redis-server` arguments, operator defaults and KubeBlocks parameters, last one wins) with
//! the container's memory limit.
//!
//! **Why it matters.** `maxmemory` bounds the dataset, not the process. A fork for BGSAVE,
//! an AOF rewrite or a replica's full resync copies pages on write, and those copies are
//! charged to the container's cgroup; replication and client output buffers, the AOF buffer
//! and fragmentation all live outside `maxmemory`. With `maxmemory` at the limit, the kernel
//! OOM-kills redis-server before eviction ever starts, and the pod ends in
//! CrashLoopBackOff.
//!
//! **Levels.**
//! - error when maxmemory > `error_ratio` (0.90) × limit, which includes maxmemory ≥ limit:
//!   the admission webhook rejects these;
//! - warning when maxmemory > `fork_ratio` (0.75) × limit for an instance that forks (save
//!   points, including Redis' implicit defaults; AOF; replicas; cluster mode), or >
//!   `ratio` (0.85) × limit for one that never forks.
//!
//! **Example.** A KubeBlocks Cluster with `limits.memory: 32Gi` and a Reconfiguring
//! OpsRequest setting `maxmemory: "34359738368"` (32 GiB): error. KubeBlocks' own default,
//! 0.8 × limit, on an instance with AOF: warning.
//!
//! A Cluster whose maxmemory a Reconfiguring OpsRequest in the same input sets is judged
//! with that value (on the OpsRequest), not with KubeBlocks' default.
//!
//! **Fix.** Sets maxmemory to `fork_ratio` (or `ratio`) × limit where it is written; when
//! only KubeBlocks' template derives it from the limit, prints the Reconfiguring
//! OpsRequest to apply. The better fix for a forking instance is often to raise the limit
//! instead (see `redis-memory-request-ratio`).
use crate::model::Deployment;

use super::facts::{self, bytes, percent};
use super::plan;
use serde::{Deserialize, Serialize};

use super::{Context, Rule, Severity, Violation};

/// `rules/redis-maxmemory-headroom.yaml` describes each.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Params {
    pub error_ratio: f64,
    pub fork_ratio: f64,
    pub ratio: f64,
}

pub struct Check;

impl Rule for Check {
    type Params = Params;

    fn deployment(&self, cx: &Context<Params>, d: &Deployment, out: &mut Vec<Violation>) {
        if !facts::data_role(d)
            || !d.config.is_known("maxmemory")
            || facts::superseded(cx.inventory, d, "maxmemory")
        {
            return;
        }
        let Some(limit) = d.redis_container().and_then(|c| c.memory_limit.as_ref()) else {
            return;
        };
        let maxmemory = d.config.redis.maxmemory_bytes();
        let Some(line) = facts::maxmemory_line(d) else { return };
        if maxmemory == 0 || limit.bytes == 0 {
            return;
        }
        let Some(at) = facts::arg_loc(d, line, 0) else { return };
        let fork = facts::fork_reason(d);
        let (warn_ratio, why) = match &fork {
            Some(reason) => (
                cx.params.fork_ratio,
                format!("it forks ({reason}), and a fork's copy-on-write pages count against the limit"),
            ),
            None => (
                cx.params.ratio,
                "buffers and fragmentation live outside maxmemory".to_string(),
            ),
        };
        let error_ratio = cx.params.error_ratio;
        // What the advice (and the plan's fix) keeps to: an error_ratio configured below the
        // warning ratio is the bound.
        let keep_ratio = warn_ratio.min(error_ratio);
        let m = maxmemory as f64;
        let l = limit.bytes as f64;
        let head = format!(
            "maxmemory {} is {} of the memory limit `{}` = {}{}",
            bytes(maxmemory),
            percent(maxmemory, limit.bytes),
            limit.text,
            bytes(limit.bytes),
            facts::set_by(d, "maxmemory"),
        );
        let (severity, message) = if maxmemory >= limit.bytes {
            (
                Severity::Error,
                format!(
                    "{head}: redis-server is OOM-killed before it evicts a single key; keep \
                     maxmemory at most {:.0}% of the limit ({why})",
                    keep_ratio * 100.0
                ),
            )
        } else if m > error_ratio * l {
            (
                Severity::Error,
                format!(
                    "{head}: only {} is left for forks, buffers and fragmentation; keep \
                     maxmemory at most {:.0}% of the limit ({why})",
                    facts::bytes(limit.bytes - maxmemory),
                    keep_ratio * 100.0
                ),
            )
        } else if m > warn_ratio * l {
            (
                Severity::Warning,
                format!("{head}: above {:.0}% ({why})", warn_ratio * 100.0),
            )
        } else {
            return;
        };
        let plan = plan::memory(cx, d);
        let message = match &plan {
            Some(p) => format!("{message}{}", plan::next_step(p)),
            None => message,
        };
        out.push(
            Violation::new(at, message)
                .severity(severity)
                .fix(plan.and_then(|p| plan::maxmemory_fix(cx, d, &p))),
        );
    }
}

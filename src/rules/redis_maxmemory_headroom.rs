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
//!   `ratio` (0.85) × limit for one that never forks, or > `dragonfly_ratio` (0.80) × limit
//!   for Dragonfly, which never forks but bounds only its data heap: its RSS guard
//!   (`rss_oom_deny_ratio` 1.25) fires below the limit only from 80% down, which is also
//!   what it takes itself without `--maxmemory`.
//!
//! - warning when maxmemory plus the replica output buffers a primary can hold outside it
//!   exceed `budget_ratio` (1.0) × limit. Redis' eviction does not count them
//!   (evict.c `freeMemoryGetNotCountedMemory`): before 7.0 each replica's buffer, up to the
//!   `client-output-buffer-limit replica` hard limit (256mb by default), since 7.0 the one
//!   shared replication buffer beyond `repl-backlog-size`, up to that hard limit. The backlog
//!   itself is counted, so it is inside maxmemory. The message lists each part in bytes, and
//!   says when clients' buffers are unbounded as well (noeviction, `maxmemory-clients` 0).
//!   A replica that falls behind during a full resync fills them on top of a full dataset.
//!
//! **Example.** A KubeBlocks Cluster with `limits.memory: 32Gi` and a Reconfiguring
//! OpsRequest setting `maxmemory: "34359738368"` (32 GiB): error. KubeBlocks' own default,
//! 0.8 × limit, on an instance with AOF: warning.
//!
//! A Cluster whose maxmemory a Reconfiguring OpsRequest in the same input sets is judged
//! with that value (on the OpsRequest), not with KubeBlocks' default. A VerticalScaling is
//! judged as KubeBlocks applies it: the template re-rendered with the new limit (a derived
//! maxmemory follows it), then the maxmemory a Reconfiguring OpsRequest, ComponentParameter
//! or Parameter pins (which stays); lowering the limit under a pinned maxmemory is reported
//! at the VerticalScaling's new limit.
//!
//! **Fix.** Sets maxmemory to `fork_ratio` (or `ratio`) × limit where it is written; when
//! only KubeBlocks' template derives it from the limit, prints the Reconfiguring
//! OpsRequest to apply. The better fix for a forking instance is often to raise the limit
//! instead (see `redis-memory-request-ratio`). The buffer budget has no automatic fix: a
//! replica hard limit below what one full resync buffers makes the resync loop
//! (redis#11534), so lowering it, lowering maxmemory or raising the limit is a choice.
use crate::model::{Deployment, Loc, Memory};
use crate::redisconf::ClientClass;

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
    pub dragonfly_ratio: f64,
    pub budget_ratio: f64,
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
        // A KubeBlocks VerticalScaling re-renders the template with its new limit but keeps a
        // maxmemory pinned elsewhere (a Reconfiguring OpsRequest, a ComponentParameter): the
        // finding belongs to the operation that lowers the limit under it.
        let rescaled = d
            .operation
            .as_ref()
            .is_some_and(|op| op.kind == "VerticalScaling" && op.object == limit.at.object)
            && at.object != d.object;
        let (at, pinned) = if rescaled && d.platform == crate::model::Platform::KubeDb {
            (
                limit.at.clone(),
                "; the VerticalScaling changes the limit, not the configuration's maxmemory",
            )
        } else if rescaled {
            (
                limit.at.clone(),
                "; KubeBlocks keeps a pinned maxmemory when a VerticalScaling re-renders the \
                 configuration",
            )
        } else {
            (at, "")
        };
        let fork = facts::fork_reason(d);
        let (warn_ratio, why) = match &fork {
            None if d.engine == crate::model::Product::Dragonfly => (
                cx.params.dragonfly_ratio,
                format!(
                    "its maxmemory bounds only the data heap, and its RSS guard \
                     (rss_oom_deny_ratio 1.25) fires before the kernel's OOM kill only at or \
                     below {:.0}%",
                    cx.params.dragonfly_ratio * 100.0
                ),
            ),
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
            "maxmemory {} is {} of the memory limit `{}` = {}{}{pinned}",
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
                    "{head}: {} is OOM-killed before {}; keep maxmemory at most {:.0}% of the \
                     limit ({why})",
                    facts::server(d),
                    if d.engine == crate::model::Product::Dragonfly {
                        "maxmemory takes effect"
                    } else {
                        "it evicts a single key"
                    },
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
            if let Some(v) = budget(cx, d, maxmemory, limit, &at) {
                out.push(v);
            }
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

/// maxmemory plus the replica output buffers against the limit: a replica that falls behind
/// (a full resync under writes) fills them before Redis disconnects it, on top of a full
/// dataset.
fn budget(
    cx: &Context<Params>,
    d: &Deployment,
    maxmemory: u64,
    limit: &Memory,
    at: &Loc,
) -> Option<Violation> {
    if !d.config.is_known("client-output-buffer-limit") {
        return None;
    }
    let buffers = facts::replica_buffers(d)?;
    let total = buffers.bytes.map(|b| maxmemory.saturating_add(b));
    if total.is_some_and(|t| t as f64 <= cx.params.budget_ratio * limit.bytes as f64) {
        return None;
    }
    let replicas = format!(
        "{}{} replica{}",
        if buffers.at_least { "at least " } else { "" },
        buffers.replicas,
        if buffers.replicas == 1 { "" } else { "s" }
    );
    let how = if buffers.shared {
        format!("{replicas}; since 7.0 replicas share one replication buffer")
    } else {
        format!("{replicas}, each with its own output buffer before 7.0")
    };
    let redis = &d.config.redis;
    let written = if redis
        .output_buffer_limit_line(ClientClass::Replica)
        .is_some()
    {
        ""
    } else {
        ", the default"
    };
    let parts = match (buffers.bytes, total) {
        (Some(b), Some(t)) => format!(
            "maxmemory {} + replica output buffers up to {} (`client-output-buffer-limit \
             replica` hard limit {}{written}; {how}) = {}, {} of the memory limit `{}` = {}",
            bytes(maxmemory),
            bytes(b),
            crate::units::human::size(buffers.hard_bytes),
            bytes(t),
            percent(t, limit.bytes),
            limit.text,
            bytes(limit.bytes),
        ),
        _ => format!(
            "maxmemory {} + replica output buffers without a bound (`client-output-buffer-limit \
             replica` hard limit 0; {how}) can exceed the memory limit `{}` = {}",
            bytes(maxmemory),
            limit.text,
            bytes(limit.bytes),
        ),
    };
    // Normal clients' buffers count toward maxmemory and make Redis evict, except under
    // noeviction, where they grow past it (Redis 7's maxmemory-clients bounds them).
    let clients = if redis.maxmemory_policy() == "noeviction"
        && redis.output_buffer_limit(ClientClass::Normal).hard_bytes == 0
        && redis.int_value("maxmemory-clients") == 0
    {
        "; with noeviction, clients' output buffers are unbounded too (maxmemory-clients 0)"
    } else {
        ""
    };
    // The memory plan leaves room for the buffers (and keeps to the ratios), so its fix is
    // the one the ratio findings give.
    let plan = plan::memory(cx, d).filter(|p| p.maxmemory_bytes < maxmemory);
    let loops = "not below what a full resync buffers, or the resync loops (redis#11534)";
    let advice = match &plan {
        Some(p) => format!(
            "set maxmemory to at most {}{}; raising the limit or lowering the replica hard \
             limit also works, the hard limit {loops}",
            p.maxmemory_words(),
            plan::next_step(p)
        ),
        None if buffers.bytes.is_none() => format!(
            "set a replica hard limit that fits in the limit beside maxmemory, yet {loops}"
        ),
        None => format!(
            "lower maxmemory, raise the limit or lower the replica hard limit, the hard limit \
             {loops}"
        ),
    };
    Some(
        Violation::new(
            at.clone(),
            format!(
                "{parts}{}: a replica that falls behind (a full resync under writes) fills \
                 them on top of a full dataset, and the kernel OOM-kills {} before it \
                 disconnects the replica{clients}; {advice}",
                facts::set_by(d, "maxmemory"),
                facts::server(d),
            ),
        )
        .severity(Severity::Warning)
        .fix(plan.and_then(|p| plan::maxmemory_fix(cx, d, &p))),
    )
}

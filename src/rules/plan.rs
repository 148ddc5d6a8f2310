//! One memory plan per deployment. `redis-maxmemory-unset`, `redis-maxmemory-headroom` and
//! `redis-memory-request-ratio` all change maxmemory or the memory limit; planned apart,
//! one rule's fix made the next rule fire (a maxmemory of 75% of the limit under a limit
//! below 2.5 × the request), and two Reconfiguring OpsRequests pinned one component's
//! maxmemory to two values. Here the three agree on one target:
//!
//! - the limit: raised to `ratio` × the request when the request-ratio rule is enabled
//!   (`mode: raise-limit`) and would fire — a forking instance whose limit is below
//!   `ratio` × request, with maxmemory unset or above limit / `ratio`;
//! - maxmemory: the smallest enabled fraction (`fork_ratio` or `ratio` of the unset and
//!   headroom rules) of the *current* limit, so that each fix is safe applied alone (the
//!   mutating webhook applies only some rules); where maxmemory is derived from the limit
//!   and the limit is raised, it is pinned to the request (the KubeBlocks seed incident's
//!   advice), never above that fraction of the current limit.
//!
//! Without a limit, the plan is made for the one `redis-memory-limit-missing` sets, and
//! the maxmemory-unset finding carries the maxmemory for it. Applied together the fixes
//! leave none of these rules firing, so a second `fix` changes nothing.

use crate::model::Deployment;

use super::facts::{self, bytes};
use super::fixes::{pin_percent_and_raise_limit, set_directive};
use super::redis_memory_request_ratio::Mode;
use super::{Context, Fix};

const RATIO: &str = "redis-memory-request-ratio";

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MemoryPlan {
    /// The limit now (as `k8s-memory-milli` rewrites it: `1024m` meant `1024Mi`).
    pub limit_bytes: u64,
    /// The effective request, read the same way.
    pub request_bytes: Option<u64>,
    /// Where there is no limit: the one `redis-memory-limit-missing` sets (and the plan
    /// is made for).
    pub set_limit_to: Option<u64>,
    /// The limit the request-ratio rule raises it to, when it does.
    pub raise_limit_to: Option<u64>,
    /// The maxmemory every maxmemory fix sets.
    pub maxmemory_bytes: u64,
    /// maxmemory is derived from the limit (KubeBlocks, OT): raising the limit raises it,
    /// so it is pinned first.
    pub derived: bool,
    /// The fraction of the current limit maxmemory is planned at.
    pub fraction: f64,
    /// The replica output buffers the plan leaves room for, where they, not the fraction,
    /// bound maxmemory.
    pub replica_buffers_bytes: Option<u64>,
}

impl MemoryPlan {
    /// What the planned maxmemory is, for messages: `75% of the limit (…)`, or the limit
    /// less the replica output buffers.
    pub fn maxmemory_words(&self) -> String {
        match self.replica_buffers_bytes {
            None => format!(
                "{:.0}% of the limit ({})",
                self.fraction * 100.0,
                bytes(self.maxmemory_bytes)
            ),
            Some(buffers) => format!(
                "{} (the limit less up to {} of replica output buffers, under {:.0}%)",
                bytes(self.maxmemory_bytes),
                crate::units::human::size(buffers),
                self.fraction * 100.0
            ),
        }
    }
}

/// The plan of a data instance with a memory limit, or with the limit the limit-missing rule
/// sets; `None` without either, and for a Cluster component whose limit an operation of the
/// input changes (the operation's projection is planned instead).
pub fn memory<P>(cx: &Context<P>, d: &Deployment) -> Option<MemoryPlan> {
    if facts::limit_changed_by_operation(cx.inventory, d) {
        return None;
    }
    let c = facts::data_container(d)?;
    let request = request_bytes(cx, c);
    let forks = facts::fork_reason(d).is_some();
    // No limit: the one `redis-memory-limit-missing`'s fix sets, when it has one.
    let (limit, set_limit_to) = match &c.memory_limit {
        Some(m) => (read(cx, m), None),
        // A limit a variable fills in later: its value is not known, nothing to plan.
        None if c.memory_limit_unknown.is_some() => return None,
        None => {
            let request = request.filter(|r| *r > 0)?;
            let p = cx.enabled.redis_memory_limit_missing?;
            let limit = if forks {
                facts::ceil_mib(request, p.fork_ratio)
            } else {
                request
            };
            (limit, Some(limit))
        }
    };
    let unset = cx.enabled.redis_maxmemory_unset;
    let headroom = cx.enabled.redis_maxmemory_headroom;
    let dragonfly = d.engine == crate::model::Product::Dragonfly;
    let fractions = [
        unset.map(|p| if forks { p.fork_ratio } else { p.ratio }),
        // An error_ratio configured below the warning ratio bounds the fix too, or the fix
        // would leave an error.
        headroom.map(|p| {
            let warn = if dragonfly {
                p.dragonfly_ratio
            } else if forks {
                p.fork_ratio
            } else {
                p.ratio
            };
            warn.min(p.error_ratio)
        }),
    ];
    let fraction = fractions.into_iter().flatten().fold(f64::NAN, f64::min);
    let fraction = if fraction.is_nan() {
        if forks { 0.75 } else { 0.85 }
    } else {
        fraction
    };
    let request_ratio = cx
        .enabled
        .redis_memory_request_ratio
        .filter(|p| p.mode != Mode::Off)
        .map(|p| p.ratio);
    let maxmemory = d.config.redis.maxmemory_bytes();
    let raise_limit_to = match (request_ratio, request) {
        (Some(ratio), Some(request))
            if forks && request > 0 && ratio_fires(limit, request, maxmemory, ratio) =>
        {
            Some(facts::ceil_mib(request, ratio))
        }
        _ => None,
    };
    let derived = facts::maxmemory_from_limit(d);
    // The headroom rule's second budget: maxmemory plus the replica output buffers a primary
    // holds outside it within `budget_ratio` × limit, or its finding follows this fix.
    let replica_buffers_bytes = headroom
        .filter(|_| d.config.is_known("client-output-buffer-limit"))
        .and_then(|p| {
            let buffers = facts::replica_buffers(d)?.bytes?;
            let budget = (p.budget_ratio * limit as f64) as u64;
            let room = facts::floor_mib(budget.checked_sub(buffers)?, 1.0);
            (room > 0 && room < facts::floor_mib(limit, fraction)).then_some((buffers, room))
        });
    let under_current = match replica_buffers_bytes {
        Some((_, room)) => room,
        None => facts::floor_mib(limit, fraction),
    };
    let maxmemory_bytes = match (raise_limit_to, derived, request) {
        (Some(_), true, Some(request)) => request.min(under_current),
        _ => under_current,
    };
    Some(MemoryPlan {
        limit_bytes: limit,
        request_bytes: request,
        set_limit_to,
        raise_limit_to,
        maxmemory_bytes,
        derived,
        fraction,
        replica_buffers_bytes: replica_buffers_bytes.map(|(b, _)| b),
    })
}

/// A memory quantity as the plan reads it: a milli-byte one (`512m`) as what
/// `k8s-memory-milli`'s fix makes of it (`512Mi`), so that the plan still holds after it.
pub fn read<P>(cx: &Context<P>, m: &crate::model::Memory) -> u64 {
    cx.enabled
        .k8s_memory_milli
        .and_then(|_| super::k8s_memory_milli::meant(m))
        .map_or(m.bytes, |(_, b)| b)
}

/// The effective request (a limit alone stands for it), read as [`read`] does.
pub fn request_bytes<P>(cx: &Context<P>, c: &crate::model::Container) -> Option<u64> {
    match &c.memory_request {
        Some(r) => Some(read(cx, r)),
        None => c
            .request_bytes()
            .and(c.memory_limit.as_ref().map(|l| read(cx, l))),
    }
}

/// The request-ratio rule's condition: a limit below `ratio` × request, with maxmemory unset
/// (the dataset grows to the limit) or above limit / `ratio`.
pub fn ratio_fires(limit: u64, request: u64, maxmemory: u64, ratio: f64) -> bool {
    (limit as f64) < ratio * request as f64
        && (maxmemory == 0 || maxmemory as f64 * ratio > limit as f64)
}

/// The fix that pins a derived maxmemory before the limit is raised: for OT, the raised limit
/// with the percentage that keeps maxmemory at the plan under it (one fix: apart, they undo
/// each other); for KubeBlocks, the Reconfiguring OpsRequest (the limit follows in a
/// VerticalScaling). The headroom and request-ratio rules both give exactly this fix.
pub fn pin_then_raise<P>(cx: &Context<P>, d: &Deployment, plan: &MemoryPlan) -> Option<Fix> {
    let new_limit = plan.raise_limit_to?;
    let c = facts::data_container(d)?;
    if let Some(fix) =
        pin_percent_and_raise_limit(cx.inventory, d, c, plan.maxmemory_bytes, new_limit)
    {
        return Some(fix);
    }
    set_directive(
        cx.inventory,
        d,
        "maxmemory",
        &plan.maxmemory_bytes.to_string(),
    )
    .map(|mut f| {
        f.description = format!(
            "pin maxmemory to {} ({}); then raise the limit to {}",
            bytes(plan.maxmemory_bytes),
            f.description,
            crate::units::quantity::canonical_bytes(new_limit)
        );
        f
    })
}

/// The maxmemory fix of the plan: the pin above where the limit is raised under a derived
/// maxmemory, else the directive set to the planned value.
pub fn maxmemory_fix<P>(cx: &Context<P>, d: &Deployment, plan: &MemoryPlan) -> Option<Fix> {
    if plan.derived && plan.raise_limit_to.is_some() {
        return pin_then_raise(cx, d, plan);
    }
    set_directive(
        cx.inventory,
        d,
        "maxmemory",
        &plan.maxmemory_bytes.to_string(),
    )
}

/// ", then raise the limit to … (redis-memory-request-ratio)" when the plan has a second step.
pub fn next_step(plan: &MemoryPlan) -> String {
    match (plan.raise_limit_to, plan.derived) {
        (Some(limit), false) => format!(
            "; then raise the limit to {} ({RATIO})",
            crate::units::quantity::canonical_bytes(limit)
        ),
        _ => String::new(),
    }
}

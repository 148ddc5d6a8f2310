//! ## redis-memory-request-ratio
//!
//! **What it does.** For an instance that forks (save points including Redis' implicit
//! defaults, AOF, replicas, cluster mode), warns when the memory limit is below `ratio`
//! (2.5) × the memory request while maxmemory is above limit / `ratio` (a maxmemory of 0 is
//! `redis-maxmemory-unset`'s finding).
//!
//! **Why it matters.** "While saving an RDB file on disk or rewriting the AOF log, Redis can
//! use up to 2 times the memory normally used" (redis-doc admin.md); the copies are charged
//! to the container. The KubeBlocks seed incident's advice is maxmemory = request and a
//! limit of 2.5–3 × request: the scheduler reserves the request, the limit absorbs forks.
//! A Guaranteed pod (request = limit) with maxmemory at 40% of the limit is just as safe,
//! so it is not reported.
//!
//! **Fix** (`mode: raise-limit`). Raises the limit to `ratio` × request. Where maxmemory is
//! derived from the limit (KubeBlocks' 0.8 × limit default, OT's
//! `maxMemoryPercentOfLimit`), raising the limit raises maxmemory with it and fixes
//! nothing: the fix then pins maxmemory to the request instead — a Reconfiguring
//! OpsRequest to apply for KubeBlocks; for OT, the raised limit together with the
//! `maxMemoryPercentOfLimit` that makes maxmemory the request under it — and the mutating
//! webhook leaves such a limit alone. `mode: off` reports without a fix.
use crate::model::Deployment;

use super::facts::{self, bytes};
use super::fixes::{pin_percent_and_raise_limit, set_directive, set_limit};
use super::{Context, Rule, Violation};

pub struct Check;

impl Rule for Check {
    fn deployment(&self, cx: &Context, d: &Deployment, out: &mut Vec<Violation>) {
        let Some(c) = facts::data_container(d) else { return };
        let (Some(limit), Some(request)) = (&c.memory_limit, c.request_bytes()) else {
            return;
        };
        let Some(fork) = facts::fork_reason(d) else { return };
        let ratio = cx.params.f64("ratio");
        if request == 0 || limit.bytes as f64 >= ratio * request as f64 {
            return;
        }
        // With maxmemory unset the instance grows to the limit whatever the ratio
        // (`redis-maxmemory-unset` reports that); with maxmemory unknown, there is nothing
        // to judge.
        let maxmemory = d.config.redis.maxmemory_bytes();
        if !d.config.is_known("maxmemory")
            || maxmemory == 0
            || maxmemory as f64 * ratio <= limit.bytes as f64
        {
            return;
        }
        let from_limit = facts::maxmemory_from_limit(d);
        let new_limit = facts::ceil_mib(request, ratio);
        let fix = match cx.params.str("mode") {
            "off" => None,
            _ if from_limit
                && let Some(fix) =
                    pin_percent_and_raise_limit(cx.inventory, d, c, request, new_limit) =>
            {
                Some(fix)
            }
            _ if from_limit => set_directive(cx.inventory, d, "maxmemory", &request.to_string())
                .map(|mut f| {
                    f.description = format!(
                        "pin maxmemory to the request {} ({}); then raise the limit to {}",
                        bytes(request),
                        f.description,
                        crate::units::quantity::canonical_bytes(new_limit)
                    );
                    f
                }),
            _ => set_limit(cx.inventory, c, new_limit),
        };
        let request_text = c
            .memory_request
            .as_ref()
            .map_or_else(|| limit.text.clone(), |r| r.text.clone());
        let derived = if from_limit {
            "; maxmemory is derived from the limit, so pin it to the request before raising the limit"
        } else {
            ""
        };
        out.push(
            Violation::new(
                limit.at.clone(),
                format!(
                    "memory limit `{}` is {:.1}× the request `{request_text}` = {}; this instance \
                     forks ({fork}) and can need up to twice its dataset while it does: keep the \
                     limit at least {ratio}× the request{derived}",
                    limit.text,
                    limit.bytes as f64 / request as f64,
                    bytes(request),
                ),
            )
            .fix(fix),
        );
    }
}

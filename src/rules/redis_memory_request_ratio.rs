//! ## redis-memory-request-ratio
//!
//! **What it does.** For an instance that forks (save points including Redis' implicit
//! defaults, AOF, replicas, cluster mode), warns when the memory limit is below `ratio`
//! (2.5) × the memory request while maxmemory is unset (the dataset then grows to the limit)
//! or above limit / `ratio`.
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
use super::fixes::set_limit;
use super::plan;
use serde::{Deserialize, Serialize};

use super::{Context, Rule, Violation};

/// `rules/redis-memory-request-ratio.yaml` describes each.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Params {
    pub ratio: f64,
    pub mode: Mode,
}

/// What the fix does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Mode {
    /// Raise the limit (or pin a derived maxmemory first).
    RaiseLimit,
    /// Report without a fix.
    Off,
}

pub struct Check;

impl Rule for Check {
    type Params = Params;

    fn deployment(&self, cx: &Context<Params>, d: &Deployment, out: &mut Vec<Violation>) {
        let Some(c) = facts::data_container(d) else { return };
        let Some(limit) = &c.memory_limit else { return };
        // Read `512m` as the `512Mi` that k8s-memory-milli's fix writes.
        let Some(request) = plan::request_bytes(cx, c) else { return };
        let limit_bytes = plan::read(cx, limit);
        let Some(fork) = facts::fork_reason(d) else { return };
        let ratio = cx.params.ratio;
        // With maxmemory unknown there is nothing to judge; unset, the dataset grows to the
        // limit, which must then absorb the fork too.
        let maxmemory = d.config.redis.maxmemory_bytes();
        if request == 0
            || !d.config.is_known("maxmemory")
            || !plan::ratio_fires(limit_bytes, request, maxmemory, ratio)
        {
            return;
        }
        let from_limit = facts::maxmemory_from_limit(d);
        let new_limit = facts::ceil_mib(request, ratio);
        // No plan where an operation of the input changes this component's limit: that
        // operation's finding carries the fix.
        let fix = match (cx.params.mode, plan::memory(cx, d)) {
            (Mode::Off, _) | (_, None) => None,
            (_, Some(p)) if from_limit => plan::pin_then_raise(cx, d, &p),
            _ => set_limit(cx.inventory, c, new_limit),
        };
        let request_text = c
            .memory_request
            .as_ref()
            .map_or_else(|| limit.text.clone(), |r| r.text.clone());
        let read_as = match c.memory_request.as_ref().and_then(super::k8s_memory_milli::meant) {
            Some((meant, _)) if Some(request) != c.request_bytes() => {
                format!(" (read as `{meant}`, what k8s-memory-milli's fix writes)")
            }
            _ => String::new(),
        };
        let derived = if from_limit {
            "; maxmemory is derived from the limit, so pin it to the request before raising the limit"
        } else {
            ""
        };
        out.push(
            Violation::new(
                limit.at.clone(),
                format!(
                    "memory limit `{}` is {}× the request `{request_text}`{read_as} = {}; \
                     this instance forks ({fork}) and can need up to twice its dataset while it \
                     does: keep the limit at least {ratio}× the request{derived}",
                    limit.text,
                    shown_ratio(limit_bytes as f64 / request as f64, ratio),
                    bytes(request),
                ),
            )
            .fix(fix),
        );
    }
}

/// `actual` with one decimal, or two (rounded down) where one would round it up to the
/// threshold it is below: a limit of 999Mi for a 400Mi request is 2.49×, not "2.5×, keep at
/// least 2.5×".
fn shown_ratio(actual: f64, threshold: f64) -> String {
    if (actual * 10.0).round() / 10.0 >= threshold {
        format!("{:.2}", (actual * 100.0).floor() / 100.0)
    } else {
        format!("{actual:.1}")
    }
}

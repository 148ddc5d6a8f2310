//! ## redis-shutdown-grace
//!
//! **What it does.** For a workload whose Redis keeps its data in RDB only and saves when it
//! stops (save points, Redis' defaults included, or `shutdown-on-sigterm save`; with AOF on
//! the AOF is flushed first and a restart loads it, so a cut save loses nothing), compares
//! the pods'
//! `terminationGracePeriodSeconds` (30 when unset) with the time the stop needs: the
//! dataset — maxmemory, else the memory limit — at `seconds_per_gib` (10) per GiB, plus
//! `shutdown-timeout` (10 s, Redis 7.0+) for a replicated primary waiting for its replicas.
//!
//! **Why it matters.** SIGTERM makes Redis write a final RDB before it exits; the kubelet
//! sends SIGKILL when the grace runs out. A grace shorter than the save kills it half way,
//! and the pod restarts from the previous dump: every write since then is gone, on every
//! rollout, node drain and eviction (redis#9566: 1–2 GB took 14 s; 50 GB about 5 minutes).
//!
//! **Fix.** Raises `terminationGracePeriodSeconds` to the time needed (rounded up to ten
//! seconds). Operators write their own pod specs: for KubeBlocks, OT, Spotahome and
//! valkey-operator the grace is not in the input and is not judged.
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::model::{Deployment, Role};
use crate::patch::set_path;

use super::facts::{self, bytes};
use super::{Context, Fix, FixEdit, Rule, Violation};

/// `rules/redis-shutdown-grace.yaml` describes it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Params {
    pub seconds_per_gib: i64,
}

const GIB: f64 = (1u64 << 30) as f64;

pub struct Check;

impl Rule for Check {
    type Params = Params;

    fn deployment(&self, cx: &Context<Params>, d: &Deployment, out: &mut Vec<Violation>) {
        let Some(grace) = &d.termination_grace_seconds else { return };
        if !facts::data_role(d) || !d.config.is_known("save") {
            return;
        }
        let redis = &d.config.redis;
        // `shutdown-on-sigterm` (7.0+): `nosave` skips the save, `save` forces one, `now`
        // skips the wait for replicas.
        let on_sigterm = if d.config.is_known("shutdown-on-sigterm") {
            redis.config_get("shutdown-on-sigterm").unwrap_or_default()
        } else {
            String::new()
        };
        let flags: Vec<&str> = on_sigterm.split_whitespace().collect();
        let saves = !flags.contains(&"nosave")
            && (flags.contains(&"save") || !redis.save_points().is_empty());
        // With AOF on, the AOF is flushed before the final RDB (prepareForShutdown), and a
        // restart loads the AOF: a save cut short loses nothing.
        if !saves || redis.appendonly() {
            return;
        }
        let maxmemory = redis.maxmemory_bytes();
        let (dataset, bound) = match (maxmemory, facts::data_container(d).and_then(|c| c.limit_bytes())) {
            (m, _) if m > 0 && d.config.is_known("maxmemory") => (m, "maxmemory"),
            (_, Some(limit)) => (limit, "the memory limit"),
            _ => return,
        };
        let save_seconds = (dataset as f64 / GIB * cx.params.seconds_per_gib as f64).ceil() as i64;
        let replicated = d.replicas.as_ref().is_some_and(|r| r.value > 1)
            || matches!(d.role, Role::ClusterShard);
        let wait_seconds = if replicated
            && redis.directive("shutdown-timeout").is_some()
            && !flags.contains(&"now")
        {
            redis.int_value("shutdown-timeout").clamp(0, i64::MAX as i128) as i64
        } else {
            0
        };
        let needed = save_seconds.saturating_add(wait_seconds);
        if grace.value >= needed {
            return;
        }
        let wait = if wait_seconds > 0 {
            format!(", after up to {wait_seconds} s (shutdown-timeout) waiting for replicas")
        } else {
            String::new()
        };
        // Written in the object, or Kubernetes' default at the place it would go.
        let written = if cx.inventory.str_at(grace.at.object, &grace.at.pointer).is_some() {
            ""
        } else {
            " (the default)"
        };
        let target = (needed + 9) / 10 * 10;
        let fix = set_path(cx.inventory, grace.at.object, &grace.at.pointer, json!(target)).map(
            |ops| Fix {
                description: format!("set terminationGracePeriodSeconds to {target}"),
                edit: FixEdit::Patch {
                    object: grace.at.object,
                    ops,
                },
            },
        );
        out.push(
            Violation::new(
                grace.at.clone(),
                format!(
                    "terminationGracePeriodSeconds {}{written} is shorter than the final save \
                     Redis makes on SIGTERM: a dataset of up to {} ({bound}) takes about \
                     {save_seconds} s at {} s/GiB{wait}; the kubelet kills it half way and the \
                     pod restarts from the previous dump",
                    grace.value,
                    bytes(dataset),
                    cx.params.seconds_per_gib,
                ),
            )
            .fix(fix),
        );
    }
}

//! ## redis-repl-backlog-small
//!
//! **What it does.** For a replicated Redis — several pods of a replication or cluster
//! deployment, or a server configured with `replicaof` — warns when `repl-backlog-size` is
//! below `min_mb` (10 MiB): Redis' 1mb default, or a smaller value written. An info: the
//! default serves a deployment with few writes.
//!
//! **Why it matters.** After a short disconnect (a network blip, a pod restart of the
//! replica) the replica asks to continue where it stopped. The primary can only answer from
//! its backlog; beyond it, it forks, dumps the whole dataset and sends it — the memory and
//! time of a full resync for a few seconds of writes. Under write load the resync can
//! outlast the backlog again and loop (redis#11534, valkey#3044). Valkey 8.0 raised the
//! default to 10mb for that reason (valkey-io/valkey#911).
//!
//! **Fix.** Sets `repl-backlog-size` to `min_mb` wherever the deployment sets its
//! configuration (a ConfigMap line, an argument, a KubeBlocks parameter, a customConfig
//! entry, a ValkeyCluster `spec.config` key).
use serde::{Deserialize, Serialize};

use crate::model::{Deployment, Role};

use super::facts::{self, bytes};
use super::fixes::set_directive;
use super::{Context, Rule, Violation};

/// `rules/redis-repl-backlog-small.yaml` describes it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Params {
    pub min_mb: i64,
}

pub struct Check;

impl Rule for Check {
    type Params = Params;

    fn deployment(&self, cx: &Context<Params>, d: &Deployment, out: &mut Vec<Violation>) {
        if !facts::data_role(d) || !d.config.is_known("repl-backlog-size") {
            return;
        }
        let redis = &d.config.redis;
        let several = d.replicas.as_ref().is_some_and(|r| r.value > 1)
            && matches!(d.role, Role::Replication | Role::ClusterShard);
        if !several && redis.replicaof().is_none() {
            return;
        }
        let backlog = redis.repl_backlog_bytes();
        let min_bytes = u64::try_from(cx.params.min_mb).unwrap_or(0) << 20;
        if backlog >= min_bytes {
            return;
        }
        let Some(c) = facts::data_container(d) else { return };
        let (at, written) = match redis.line_of("repl-backlog-size") {
            Some(line) => (facts::arg_loc(d, line, 0), ""),
            None => (None, " (the default)"),
        };
        let text = format!("{}mb", cx.params.min_mb);
        out.push(
            Violation::new(
                at.unwrap_or_else(|| c.at.clone()),
                format!(
                    "repl-backlog-size {}{written} on a replicated deployment: a replica that \
                     misses more writes than that during a disconnect gets a full resync — a \
                     fork and the whole dataset — and under write load the resync can loop; \
                     keep at least {text} (Valkey 8's default)",
                    bytes(backlog)
                ),
            )
            .fix(set_directive(cx.inventory, d, "repl-backlog-size", &text)),
        );
    }
}

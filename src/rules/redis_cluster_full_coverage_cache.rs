//! ## redis-cluster-full-coverage-cache
//!
//! **What it does.** Finds Redis Cluster caches (an evicting `maxmemory-policy`) that keep
//! `cluster-require-full-coverage yes` (the default).
//!
//! **Why it matters.** With full coverage required, the whole cluster stops answering
//! queries as soon as one hash slot is uncovered — one shard down takes every key with it.
//! A cache can usually serve the keys it still has.
//!
//! **Fix.** Sets `cluster-require-full-coverage no` (optionally add
//! `cluster-allow-reads-when-down yes`). Keep `yes` if your application needs all-or-nothing
//! consistency.
use crate::model::{Deployment, Role};

use super::facts;
use super::fixes::set_directive;
use super::{Context, NoParams, Rule, Violation};

pub struct Check;

impl Rule for Check {
    type Params = NoParams;

    fn deployment(&self, cx: &Context, d: &Deployment, out: &mut Vec<Violation>) {
        if d.role != Role::ClusterShard
            || !facts::is_cache(d)
            || !d.config.is_known("cluster-require-full-coverage")
            || !d.config.redis.bool_value("cluster-require-full-coverage")
        {
            return;
        }
        let Some(c) = d.redis_container() else { return };
        let full_coverage_at = d
            .config
            .redis
            .line_of("cluster-require-full-coverage")
            .and_then(|l| facts::arg_loc(d, l, 0))
            .unwrap_or_else(|| c.at.clone());
        // An operation that makes the cluster a cache (a Reconfiguring OpsRequest setting an
        // evicting policy) is where the finding belongs: the Cluster alone is no cache, and
        // a projection's findings outside its operation object repeat the Cluster's.
        let policy_at = d
            .config
            .redis
            .line_of("maxmemory-policy")
            .and_then(|l| facts::arg_loc(d, l, 0));
        let at = match (&d.operation, policy_at) {
            (Some(op), Some(policy))
                if full_coverage_at.object != op.object && policy.object == op.object =>
            {
                policy
            }
            _ => full_coverage_at,
        };
        out.push(
            Violation::new(
                at,
                format!(
                    "this cluster evicts keys (maxmemory-policy {}), so it is a cache, yet \
                     cluster-require-full-coverage is yes: one shard down stops every query",
                    d.config.redis.maxmemory_policy()
                ),
            )
            .fix(set_directive(cx.inventory, d, "cluster-require-full-coverage", "no")),
        );
    }
}

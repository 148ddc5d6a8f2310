//! ## redis-cluster-shards
//!
//! **What it does.** Finds Redis Cluster deployments with fewer than 3 shards (primaries):
//! a KubeBlocks sharding or OT `clusterSize` below 3, or a StatefulSet in cluster mode with
//! fewer than 3 pods.
//!
//! **Why it matters.** Failover needs a majority of primaries to agree that a primary
//! failed and to vote for its replica. With two primaries, losing one leaves no majority,
//! and `redis-cli --cluster create` refuses fewer than three primaries outright.
//!
//! **Fix.** None automatic: run at least three shards.
use crate::model::{Deployment, Platform, Role};

use super::{Context, Rule, Violation};

pub struct Check;

impl Rule for Check {
    fn deployment(&self, _cx: &Context, d: &Deployment, out: &mut Vec<Violation>) {
        if d.role != Role::ClusterShard {
            return;
        }
        let count = match (&d.shards, d.platform) {
            (Some(shards), _) => shards,
            (None, Platform::Workload) => match &d.replicas {
                Some(r) => r,
                None => return,
            },
            _ => return,
        };
        if count.value >= 3 {
            return;
        }
        out.push(Violation::new(
            count.at.clone(),
            format!(
                "a Redis Cluster of {} primaries cannot fail over: a failover needs a majority \
                 of primaries, and redis-cli --cluster create needs at least 3",
                count.value
            ),
        ));
    }
}

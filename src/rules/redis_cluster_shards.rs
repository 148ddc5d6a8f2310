//! ## redis-cluster-shards
//!
//! **What it does.** Finds Redis Cluster deployments with fewer than 3 shards (primaries):
//! a KubeBlocks sharding or OT `clusterSize` below 3, or a StatefulSet in cluster mode with
//! fewer than 3 pods. A valkey-operator `ValkeyCluster` without persistence is left out:
//! its operator promotes the replicas of dead primaries when no quorum is left.
//!
//! **Why it matters.** Failover needs a majority of primaries to agree that a primary
//! failed and to vote for its replica. With two primaries, losing one leaves no majority,
//! and `redis-cli --cluster create` refuses fewer than three primaries outright.
//!
//! **Fix.** None automatic: run at least three shards.
use crate::model::{DataVolume, Deployment, Platform, Role};

use super::{Context, NoParams, Rule, Violation};

pub struct Check;

impl Rule for Check {
    type Params = NoParams;

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
        let operator_takes_over = !matches!(
            d.data,
            DataVolume::Claim { .. } | DataVolume::SharedClaim { .. }
        );
        let why = match d.platform {
            // Without persistence the operator TAKEOVERs for the replicas of dead primaries
            // when the cluster has no failover quorum; with it, it waits for the pod
            // (valkey-io/valkey-operator@c33988f, valkeycluster_controller.go,
            // promoteOrphanedReplicas).
            Platform::ValkeyOperator if operator_takes_over => return,
            Platform::ValkeyOperator => {
                "valkey-operator promotes replicas itself only for clusters without persistence"
            }
            _ => "redis-cli --cluster create needs at least 3",
        };
        let primaries = if count.value == 1 { "primary" } else { "primaries" };
        out.push(Violation::new(
            count.at.clone(),
            format!(
                "a {} Cluster of {} {primaries} cannot fail over: a failover needs a majority \
                 of primaries, and {why}",
                d.engine, count.value
            ),
        ));
    }
}

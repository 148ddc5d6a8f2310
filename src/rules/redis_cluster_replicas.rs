//! ## redis-cluster-replicas
//!
//! **What it does.** Finds Redis Cluster deployments in which a shard has no replica: a
//! KubeBlocks sharding with `replicas` < 2 per shard, a valkey-operator `ValkeyCluster`
//! with `replicas: 0` (its `replicas` counts replicas per shard), a KubeDB `Redis`
//! (`kubedb.com/v1`) in Cluster mode with `spec.cluster.replicas` < 2 (v1 counts each shard's
//! pods, its master included; v1alpha2's `replicas` per master is converted to that), or a
//! StatefulSet in cluster mode with fewer than 2 × 3 pods (three primaries need three
//! replicas).
//!
//! **Why it matters.** A Redis Cluster fails over a primary only to one of its replicas.
//! Without one, losing a pod (a node drain, an OOMKill) leaves its slots uncovered: with
//! `cluster-require-full-coverage yes` (the default) the whole cluster refuses queries, and
//! without persistence the shard's data is gone.
//!
//! **Fix.** None automatic (it doubles the memory): give every shard at least one replica.
use crate::model::{Deployment, Platform, Role};

use super::{Context, NoParams, Rule, Violation};

pub struct Check;

impl Rule for Check {
    type Params = NoParams;

    fn deployment(&self, _cx: &Context, d: &Deployment, out: &mut Vec<Violation>) {
        if d.role != Role::ClusterShard {
            return;
        }
        let Some(replicas) = &d.replicas else { return };
        let message = match d.platform {
            Platform::KubeBlocks if replicas.value < 2 => format!(
                "each shard has {} pod(s), so no replica: losing one pod loses its slots and \
                 stops the cluster; set replicas to at least 2",
                replicas.value
            ),
            // v1 counts each shard's pods, its master included; KubeDB's webhook refuses
            // fewer than 2 (`spec.cluster.replicas "1" invalid. Value must be > 1`).
            Platform::KubeDb if replicas.value < 2 => format!(
                "each shard has {} pod(s), its master included, so no replica (kubedb.com/v1 \
                 counts the master; KubeDB's webhook refuses it: `spec.cluster.replicas \"{}\" \
                 invalid. Value must be > 1`); set replicas to at least 2",
                replicas.value, replicas.value
            ),
            Platform::ValkeyOperator if replicas.value < 2 => "spec.replicas is 0: each \
                shard is its primary alone, so losing one pod loses its slots and stops the \
                cluster; set replicas to at least 1"
                .to_string(),
            Platform::Workload if replicas.value < 6 => format!(
                "{} pods in cluster mode cannot give three primaries one replica each (6 pods): \
                 losing a primary without a replica loses its slots",
                replicas.value
            ),
            _ => return,
        };
        out.push(Violation::new(replicas.at.clone(), message));
    }
}

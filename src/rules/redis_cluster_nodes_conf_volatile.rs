//! ## redis-cluster-nodes-conf-volatile
//!
//! **What it does.** Finds Redis Cluster workloads whose data directory — where
//! `nodes.conf` lives — is not on a PersistentVolumeClaim (an `emptyDir`, or no volume at
//! all). Not for valkey-operator clusters, whose operator forgets stale nodes and re-MEETs
//! new ones.
//!
//! **Why it matters.** `nodes.conf` holds the node's identity (its node ID), its epoch and
//! its view of slot ownership. A pod that restarts without it comes back as a new, empty
//! node: the old ID lingers as a failed node, its slots are served by nobody until a replica
//! takes over, and the cluster must be repaired by hand with `CLUSTER FORGET` and
//! `CLUSTER MEET`.
//!
//! **Fix.** None automatic: put the data directory on a `volumeClaimTemplates` volume.
use crate::model::{DataVolume, Deployment, Platform, Role};

use super::{Context, NoParams, Rule, Violation};

pub struct Check;

impl Rule for Check {
    type Params = NoParams;

    fn deployment(&self, _cx: &Context, d: &Deployment, out: &mut Vec<Violation>) {
        // valkey-operator repairs membership itself: it forgets nodes with no backing pod
        // and MEETs new ones (valkey-io/valkey-operator@c33988f,
        // internal/controller/valkeycluster_controller.go, "Forget stale nodes").
        if d.role != Role::ClusterShard || d.platform == Platform::ValkeyOperator {
            return;
        }
        let Some(c) = d.redis_container() else { return };
        let (at, what) = match &d.data {
            DataVolume::EmptyDir { at, .. } => (at.clone(), "an emptyDir"),
            DataVolume::None => (c.at.clone(), "the container's own filesystem"),
            DataVolume::Claim { .. } | DataVolume::SharedClaim { .. } | DataVolume::Unknown => {
                return;
            }
        };
        out.push(Violation::new(
            at,
            format!(
                "nodes.conf (the node's cluster identity and slot map) is kept on {what}: a \
                 restarted pod rejoins as a new, empty node and the cluster needs manual repair; \
                 keep the data directory on a PersistentVolumeClaim"
            ),
        ));
    }
}

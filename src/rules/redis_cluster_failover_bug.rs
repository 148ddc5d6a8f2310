//! ## redis-cluster-failover-bug
//!
//! **What it does.** Finds Redis Cluster deployments on Redis older than 7.4.0 or Valkey
//! older than 8.0.0 (read from the image tag or KubeBlocks' `serviceVersion`).
//!
//! **Why it matters.** A PONG lost during a manual `CLUSTER FAILOVER` can leave other nodes
//! seeing the old and the new primary replicating from each other, with slots owned by
//! nobody (redis/redis#13018); it was fixed by #13055 in Redis 7.4.0 and in Valkey 8.0.0.
//! Operators run manual failovers for switchovers and rolling upgrades, so the window opens
//! on routine maintenance. (`FORCE` and `TAKEOVER` failovers can also lose writes,
//! valkey#1305.)
//!
//! **Fix.** None automatic: upgrade to Redis ≥ 7.4.0 or Valkey ≥ 8.0.0, and check
//! `CLUSTER NODES` after every failover until then.
use crate::model::{Deployment, Product, Role};

use super::facts;
use super::{Context, NoParams, Rule, Violation};

pub struct Check;

impl Rule for Check {
    type Params = NoParams;

    fn deployment(&self, _cx: &Context, d: &Deployment, out: &mut Vec<Violation>) {
        if d.role != Role::ClusterShard || facts::version_below(d, (7, 4), (8, 0)) != Some(true) {
            return;
        }
        let Some(v) = &d.version else { return };
        let fixed = match v.product {
            Product::Redis => "Redis 7.4.0",
            Product::Valkey => "Valkey 8.0.0",
            // KeyDB carries Redis 6.2's cluster code, without the fix.
            Product::KeyDb => "Redis 7.4.0 (KeyDB 6.3 carries Redis 6.2.6)",
            // version_below answers nothing for Dragonfly, whose cluster is its own.
            Product::Dragonfly => return,
        };
        out.push(Violation::new(
            v.at.clone(),
            format!(
                "version `{}` predates {fixed}: a manual failover can leave circular replication \
                 and unowned slots (redis/redis#13018, fixed by #13055); upgrade, and check \
                 CLUSTER NODES after every failover until then",
                v.text
            ),
        ));
    }
}

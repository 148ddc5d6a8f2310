//! ## redis-pdb-quorum
//!
//! **What it does.** Finds PodDisruptionBudgets that let voluntary evictions (node drains,
//! cluster upgrades, the autoscaler) take half or more of the voters a failover needs at
//! once: of a Redis Cluster's primaries, or of a Sentinel group. `minAvailable: 1` over
//! three primaries is the classic case. The number of pods a budget lets go is
//! `maxUnavailable`, or the pods minus `minAvailable` (percentages of the pods, rounded up
//! as the disruption controller does). A Cluster workload's primaries are its shards where
//! the model knows them, else half its pods (`redis-cli --cluster create
//! --cluster-replicas 1`, the common layout; the message says so); the worst case is that
//! every evicted pod is a primary. A workload with no budget at all is
//! `redis-pdb-missing`'s finding.
//!
//! **Why it matters.** A Redis Cluster replica is promoted only when a majority of the
//! primaries agree its primary failed and vote for it (Redis Cluster specification,
//! failure detection and replica election); Sentinel needs a majority of the Sentinels to authorise a failover
//! ("the majority of the Sentinel processes", Sentinel documentation). A drain that takes
//! half the voters leaves the survivors unable to fail over: slots stay unserved, or the
//! primary is gone with nobody allowed to promote its replica, until the pods return.
//!
//! **Fix.** Sets the budget's own field to what keeps a majority: `maxUnavailable` to the
//! most voters that may go while the rest stays a majority, or `minAvailable` to the pods
//! minus that.
use crate::patch::set_path;
use serde_json::json;

use crate::model::{Deployment, Located, Platform, Role};

use super::facts;
use super::{Context, Fix, FixEdit, NoParams, Rule, Violation};

pub struct Check;

impl Rule for Check {
    type Params = NoParams;

    fn deployment(&self, cx: &Context, d: &Deployment, out: &mut Vec<Violation>) {
        if d.platform != Platform::Workload {
            return;
        }
        let Some(pdb) = &d.pdb else { return };
        let Some(pods) = d.replicas.as_ref().map(|r| r.value).filter(|p| *p > 0) else {
            return;
        };
        let (voters, what, assumed) = match d.role {
            Role::ClusterShard => match &d.shards {
                Some(s) => (s.value, "primaries", false),
                None => (pods / 2, "primaries", true),
            },
            Role::Sentinel => (pods, "Sentinels", false),
            _ => return,
        };
        if voters < 2 {
            return; // one voter: redis-cluster-shards and the Sentinel setup say so
        }
        let Some((allowed, field)) = allowed(pdb, pods) else { return };
        let lost = allowed.min(voters);
        if 2 * lost < voters {
            return;
        }
        // The most a drain may take while the rest stays a majority.
        let keep_majority = (voters - 1) / 2;
        let pdb_object = cx.inventory.object(pdb.object);
        let assumption = if assumed {
            format!(" (half of its {pods} pods, assuming one replica per primary)")
        } else {
            String::new()
        };
        // The same field, set to what keeps a majority.
        let (name, value) = if pdb.max_unavailable.is_some() {
            ("maxUnavailable", keep_majority)
        } else {
            ("minAvailable", pods - keep_majority)
        };
        let fix = (keep_majority >= 1)
            .then(|| set_path(cx.inventory, pdb.object, &field.at.pointer, json!(value)))
            .flatten()
            .map(|ops| Fix {
                description: format!("set {name}: {value}"),
                edit: FixEdit::Patch {
                    object: pdb.object,
                    ops,
                },
            });
        let advice = if keep_majority >= 1 {
            format!("allow at most {keep_majority} at once")
        } else {
            "add voters: with two, losing either stops failover".to_string()
        };
        out.push(
            Violation::new(
                field.at.clone(),
                format!(
                    "{pdb_object} lets {allowed} of the {pods} pods go at once ({name} {}), and \
                     the workload has {voters} {what}{assumption}: a drain can take {lost} of \
                     them, and without a majority no failover happens; {advice}",
                    field.value
                ),
            )
            .fix(fix),
        );
    }
}

/// The pods the budget lets be evicted at once, and the field that says so.
fn allowed(pdb: &crate::model::Pdb, pods: i64) -> Option<(i64, &Located<String>)> {
    let scaled = |v: &str| facts::pdb_scaled(v, pods);
    if let Some(max) = &pdb.max_unavailable {
        return Some((scaled(&max.value)?, max));
    }
    let min = pdb.min_available.as_ref()?;
    Some(((pods - scaled(&min.value)?).max(0), min))
}

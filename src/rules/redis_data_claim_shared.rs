//! ## redis-data-claim-shared
//!
//! **What it does.** Finds servers whose data directory is one PersistentVolumeClaim named
//! in the pod template (`volumes[].persistentVolumeClaim.claimName`, or dragonfly-operator's
//! `snapshot.existingPersistentVolumeClaimName`, which it mounts as such a volume) — the same
//! claim for every pod — where more than one pod runs, or where a Deployment's rolling update
//! starts a second pod beside the first.
//!
//! **Why it matters.** A ReadWriteOnce volume attaches to one node: a pod on another node
//! waits in ContainerCreating ("Multi-Attach error"), so the second replica never starts, and
//! a Deployment's rolling update, which starts the new pod before it stops the old one, hangs.
//! Where the claim does attach everywhere (ReadWriteMany, or every pod on one node), the
//! servers write their snapshots into one directory — the same `dump.rdb` (Dragonfly: the same
//! `dump-{timestamp}` names on the same cron on every replica) — each overwriting another's,
//! and a restarted replica loads whichever was written last. A StatefulSet's
//! `volumeClaimTemplates` (dragonfly-operator: `snapshot.persistentVolumeClaimSpec`) gives
//! each pod its own claim.
//!
//! A one-replica Deployment is judged when its rolling update keeps the old pod until the new
//! one is ready: `maxUnavailable` rounds down to 0 pods (the default 25% does).
//!
//! **Fix.** For a one-replica Deployment with the default rolling update and no
//! `rollingUpdate` settings: `strategy: {type: Recreate}`. Otherwise none automatic: a claim
//! per pod is a change of workload kind or of the operator's field.
use serde_json::json;

use crate::model::{DataVolume, Deployment};
use crate::patch::set_path;

use super::facts;
use super::{Context, Fix, FixEdit, NoParams, Rule, Violation};

pub struct Check;

impl Rule for Check {
    type Params = NoParams;

    fn deployment(&self, cx: &Context, d: &Deployment, out: &mut Vec<Violation>) {
        if !facts::data_role(d) || d.operation.is_some() {
            return;
        }
        let DataVolume::SharedClaim {
            claim,
            access_modes,
            at,
            ..
        } = &d.data
        else {
            return;
        };
        let Some(replicas) = d.replicas.as_ref().map(|r| r.value) else {
            return;
        };
        let modes = match access_modes {
            Some(m) if !m.is_empty() => m.join(", "),
            _ => "its access mode is not in the input".to_string(),
        };
        let attaches_everywhere = access_modes
            .as_ref()
            .is_some_and(|m| m.iter().any(|a| a == "ReadWriteMany"));
        let o = cx.inventory.object(d.object);
        if replicas > 1 {
            let what = if attaches_everywhere {
                "they write their snapshots into one directory, each overwriting another's, and \
                 a restarted replica loads whichever was written last"
                    .to_string()
            } else {
                "a ReadWriteOnce volume attaches to one node: pods on other nodes wait in \
                 ContainerCreating (Multi-Attach error), and where they share a node they \
                 overwrite each other's snapshots"
                    .to_string()
            };
            out.push(Violation::new(
                at.clone(),
                format!(
                    "all {replicas} pods of {o} mount claim `{claim}` ({modes}) for their data: \
                     {what}; give each pod its own claim (a StatefulSet's volumeClaimTemplates, \
                     dragonfly-operator's snapshot.persistentVolumeClaimSpec)"
                ),
            ));
            return;
        }
        // One replica: a Deployment's rolling update keeps the old pod until the new one is
        // ready when maxUnavailable rounds down to 0 pods (the default 25% does, for one).
        let rolling = o.kind == "Deployment"
            && matches!(
                cx.inventory.str_at(d.object, "/spec/strategy/type"),
                None | Some("RollingUpdate")
            );
        let unavailable = "/spec/strategy/rollingUpdate/maxUnavailable";
        let keeps_old = match cx.inventory.str_at(d.object, unavailable) {
            None => true,
            Some(v) => match v.strip_suffix('%') {
                Some(percent) => percent.trim().parse::<u32>().is_ok_and(|p| p < 100),
                None => v.trim().parse::<u32>().is_ok_and(|n| n == 0),
            },
        };
        if !rolling || !keeps_old || attaches_everywhere {
            return;
        }
        let fix = (cx.inventory.shape_at(d.object, "/spec/strategy/rollingUpdate")
            == crate::model::access::Shape::Absent)
            .then(|| {
                set_path(
                    cx.inventory,
                    d.object,
                    "/spec/strategy",
                    json!({"type": "Recreate"}),
                )
            })
            .flatten()
            .map(|ops| Fix {
                description: "set strategy.type Recreate".to_string(),
                edit: FixEdit::Patch {
                    object: d.object,
                    ops,
                },
            });
        out.push(
            Violation::new(
                at.clone(),
                format!(
                    "{o} keeps its data on claim `{claim}` ({modes}) and rolls out by \
                     RollingUpdate with maxUnavailable 0 pods (25% of 1, rounded down, by \
                     default), which keeps the old pod until the new one is ready: on another \
                     node the new one cannot attach a ReadWriteOnce volume, and the rollout \
                     hangs; use strategy Recreate (or a StatefulSet)"
                ),
            )
            .fix(fix),
        );
    }
}

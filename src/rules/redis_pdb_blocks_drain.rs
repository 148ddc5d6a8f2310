//! ## redis-pdb-blocks-drain
//!
//! **What it does.** Finds PodDisruptionBudgets of Redis pods that allow no disruption:
//! `maxUnavailable: 0` (or `0%`), or `minAvailable` equal to or above the number of pods —
//! every shard's pods, for a sharded cluster — or a percentage that rounds up to all of them
//! (`100%`; `90%` of 6 pods is 6, as the disruption controller rounds).
//!
//! **Why it matters.** Such a budget never lets an eviction through: "the drain never
//! completes", node upgrades stall, and the cluster autoscaler cannot remove the node.
//! Teams then delete the budget in a hurry, or drain with `--disable-eviction`, which is
//! worse than a budget of one.
//!
//! **Fix.** When the budget uses `maxUnavailable`, sets it to 1.
use crate::patch::set_path;
use serde_json::json;

use crate::model::{Deployment, Located};

use super::facts;
use super::{Context, Fix, FixEdit, NoParams, Rule, Violation};

pub struct Check;

impl Rule for Check {
    type Params = NoParams;

    fn deployment(&self, cx: &Context, d: &Deployment, out: &mut Vec<Violation>) {
        let Some(pdb) = &d.pdb else { return };
        // Every pod it selects: every shard's, and every workload's its selector matches.
        let pods = pdb.selected_pods;
        let zero = |v: &Located<String>| matches!(v.value.trim(), "0" | "0%");
        // All of them, as the disruption controller counts them (90% of 6 pods is 6); 100%
        // whatever their number.
        let blocking_min = |v: &Located<String>| {
            let v = v.value.trim();
            let all = v.strip_suffix('%').and_then(|p| p.parse::<i64>().ok()).is_some_and(|p| p >= 100);
            all || pods.is_some_and(|p| facts::pdb_scaled(v, p).is_some_and(|m| m >= p))
        };
        let pdb_object = cx.inventory.object(pdb.object);
        if let Some(max) = pdb.max_unavailable.as_ref().filter(|v| zero(v)) {
            let fix = set_path(cx.inventory, pdb.object, &max.at.pointer, json!(1)).map(|ops| Fix {
                description: "set maxUnavailable: 1".into(),
                edit: FixEdit::Patch {
                    object: pdb.object,
                    ops,
                },
            });
            out.push(
                Violation::new(
                    max.at.clone(),
                    format!(
                        "{pdb_object} allows no {} pod to be evicted (maxUnavailable {}): node \
                         drains never complete; use maxUnavailable: 1",
                        d.engine,
                        max.value
                    ),
                )
                .fix(fix),
            );
        } else if let Some(min) = pdb.min_available.as_ref().filter(|v| blocking_min(v)) {
            out.push(Violation::new(
                min.at.clone(),
                format!(
                    "{pdb_object} requires minAvailable {} of {} {} pods: no pod can be evicted \
                     and node drains never complete; use maxUnavailable: 1",
                    min.value,
                    pods.map_or("its".to_string(), |p| p.to_string()),
                    d.engine,
                ),
            ));
        }
    }
}

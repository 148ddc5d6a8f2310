//! ## redis-anti-affinity-missing
//!
//! **What it does.** Finds replicated or clustered Redis workloads with more than one pod
//! and no *required* pod anti-affinity on `kubernetes.io/hostname` (none, or only a
//! preferred one). A required term on a zone key also keeps pods apart and passes. A
//! Spotahome RedisFailover is judged when it sets `spec.redis.affinity`, which replaces the
//! operator's default anti-affinity; other operators' defaults are not visible here.
//!
//! **Why it matters.** The scheduler may put a primary and its replica on the same node, and
//! one node failure then loses both. `redis-cli --cluster create` spreads primaries and
//! replicas by IP address, and every pod has its own IP, so it cannot see that two pods
//! share a node. A preferred term gives way as soon as the cluster is busy.
//!
//! **Fix.** Adds a required anti-affinity term on the pods' own labels with topology key
//! `kubernetes.io/hostname`. The mutating webhook does not apply it by default: it needs as
//! many nodes as pods, or pods stay Pending.
use crate::patch::set_path;
use serde_json::{Map, Value, json};

use crate::model::{AntiAffinity, Deployment, Platform, Role};

use super::facts;
use super::{Context, Fix, FixEdit, NoParams, Rule, Violation};

pub struct Check;

impl Rule for Check {
    type Params = NoParams;

    fn deployment(&self, cx: &Context, d: &Deployment, out: &mut Vec<Violation>) {
        // Where the user writes the affinity: a workload's pod spec, or a RedisFailover's
        // `spec.redis.affinity`, which replaces Spotahome's default anti-affinity (a resource
        // without it keeps the operator's, which the model does not judge).
        let (affinity_at, replaces) = match d.platform {
            Platform::Workload => match &d.pod_spec {
                Some(pod_spec) => (
                    Some((pod_spec.object, format!("{}/affinity", pod_spec.pointer))),
                    "",
                ),
                None => (None, ""),
            },
            Platform::DragonflyOperator => (
                Some((d.object, "/spec/affinity".to_string())),
                " (the dragonfly-operator sets none of its own)",
            ),
            Platform::Spotahome if !matches!(d.anti_affinity, AntiAffinity::Unknown) => (
                Some((d.object, "/spec/redis/affinity".to_string())),
                " (`affinity` replaces the operator's default anti-affinity)",
            ),
            _ => return,
        };
        if !matches!(d.role, Role::Replication | Role::ClusterShard)
            || d.replicas.as_ref().is_none_or(|r| r.value < 2)
        {
            return;
        }
        let Some(c) = d.redis_container() else { return };
        let (at, what) = match &d.anti_affinity {
            AntiAffinity::None => (
                affinity_at
                    .as_ref()
                    .filter(|_| d.platform != Platform::Workload)
                    .map(|(object, pointer)| match pointer.rsplit_once('/') {
                        // Not written: where it would go.
                        Some((parent, key))
                            if cx.inventory.shape_at(*object, pointer)
                                == crate::model::access::Shape::Absent =>
                        {
                            cx.inventory.absent_loc(*object, parent, key)
                        }
                        _ => cx.inventory.loc_of(*object, pointer),
                    })
                    .unwrap_or_else(|| c.at.clone()),
                "no pod anti-affinity",
            ),
            AntiAffinity::Preferred { at } => (at.clone(), "only a preferred pod anti-affinity"),
            _ => return,
        };
        let selector = facts::stable_selector(d);
        let fix = affinity_at
            .filter(|_| !selector.is_empty())
            .and_then(|(object, affinity)| {
                let labels: Map<String, Value> = selector
                    .iter()
                    .map(|(k, v)| (k.clone(), Value::String(v.clone())))
                    .collect();
                let ops = set_path(
                    cx.inventory,
                    object,
                    &format!(
                        "{affinity}/podAntiAffinity/requiredDuringSchedulingIgnoredDuringExecution"
                    ),
                    json!([{"labelSelector": {"matchLabels": labels}, "topologyKey": "kubernetes.io/hostname"}]),
                )?;
                Some(Fix {
                    description: "require pod anti-affinity on kubernetes.io/hostname".into(),
                    edit: FixEdit::Patch { object, ops },
                })
            });
        out.push(
            Violation::new(
                at,
                format!(
                    "{what} on kubernetes.io/hostname{replaces}: the scheduler may put {} on one \
                     node, and that node's failure loses them at once",
                    facts::pods_at_risk(d)
                ),
            )
            .fix(fix),
        );
    }
}

//! ## redis-enterprise-capacity
//!
//! **What it does.** For each Redis Enterprise cluster (`RedisEnterpriseCluster`), adds up
//! the memory of the databases of the input bound to it (`RedisEnterpriseDatabase`
//! `memorySize`, default 100MB, × 2 with `replication`) and compares it with the cluster's
//! memory: `nodes` (default 3) × each node's memory limit (`redisEnterpriseNodeResources`,
//! default 4Gi). A database binds to the cluster `spec.redisEnterpriseCluster.name` names,
//! else to its namespace's only cluster.
//!
//! **Why it matters.** Redis Software refuses data beyond what its nodes hold ("If not
//! enough RAM is available, Redis Software prevents adding more data"), and its hardware
//! guidance asks for 30% of each node's RAM to be free at all times (above 70%, "highly
//! consider adding a node"); the operator's admission webhook does not check a database's
//! size against the cluster. "Enabling replication doubles memory consumption" — the docs
//! also say the limit includes the replica shards; the sum here takes the larger reading,
//! and `memorySize`'s MB/GB as binary multiples, the larger reading again.
//!
//! **Levels.** error when the databases need more than the cluster's memory, or one shard
//! (memorySize ÷ shardCount) more than one node's; warning when they leave less than
//! `free_ratio` (0.3) of it free. Databases whose cluster is not in the input are not judged.
//!
//! **Fix.** None automatic: raise `nodes` or the node memory, or shrink or shard the
//! database.
use serde::{Deserialize, Serialize};

use crate::units::human;

use super::{Context, Rule, Severity, Violation};

/// `rules/redis-enterprise-capacity.yaml` describes each.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Params {
    pub free_ratio: f64,
}

pub struct Check;

impl Rule for Check {
    type Params = Params;

    fn inventory(&self, cx: &Context<Params>, out: &mut Vec<Violation>) {
        for cluster in &cx.inventory.enterprise {
            let Some(node) = cluster.node_resources.memory_limit.as_ref() else {
                continue;
            };
            let nodes = u64::try_from(cluster.nodes.value).unwrap_or(0);
            let capacity = node.bytes.saturating_mul(nodes);
            let rec = cx.inventory.object(cluster.object);
            let node_text = if cluster.node_resources.written {
                format!("`{}`", node.text)
            } else {
                format!("{} (the operator's default)", node.text)
            };
            for db in &cluster.databases {
                let shards = u64::try_from(db.shards.value.max(1)).unwrap_or(1);
                let shard = db.memory.value / shards;
                if shard > node.bytes {
                    out.push(Violation::new(
                        db.memory.at.clone(),
                        format!(
                            "memorySize {} in {shards} shard(s) makes shards of {}, more than one \
                             node of {rec} holds ({node_text}): a shard lives on one node; raise \
                             shardCount or the node memory",
                            db.memory_text,
                            human::size(shard),
                        ),
                    ));
                }
            }
            let needed: u64 = cluster
                .databases
                .iter()
                .map(|d| d.footprint_bytes())
                .fold(0, u64::saturating_add);
            if cluster.databases.is_empty() || capacity == 0 {
                continue;
            }
            let parts: Vec<String> = cluster
                .databases
                .iter()
                .map(|d| {
                    format!(
                        "{} {}{}",
                        cx.inventory.object(d.object).name,
                        d.memory_text,
                        if d.replication.value { " × 2 (replication)" } else { "" }
                    )
                })
                .collect();
            let head = format!(
                "the databases of {rec} in the input need up to {} ({}) of its {} ({} nodes × \
                 {node_text})",
                human::size(needed),
                parts.join(", "),
                human::size(capacity),
                cluster.nodes.value,
            );
            let at = cluster
                .databases
                .iter()
                .max_by_key(|d| d.footprint_bytes())
                .map(|d| d.memory.at.clone())
                .unwrap_or_else(|| cluster.nodes.at.clone());
            if needed > capacity {
                out.push(Violation::new(
                    at,
                    format!(
                        "{head}: Redis Software refuses the data beyond it; add nodes, raise \
                         the node memory, or shrink the databases"
                    ),
                ));
            } else if needed as f64 > (1.0 - cx.params.free_ratio) * capacity as f64 {
                out.push(
                    Violation::new(
                        at,
                        format!(
                            "{head}: less than {:.0}% of the cluster's memory stays free, which \
                             Redis' hardware guidance asks for on every node",
                            cx.params.free_ratio * 100.0
                        ),
                    )
                    .severity(Severity::Warning),
                );
            }
        }
    }
}

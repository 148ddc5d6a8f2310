//! Redis Enterprise for Kubernetes (`app.redislabs.com`): `RedisEnterpriseCluster` and the
//! `RedisEnterpriseDatabase`s it hosts. Defaults from RedisLabs/redis-enterprise-k8s-docs
//! @2c2f61d (`redis_enterprise_cluster_api.md`: `nodes` 3, node resources "2 CPUs and 4GB
//! memory"; `redis_enterprise_database_api.md`: `memorySize` 100MB, `shardCount` 1,
//! `replication` false; a database binds to the cluster it names, else to its namespace's
//! only one — "Each namespace can only contain one Redis Enterprise cluster").

use crate::model::{
    EnterpriseCluster, EnterpriseDatabase, Located, Memory, NodeResources, ObjectId,
};
use crate::source::Cursor;

use super::Ctx;
use super::common::{absent, container_at, loc, located_i64, resources};

/// The operator's node resources when none are written: 2 CPU and 4Gi, requests = limits.
const DEFAULT_NODE_MEMORY_BYTES: u64 = 4 << 30;
const DEFAULT_DATABASE_MEMORY: &str = "100MB";

/// Every cluster and database of the input, databases joined to their cluster.
pub fn read(ctx: &mut Ctx) -> (Vec<EnterpriseCluster>, Vec<EnterpriseDatabase>) {
    let mut clusters = Vec::new();
    let mut databases = Vec::new();
    for id in (0..ctx.objects.len()).map(ObjectId) {
        let o = ctx.object(id);
        if o.group() != "app.redislabs.com" {
            continue;
        }
        match o.kind.as_str() {
            "RedisEnterpriseCluster" => {
                if let Some(c) = cluster(ctx, id) {
                    clusters.push(c);
                }
            }
            "RedisEnterpriseDatabase" => {
                if let Some(d) = database(ctx, id) {
                    databases.push((id, d));
                }
            }
            _ => {}
        }
    }
    let mut orphans = Vec::new();
    for (id, db) in databases {
        match bound_cluster(ctx, id, &clusters) {
            Some(i) => clusters[i].databases.push(db),
            None => orphans.push(db),
        }
    }
    (clusters, orphans)
}

fn cluster(ctx: &mut Ctx, id: ObjectId) -> Option<EnterpriseCluster> {
    let root = ctx.root(id);
    let spec = root.get("spec")?;
    let nodes = located_i64(ctx, id, spec.get("nodes")).unwrap_or(Located {
        value: 3,
        at: absent(id, &spec, "nodes"),
    });
    let node_resources = match spec.get("redisEnterpriseNodeResources") {
        Some(r) => {
            let mut c = container_at("node", loc(id, &r));
            resources(ctx, id, &spec, "redisEnterpriseNodeResources", &mut c);
            NodeResources {
                at: loc(id, &r),
                written: true,
                memory_request: c.memory_request,
                memory_limit: c.memory_limit,
                cpu_request_millis: cpu_request(&r, id),
                cpu_limit_millis: c.cpu_limit_millis,
            }
        }
        None => {
            let at = absent(id, &spec, "redisEnterpriseNodeResources");
            let memory = Memory {
                bytes: DEFAULT_NODE_MEMORY_BYTES,
                text: "4Gi".to_string(),
                at: at.clone(),
            };
            let cpu = Located {
                value: 2000,
                at: at.clone(),
            };
            NodeResources {
                at,
                written: false,
                memory_request: Some(memory.clone()),
                memory_limit: Some(memory),
                cpu_request_millis: Some(cpu.clone()),
                cpu_limit_millis: Some(cpu),
            }
        }
    };
    Some(EnterpriseCluster {
        object: id,
        nodes,
        node_resources,
        databases: Vec::new(),
    })
}

/// `requests.cpu` in millicores, as `limits.cpu` is read.
fn cpu_request(resources: &Cursor, id: ObjectId) -> Option<Located<u64>> {
    let c = resources.at(&["requests", "cpu"])?;
    let text = c.str()?;
    let q = crate::units::quantity::Quantity::parse(text).ok()?;
    Some(Located {
        value: u64::try_from(q.milli_value()?).ok()?,
        at: loc(id, &c),
    })
}

fn database(ctx: &mut Ctx, id: ObjectId) -> Option<EnterpriseDatabase> {
    let root = ctx.root(id);
    let spec = root.get("spec")?;
    let (memory, memory_text) = match spec.get("memorySize") {
        Some(m) => {
            let text = m.str().unwrap_or("").to_string();
            match memory_size(&text) {
                Some(bytes) => (
                    Located {
                        value: bytes,
                        at: loc(id, &m),
                    },
                    text,
                ),
                None => {
                    ctx.problem(
                        loc(id, &m),
                        format!(
                            "memorySize `{text}` is not a size Redis Enterprise reads (`100MB`, \
                             `0.1GB`, `1Gi`)"
                        ),
                    );
                    return None;
                }
            }
        }
        None => (
            Located {
                value: memory_size(DEFAULT_DATABASE_MEMORY).unwrap_or(0),
                at: absent(id, &spec, "memorySize"),
            },
            format!("{DEFAULT_DATABASE_MEMORY} (the default)"),
        ),
    };
    let replication = match spec.get("replication") {
        Some(r) => Located {
            value: r.bool().unwrap_or(false),
            at: loc(id, &r),
        },
        None => Located {
            value: false,
            at: absent(id, &spec, "replication"),
        },
    };
    let shards = located_i64(ctx, id, spec.get("shardCount")).unwrap_or(Located {
        value: 1,
        at: absent(id, &spec, "shardCount"),
    });
    Some(EnterpriseDatabase {
        object: id,
        memory,
        memory_text,
        replication,
        shards,
    })
}

/// The cluster a database names (`spec.redisEnterpriseCluster.name`, in its namespace), else
/// the one cluster of its namespace.
fn bound_cluster(ctx: &mut Ctx, id: ObjectId, clusters: &[EnterpriseCluster]) -> Option<usize> {
    let root = ctx.root(id);
    let namespace = ctx.object(id).namespace_or_default().to_string();
    let target = match root.at(&["spec", "redisEnterpriseCluster", "name"]) {
        Some(name_at) => {
            let name = name_at.str()?;
            ctx.find(
                &loc(id, &name_at),
                "RedisEnterpriseCluster",
                &namespace,
                name,
            )?
        }
        None => {
            let mut in_namespace = clusters
                .iter()
                .filter(|c| ctx.object(c.object).namespace_or_default() == namespace);
            let only = in_namespace.next()?;
            if in_namespace.next().is_some() {
                return None;
            }
            only.object
        }
    };
    clusters.iter().position(|c| c.object == target)
}

/// `memorySize`: a decimal number and a unit, `KB`/`MB`/`GB`/`TB` (any case) or
/// `Ki`/`Mi`/`Gi`/`Ti`, or bare bytes. The documentation does not say whether MB is 10⁶ or
/// 2²⁰; both are read as binary multiples, the larger (safer) reading.
pub fn memory_size(text: &str) -> Option<u64> {
    let text = text.trim();
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let value: f64 = number.parse().ok()?;
    let power = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 0,
        "kb" | "ki" | "kib" | "k" => 1,
        "mb" | "mi" | "mib" | "m" => 2,
        "gb" | "gi" | "gib" | "g" => 3,
        "tb" | "ti" | "tib" | "t" => 4,
        _ => return None,
    };
    let bytes = value * 1024f64.powi(power);
    (bytes.is_finite() && bytes >= 0.0 && bytes < u64::MAX as f64).then_some(bytes as u64)
}

#[cfg(test)]
mod tests {
    use super::memory_size;

    #[test]
    fn memory_sizes_read_as_binary_multiples() {
        assert_eq!(memory_size("100MB"), Some(100 << 20));
        assert_eq!(memory_size("0.1GB"), Some(107_374_182));
        assert_eq!(memory_size("10Gi"), Some(10 << 30));
        assert_eq!(memory_size("200mb"), Some(200 << 20));
        assert_eq!(memory_size("1024"), Some(1024));
        assert_eq!(memory_size("1XB"), None);
        assert_eq!(memory_size("MB"), None);
    }
}

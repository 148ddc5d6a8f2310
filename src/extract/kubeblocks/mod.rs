//! KubeBlocks: `Cluster` (apps.kubeblocks.io v1alpha1 and v1), `OpsRequest` (both groups),
//! `ComponentParameter` and `Parameter`. Field paths: apecloud/kubeblocks
//! `apis/apps/v1alpha1/cluster_types.go` (release-0.9 @99600760bfda),
//! `apis/apps/v1/cluster_types.go` (release-1.0 @549d0c7e4506),
//! `apis/{apps,operations}/v1alpha1/opsrequest_types.go` and
//! `apis/parameters/v1alpha1/{componentparameter,parameter}_types.go`; rendering follows the
//! redis addon, apecloud/kubeblocks-addons@ce67f5a `addons/redis/`
//! (`config/redis7-config.tpl`, `templates/cmpd-redis.yaml`).
//!
//! redis.conf is not in a Cluster: KubeBlocks renders it from the addon template, computes
//! `maxmemory` from the memory limit, and applies parameters from ComponentParameters and
//! Reconfiguring OpsRequests on top. We model the template lines that matter to the rules and
//! the maxmemory rule of the configured addon generation.

use crate::model::{
    AntiAffinity, Container, DataVolume, Deployment, Handler, Loc, Located, ObjectId, Operation,
    OpsRequest, Origin, Platform, Probes, Product, Role, SentinelQuorum,
};
use crate::source::Cursor;
use crate::units::human;

use super::assembly::{Assembly, SYNTHETIC_DIR, SynthLine};
use super::common::{
    absent, anti_affinity, container_at, dialect, loc, located_i64, located_str, memory,
    operator_probe, resources,
};
use super::image::version_from_text;
use super::workload::claim_volume;
use super::{Ctx, KubeBlocksMaxmemory};

mod cluster;
mod ops;
mod parameters;

pub use cluster::cluster;
use cluster::*;
pub use ops::ops_request;
use ops::*;
pub use parameters::parameter_object;
use parameters::*;

/// Lines of `addons/redis/config/redis7-config.tpl` (kubeblocks-addons main `ce67f5a`, same
/// in release-1.0 and release-0.9) that rules read. The template has no `save` line, so
/// Redis' default save points stay on next to AOF.
const TEMPLATE: &[&str] = &[
    "tcp-keepalive 300",
    "dir /data",
    "repl-diskless-sync yes",
    "oom-score-adj no",
    "disable-thp yes",
    "appendonly yes",
    "appendfsync everysec",
    "client-output-buffer-limit normal 0 0 0",
    "client-output-buffer-limit replica 256mb 64mb 60",
    "client-output-buffer-limit pubsub 32mb 8mb 60",
    "enable-debug-command yes",
    "io-threads 4",
    "maxmemory-policy volatile-lru",
];

/// Lines of the valkey addon's `addons/valkey/config/valkey-config.tpl` (kubeblocks-addons
/// main `ce67f5a`) that rules read: AOF on, no `save` line (the built-in save points stay
/// on), `noeviction`; maxmemory is `mulf $PHY_MEMORY 0.8 | int` as in the redis addon.
const VALKEY_TEMPLATE: &[&str] = &[
    "dir /data",
    "appendonly yes",
    "appendfsync everysec",
    "maxmemory-policy noeviction",
];

/// Extra lines of `redis-cluster7-config.tpl`.
const CLUSTER_TEMPLATE: &[&str] = &[
    "cluster-enabled yes",
    "cluster-config-file /data/nodes.conf",
    "cluster-allow-replica-migration no",
    "cluster-node-timeout 5000",
    "cluster-replica-validity-factor 0",
    "cluster-require-full-coverage yes",
    "cluster-allow-reads-when-down no",
];

/// A parameter to apply, from whichever object.
#[derive(Debug, Clone)]
struct Param {
    key: String,
    /// `None` deletes the parameter (OpsRequest `value: null`).
    value: Option<String>,
    origin: Origin,
    at: Loc,
}

/// What a component looks like, before or after an operation.
#[derive(Clone)]
struct Component<'a> {
    cluster: ObjectId,
    name: String,
    cursor: Option<Cursor<'a>>,
    role: Role,
    sharding: bool,
    replicas: Option<Located<i64>>,
    shards: Option<Located<i64>>,
    container: Container,
    /// The limit maxmemory is computed from: the component's, even for instance templates.
    maxmemory_basis: Option<crate::model::Memory>,
    request_basis: Option<crate::model::Memory>,
    /// Redis or Valkey: the addon the definitions name.
    engine: Product,
    version: Option<crate::model::Version>,
    data: DataVolume,
    anti_affinity: AntiAffinity,
    params: Vec<Param>,
    notes: Vec<String>,
}

/// The engine a KubeBlocks definition name (`clusterDef`, `componentDef`, `shardingDef`)
/// belongs to: the redis addon's `redis`, `redis-7`, `redis-cluster-7`, the valkey addon's
/// `valkey`, `valkey-8`, `valkey-cluster`.
fn engine_of_name(s: &str) -> Option<Product> {
    let family = |prefix: &str| {
        s == prefix || s.starts_with(&format!("{prefix}-")) || s.starts_with(&format!("{prefix}_"))
    };
    if family("redis") {
        Some(Product::Redis)
    } else if family("valkey") {
        Some(Product::Valkey)
    } else {
        None
    }
}

/// The deployment of a component, with the template, the maxmemory rule and parameters.
fn build(
    ctx: &mut Ctx,
    c: Component,
    object: ObjectId,
    operation: Option<Operation>,
) -> Deployment {
    let mut asm = Assembly::new();
    let mut notes = c.notes.clone();
    if c.cursor.is_none() {
        // A stand-in: the Cluster's parameters and any ComponentParameter are unknown.
        asm.gap("the Cluster is not in the input: only this object's settings are known");
    }
    if c.role == Role::Sentinel || c.role == Role::Proxy {
        asm.gap(format!("{} configuration is not modelled", c.role));
    } else {
        let template = |rule: &str| Origin::OperatorDefault {
            operator: format!("KubeBlocks {} addon", c.engine.to_string().to_lowercase()),
            rule: rule.to_string(),
        };
        let cluster_mode = c.role == Role::ClusterShard;
        let (tpl, base) = match (c.engine, cluster_mode) {
            (Product::Valkey, _) => ("valkey-config.tpl", VALKEY_TEMPLATE),
            (_, true) => ("redis-cluster7-config.tpl", TEMPLATE),
            (_, false) => ("redis7-config.tpl", TEMPLATE),
        };
        let at = c.cursor.as_ref().map(|cur| loc(c.cluster, cur));
        let mut lines: Vec<SynthLine> = base
            .iter()
            .chain(if cluster_mode { CLUSTER_TEMPLATE } else { &[] })
            .map(|l| SynthLine {
                text: l.to_string(),
                origin: template(tpl),
                at: at.clone(),
            })
            .collect();
        match (
            ctx.opts.kubeblocks_maxmemory,
            &c.maxmemory_basis,
            &c.request_basis,
        ) {
            (KubeBlocksMaxmemory::LimitFraction(f), Some(limit), _) if limit.bytes > 0 => {
                // `mulf $PHY_MEMORY 0.8 | int`: float64 product, truncated.
                let bytes = (limit.bytes as f64 * f) as u64;
                lines.push(SynthLine {
                    text: format!("maxmemory {bytes}"),
                    origin: template(&format!(
                        "maxmemory = {f} × memory limit {} ({})",
                        limit.text,
                        human::size(limit.bytes)
                    )),
                    at: Some(limit.at.clone()),
                });
            }
            (KubeBlocksMaxmemory::LimitFraction(_), _, _) if c.cursor.is_some() => notes.push(
                "no memory limit: KubeBlocks writes no maxmemory line (unbounded)".to_string(),
            ),
            (KubeBlocksMaxmemory::Request, _, Some(request)) => lines.push(SynthLine {
                text: format!("maxmemory {}", request.bytes),
                origin: template(&format!("maxmemory = memory request {}", request.text)),
                at: Some(request.at.clone()),
            }),
            _ => {}
        }
        for p in &c.params {
            let key = p.key.trim();
            let name = key.split_whitespace().next().unwrap_or("").to_lowercase();
            match &p.value {
                None => lines.retain(|l| {
                    !l.text
                        .split_whitespace()
                        .next()
                        .is_some_and(|n| n.eq_ignore_ascii_case(&name))
                }),
                Some(v) => lines.push(SynthLine {
                    text: if v.is_empty() {
                        format!("{key} \"\"")
                    } else {
                        format!("{key} {v}")
                    },
                    origin: p.origin.clone(),
                    at: Some(p.at.clone()),
                }),
            }
        }
        let path = format!("{SYNTHETIC_DIR}/{}.conf", c.name.replace('/', "-"));
        asm.synthetic_file(&path, lines);
        asm.push_arg(path, None);
        asm.note(format!(
            "{} rendered by KubeBlocks from {tpl}; the lines redline models are those rules read",
            if c.engine == Product::Valkey {
                "valkey.conf"
            } else {
                "redis.conf"
            }
        ));
    }
    let cluster = ctx.object(c.cluster);
    let pod_labels = vec![
        (
            "app.kubernetes.io/instance".to_string(),
            cluster.name.clone(),
        ),
        (
            if c.sharding {
                "apps.kubeblocks.io/sharding-name"
            } else {
                "apps.kubeblocks.io/component-name"
            }
            .to_string(),
            c.name.split('/').next().unwrap_or("").to_string(),
        ),
    ];
    let related = if object == c.cluster {
        Vec::new()
    } else {
        vec![c.cluster]
    };
    // addons/redis/scripts/redis-register-to-sentinel.sh registers the primary with quorum 2
    // by its pod's DNS name; redis-sentinel-start-v2.sh writes both hostname settings
    // (apecloud/kubeblocks-addons@ce67f5a).
    let sentinels = (c.role == Role::Sentinel).then(|| {
        crate::extract::sentinel::by_operator(
            Some(SentinelQuorum {
                value: 2,
                at: c.container.at.clone(),
                set_by: Some("the KubeBlocks addon's register script".to_string()),
            }),
            "the KubeBlocks addon registers the primary by its pod's DNS name with \
             `resolve-hostnames` and `announce-hostnames` on",
        )
    });
    Deployment {
        object,
        component: Some(c.name),
        platform: Platform::KubeBlocks,
        role: c.role,
        replicas: c.replicas,
        shards: c.shards,
        containers: vec![c.container],
        config: asm.finish(dialect(c.engine, c.version.as_ref())),
        data: c.data,
        engine: c.engine,
        version: c.version,
        pod_management_policy: None,
        pod_spec: None,
        node_tuning: Vec::new(),
        termination_grace_seconds: None,
        sentinels,
        anti_affinity: c.anti_affinity,
        topology_spread: false,
        pdb: None,
        selector: Vec::new(),
        pod_labels,
        related,
        operation,
        notes,
    }
}

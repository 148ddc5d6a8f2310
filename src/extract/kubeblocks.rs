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
    OpsRequest, Origin, Platform, Probes, Product, Role,
};
use crate::source::Cursor;
use crate::units::human;

use super::common::{
    absent, anti_affinity, container_at, dialect, loc, located_i64, located_str, memory,
    operator_probe, resources,
};
use super::config::{Assembly, SYNTHETIC_DIR, SynthLine};
use super::image::version_from_text;
use super::workload::claim_volume;
use super::{Ctx, KubeBlocksMaxmemory};

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

pub fn cluster(ctx: &mut Ctx, id: ObjectId) -> Vec<Deployment> {
    let mut out = Vec::new();
    for c in components(ctx, id) {
        // Each component is a whole server model (its addon's redis.conf included).
        if !ctx.within_budget() {
            break;
        }
        out.push(build(ctx, c, id, None));
    }
    out
}

fn components<'a>(ctx: &mut Ctx<'a>, id: ObjectId) -> Vec<Component<'a>> {
    let root = ctx.root(id);
    let object = ctx.object(id);
    let v1alpha1 = object.version() == "v1alpha1";
    let Some(spec) = root.get("spec") else {
        return Vec::new();
    };
    let def = spec
        .str_at(&["clusterDef"])
        .or_else(|| spec.str_at(&["clusterDefinitionRef"]));
    let comp_def = |c: &Cursor| {
        c.str_at(&["componentDef"])
            .or_else(|| c.str_at(&["componentDefRef"]))
            .or_else(|| c.str_at(&["compDef"]))
            .unwrap_or("")
            .to_string()
    };
    let specs = spec
        .get("componentSpecs")
        .map(|c| c.items())
        .unwrap_or_default();
    let shardings = spec
        .get("shardings")
        .or_else(|| spec.get("shardingSpecs"))
        .map(|c| c.items())
        .unwrap_or_default();
    let Some(engine) = def
        .and_then(engine_of_name)
        .or_else(|| specs.iter().find_map(|c| engine_of_name(&comp_def(c))))
        .or_else(|| {
            shardings.iter().find_map(|s| {
                s.str_at(&["shardingDef"])
                    .and_then(engine_of_name)
                    .or_else(|| engine_of_name(&comp_def(&s.get("template")?)))
            })
        })
    else {
        return Vec::new();
    };
    let topology = spec.str_at(&["topology"]).unwrap_or("");
    let mut out = Vec::new();
    for c in &specs {
        // One Cluster may list thousands of components.
        if !ctx.within_budget() {
            return out;
        }
        let name = c.str_at(&["name"]).unwrap_or("redis").to_string();
        let def = comp_def(c);
        let kind = format!("{name} {def}");
        let replicas = located_i64(ctx, id, c.get("replicas"));
        let role = if kind.contains("sentinel") {
            Role::Sentinel
        } else if kind.contains("twemproxy") || kind.contains("proxy") {
            Role::Proxy
        } else if def.contains("redis-cluster") {
            Role::ClusterShard
        } else if topology == "standalone" {
            Role::Standalone
        } else if topology == "replication"
            || topology == "replication-twemproxy"
            || replicas.as_ref().is_some_and(|r| r.value > 1)
        {
            Role::Replication
        } else {
            Role::Standalone
        };
        let base = component(
            ctx,
            id,
            &spec,
            c,
            (name, engine),
            role,
            replicas,
            None,
            v1alpha1,
        );
        out.extend(with_instances(ctx, id, c, base));
    }
    for s in &shardings {
        if !ctx.within_budget() {
            return out;
        }
        let name = s.str_at(&["name"]).unwrap_or("shard").to_string();
        let Some(t) = s.get("template") else { continue };
        let replicas = located_i64(ctx, id, t.get("replicas"));
        let shards = located_i64(ctx, id, s.get("shards"));
        let base = component(
            ctx,
            id,
            &spec,
            &t,
            (name.clone(), engine),
            Role::ClusterShard,
            replicas,
            shards,
            v1alpha1,
        );
        let mut all = with_instances(ctx, id, &t, base.clone());
        // main / 1.1+: shard templates with their own resources.
        for st in s
            .get("shardTemplates")
            .map(|x| x.items())
            .unwrap_or_default()
        {
            if st.get("resources").is_none() {
                continue;
            }
            let mut variant = base.clone();
            let st_name = st.str_at(&["name"]).unwrap_or("template");
            variant.name = format!("{name}/{st_name}");
            resources(ctx, id, &st, "resources", &mut variant.container);
            variant.maxmemory_basis = variant.container.memory_limit.clone();
            variant.request_basis = variant.container.memory_request.clone();
            if let Some(n) = located_i64(ctx, id, st.get("shards")) {
                variant.shards = Some(n);
            }
            all.push(variant);
        }
        out.extend(all);
    }
    out
}

#[allow(clippy::too_many_arguments)]
fn component<'a>(
    ctx: &mut Ctx<'a>,
    id: ObjectId,
    spec: &Cursor<'a>,
    c: &Cursor<'a>,
    (name, engine): (String, Product),
    role: Role,
    replicas: Option<Located<i64>>,
    shards: Option<Located<i64>>,
    v1alpha1: bool,
) -> Component<'a> {
    let container_name = match (engine, role) {
        (Product::Valkey, Role::Sentinel) => "valkey-sentinel",
        (Product::Valkey, _) => "valkey",
        (_, Role::Sentinel) => "redis-sentinel",
        (_, Role::Proxy) => "redis-twemproxy",
        (_, Role::ClusterShard) => "redis-cluster",
        _ => "redis",
    };
    let mut container = container_at(container_name, loc(id, c));
    resources(ctx, id, c, "resources", &mut container);
    let mut notes = Vec::new();
    // v1alpha1's cluster-wide simplified `spec.resources.memory` sets request and limit of
    // components that say nothing.
    if v1alpha1
        && container.memory_limit.is_none()
        && container.memory_request.is_none()
        && let Some(m) = memory(ctx, id, spec.at(&["resources", "memory"]))
    {
        container.memory_limit = Some(m.clone());
        container.memory_request = Some(m);
        notes.push("memory from the cluster-wide spec.resources.memory".to_string());
    }
    container.probes = definition_probes(role, v1alpha1);
    let version = c
        .get("serviceVersion")
        .and_then(|v| {
            let text = v.str()?;
            version_from_text(engine, text, text, &loc(id, &v))
        })
        .or_else(|| {
            let def = c
                .get("componentDef")
                .or_else(|| spec.get("clusterVersionRef"))?;
            let text = def.str()?;
            let digits = text.trim_start_matches(|ch: char| !ch.is_ascii_digit());
            version_from_text(engine, digits, text, &loc(id, &def))
        });
    let data = c
        .get("volumeClaimTemplates")
        .map(|v| v.items())
        .unwrap_or_default()
        .iter()
        .find(|v| v.str_at(&["name"]) == Some("data"))
        .map(|v| claim_volume(id, v))
        .unwrap_or(if role == Role::Proxy {
            DataVolume::None
        } else {
            DataVolume::EmptyDir { at: loc(id, c) }
        });
    let anti_affinity = component_affinity(id, spec, c);
    let params = component_parameters(ctx, id, &name);
    Component {
        cluster: id,
        name,
        cursor: Some(c.clone()),
        role,
        sharding: shards.is_some(),
        replicas,
        shards,
        maxmemory_basis: container.memory_limit.clone(),
        request_basis: container.memory_request.clone(),
        container,
        engine,
        version,
        data,
        anti_affinity,
        params,
        notes,
    }
}

/// `instances[]` templates with resources of their own: pods of those templates get the
/// component's maxmemory (one ConfigMap per component, PHY_MEMORY from the component limit).
fn with_instances<'a>(
    ctx: &mut Ctx<'a>,
    id: ObjectId,
    c: &Cursor<'a>,
    base: Component<'a>,
) -> Vec<Component<'a>> {
    let mut out = vec![base.clone()];
    for inst in c.get("instances").map(|i| i.items()).unwrap_or_default() {
        if inst.get("resources").is_none() {
            continue;
        }
        let mut variant = base.clone();
        variant.name = format!(
            "{}/{}",
            base.name,
            inst.str_at(&["name"]).unwrap_or("instance")
        );
        resources(ctx, id, &inst, "resources", &mut variant.container);
        variant.replicas = located_i64(ctx, id, inst.get("replicas"));
        variant.notes.push(format!(
            "instance template: maxmemory is computed from the component's memory limit ({}), \
             not this template's",
            base.maxmemory_basis
                .as_ref()
                .map_or("none".to_string(), |m| m.text.clone())
        ));
        out.push(variant);
    }
    out
}

fn component_affinity(id: ObjectId, spec: &Cursor, c: &Cursor) -> AntiAffinity {
    // v1: schedulingPolicy.affinity (a corev1 Affinity), component first.
    for owner in [c, spec] {
        if let Some(sp) = owner.get("schedulingPolicy") {
            return anti_affinity(id, &sp);
        }
    }
    // v1alpha1: affinity.{podAntiAffinity: Preferred|Required, topologyKeys}.
    for owner in [c, spec] {
        if let Some(a) = owner.get("affinity") {
            let keys: Vec<&str> = a
                .get("topologyKeys")
                .map(|k| k.items().iter().filter_map(|i| i.str()).collect())
                .unwrap_or_default();
            let at = loc(id, &a);
            return match a.str_at(&["podAntiAffinity"]) {
                Some("Required") if keys.contains(&"kubernetes.io/hostname") => {
                    AntiAffinity::RequiredHostname { at }
                }
                Some("Required") => AntiAffinity::RequiredOther {
                    at,
                    topology_key: keys.join(","),
                },
                Some("Preferred") => AntiAffinity::Preferred { at },
                _ => AntiAffinity::None,
            };
        }
    }
    AntiAffinity::Unknown
}

/// Probes the KubeBlocks ComponentDefinition gives (apecloud/kubeblocks-addons
/// `addons/redis/templates/cmpd-redis.yaml` @ce67f5a, `componentdefinition-redis.yaml` on
/// release-0.9 @435b7240e065): readiness only for Redis; 0.9 used a 1 s timeout, 1.0+ 5 s.
fn definition_probes(role: Role, v1alpha1: bool) -> Probes {
    let who = if v1alpha1 {
        "KubeBlocks ComponentDefinition (addon 0.9)"
    } else {
        "KubeBlocks ComponentDefinition (addon 1.0+)"
    };
    match role {
        Role::Proxy => Probes::default(),
        Role::Sentinel => {
            let p = operator_probe(
                Handler::Exec(vec![
                    "sh".into(),
                    "-c".into(),
                    "/scripts/redis-sentinel-ping.sh".into(),
                ]),
                who,
                [10, 5, 5, 1, 5],
            );
            Probes {
                liveness: Some(p.clone()),
                readiness: Some(p),
                startup: None,
            }
        }
        _ => Probes {
            liveness: None,
            readiness: Some(operator_probe(
                Handler::Exec(vec![
                    "sh".into(),
                    "-c".into(),
                    "/scripts/redis-ping.sh".into(),
                ]),
                who,
                [10, 5, if v1alpha1 { 1 } else { 5 }, 1, 5],
            )),
            startup: None,
        },
    }
}

/// Parameters of the ComponentParameters of the input for this cluster component.
fn component_parameters(ctx: &Ctx, cluster: ObjectId, component: &str) -> Vec<Param> {
    let object = ctx.object(cluster);
    let mut out = Vec::new();
    let matching: Vec<ObjectId> = ctx
        .of_kind("ComponentParameter", object.namespace_or_default())
        .filter(|&id| {
            let root = ctx.root(id);
            root.str_at(&["spec", "clusterName"]) == Some(object.name.as_str())
                && root.str_at(&["spec", "componentName"]) == Some(component)
        })
        .collect();
    // Another environment's ComponentParameter does not configure this copy's Cluster.
    for id in ctx.nearest(cluster, &matching) {
        let root = ctx.root(id);
        if let Some(spec) = root.get("spec") {
            out.extend(file_parameters(id, &spec));
        }
    }
    out
}

/// `spec.configItemDetails[].configFileParams[file].parameters` of a ComponentParameter.
fn file_parameters(id: ObjectId, spec: &Cursor) -> Vec<Param> {
    let mut out = Vec::new();
    for item in spec
        .get("configItemDetails")
        .map(|c| c.items())
        .unwrap_or_default()
    {
        for (_, file) in item
            .get("configFileParams")
            .map(|f| f.entries())
            .unwrap_or_default()
        {
            if let Some(p) = file.get("parameters") {
                out.extend(param_map(id, &p, Origin::ComponentParameter));
            }
        }
    }
    out
}

/// A `map[string]*string` of parameters.
fn param_map(id: ObjectId, map: &Cursor, origin: Origin) -> Vec<Param> {
    map.node
        .entries()
        .iter()
        .filter_map(|e| {
            let key = e.key.as_str()?.to_string();
            let c = map.get(&key);
            Some(Param {
                value: e.value.as_str().map(str::to_string),
                at: match &c {
                    Some(c) => loc(id, c),
                    None => absent(id, map, &key),
                },
                key,
                origin: origin.clone(),
            })
        })
        .collect()
}

/// `parameters: [{key, value}]`.
fn param_list(id: ObjectId, list: &Cursor, origin: Origin) -> Vec<Param> {
    list.items()
        .iter()
        .filter_map(|p| {
            let key = p.str_at(&["key"])?.to_string();
            let value = p.get("value");
            Some(Param {
                value: value.as_ref().and_then(|v| v.str()).map(str::to_string),
                at: match &value {
                    Some(v) => loc(id, v),
                    None => absent(id, p, "value"),
                },
                key,
                origin: origin.clone(),
            })
        })
        .collect()
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

/// The component an operation targets: from the Cluster in the input, or a stand-in.
fn targets<'a>(
    ctx: &mut Ctx<'a>,
    ops: ObjectId,
    cluster_name: &str,
) -> (Option<ObjectId>, Vec<Component<'a>>) {
    let ns = ctx.object(ops).namespace_or_default().to_string();
    let spec = ctx.root(ops).get("spec");
    let at = spec
        .as_ref()
        .and_then(|s| s.get("clusterName").or_else(|| s.get("clusterRef")))
        .map_or_else(|| loc(ops, &ctx.root(ops)), |c| loc(ops, &c));
    match ctx.find(&at, "Cluster", &ns, cluster_name) {
        Some(cid) if ctx.object(cid).group() == "apps.kubeblocks.io" => {
            // The Cluster's own extraction reports its problems; reading it again for each
            // operation must not repeat them.
            let before = ctx.problems.len();
            let comps = components(ctx, cid);
            ctx.problems.truncate(before);
            (Some(cid), comps)
        }
        _ => (None, Vec::new()),
    }
}

/// A component of a Cluster that is not in the input: nothing is known but what the
/// operation says.
fn stand_in<'a>(ops: ObjectId, name: &str, cluster_name: &str, at: Loc) -> Component<'a> {
    let role = if name.contains("sentinel") {
        Role::Sentinel
    } else if name.contains("proxy") {
        Role::Proxy
    } else if name == "shard" || name.contains("cluster") {
        Role::ClusterShard
    } else {
        Role::Replication
    };
    Component {
        cluster: ops,
        name: name.to_string(),
        cursor: None,
        role,
        sharding: role == Role::ClusterShard,
        replicas: None,
        shards: None,
        container: container_at(
            if role == Role::Sentinel {
                "redis-sentinel"
            } else {
                "redis"
            },
            at,
        ),
        maxmemory_basis: None,
        request_basis: None,
        // The operation does not say; the Cluster is not in the input.
        engine: Product::Redis,
        version: None,
        data: DataVolume::Unknown,
        anti_affinity: AntiAffinity::Unknown,
        params: Vec::new(),
        notes: vec![format!(
            "Cluster {cluster_name} is not in the input: its memory limit, topology and \
             configuration are unknown"
        )],
    }
}

pub fn ops_request(ctx: &mut Ctx, id: ObjectId) -> Vec<Deployment> {
    let root = ctx.root(id);
    let Some(spec) = root.get("spec") else {
        return Vec::new();
    };
    let cluster_name = spec
        .str_at(&["clusterName"])
        .or_else(|| spec.str_at(&["clusterRef"]))
        .unwrap_or("")
        .to_string();
    let ops_type = spec.str_at(&["type"]).unwrap_or("").to_string();
    let (cluster_id, comps) = targets(ctx, id, &cluster_name);
    if let Some(kind) = spec.str_at(&["type"]) {
        ctx.ops_requests.push(OpsRequest {
            object: id,
            kind: kind.to_string(),
            force: spec.get("force").and_then(|f| f.bool()) == Some(true),
            cluster_name: ["clusterName", "clusterRef"]
                .iter()
                .find_map(|k| located_str(id, &spec.get(k)?)),
            cluster_phase: cluster_id
                .and_then(|c| ctx.root(c).str_at(&["status", "phase"]))
                .map(str::to_string),
        });
    }
    // (component name, the item of the operation) pairs.
    let items: Vec<(Option<String>, Option<Cursor>)> = match ops_type.as_str() {
        "Reconfiguring" => {
            let mut v: Vec<Cursor> = spec
                .get("reconfigures")
                .map(|r| r.items())
                .unwrap_or_default();
            v.extend(spec.get("reconfigure"));
            v.into_iter()
                .map(|i| (i.str_at(&["componentName"]).map(str::to_string), Some(i)))
                .collect()
        }
        "VerticalScaling" | "HorizontalScaling" | "Restart" | "Switchover" | "Stop" | "Start"
        | "VolumeExpansion" => {
            let key = match ops_type.as_str() {
                "VerticalScaling" => "verticalScaling",
                "HorizontalScaling" => "horizontalScaling",
                "Restart" => "restart",
                "Switchover" => "switchover",
                "Stop" => "stop",
                "Start" => "start",
                _ => "volumeExpansion",
            };
            let list = spec.get(key).map(|r| r.items()).unwrap_or_default();
            if list.is_empty() {
                // Stop/Start without components: the whole cluster.
                vec![(None, None)]
            } else {
                list.into_iter()
                    .map(|i| (i.str_at(&["componentName"]).map(str::to_string), Some(i)))
                    .collect()
            }
        }
        "Upgrade" => spec
            .at(&["upgrade", "components"])
            .map(|r| r.items())
            .unwrap_or_default()
            .into_iter()
            .map(|i| (i.str_at(&["componentName"]).map(str::to_string), Some(i)))
            .collect(),
        _ => return Vec::new(),
    };
    let mut out = Vec::new();
    for (component, item) in items {
        let selected: Vec<Component> = match (&component, cluster_id) {
            (Some(name), Some(_)) => comps
                .iter()
                .filter(|c| c.name == *name || c.name.starts_with(&format!("{name}/")))
                .cloned()
                .collect(),
            (None, Some(_)) => comps.clone(),
            (Some(name), None) => {
                let at = item.as_ref().map_or_else(|| loc(id, &spec), |i| loc(id, i));
                vec![stand_in(id, name, &cluster_name, at)]
            }
            (None, None) => {
                let at = loc(id, &spec);
                vec![stand_in(id, "redis", &cluster_name, at)]
            }
        };
        if selected.is_empty() {
            let at = item.as_ref().map_or_else(|| loc(id, &spec), |i| loc(id, i));
            ctx.problem(
                at,
                format!(
                    "Cluster {cluster_name} has no component `{}`",
                    component.unwrap_or_default()
                ),
            );
            continue;
        }
        for mut c in selected {
            if !ctx.within_budget() {
                return out;
            }
            if let Some(item) = &item {
                apply(ctx, id, &ops_type, item, &mut c);
            }
            let op = Operation {
                object: id,
                kind: ops_type.clone(),
                cluster_found: cluster_id.is_some(),
            };
            out.push(build(ctx, c, id, Some(op)));
        }
    }
    out
}

/// Apply one item of an OpsRequest to a component.
fn apply(ctx: &mut Ctx, id: ObjectId, ops_type: &str, item: &Cursor, c: &mut Component) {
    match ops_type {
        "Reconfiguring" => {
            // 1.0: parameters[]; ≤0.9: configurations[].keys[].parameters[].
            if let Some(p) = item.get("parameters") {
                c.params.extend(param_list(id, &p, Origin::OpsRequest));
            }
            for conf in item
                .get("configurations")
                .map(|x| x.items())
                .unwrap_or_default()
            {
                for key in conf.get("keys").map(|x| x.items()).unwrap_or_default() {
                    if let Some(p) = key.get("parameters") {
                        c.params.extend(param_list(id, &p, Origin::OpsRequest));
                    }
                }
            }
        }
        "VerticalScaling" => {
            // requests/limits inline in the item (ResourceRequirements embedded).
            let mut scaled = c.container.clone();
            let before = (scaled.memory_request.clone(), scaled.memory_limit.clone());
            resources_inline(ctx, id, item, &mut scaled);
            scaled.memory_request = scaled.memory_request.or(before.0);
            scaled.memory_limit = scaled.memory_limit.or(before.1);
            scaled.request_from_limit =
                scaled.memory_request.is_none() && scaled.memory_limit.is_some();
            // The template is re-rendered on vertical scaling: maxmemory follows the new limit.
            c.maxmemory_basis = scaled.memory_limit.clone();
            c.request_basis = scaled.memory_request.clone();
            c.container = scaled;
        }
        "HorizontalScaling" => {
            if let Some(r) = located_i64(ctx, id, item.get("replicas")) {
                c.replicas = Some(r);
            }
            if let Some(s) = located_i64(ctx, id, item.get("shards")) {
                c.shards = Some(s);
            }
            for (key, sign) in [("scaleOut", 1), ("scaleIn", -1)] {
                if let Some(n) = located_i64(ctx, id, item.at(&[key, "replicaChanges"])) {
                    let current = c.replicas.as_ref().map(|r| r.value);
                    c.replicas = Some(Located {
                        value: current.unwrap_or(0) + sign * n.value,
                        at: n.at,
                    });
                    if current.is_none() {
                        c.notes.push("current replicas unknown".to_string());
                    }
                }
            }
        }
        "Upgrade" => {
            if let Some(v) = item.get("serviceVersion")
                && let Some(text) = v.str()
            {
                c.version = version_from_text(c.engine, text, text, &loc(id, &v));
            }
        }
        _ => {}
    }
}

/// `requests`/`limits` directly in an item (VerticalScaling embeds ResourceRequirements).
fn resources_inline(ctx: &mut Ctx, id: ObjectId, item: &Cursor, container: &mut Container) {
    container.resources_at = loc(id, item);
    container.memory_request = memory(ctx, id, item.at(&["requests", "memory"]));
    container.memory_limit = memory(ctx, id, item.at(&["limits", "memory"]));
}

/// `ComponentParameter` (applied to its Cluster's components when the Cluster is in the
/// input) and `Parameter` (a requested change, like an OpsRequest).
pub fn parameter_object(ctx: &mut Ctx, id: ObjectId) -> Vec<Deployment> {
    let root = ctx.root(id);
    let kind = ctx.object(id).kind.clone();
    let Some(spec) = root.get("spec") else {
        return Vec::new();
    };
    let cluster_name = spec.str_at(&["clusterName"]).unwrap_or("").to_string();
    let (cluster_id, comps) = targets(ctx, id, &cluster_name);
    let mut changes: Vec<(String, Vec<Param>, Loc)> = Vec::new();
    if kind == "ComponentParameter" {
        if cluster_id.is_some() {
            // Already applied to the Cluster's own model.
            return Vec::new();
        }
        let comp = spec
            .str_at(&["componentName"])
            .unwrap_or("redis")
            .to_string();
        changes.push((comp, file_parameters(id, &spec), loc(id, &spec)));
    } else {
        for cp in spec
            .get("componentParameters")
            .map(|c| c.items())
            .unwrap_or_default()
        {
            let comp = cp.str_at(&["componentName"]).unwrap_or("redis").to_string();
            let params = cp
                .get("parameters")
                .map(|p| param_map(id, &p, Origin::Parameter))
                .unwrap_or_default();
            changes.push((comp, params, loc(id, &cp)));
        }
    }
    let mut out = Vec::new();
    for (comp, params, at) in changes {
        let mut selected: Vec<Component> =
            comps.iter().filter(|c| c.name == comp).cloned().collect();
        if selected.is_empty() {
            selected.push(stand_in(id, &comp, &cluster_name, at));
        }
        for mut c in selected {
            if !ctx.within_budget() {
                return out;
            }
            c.params.extend(params.iter().cloned());
            let op = Operation {
                object: id,
                kind: kind.clone(),
                cluster_found: cluster_id.is_some(),
            };
            out.push(build(ctx, c, id, Some(op)));
        }
    }
    out
}

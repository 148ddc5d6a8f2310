//! `Cluster`: its components (v1alpha1 and v1, shardings, instances), their resources,
//! scheduling and the component definition's probes.

use super::*;

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

pub(super) fn components<'a>(ctx: &mut Ctx<'a>, id: ObjectId) -> Vec<Component<'a>> {
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
pub(super) fn component<'a>(
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
            DataVolume::EmptyDir {
                at: loc(id, c),
                memory_medium: None,
            }
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
pub(super) fn with_instances<'a>(
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

pub(super) fn component_affinity(id: ObjectId, spec: &Cursor, c: &Cursor) -> AntiAffinity {
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
pub(super) fn definition_probes(role: Role, v1alpha1: bool) -> Probes {
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

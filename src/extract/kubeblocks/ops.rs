//! `OpsRequest`: the model's record of it, and the projection of each component it changes
//! (the component as it will be once the operation is applied).

use super::*;

/// The component an operation targets: from the Cluster in the input, or a stand-in.
pub(super) fn targets<'a>(
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
pub(super) fn stand_in<'a>(
    ops: ObjectId,
    name: &str,
    cluster_name: &str,
    at: Loc,
) -> Component<'a> {
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
    if !ops_type.is_empty() {
        ctx.ops_requests.push(OpsRequest {
            object: id,
            kind: ops_type.clone(),
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
            if ops_type == "VerticalScaling"
                && let Some(cluster) = cluster_id
            {
                pinned(ctx, id, cluster, &mut c);
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

/// What the other operations of the input pin in this component's configuration, applied to
/// a VerticalScaling's projection: KubeBlocks re-renders the template with the new resources
/// and then merges the parameters users set on top (the Reconfiguring OpsRequests and
/// Parameters that end in the ComponentParameter's `configFileParams`; controllers/parameters
/// `reconcile_task.go` on release-1.0: `RerenderParametersTemplate`, then `ApplyParameters`).
/// So a derived maxmemory follows the new limit, and a pinned one stays. (The
/// ComponentParameters of the input are already in the component.)
fn pinned(ctx: &mut Ctx, vscale: ObjectId, cluster: ObjectId, c: &mut Component) {
    let cluster_object = ctx.object(cluster);
    let (ns, cluster_name) = (
        cluster_object.namespace_or_default().to_string(),
        cluster_object.name.clone(),
    );
    let component = c.name.split('/').next().unwrap_or("").to_string();
    let targets_cluster = |ctx: &Ctx, id: ObjectId| {
        let spec = ctx.root(id).get("spec");
        spec.as_ref().is_some_and(|s| {
            s.str_at(&["clusterName"])
                .or_else(|| s.str_at(&["clusterRef"]))
                == Some(cluster_name.as_str())
        })
    };
    let reconfigurings: Vec<ObjectId> = ctx
        .of_kind("OpsRequest", &ns)
        .filter(|&id| {
            id != vscale
                && ctx.root(id).str_at(&["spec", "type"]) == Some("Reconfiguring")
                && targets_cluster(ctx, id)
        })
        .collect();
    let parameters: Vec<ObjectId> = ctx
        .of_kind("Parameter", &ns)
        .filter(|&id| targets_cluster(ctx, id))
        .collect();
    // Another environment's operations do not configure this copy's Cluster.
    for id in ctx.nearest(cluster, &reconfigurings) {
        let Some(spec) = ctx.root(id).get("spec") else {
            continue;
        };
        let mut items: Vec<Cursor> = spec
            .get("reconfigures")
            .map(|r| r.items())
            .unwrap_or_default();
        items.extend(spec.get("reconfigure"));
        for item in items {
            if item.str_at(&["componentName"]) == Some(component.as_str()) {
                apply(ctx, id, "Reconfiguring", &item, c);
            }
        }
    }
    for id in ctx.nearest(cluster, &parameters) {
        let Some(spec) = ctx.root(id).get("spec") else {
            continue;
        };
        for cp in spec
            .get("componentParameters")
            .map(|x| x.items())
            .unwrap_or_default()
        {
            if cp.str_at(&["componentName"]) == Some(component.as_str())
                && let Some(p) = cp.get("parameters")
            {
                c.params.extend(param_map(id, &p, Origin::Parameter));
            }
        }
    }
}

/// Apply one item of an OpsRequest to a component.
pub(super) fn apply(ctx: &mut Ctx, id: ObjectId, ops_type: &str, item: &Cursor, c: &mut Component) {
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
pub(super) fn resources_inline(
    ctx: &mut Ctx,
    id: ObjectId,
    item: &Cursor,
    container: &mut Container,
) {
    container.resources_at = loc(id, item);
    container.memory_request = memory(ctx, id, item.at(&["requests", "memory"]));
    container.memory_limit = memory(ctx, id, item.at(&["limits", "memory"]));
}

//! Configuration parameters: a ComponentParameter's and a Parameter's, and the lists and
//! maps an OpsRequest or a file's parameters hold.

use super::*;

/// Parameters of the ComponentParameters of the input for this cluster component.
pub(super) fn component_parameters(ctx: &Ctx, cluster: ObjectId, component: &str) -> Vec<Param> {
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
pub(super) fn file_parameters(id: ObjectId, spec: &Cursor) -> Vec<Param> {
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
pub(super) fn param_map(id: ObjectId, map: &Cursor, origin: Origin) -> Vec<Param> {
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
pub(super) fn param_list(id: ObjectId, list: &Cursor, origin: Origin) -> Vec<Param> {
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

//! From documents to the model: one adapter per family of kinds, and the joins between the
//! documents of one input (a workload and its ConfigMap, an OpsRequest and its Cluster).
//!
//! Extractors never do I/O and never fail: what they cannot read becomes a [`Problem`] or a
//! note, and the rest is still extracted.

pub mod assembly;
pub mod common;
mod dragonfly;
mod enterprise;
pub mod image;
mod kubeblocks;
mod kubedb;
mod opstree;
mod sentinel;
mod shell;
mod spotahome;
mod valkey_operator;
mod workload;

#[cfg(test)]
mod tests;

use std::collections::HashMap;

use crate::budget::{Budget, Exceeded};
use crate::model::{Deployment, Inventory, Loc, Object, ObjectId, OpsRequest, Pdb, Problem};
use crate::source::{Cursor, Node, NodeKind, SourceFile};

use common::{loc, located_str, string_map};

/// How KubeBlocks' redis addon computes `maxmemory` when the user sets none: it changed
/// between addon generations (history of apecloud/kubeblocks-addons
/// `addons/redis/config/redis7-config.tpl` and `addons/redis/templates/cmpd-redis.yaml`:
/// apecloud/kubeblocks#2563, apecloud/kubeblocks-addons#2391).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum KubeBlocksMaxmemory {
    /// `trunc(fraction × limits.memory)`, nothing without a limit (addon ≥ 1.0.2, 0.9.5).
    LimitFraction(f64),
    /// `= requests.memory` (addon 0.5 – 1.0.1).
    Request,
    /// No maxmemory line at all.
    None,
}

impl std::str::FromStr for KubeBlocksMaxmemory {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "request" => Ok(KubeBlocksMaxmemory::Request),
            "none" => Ok(KubeBlocksMaxmemory::None),
            _ => match s.strip_prefix("limit:").map(str::parse::<f64>) {
                Some(Ok(f)) if f > 0.0 && f <= 1.0 => Ok(KubeBlocksMaxmemory::LimitFraction(f)),
                _ => Err(format!(
                    "`{s}`: expected `limit:FRACTION` (e.g. limit:0.8), `request` or `none`"
                )),
            },
        }
    }
}

#[derive(Debug, Clone)]
pub struct Options {
    pub kubeblocks_maxmemory: KubeBlocksMaxmemory,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            kubeblocks_maxmemory: KubeBlocksMaxmemory::LimitFraction(0.8),
        }
    }
}

/// A document that is not a Kubernetes object (a Helm values file, a bare list), reported so
/// that nothing is skipped silently.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotAnObject {
    pub file: String,
    pub line: u32,
    pub reason: String,
}

/// Extraction state shared by the adapters.
pub struct Ctx<'a> {
    pub objects: &'a [Object],
    pub opts: &'a Options,
    pub problems: Vec<Problem>,
    /// References that several copies of an object answer equally well (`dev/` and
    /// `prod/` both define it): not joined, reported.
    pub ambiguous: Vec<Problem>,
    /// [`Inventory::unjudged`].
    pub unjudged: Vec<Problem>,
    /// The KubeBlocks OpsRequests read so far.
    pub ops_requests: Vec<OpsRequest>,
    /// Indexes, so that linking n objects stays O(n) on a repository of thousands. One
    /// identity may have several objects: the copies of a GitOps repository's environments.
    by_name: HashMap<(&'a str, &'a str, &'a str), Vec<ObjectId>>,
    by_kind: HashMap<(&'a str, &'a str), Vec<ObjectId>>,
    ambiguous_names: std::collections::HashSet<(String, String, String)>,
    /// Checked per object and per container: a review past its deadline stops here.
    budget: &'a Budget,
}

impl<'a> Ctx<'a> {
    fn new(objects: &'a [Object], opts: &'a Options, budget: &'a Budget) -> Self {
        let mut by_name: HashMap<_, Vec<ObjectId>> = HashMap::new();
        let mut by_kind: HashMap<_, Vec<ObjectId>> = HashMap::new();
        for (i, o) in objects.iter().enumerate() {
            let (kind, namespace) = (o.kind.as_str(), o.namespace_or_default());
            by_name
                .entry((kind, namespace, o.name.as_str()))
                .or_default()
                .push(ObjectId(i));
            by_kind
                .entry((kind, namespace))
                .or_default()
                .push(ObjectId(i));
        }
        Ctx {
            objects,
            opts,
            problems: Vec::new(),
            ambiguous: Vec::new(),
            unjudged: Vec::new(),
            ops_requests: Vec::new(),
            by_name,
            by_kind,
            ambiguous_names: Default::default(),
            budget,
        }
    }

    /// Whether the work may go on ([`Budget::check`]); once it may not, what is left unread
    /// is never returned: [`extract_within`] answers `Exceeded`.
    pub fn within_budget(&self) -> bool {
        self.budget.check().is_ok()
    }

    pub fn problem(&mut self, at: Loc, message: String) {
        self.problems.push(Problem { at, message });
    }

    /// The object of `kind` named `name` in `namespace` that the field at `at` refers to. Where the
    /// input holds several (the same object once per environment), the nearest one answers
    /// ([`Ctx::nearest`]); equally near copies are reported as ambiguous and none is joined.
    pub fn find(&mut self, at: &Loc, kind: &str, namespace: &str, name: &str) -> Option<ObjectId> {
        let from = at.object;
        let candidates = self.by_name.get(&(kind, namespace, name))?;
        let nearest = self.nearest(from, candidates);
        match nearest.as_slice() {
            [] => None,
            [one] => Some(*one),
            several => {
                let files: Vec<String> = several
                    .iter()
                    .map(|&id| {
                        let o = self.object(id);
                        match (&o.file, o.pos) {
                            (Some(f), Some(p)) => format!("{f}:{}", p.line),
                            (Some(f), None) => f.clone(),
                            (None, _) => "<input>".to_string(),
                        }
                    })
                    .collect();
                self.ambiguous.push(Problem {
                    at: at.clone(),
                    message: format!(
                        "{} refers to {kind} {namespace}/{name}, which the input defines {} \
                         times, equally near to it ({}): none is joined, so what it holds is \
                         unknown here; lint each copy's directory on its own, or keep one copy",
                        self.object(from),
                        several.len(),
                        files.join(", ")
                    ),
                });
                self.ambiguous_names
                    .insert((kind.into(), namespace.into(), name.into()));
                None
            }
        }
    }

    /// Why [`Ctx::find`] found nothing, for messages.
    pub fn why_missing(&self, kind: &str, namespace: &str, name: &str) -> &'static str {
        let key = (kind.to_string(), namespace.to_string(), name.to_string());
        if self.ambiguous_names.contains(&key) {
            "which has several equally near copies in the input"
        } else {
            "which is not in the input"
        }
    }

    /// The candidates `from` may be joined with, nearest first: those in its own file (of
    /// several there, the last: `kubectl apply` leaves the last one), else its directory,
    /// else the nearest ancestor or descendant directory. Candidates in unrelated directories
    /// (`dev/` for a `prod/` object) count only when `from` itself has no copy elsewhere
    /// and nothing nearer exists: then a lone candidate is joined and several are ambiguous.
    pub fn nearest(&self, from: ObjectId, candidates: &[ObjectId]) -> Vec<ObjectId> {
        let copied = self.is_copied(from);
        if candidates.len() <= 1 && !copied {
            return candidates.to_vec();
        }
        let ranked: Vec<(Option<usize>, ObjectId)> = candidates
            .iter()
            .map(|&c| (self.distance(from, c), c))
            .collect();
        let Some(best) = ranked.iter().filter_map(|(d, _)| *d).min() else {
            return if copied {
                // Every candidate belongs to another copy of the tree.
                Vec::new()
            } else {
                candidates.to_vec()
            };
        };
        let tied: Vec<ObjectId> = ranked
            .into_iter()
            .filter(|(d, _)| *d == Some(best))
            .map(|(_, c)| c)
            .collect();
        if best == 0 {
            // The same file: the last document wins, as with `kubectl apply -f`.
            return tied.last().copied().into_iter().collect();
        }
        tied
    }

    /// Another object of the input has `id`'s kind, namespace and name.
    fn is_copied(&self, id: ObjectId) -> bool {
        let o = self.object(id);
        self.by_name
            .get(&(o.kind.as_str(), o.namespace_or_default(), o.name.as_str()))
            .is_some_and(|v| v.len() > 1)
    }

    /// 0: the same file; 1: the same directory; 1 + n: a directory n levels above or below;
    /// `None`: unrelated directories.
    fn distance(&self, a: ObjectId, b: ObjectId) -> Option<usize> {
        let (fa, fb) = (&self.object(a).file, &self.object(b).file);
        if fa == fb {
            return Some(0);
        }
        let dir = |f: &Option<String>| -> Vec<String> {
            let Some(f) = f else { return Vec::new() };
            let mut parts: Vec<String> = std::path::Path::new(f)
                .components()
                .filter(|c| !matches!(c, std::path::Component::CurDir))
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            parts.pop();
            parts
        };
        let (da, db) = (dir(fa), dir(fb));
        let (short, long) = if da.len() <= db.len() {
            (&da, &db)
        } else {
            (&db, &da)
        };
        long.starts_with(short)
            .then(|| 1 + long.len() - short.len())
    }

    pub fn object(&self, id: ObjectId) -> &'a Object {
        &self.objects[id.0]
    }

    pub fn root(&self, id: ObjectId) -> Cursor<'a> {
        Cursor::root(&self.objects[id.0].root)
    }

    /// Objects of `kind` in `namespace`.
    pub fn of_kind<'s>(
        &'s self,
        kind: &'s str,
        namespace: &'s str,
    ) -> impl Iterator<Item = ObjectId> + 's {
        self.by_kind
            .get(&(kind, namespace))
            .into_iter()
            .flatten()
            .copied()
    }
}

/// Turn loaded files into objects (expanding `kind: List`), noting documents that are not
/// objects. The documents' trees move into the objects (`files` keep their text, Helm
/// sections and diagnostics, which is what reports need): copying every tree cost as much
/// as building the model.
pub fn objects_of(files: &mut [SourceFile]) -> (Vec<Object>, Vec<NotAnObject>) {
    let mut objects = Vec::new();
    let mut skipped = Vec::new();
    for file in files {
        for doc in std::mem::take(&mut file.documents) {
            let line = doc.root.start().map_or(1, |p| p.line);
            collect_objects(
                doc.root,
                &file.name,
                doc.index,
                &mut objects,
                &mut |reason| {
                    skipped.push(NotAnObject {
                        file: file.name.clone(),
                        line,
                        reason,
                    })
                },
            );
        }
    }
    (objects, skipped)
}

/// The object of an AdmissionReview (JSON, no positions). `namespace` is the request's: the
/// API server fills `metadata.namespace` in only after admission. `None` when it is not an
/// object (no apiVersion or kind).
pub fn object_from_json(value: &serde_json::Value, namespace: Option<&str>) -> Option<Object> {
    let root = Node::from_json(value);
    let c = Cursor::root(&root);
    let api_version = c.str_at(&["apiVersion"])?.to_string();
    let kind = c.str_at(&["kind"])?.to_string();
    let name = c
        .str_at(&["metadata", "name"])
        .or_else(|| c.str_at(&["metadata", "generateName"]))
        .unwrap_or("")
        .to_string();
    let namespace = c
        .str_at(&["metadata", "namespace"])
        .or(namespace)
        .filter(|n| !n.is_empty())
        .map(str::to_string);
    Some(Object {
        api_version,
        kind,
        namespace,
        name,
        file: None,
        document: None,
        pos: None,
        root,
    })
}

fn collect_objects(
    root: Node,
    file: &str,
    document: usize,
    out: &mut Vec<Object>,
    skip: &mut dyn FnMut(String),
) {
    let c = Cursor::root(&root);
    let (Some(api_version), Some(kind)) = (c.str_at(&["apiVersion"]), c.str_at(&["kind"])) else {
        skip(if root.is_map() {
            "no apiVersion/kind: not a Kubernetes object".to_string()
        } else {
            "not a mapping: not a Kubernetes object".to_string()
        });
        return;
    };
    if kind == "List" || kind.ends_with("List") && c.get("items").is_some() {
        let NodeKind::Map(entries) = root.kind else {
            return;
        };
        let items = entries
            .into_iter()
            .find(|e| e.key.as_str() == Some("items"))
            .map(|e| e.value);
        if let Some(Node {
            kind: NodeKind::Seq(items),
            ..
        }) = items
        {
            for item in items {
                collect_objects(item, file, document, out, skip);
            }
        }
        return;
    }
    let name = c
        .str_at(&["metadata", "name"])
        .or_else(|| c.str_at(&["metadata", "generateName"]))
        .unwrap_or("")
        .to_string();
    let namespace = c.str_at(&["metadata", "namespace"]).map(str::to_string);
    let (api_version, kind) = (api_version.to_string(), kind.to_string());
    out.push(Object {
        api_version,
        kind,
        namespace,
        name,
        file: Some(file.to_string()),
        document: Some(document),
        pos: root.start(),
        root,
    });
}

/// Build the model of a set of objects that form one input.
pub fn extract(objects: Vec<Object>, opts: &Options) -> Inventory {
    match extract_within(objects, opts, &Budget::unlimited()) {
        Ok(inventory) => inventory,
        Err(Exceeded) => unreachable!("an unlimited budget never trips"),
    }
}

/// [`extract`] within `budget`: `Err` as soon as a check finds it exceeded.
pub fn extract_within(
    objects: Vec<Object>,
    opts: &Options,
    budget: &Budget,
) -> Result<Inventory, Exceeded> {
    let (deployments, problems) = {
        let mut ctx = Ctx::new(&objects, opts, budget);
        let mut deployments = Vec::new();
        for id in (0..objects.len()).map(ObjectId) {
            budget.check()?;
            let o = &objects[id.0];
            let group = o.group();
            let found: Vec<Deployment> = match (group, o.kind.as_str()) {
                ("apps.kubeblocks.io", "Cluster") => kubeblocks::cluster(&mut ctx, id),
                ("apps.kubeblocks.io" | "operations.kubeblocks.io", "OpsRequest") => {
                    kubeblocks::ops_request(&mut ctx, id)
                }
                ("parameters.kubeblocks.io", "ComponentParameter" | "Parameter") => {
                    kubeblocks::parameter_object(&mut ctx, id)
                }
                (
                    "apps" | "extensions",
                    "StatefulSet" | "Deployment" | "ReplicaSet" | "DaemonSet",
                )
                | ("", "Pod")
                | ("workloads.kubeblocks.io", "InstanceSet") => workload::workload(&mut ctx, id),
                ("databases.spotahome.com", "RedisFailover") => spotahome::failover(&mut ctx, id),
                (g, k) if g.ends_with("opstreelabs.in") => opstree::resource(&mut ctx, id, k),
                ("valkey.io", "ValkeyCluster") => valkey_operator::cluster(&mut ctx, id),
                ("dragonflydb.io", "Dragonfly") => dragonfly::resource(&mut ctx, id),
                ("kubedb.com", "Redis") => kubedb::redis(&mut ctx, id),
                ("kubedb.com", "RedisSentinel") => kubedb::sentinel(&mut ctx, id),
                ("ops.kubedb.com", "RedisOpsRequest") => kubedb::ops_request(&mut ctx, id),
                (group, kind) => {
                    if let Some(what) = unmodelled_resource(group, kind) {
                        let at = loc(id, &ctx.root(id));
                        let o = ctx.object(id);
                        let message = format!(
                            "{o} is {what}, which redline does not model yet: not judged \
                             (its memory, auth, probes and topology are not checked)"
                        );
                        ctx.unjudged.push(Problem { at, message });
                    }
                    Vec::new()
                }
            };
            deployments.extend(found);
        }
        // A container loop that stopped early left a partial deployment list.
        budget.check()?;
        orphan_config_maps(&ctx, &mut deployments);
        budget.check()?;
        for d in &mut deployments {
            d.pdb = pdb_for(&ctx, d);
        }
        count_selected_pods(&mut deployments);
        let enterprise = enterprise::read(&mut ctx);
        (
            deployments,
            (
                ctx.problems,
                ctx.ambiguous,
                ctx.ops_requests,
                ctx.unjudged,
                enterprise,
            ),
        )
    };
    let (problems, ambiguous, ops_requests, unjudged, (enterprise, enterprise_orphans)) = problems;
    let mut inventory = Inventory::new(objects, deployments, problems);
    inventory.ambiguous = ambiguous;
    inventory.ops_requests = ops_requests;
    inventory.unjudged = unjudged;
    inventory.enterprise = enterprise;
    inventory.enterprise_orphans = enterprise_orphans;
    Ok(inventory)
}

/// Directives that mark a text as a redis.conf (a ConfigMap key holding one).
const REDIS_CONF_MARKERS: [&str; 10] = [
    "port",
    "bind",
    "maxmemory",
    "save",
    "appendonly",
    "dir",
    "cluster-enabled",
    "include",
    "requirepass",
    "maxmemory-policy",
];

pub(crate) fn looks_like_redis_conf(key: &str, text: &str) -> bool {
    let named = (key.ends_with(".conf") && !key.contains("sentinel")) || key == "redis-config";
    named
        && text.lines().any(|l| {
            let first = l.split_whitespace().next().unwrap_or("").to_lowercase();
            REDIS_CONF_MARKERS.contains(&first.as_str())
        })
}

/// ConfigMaps carrying a redis.conf that no workload of the input mounts: still judged for
/// what the file alone says (its resources are unknown).
/// Adds a deployment for each redis.conf of a ConfigMap no deployment uses (pushed in place:
/// a copy of thousands of deployments is memory a review's budget never sees).
fn orphan_config_maps(ctx: &Ctx, out: &mut Vec<Deployment>) {
    let used: std::collections::HashSet<ObjectId> = out
        .iter()
        .flat_map(|d| d.related.iter().copied().chain([d.object]))
        .collect();
    for (i, o) in ctx.objects.iter().enumerate() {
        let id = ObjectId(i);
        if o.kind != "ConfigMap" || !o.group().is_empty() || used.contains(&id) {
            continue;
        }
        let root = ctx.root(id);
        for (key, value) in root.get("data").map(|d| d.entries()).unwrap_or_default() {
            let Some(scalar) = value.node.scalar() else {
                continue;
            };
            if !looks_like_redis_conf(key, &scalar.text) {
                continue;
            }
            // One ConfigMap may hold thousands of files.
            if !ctx.within_budget() {
                return;
            }
            let mut asm = assembly::Assembly::new();
            let path = format!("/etc/redis/{key}");
            asm.file_from_scalar(&path, scalar, &loc(id, &value));
            asm.known_dir("/etc/redis");
            asm.push_arg(path, None);
            // Which server reads it is not known: any release's directives are accepted.
            let config = asm.finish(crate::redisconf::Dialect::Unknown(
                crate::model::Product::Redis,
            ));
            let role = if config.redis.cluster_enabled() {
                crate::model::Role::ClusterShard
            } else if config.redis.replicaof().is_some() {
                crate::model::Role::Replication
            } else {
                crate::model::Role::Standalone
            };
            out.push(Deployment {
                object: id,
                component: Some(key.to_string()),
                platform: crate::model::Platform::ConfigMap,
                role,
                replicas: None,
                shards: None,
                containers: Vec::new(),
                config,
                data: crate::model::DataVolume::Unknown,
                engine: crate::model::Product::Redis,
                version: None,
                pod_management_policy: None,
                pod_spec: None,
                node_tuning: Vec::new(),
                termination_grace_seconds: None,
                sentinels: None,
                anti_affinity: crate::model::AntiAffinity::Unknown,
                topology_spread: false,
                pdb: None,
                selector: Vec::new(),
                pod_labels: Vec::new(),
                related: Vec::new(),
                operation: None,
                notes: vec![
                    "no workload in the input mounts this ConfigMap: container resources unknown"
                        .to_string(),
                ],
            });
        }
    }
}

/// A Redis-family resource no extractor reads: what it is, for the note that says so.
fn unmodelled_resource(group: &str, kind: &str) -> Option<&'static str> {
    match (group, kind) {
        ("app.redislabs.com", "RedisEnterpriseActiveActiveDatabase") => {
            Some("a Redis Enterprise Active-Active database")
        }
        _ => None,
    }
}

/// Every pod each budget selects, over all the workloads it is joined to: a budget whose
/// selector matches a primary's and a replicas' StatefulSet guards both at once, and the
/// disruption controller counts them together. A pod that runs a server and a Sentinel
/// container counts once; operation projections are the same pods again. Unknown when one
/// workload's count is.
fn count_selected_pods(deployments: &mut [Deployment]) {
    let mut per_workload: std::collections::HashMap<(ObjectId, ObjectId), Option<i64>> =
        std::collections::HashMap::new();
    for d in deployments.iter().filter(|d| d.operation.is_none()) {
        let Some(pdb) = &d.pdb else { continue };
        let pods = d.pods();
        per_workload
            .entry((pdb.object, d.object))
            .and_modify(|n| *n = n.zip(pods).map(|(a, b)| a.max(b)))
            .or_insert(pods);
    }
    let mut totals: std::collections::HashMap<ObjectId, Option<i64>> =
        std::collections::HashMap::new();
    for ((pdb, _), pods) in per_workload {
        let total = totals.entry(pdb).or_insert(Some(0));
        *total = total.zip(pods).and_then(|(a, b)| a.checked_add(b));
    }
    for d in deployments.iter_mut() {
        if let Some(pdb) = &mut d.pdb {
            pdb.selected_pods = totals.get(&pdb.object).copied().flatten();
        }
    }
}

/// The PodDisruptionBudget of the input that selects a deployment's pods.
fn pdb_for(ctx: &Ctx, d: &Deployment) -> Option<Pdb> {
    if d.pod_labels.is_empty() {
        return None;
    }
    let base = ctx.object(d.object);
    let selecting: Vec<ObjectId> = ctx
        .of_kind("PodDisruptionBudget", base.namespace_or_default())
        .filter(|&id| {
            let selector = string_map(ctx.root(id).at(&["spec", "selector", "matchLabels"]));
            !selector.is_empty() && selector.iter().all(|kv| d.pod_labels.contains(kv))
        })
        .collect();
    // Another environment's budget does not protect this copy's pods.
    let id = *ctx.nearest(d.object, &selecting).first()?;
    let root = ctx.root(id);
    Some(Pdb {
        object: id,
        min_available: root
            .at(&["spec", "minAvailable"])
            .and_then(|c| located_str(id, &c)),
        max_unavailable: root
            .at(&["spec", "maxUnavailable"])
            .and_then(|c| located_str(id, &c)),
        selected_pods: None,
    })
}

//! KubeDB (`kubedb.com` `Redis`, `RedisSentinel`; `ops.kubedb.com` `RedisOpsRequest`): the
//! resource as KubeDB's mutating webhook completes it. Facts from kubedb/apimachinery@104ef57
//! (`apis/kubedb/v1/redis_types.go`, `redis_helpers.go` `SetDefaults`,
//! `apis/kubedb/constants.go`, `apis/kubedb/v1alpha2/conversion.go`) and kubedb/docs; the
//! code that writes the pods (kubedb/provisioner) is not public, so what it adds — the
//! generated `default.conf`, probes, the PodDisruptionBudget — is a gap, never a default.

use base64::Engine as _;

use crate::model::{
    AntiAffinity, Container, DataVolume, Deployment, Located, Memory, ObjectId, Operation, Origin,
    Platform, Product, Role, Version,
};
use crate::source::Cursor;

use super::Ctx;
use super::assembly::{Assembly, SYNTHETIC_DIR, SynthLine};
use super::common::{absent, container_at, dialect, loc, located_i64, resources};
use super::image::version_from_text;

const KUBEDB: &str = "KubeDB";
/// `kubedb.DefaultResources`: requests 500m / 1024Mi, limits 1024Mi (no CPU limit).
const DEFAULT_MEMORY: &str = "1024Mi";

/// A `Redis` (v1 or v1alpha2) in Standalone, Cluster or Sentinel mode.
pub fn redis(ctx: &mut Ctx, id: ObjectId) -> Vec<Deployment> {
    build(ctx, id, None)
}

/// What a `RedisOpsRequest` changes of its database.
struct Change<'a> {
    object: ObjectId,
    kind: String,
    /// `spec.verticalScaling.redis`, whose `resources` replace the `redis` container's.
    resources: Option<Cursor<'a>>,
    /// `spec.configuration`: `applyConfig` lines on top, `configSecret` instead of the
    /// database's Secret, `removeCustomConfig`.
    configuration: Option<Cursor<'a>>,
}

/// A `RedisOpsRequest` (ops.kubedb.com): a VerticalScaling or a Reconfigure is judged as the
/// database it leaves (a projection on the request); other types change nothing redline reads.
pub fn ops_request(ctx: &mut Ctx, id: ObjectId) -> Vec<Deployment> {
    let root = ctx.root(id);
    let Some(spec) = root.get("spec") else {
        return Vec::new();
    };
    let kind = spec.str_at(&["type"]).unwrap_or("").to_string();
    let (resources, configuration) = match kind.as_str() {
        "VerticalScaling" => (spec.at(&["verticalScaling", "redis"]), None),
        "Reconfigure" => (None, spec.get("configuration")),
        _ => return Vec::new(),
    };
    let Some(name_at) = spec.at(&["databaseRef", "name"]) else {
        return Vec::new();
    };
    let Some(name) = name_at.str() else {
        return Vec::new();
    };
    let at = loc(id, &name_at);
    let namespace = ctx.object(id).namespace_or_default().to_string();
    let Some(database) = ctx.find(&at, "Redis", &namespace, name) else {
        return Vec::new();
    };
    if ctx.object(database).group() != "kubedb.com" {
        return Vec::new();
    }
    let change = Change {
        object: id,
        kind,
        resources,
        configuration,
    };
    build(ctx, database, Some(&change))
}

fn build(ctx: &mut Ctx, id: ObjectId, change: Option<&Change>) -> Vec<Deployment> {
    let root = ctx.root(id);
    let v1alpha2 = ctx.object(id).version() == "v1alpha2";
    let Some(spec) = root.get("spec") else {
        return Vec::new();
    };
    let version = engine_version(&spec, id);
    let engine = version.as_ref().map_or(Product::Redis, |v| v.product);
    let mode = spec.str_at(&["mode"]).unwrap_or("Standalone");
    // KubeDB names the database container `redis` for Valkey too
    // (`kubedb.RedisContainerName`).
    let mut container = container_at("redis", loc(id, &spec));
    let mut defaulted = pod_resources(ctx, id, &spec, v1alpha2, "redis", &mut container);
    if let Some(Change {
        object,
        resources: Some(r),
        ..
    }) = change
    {
        // A VerticalScaling's resources replace the container's, defaulted the same way.
        container = container_at(&container.name, loc(*object, r));
        resources(ctx, *object, r, "resources", &mut container);
        defaulted = default_limit(&mut container);
    }
    let mut notes = vec![format!(
        "{KUBEDB} writes the pods (a PetSet per shard), their probes and \
         PodDisruptionBudget; the input does not show them"
    )];
    notes.extend(defaulted);
    let mut asm = Assembly::new();
    asm.gap(
        "KubeDB's start script runs redis-server with /data/default.conf, which the operator \
         composes from its own defaults and the user's configuration (kubedb/provisioner is \
         not public): directives not written here are unknown",
    );
    user_config(
        ctx,
        id,
        &spec,
        engine,
        change.and_then(|c| c.configuration.as_ref().map(|cfg| (c.object, cfg.clone()))),
        &mut asm,
    );
    if !spec
        .get("disableAuth")
        .and_then(|d| d.bool())
        .unwrap_or(false)
    {
        asm.unknown(
            "requirepass",
            format!(
                "KubeDB sets the password from Secret {} (auth is on unless disableAuth)",
                spec.str_at(&["authSecret", "name"])
                    .map(str::to_string)
                    .unwrap_or_else(|| format!("{}-auth", ctx.object(id).name))
            ),
        );
    }
    let (role, replicas, shards) = match mode {
        "Cluster" => {
            let cluster = spec.get("cluster");
            let count = |ctx: &mut Ctx, key: &str, default: i64| {
                located_i64(ctx, id, cluster.as_ref().and_then(|c| c.get(key))).unwrap_or(Located {
                    value: default,
                    at: match &cluster {
                        Some(c) => absent(id, c, key),
                        None => absent(id, &spec, "cluster"),
                    },
                })
            };
            // v1alpha2 counts masters and replicas per master; v1 counts shards and the
            // pods of each, its master included (conversion.go: replicas + 1).
            let (shards, mut replicas) = if v1alpha2 {
                (count(ctx, "master", 3), count(ctx, "replicas", 1))
            } else {
                (count(ctx, "shards", 3), count(ctx, "replicas", 2))
            };
            if v1alpha2 {
                replicas.value += 1;
            }
            (Role::ClusterShard, replicas, Some(shards))
        }
        _ => {
            let replicas = located_i64(ctx, id, spec.get("replicas")).unwrap_or(Located {
                value: 1,
                at: absent(id, &spec, "replicas"),
            });
            let role = if mode == "Sentinel" || replicas.value > 1 {
                Role::Replication
            } else {
                Role::Standalone
            };
            (role, replicas, None)
        }
    };
    if role == Role::ClusterShard {
        asm.note(
            "KubeDB's start script announces each node (its pod IP, or with \
             spec.cluster.announce its hostname) and meets the nodes again after a restart",
        );
    }
    let data = data_volume(id, &spec);
    let anti_affinity = if v1alpha2 {
        // v1alpha2's SetDefaults adds a preferred anti-affinity when none is written.
        match spec.at(&["podTemplate", "spec"]) {
            Some(pod) if pod.get("affinity").is_some() => super::common::anti_affinity(id, &pod),
            _ => AntiAffinity::Preferred {
                at: absent(id, &spec, "podTemplate"),
            },
        }
    } else {
        // v1's `podPlacementPolicy` (default "default") is not in the input.
        AntiAffinity::Unknown
    };
    vec![Deployment {
        object: change.map_or(id, |c| c.object),
        component: None,
        platform: Platform::KubeDb,
        role,
        engine,
        replicas: Some(replicas),
        shards,
        containers: vec![container],
        config: asm.finish(dialect(engine, version.as_ref())),
        data,
        version,
        pod_management_policy: None,
        pod_spec: None,
        anti_affinity,
        topology_spread: false,
        pdb: None,
        pod_labels: Vec::new(),
        selector: Vec::new(),
        related: change.map(|_| vec![id]).unwrap_or_default(),
        operation: change.map(|c| Operation {
            object: c.object,
            kind: c.kind.clone(),
            cluster_found: true,
        }),
        notes,
        node_tuning: Vec::new(),
        termination_grace_seconds: None,
        sentinels: None,
    }]
}

/// A `RedisSentinel`: the Sentinels a `Redis` in Sentinel mode names in `spec.sentinelRef`.
pub fn sentinel(ctx: &mut Ctx, id: ObjectId) -> Vec<Deployment> {
    let root = ctx.root(id);
    let Some(spec) = root.get("spec") else {
        return Vec::new();
    };
    let version = engine_version(&spec, id);
    let engine = version.as_ref().map_or(Product::Redis, |v| v.product);
    let mut container = container_at("redissentinel", loc(id, &spec));
    let defaulted = pod_resources(ctx, id, &spec, false, "redissentinel", &mut container);
    let replicas = located_i64(ctx, id, spec.get("replicas")).unwrap_or(Located {
        value: 1,
        at: absent(id, &spec, "replicas"),
    });
    let mut asm = Assembly::new();
    asm.sentinel(true);
    asm.gap("KubeDB's sentinel.sh writes the Sentinels' configuration at start-up");
    vec![Deployment {
        object: id,
        component: None,
        platform: Platform::KubeDb,
        role: Role::Sentinel,
        engine,
        replicas: Some(replicas),
        shards: None,
        containers: vec![container],
        config: asm.finish(dialect(engine, version.as_ref())),
        data: DataVolume::None,
        version,
        pod_management_policy: None,
        pod_spec: None,
        anti_affinity: AntiAffinity::Unknown,
        topology_spread: false,
        pdb: None,
        pod_labels: Vec::new(),
        selector: Vec::new(),
        related: Vec::new(),
        operation: None,
        notes: defaulted.into_iter().collect(),
        node_tuning: Vec::new(),
        termination_grace_seconds: None,
        sentinels: Some(super::sentinel::by_operator(
            None,
            "KubeDB's sentinel.sh monitors the primary by its pod's DNS name \
             (replica-announce-ip), and the quorum it writes is not in the input",
        )),
    }]
}

/// `spec.version` names a RedisVersion: `valkey-8.0.3` is Valkey 8.0.3, `7.2.4` (or
/// `6.2.5-v1`) Redis (kubedb/installer's catalog).
fn engine_version(spec: &Cursor, id: ObjectId) -> Option<Version> {
    let v = spec.get("version")?;
    let text = v.str()?;
    let at = loc(id, &v);
    let (engine, rest) = match text.strip_prefix("valkey-") {
        Some(rest) => (Product::Valkey, rest),
        None => (Product::Redis, text),
    };
    let numeric = rest.split('-').next().unwrap_or(rest);
    version_from_text(engine, numeric, text, &at)
}

/// Resources of container `name` of `spec.podTemplate` (v1: per container; v1alpha2: the
/// pod template's own `resources`), with KubeDB's defaults filled in.
fn pod_resources(
    ctx: &mut Ctx,
    id: ObjectId,
    spec: &Cursor,
    v1alpha2: bool,
    name: &str,
    container: &mut Container,
) -> Option<String> {
    let pod = spec.at(&["podTemplate", "spec"]);
    let parent = if v1alpha2 {
        pod.clone()
    } else {
        pod.as_ref()
            .and_then(|p| p.get("containers"))
            .map(|c| c.items())
            .unwrap_or_default()
            .into_iter()
            .find(|c| c.str_at(&["name"]) == Some(name))
    };
    match &parent {
        Some(p) => {
            container.at = loc(id, p);
            resources(ctx, id, p, "resources", container);
        }
        None => container.resources_at = absent(id, spec, "podTemplate"),
    }
    default_limit(container)
}

/// `SetDefaultResourceLimits` with `kubedb.DefaultResources`: the request becomes the limit,
/// and with neither the limit is 1024Mi.
/// Returns the note that says which default applied, if one did.
fn default_limit(container: &mut Container) -> Option<String> {
    if container.memory_limit.is_some() {
        return None;
    }
    let (limit, note) = match &container.memory_request {
        Some(request) => (
            request.clone(),
            "limits.memory is the request: KubeDB's webhook sets a missing limit to it".to_string(),
        ),
        None => (
            Memory {
                bytes: 1024 << 20,
                text: DEFAULT_MEMORY.to_string(),
                at: container.resources_at.clone(),
            },
            format!(
                "limits.memory is KubeDB's default ({DEFAULT_MEMORY}, kubedb.DefaultResources)"
            ),
        ),
    };
    container.request_from_limit = container.memory_request.is_none();
    container.memory_limit = Some(limit);
    Some(note)
}

/// The user's redis.conf lines: the Secret named by `spec.configuration.secretName` (or the
/// older `spec.configSecret`), key `redis.conf` (`valkey.conf` for Valkey), then
/// `spec.configuration.inline`; a Reconfigure's `configSecret` replaces the Secret (and
/// `removeCustomConfig` both), and its `applyConfig` comes last ("override both default
/// configurations and configurations from the config secret").
fn user_config(
    ctx: &mut Ctx,
    id: ObjectId,
    spec: &Cursor,
    engine: Product,
    reconfigure: Option<(ObjectId, Cursor)>,
    asm: &mut Assembly,
) {
    let key = if engine == Product::Valkey {
        "valkey.conf"
    } else {
        "redis.conf"
    };
    // Each part is a file of its own, included in that order by a composed file, so that a
    // fix can rewrite the line where it is written.
    let mut includes: Vec<String> = Vec::new();
    let scalar_file = |asm: &mut Assembly,
                       includes: &mut Vec<String>,
                       path: String,
                       object: ObjectId,
                       c: &Cursor| {
        if let Some(scalar) = c.node.scalar() {
            asm.file_from_scalar(&path, scalar, &loc(object, c));
            includes.push(path);
        }
    };
    let removed = reconfigure
        .as_ref()
        .is_some_and(|(_, c)| c.get("removeCustomConfig").and_then(|r| r.bool()) == Some(true));
    let secret_ref = match &reconfigure {
        Some((ops, c)) if c.at(&["configSecret", "name"]).is_some() => {
            c.at(&["configSecret", "name"]).map(|r| (*ops, r))
        }
        _ if removed => None,
        _ => spec
            .at(&["configuration", "secretName"])
            .or_else(|| spec.at(&["configSecret", "name"]))
            .map(|r| (id, r)),
    };
    if let Some((from, secret_ref)) = secret_ref
        && let Some(name) = secret_ref.str()
    {
        let at = loc(from, &secret_ref);
        let namespace = ctx.object(id).namespace_or_default().to_string();
        let path = format!("/Secret/{namespace}/{name}/{key}");
        match ctx.find(&at, "Secret", &namespace, name) {
            Some(secret) => {
                let root = ctx.root(secret);
                if let Some(text) = root.at(&["stringData", key]) {
                    scalar_file(asm, &mut includes, path, secret, &text);
                } else if let Some(data) = root.at(&["data", key]) {
                    let decoded = data.str().and_then(|b| {
                        let b: String = b.split_whitespace().collect();
                        base64::engine::general_purpose::STANDARD.decode(b).ok()
                    });
                    match decoded.and_then(|d| String::from_utf8(d).ok()) {
                        // Base64: the lines have no place of their own but the key's, and
                        // a fix cannot rewrite one (not a file's text).
                        Some(text) => {
                            let at = loc(secret, &data);
                            let field = format!("Secret {namespace}/{name} data.{key} (base64)");
                            let lines = text
                                .lines()
                                .map(|l| SynthLine {
                                    text: l.to_string(),
                                    origin: Origin::ResourceConfig {
                                        field: field.clone(),
                                    },
                                    at: Some(at.clone()),
                                })
                                .collect();
                            asm.synthetic_file(&path, lines);
                            includes.push(path);
                        }
                        None => ctx.problem(
                            loc(secret, &data),
                            format!("Secret {namespace}/{name} key {key} is not base64 UTF-8 text"),
                        ),
                    }
                } else {
                    asm.gap(format!(
                        "Secret {namespace}/{name} has no key {key}, the only one KubeDB reads"
                    ));
                }
            }
            None => {
                let why = ctx.why_missing("Secret", &namespace, name);
                asm.gap(format!(
                    "the configuration Secret {namespace}/{name}, {why}"
                ));
            }
        }
    }
    if let Some(inline) = spec
        .at(&["configuration", "inline", key])
        .filter(|_| !removed)
    {
        scalar_file(
            asm,
            &mut includes,
            format!("/spec.configuration.inline/{key}"),
            id,
            &inline,
        );
    }
    if let Some((ops, c)) = &reconfigure
        && let Some(apply) = c.at(&["applyConfig", key])
    {
        scalar_file(
            asm,
            &mut includes,
            format!("/RedisOpsRequest/spec.configuration.applyConfig/{key}"),
            *ops,
            &apply,
        );
    }
    if !includes.is_empty() {
        let path = format!("{SYNTHETIC_DIR}/kubedb-default.conf");
        let lines = includes
            .into_iter()
            .map(|p| SynthLine {
                text: format!("include {p}"),
                origin: Origin::OperatorDefault {
                    operator: KUBEDB.to_string(),
                    rule: "the user's configuration in /data/default.conf".to_string(),
                },
                at: None,
            })
            .collect();
        asm.synthetic_file(&path, lines);
        asm.push_arg(path, None);
    }
}

/// `storageType` Durable (the default) keeps data in a claim from `spec.storage`;
/// Ephemeral in an emptyDir.
fn data_volume(id: ObjectId, spec: &Cursor) -> DataVolume {
    match spec.str_at(&["storageType"]) {
        Some("Ephemeral") => DataVolume::EmptyDir {
            at: loc(id, &spec.get("storageType").unwrap_or_else(|| spec.clone())),
            memory_medium: None,
        },
        _ => match spec.get("storage") {
            // `spec.storage` is a PersistentVolumeClaimSpec, not a claim template.
            Some(storage) => super::common::claim_spec(id, &storage),
            None => DataVolume::Unknown,
        },
    }
}

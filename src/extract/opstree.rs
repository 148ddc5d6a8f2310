//! OT-CONTAINER-KIT redis-operator (redis.redis.opstreelabs.in v1beta1/v1beta2): `Redis`,
//! `RedisReplication`, `RedisSentinel`, `RedisCluster`. Defaults from
//! OT-CONTAINER-KIT/redis-operator@5dd04e1 (`internal/k8sutils/statefulset.go`,
//! `internal/agent/bootstrap/redis/config.go`, `api/common/v1beta2/common_types.go`).

use crate::model::{
    DataVolume, Deployment, Handler, Loc, Located, ObjectId, Origin, Platform, Probe, ProbeOrigin,
    Probes, Product, Role, SentinelAddressing, SentinelQuorum, Sentinels,
};
use crate::source::Cursor;
use crate::units::human;

use super::Ctx;
use super::assembly::{Assembly, SYNTHETIC_DIR, SynthLine};
use super::common::{
    absent, anti_affinity, container_at, dialect, loc, located_i64, located_str, operator_probe,
    probe, resources, version_from_image,
};
use super::image::version_from_text;
use super::workload::claim_volume;

const OPERATOR: &str = "OT redis-operator";
/// Where the operator mounts `additionalRedisConfig` and includes it from.
const EXTERNAL_CONF: &str = "/etc/redis/external.conf.d/redis-additional.conf";

/// The operator's PONG check, used for liveness *and* readiness when the user gives none.
fn pong_check() -> Handler {
    Handler::Exec(vec![
        "sh".into(),
        "-ec".into(),
        "RESP=\"$(redis-cli -h $(hostname) -p ${REDIS_PORT} ping)\"; [ \"$RESP\" = \"PONG\" ]"
            .into(),
    ])
}

pub fn resource(ctx: &mut Ctx, id: ObjectId, kind: &str) -> Vec<Deployment> {
    let root = ctx.root(id);
    let Some(spec) = root.get("spec") else {
        return Vec::new();
    };
    let name = ctx.object(id).name.clone();
    match kind {
        "Redis" => vec![build(ctx, id, &spec, None, Role::Standalone, &name)],
        "RedisReplication" => vec![build(ctx, id, &spec, None, Role::Replication, &name)],
        "RedisSentinel" => vec![build(ctx, id, &spec, None, Role::Sentinel, &name)],
        "RedisCluster" => ["redisLeader", "redisFollower"]
            .iter()
            .map(|part| build(ctx, id, &spec, Some(part), Role::ClusterShard, &name))
            .collect(),
        _ => Vec::new(),
    }
}

fn build(
    ctx: &mut Ctx,
    id: ObjectId,
    spec: &Cursor,
    part: Option<&str>,
    role: Role,
    name: &str,
) -> Deployment {
    let part_cursor = part.and_then(|p| spec.get(p));
    let kc = spec.get("kubernetesConfig");
    // What stands for the container: the leader/follower block, else kubernetesConfig (its
    // image and resources), else the spec — not the spec's first key (`clusterSize`).
    let container_cursor = part_cursor
        .clone()
        .or_else(|| kc.clone())
        .unwrap_or_else(|| spec.clone());
    let mut container = container_at(
        part.map_or("redis", |p| p.trim_start_matches("redis")),
        loc(id, &container_cursor),
    );
    container.name = container.name.to_lowercase();
    // Leader/follower resources fall back to kubernetesConfig.resources.
    match (&part_cursor, &kc) {
        (Some(p), _) if p.get("resources").is_some() => {
            resources(ctx, id, p, "resources", &mut container)
        }
        (_, Some(k)) => resources(ctx, id, k, "resources", &mut container),
        _ => {}
    }
    container.image = kc
        .as_ref()
        .and_then(|k| k.get("image"))
        .and_then(|i| located_str(id, &i));
    let probe_owner = part_cursor.clone().unwrap_or_else(|| spec.clone());
    container.probes = Probes {
        liveness: Some(ot_probe(ctx, id, probe_owner.get("livenessProbe"))),
        readiness: Some(ot_probe(ctx, id, probe_owner.get("readinessProbe"))),
        startup: None,
    };
    let cluster_size = located_i64(ctx, id, spec.get("clusterSize"));
    let replicas = match (role, &part_cursor) {
        (Role::Standalone, _) => Some(Located {
            value: 1,
            at: loc(id, spec),
        }),
        (Role::ClusterShard, Some(p)) => {
            located_i64(ctx, id, p.get("replicas")).or(cluster_size.clone())
        }
        _ => cluster_size.clone(),
    };
    let shards = if role == Role::ClusterShard {
        cluster_size
    } else {
        None
    };
    let storage = spec.at(&["storage", "volumeClaimTemplate"]);
    let persistence = match role {
        Role::ClusterShard => spec
            .get("persistenceEnabled")
            .and_then(|p| p.bool())
            .unwrap_or(storage.is_some()),
        _ => storage.is_some(),
    };
    let mut asm = Assembly::new();
    let mut related = Vec::new();
    if role == Role::Sentinel {
        asm.gap(
            "the operator writes the Sentinels' configuration file (their quorum and addressing \
             are modelled)",
        );
    } else {
        let redis_config = part_cursor
            .as_ref()
            .and_then(|p| p.get("redisConfig"))
            .or_else(|| spec.get("redisConfig"));
        let lines = config_lines(
            ctx,
            id,
            &container,
            redis_config.as_ref(),
            (role, persistence),
            &mut asm,
            &mut related,
        );
        let path = format!("{SYNTHETIC_DIR}/{name}-{}.conf", container.name);
        asm.synthetic_file(&path, lines);
        asm.push_arg(path, None);
    }
    let data = match &storage {
        Some(s) => claim_volume(id, s),
        None => DataVolume::None,
    };
    let version = container
        .image
        .as_ref()
        .and_then(version_from_image)
        .or_else(|| {
            let v = spec.get("clusterVersion")?;
            let text = v.str()?;
            version_from_text(
                Product::Redis,
                text.trim_start_matches('v'),
                text,
                &loc(id, &v),
            )
        });
    let engine = version.as_ref().map_or(Product::Redis, |v| v.product);
    let sts = part.map_or(name.to_string(), |p| {
        format!("{name}-{}", p.trim_start_matches("redis").to_lowercase())
    });
    let sentinels = (role == Role::Sentinel).then(|| sentinels(id, spec));
    Deployment {
        object: id,
        component: part.map(|p| p.trim_start_matches("redis").to_lowercase()),
        platform: Platform::OpsTree,
        role,
        replicas,
        shards,
        containers: vec![container],
        config: asm.finish(dialect(engine, version.as_ref())),
        data,
        engine,
        version,
        pod_management_policy: None,
        pod_spec: None,
        node_tuning: Vec::new(),
        termination_grace_seconds: None,
        sentinels,
        // RedisCluster's leader and follower have their own `affinity` and spread
        // constraints (api/common/v1beta2/common_types.go `RedisLeader`/`RedisFollower`).
        anti_affinity: anti_affinity(id, part_cursor.as_ref().unwrap_or(spec)),
        topology_spread: part_cursor
            .as_ref()
            .unwrap_or(spec)
            .get("topologySpreadConstraints")
            .is_some(),
        pdb: None,
        selector: Vec::new(),
        pod_labels: vec![("app".into(), sts)],
        related,
        operation: None,
        notes: Vec::new(),
    }
}

/// A user probe (its handler filled with the PONG check when absent) or the operator's.
fn ot_probe(ctx: &mut Ctx, id: ObjectId, c: Option<Cursor>) -> Probe {
    match probe(ctx, id, c, ProbeOrigin::User) {
        Some(mut p) => {
            if p.handler == Handler::Missing {
                p.handler = pong_check();
                p.origin = ProbeOrigin::Operator(format!("{OPERATOR} (handler)"));
            }
            p
        }
        // Kubernetes defaults: no delay, period 10, timeout 1, failure 3.
        None => operator_probe(pong_check(), OPERATOR, [0, 10, 1, 1, 3]),
    }
}

fn config_lines(
    ctx: &mut Ctx,
    id: ObjectId,
    container: &crate::model::Container,
    redis_config: Option<&Cursor>,
    (role, persistence): (Role, bool),
    asm: &mut Assembly,
    related: &mut Vec<ObjectId>,
) -> Vec<SynthLine> {
    let default = |rule: &str| Origin::OperatorDefault {
        operator: OPERATOR.to_string(),
        rule: rule.to_string(),
    };
    let at = Some(container.at.clone());
    let mut lines = Vec::new();
    let mut push = |text: String, origin: Origin, at: Option<crate::model::Loc>| {
        lines.push(SynthLine { text, origin, at })
    };
    if persistence {
        for l in [
            "save 900 1",
            "save 300 10",
            "save 60 10000",
            "appendonly yes",
        ] {
            push(l.into(), default("persistence enabled"), at.clone());
        }
    }
    if role == Role::ClusterShard {
        for l in [
            "cluster-enabled yes",
            "cluster-node-timeout 15000",
            "cluster-require-full-coverage no",
            "cluster-migration-barrier 1",
        ] {
            push(l.into(), default("cluster mode"), at.clone());
        }
    }
    if let Some(rc) = redis_config {
        if let Some(pct) = located_i64(ctx, id, rc.get("maxMemoryPercentOfLimit")) {
            match &container.memory_limit {
                Some(limit) => {
                    // `int(limit × pct / 100)` in the operator.
                    let bytes = (limit.bytes as u128 * pct.value.clamp(0, 100) as u128 / 100) as u64;
                    push(
                        format!("maxmemory {bytes}"),
                        default(&format!(
                            "maxmemory = {}% of memory limit {} ({})",
                            pct.value,
                            limit.text,
                            human::size(limit.bytes)
                        )),
                        Some(pct.at.clone()),
                    );
                }
                None => asm.note(
                    "maxMemoryPercentOfLimit without a memory limit: the operator sets no maxmemory",
                ),
            }
        }
        if let Some(cm_name) = rc.str_at(&["additionalRedisConfig"]) {
            let ns = ctx.object(id).namespace_or_default().to_string();
            let at = rc
                .get("additionalRedisConfig")
                .map_or_else(|| loc(id, rc), |c| loc(id, &c));
            match ctx.find(&at, "ConfigMap", &ns, cm_name) {
                Some(cm) => match ctx.root(cm).at(&["data", "redis-additional.conf"]) {
                    Some(v) => {
                        related.push(cm);
                        if let Some(s) = v.node.scalar() {
                            asm.file_from_scalar(EXTERNAL_CONF, s, &loc(cm, &v));
                            asm.known_dir("/etc/redis/external.conf.d");
                        }
                        push(
                            format!("include {EXTERNAL_CONF}"),
                            default("additionalRedisConfig is included last"),
                            rc.get("additionalRedisConfig").map(|c| loc(id, &c)),
                        );
                    }
                    None => ctx.problem(
                        loc(cm, &ctx.root(cm)),
                        format!("ConfigMap {cm_name} has no key `redis-additional.conf`, which the operator mounts"),
                    ),
                },
                None => asm.gap(format!(
                    "additionalRedisConfig ConfigMap {cm_name}, {}",
                    ctx.why_missing("ConfigMap", &ns, cm_name)
                )),
            }
        }
        for line in rc
            .get("dynamicConfig")
            .map(|d| d.items())
            .unwrap_or_default()
        {
            if let Some(text) = line.str() {
                push(text.to_string(), Origin::CustomConfig, Some(loc(id, &line)));
            }
        }
    }
    lines
}

/// A RedisSentinel's `redisSentinelConfig` (api/common/v1beta2/common_types.go @5dd04e1):
/// `quorum` "2" and `resolveHostnames`/`announceHostnames` "no" by default, all strings. With
/// `resolveHostnames: "no"` the controller monitors the primary's pod IP and does not watch
/// pods (redis-operator#1781).
fn sentinels(id: ObjectId, spec: &Cursor) -> Sentinels {
    let config = spec.get("redisSentinelConfig");
    let parent = config.clone().unwrap_or_else(|| spec.clone());
    let at = |key: &str| match &config {
        Some(c) => c
            .get(key)
            .map_or_else(|| absent(id, c, key), |v| loc(id, &v)),
        None => Loc {
            pointer: format!(
                "{}/{key}",
                absent(id, &parent, "redisSentinelConfig").pointer
            ),
            ..absent(id, &parent, "redisSentinelConfig")
        },
    };
    let text = |key: &str| {
        config
            .as_ref()
            .and_then(|c| c.get(key))
            .and_then(|v| v.str().map(str::to_string))
    };
    let quorum = match text("quorum") {
        None => Some(SentinelQuorum {
            value: 2,
            at: at("quorum"),
            set_by: Some(format!("{OPERATOR} default")),
        }),
        Some(q) => q.trim().parse().ok().map(|value| SentinelQuorum {
            value,
            at: at("quorum"),
            set_by: None,
        }),
    };
    let yes = |key: &str| Located {
        value: text(key).is_some_and(|v| v.trim().eq_ignore_ascii_case("yes")),
        at: at(key),
    };
    Sentinels {
        quorum,
        addressing: SentinelAddressing::Fields {
            resolve_hostnames: yes("resolveHostnames"),
            announce_hostnames: yes("announceHostnames"),
        },
    }
}

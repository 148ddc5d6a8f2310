//! Spotahome `RedisFailover` (databases.spotahome.com/v1): Redis replicas managed by
//! Sentinel. Defaults from spotahome/redis-operator@632aa3d (`api/redisfailover/v1/defaults.go`,
//! `operator/redisfailover/service/generator.go`).

use crate::model::{
    AntiAffinity, DataVolume, Deployment, Handler, Located, ObjectId, Origin, Platform, Probes,
    Product, Role, SentinelQuorum,
};
use crate::source::Cursor;

use super::Ctx;
use super::assembly::{Assembly, SYNTHETIC_DIR, SynthLine};
use super::common::{
    anti_affinity, container_at, dialect, loc, located_i64, located_str, memory_medium,
    operator_probe, probe, resources, version_from_image,
};
use super::workload::claim_volume;

const OPERATOR: &str = "Spotahome redis-operator";
const DEFAULT_IMAGE: &str = "redis:6.2.6-alpine";
const DEFAULT_REPLICAS: i64 = 3;

/// The redis.conf the operator generates (`generator.go`), before `customConfig`.
const GENERATED: &[&str] = &[
    "tcp-keepalive 60",
    "save 900 1",
    "save 300 10",
    "replica-priority 100",
];

pub fn failover(ctx: &mut Ctx, id: ObjectId) -> Vec<Deployment> {
    let root = ctx.root(id);
    let name = ctx.object(id).name.clone();
    let spec = root.get("spec");
    let mut out = Vec::new();
    for part in ["redis", "sentinel"] {
        let c = spec.as_ref().and_then(|s| s.get(part));
        let at = match &c {
            Some(c) => loc(id, c),
            None => loc(id, &root),
        };
        let replicas = located_i64(ctx, id, c.as_ref().and_then(|c| c.get("replicas")))
            .filter(|r| r.value > 0)
            .unwrap_or(Located {
                value: DEFAULT_REPLICAS,
                at: at.clone(),
            });
        let mut container = container_at(part, at.clone());
        let parent = c.clone().unwrap_or_else(|| root.clone());
        resources(ctx, id, &parent, "resources", &mut container);
        if c.is_none() {
            // `spec.<part>` is absent: resources would go there, not at the root.
            container.resources_at.pointer = format!("/spec/{part}/resources");
        }
        container.image = c
            .as_ref()
            .and_then(|c| c.get("image"))
            .and_then(|i| located_str(id, &i))
            .or(Some(Located {
                value: DEFAULT_IMAGE.to_string(),
                at: at.clone(),
            }));
        let mut asm = Assembly::new();
        let role = if part == "redis" {
            container.probes = redis_probes(ctx, id, c.as_ref());
            let mut lines: Vec<SynthLine> = GENERATED
                .iter()
                .map(|l| SynthLine {
                    text: l.to_string(),
                    origin: Origin::OperatorDefault {
                        operator: OPERATOR.to_string(),
                        rule: "generated redis.conf".to_string(),
                    },
                    at: Some(at.clone()),
                })
                .collect();
            for line in c
                .as_ref()
                .and_then(|c| c.get("customConfig"))
                .map(|l| l.items())
                .unwrap_or_default()
            {
                if let Some(text) = line.str() {
                    lines.push(SynthLine {
                        text: text.to_string(),
                        origin: Origin::CustomConfig,
                        at: Some(loc(id, &line)),
                    });
                }
            }
            let path = format!("{SYNTHETIC_DIR}/redisfailover.conf");
            asm.synthetic_file(&path, lines);
            asm.push_arg(path, None);
            Role::Replication
        } else {
            asm.gap(
            "the operator writes the Sentinels' configuration file (their quorum and addressing \
             are modelled)",
        );
            Role::Sentinel
        };
        let data = match c.as_ref().and_then(|c| c.get("storage")) {
            Some(s) => match s.get("persistentVolumeClaim") {
                Some(pvc) => claim_volume(id, &pvc),
                None => DataVolume::EmptyDir {
                    at: loc(id, &s),
                    memory_medium: memory_medium(id, s.get("emptyDir")),
                },
            },
            None if part == "redis" => DataVolume::EmptyDir {
                at: at.clone(),
                memory_medium: None,
            },
            None => DataVolume::None,
        };
        let version = container.image.as_ref().and_then(version_from_image);
        let engine = version.as_ref().map_or(Product::Redis, |v| v.product);
        // defaults.go / generator.go `getQuorum`: replicas/2+1; checker.go re-points every
        // Sentinel at the primary's pod IP on each reconcile.
        let sentinels = (role == Role::Sentinel).then(|| {
            super::sentinel::by_operator(
                Some(SentinelQuorum {
                    value: replicas.value / 2 + 1,
                    at: replicas.at.clone(),
                    set_by: Some(format!("{OPERATOR} (replicas/2+1)")),
                }),
                "the Spotahome operator re-points every Sentinel at the primary's pod IP on \
                 each reconcile",
            )
        });
        out.push(Deployment {
            object: id,
            component: Some(part.to_string()),
            platform: Platform::Spotahome,
            role,
            replicas: Some(replicas),
            shards: None,
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
            anti_affinity: match &c {
                Some(c) if c.get("affinity").is_some() => anti_affinity(id, c),
                _ => AntiAffinity::Unknown,
            },
            topology_spread: c
                .as_ref()
                .is_some_and(|c| c.get("topologySpreadConstraints").is_some()),
            pdb: None,
            selector: Vec::new(),
            pod_labels: vec![
                ("app.kubernetes.io/component".into(), part.into()),
                ("app.kubernetes.io/name".into(), name.clone()),
                ("app.kubernetes.io/part-of".into(), "redis-failover".into()),
            ],
            related: Vec::new(),
            operation: None,
            notes: Vec::new(),
        });
    }
    out
}

/// `customLivenessProbe` etc., or the operator's defaults.
fn redis_probes(ctx: &mut Ctx, id: ObjectId, c: Option<&Cursor>) -> Probes {
    let user = |ctx: &mut Ctx, key: &str| {
        probe(
            ctx,
            id,
            c.and_then(|c| c.get(key)),
            crate::model::ProbeOrigin::User,
        )
    };
    let liveness = user(ctx, "customLivenessProbe").unwrap_or_else(|| {
        operator_probe(
            Handler::Exec(vec![
                "sh".into(),
                "-c".into(),
                "redis-cli -h $(hostname) -p ${REDIS_PORT} --user pinger --pass pingpass \
                 --no-auth-warning ping | grep PONG"
                    .into(),
            ]),
            OPERATOR,
            [30, 15, 5, 1, 6],
        )
    });
    let readiness = user(ctx, "customReadinessProbe").unwrap_or_else(|| {
        operator_probe(
            Handler::Exec(vec!["/bin/sh".into(), "/redis-readiness/ready.sh".into()]),
            OPERATOR,
            [30, 10, 5, 1, 3],
        )
    });
    Probes {
        liveness: Some(liveness),
        readiness: Some(readiness),
        startup: user(ctx, "customStartupProbe"),
    }
}

//! `redline serve`: the admission webhook. `review` is the engine behind both endpoints
//! (no HTTP); `server` is the axum/rustls adapter, `tls` the certificate it serves and
//! reloads, `lookups` what a review is judged with, `metrics` what `/metrics` shows, `limits`
//! what reviews may use at once.

pub mod certs;
pub mod limits;
pub mod linger;
pub mod live;
pub mod lookups;
pub mod metrics;
pub mod review;
pub mod server;
pub mod tls;

/// A resource the webhook is registered for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Admitted {
    pub group: &'static str,
    pub versions: &'static [&'static str],
    /// The plural resource name, as webhook rules write it.
    pub resource: &'static str,
    pub kind: &'static str,
}

/// What the webhook judges: the objects that carry Redis settings, in the API versions that
/// serve them. The webhook configurations in `manifests/` register exactly these (a test
/// checks it); a review of anything else is allowed unjudged. Pods and ReplicaSets are left
/// to their controllers' objects: every Pod of the cluster would otherwise pass through the
/// webhook, and a Deployment's ReplicaSets repeat it.
pub const ADMITTED: &[Admitted] = &[
    Admitted {
        group: "",
        versions: &["v1"],
        resource: "configmaps",
        kind: "ConfigMap",
    },
    Admitted {
        group: "apps",
        versions: &["v1"],
        resource: "statefulsets",
        kind: "StatefulSet",
    },
    Admitted {
        group: "apps",
        versions: &["v1"],
        resource: "deployments",
        kind: "Deployment",
    },
    Admitted {
        group: "apps.kubeblocks.io",
        versions: &["v1", "v1alpha1"],
        resource: "clusters",
        kind: "Cluster",
    },
    Admitted {
        group: "apps.kubeblocks.io",
        versions: &["v1alpha1"],
        resource: "opsrequests",
        kind: "OpsRequest",
    },
    Admitted {
        group: "operations.kubeblocks.io",
        versions: &["v1alpha1"],
        resource: "opsrequests",
        kind: "OpsRequest",
    },
    Admitted {
        group: "parameters.kubeblocks.io",
        versions: &["v1alpha1"],
        resource: "componentparameters",
        kind: "ComponentParameter",
    },
    Admitted {
        group: "parameters.kubeblocks.io",
        versions: &["v1alpha1"],
        resource: "parameters",
        kind: "Parameter",
    },
    Admitted {
        group: "workloads.kubeblocks.io",
        versions: &["v1", "v1alpha1"],
        resource: "instancesets",
        kind: "InstanceSet",
    },
    Admitted {
        group: "databases.spotahome.com",
        versions: &["v1"],
        resource: "redisfailovers",
        kind: "RedisFailover",
    },
    Admitted {
        group: "redis.redis.opstreelabs.in",
        versions: &["v1beta2", "v1beta1"],
        resource: "redis",
        kind: "Redis",
    },
    Admitted {
        group: "redis.redis.opstreelabs.in",
        versions: &["v1beta2", "v1beta1"],
        resource: "redisreplications",
        kind: "RedisReplication",
    },
    Admitted {
        group: "redis.redis.opstreelabs.in",
        versions: &["v1beta2", "v1beta1"],
        resource: "redisclusters",
        kind: "RedisCluster",
    },
    Admitted {
        group: "redis.redis.opstreelabs.in",
        versions: &["v1beta2", "v1beta1"],
        resource: "redissentinels",
        kind: "RedisSentinel",
    },
    Admitted {
        group: "valkey.io",
        versions: &["v1alpha1"],
        resource: "valkeyclusters",
        kind: "ValkeyCluster",
    },
    Admitted {
        group: "dragonflydb.io",
        versions: &["v1alpha1"],
        resource: "dragonflies",
        kind: "Dragonfly",
    },
    Admitted {
        group: "kubedb.com",
        versions: &["v1", "v1alpha2"],
        resource: "redises",
        kind: "Redis",
    },
    Admitted {
        group: "kubedb.com",
        versions: &["v1", "v1alpha2"],
        resource: "redissentinels",
        kind: "RedisSentinel",
    },
    Admitted {
        group: "ops.kubedb.com",
        versions: &["v1alpha1"],
        resource: "redisopsrequests",
        kind: "RedisOpsRequest",
    },
    Admitted {
        group: "app.redislabs.com",
        versions: &["v1", "v1alpha1"],
        resource: "redisenterpriseclusters",
        kind: "RedisEnterpriseCluster",
    },
    Admitted {
        group: "app.redislabs.com",
        versions: &["v1alpha1"],
        resource: "redisenterprisedatabases",
        kind: "RedisEnterpriseDatabase",
    },
];

/// Whether a review of this group and kind is judged.
pub fn admits(group: &str, kind: &str) -> bool {
    ADMITTED.iter().any(|a| a.group == group && a.kind == kind)
}

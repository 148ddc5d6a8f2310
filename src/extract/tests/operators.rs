//! Operators: Spotahome, OT (opstree), the Valkey operator.

use super::*;

#[test]
fn spotahome_defaults_and_custom_config() {
    let inv = model(
        "apiVersion: databases.spotahome.com/v1\nkind: RedisFailover\nmetadata: {name: rf}\nspec:\n  redis:\n    customConfig:\n    - \"maxmemory 100mb\"\n    resources:\n      requests: {memory: 100Mi}\n      limits: {memory: 500Mi}\n",
    );
    assert_eq!(inv.deployments.len(), 2);
    let redis = &inv.deployments[0];
    assert_eq!(redis.role, Role::Replication);
    assert_eq!(redis.replicas.as_ref().unwrap().value, 3);
    assert_eq!(redis.config.redis.maxmemory_bytes(), 100 << 20);
    assert_eq!(line_pos(redis, "maxmemory"), (7, 7));
    let liveness = redis.containers[0].probes.liveness.as_ref().unwrap();
    assert_eq!(liveness.timeout_seconds.value, 5);
    assert!(matches!(redis.data, DataVolume::EmptyDir { .. }));
    assert_eq!(redis.version.as_ref().unwrap().major, 6);
    assert_eq!(inv.deployments[1].role, Role::Sentinel);
}

#[test]
fn opstree_percent_of_limit_and_additional_config() {
    let inv = model(
        "apiVersion: redis.redis.opstreelabs.in/v1beta2\nkind: RedisCluster\nmetadata: {name: rc}\nspec:\n  clusterSize: 3\n  kubernetesConfig:\n    image: quay.io/opstree/redis:v7.0.12\n    resources: {limits: {memory: 1Gi}}\n  redisLeader:\n    resources: {limits: {memory: 2Gi}}\n    redisConfig:\n      additionalRedisConfig: extra\n  redisConfig:\n    maxMemoryPercentOfLimit: 50\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: extra}\ndata:\n  redis-additional.conf: |\n    maxmemory-policy allkeys-lru\n",
    );
    assert_eq!(inv.deployments.len(), 2);
    let leader = &inv.deployments[0];
    assert_eq!(leader.component.as_deref(), Some("leader"));
    assert_eq!(leader.replicas.as_ref().unwrap().value, 3);
    assert_eq!(leader.containers[0].limit_bytes(), Some(2 << 30));
    // The leader's own redisConfig replaces the top-level one: no percent there.
    assert_eq!(leader.config.redis.maxmemory_policy(), "allkeys-lru");
    assert_eq!(line_pos(leader, "maxmemory-policy"), (21, 5));
    let follower = &inv.deployments[1];
    assert_eq!(follower.containers[0].limit_bytes(), Some(1 << 30));
    assert_eq!(follower.config.redis.maxmemory_bytes(), 1 << 29);
    assert_eq!(line_pos(follower, "maxmemory"), (14, 30));
    assert_eq!(follower.version.as_ref().unwrap().minor, Some(0));
    assert!(follower.config.redis.cluster_enabled());
}

pub(super) const VALKEY_CLUSTER: &str = "\
apiVersion: valkey.io/v1alpha1
kind: ValkeyCluster
metadata: {name: vc, namespace: cache}
spec:
  shards: 3
  replicas: 1
  resources:
    limits: {memory: 2Gi}
  config:
    protected-mode: 'yes'
    maxmemory: 1gb
    cluster-enabled: 'no'
    appendonly: 'yes'
";

#[test]
fn valkey_cluster_writes_spec_config_then_its_base_config() {
    let inv = model(VALKEY_CLUSTER);
    let d = only(&inv);
    assert_eq!(d.platform, Platform::ValkeyOperator);
    assert_eq!(d.role, Role::ClusterShard);
    assert_eq!(d.engine, crate::model::Product::Valkey);
    // Pods per shard: the primary and one replica.
    assert_eq!(d.replicas.as_ref().map(|r| r.value), Some(2));
    assert_eq!(d.shards.as_ref().map(|r| r.value), Some(3));
    let r = &d.config.redis;
    // The base is written last: the user's protected-mode and cluster-enabled lose.
    assert!(!r.bool_value("protected-mode"));
    assert!(r.cluster_enabled());
    assert_eq!(r.maxmemory_bytes(), 1 << 30);
    let (_, src) = d.config.source_of("maxmemory").unwrap();
    assert_eq!(
        src.origin,
        Origin::ResourceConfig {
            field: "spec.config".into()
        }
    );
    assert_eq!(src.at.as_ref().unwrap().pointer, "/spec/config/maxmemory");
    // Default image valkey/valkey:9.0.0: newer than every table, so `shutdown-on-sigterm
    // failover` is a note, not an error.
    assert_eq!(d.version.as_ref().map(|v| v.major), Some(9));
    assert!(d.config.errors.is_empty(), "{:?}", d.config.errors);
    assert!(
        d.config
            .gaps
            .iter()
            .any(|g| g.contains("shutdown-on-sigterm failover")),
        "{:?}",
        d.config.gaps
    );
    assert!(matches!(d.data, DataVolume::EmptyDir { .. }));
    // No `default` user in spec.users: the operator's ACL file leaves it open.
    assert_eq!(crate::rules::facts::auth(d), Some(false));
}

#[test]
fn valkey_cluster_on_an_older_image_cannot_take_the_operators_base_config() {
    let text = VALKEY_CLUSTER.replace("  shards: 3", "  image: valkey/valkey:8.0.1\n  shards: 3");
    let inv = model(&text);
    let d = only(&inv);
    let (e, at) = d.config.errors.first().expect("an error");
    assert!(e.certain, "{e:?}");
    assert!(
        e.line_text.contains("shutdown-on-sigterm failover"),
        "{e:?}"
    );
    assert_eq!(at.as_ref().unwrap().pointer, "/spec/image");
}

#[test]
fn valkey_cluster_users_persistence_tls_and_the_server_overlay() {
    let text = format!(
        "{VALKEY_CLUSTER}  users:
  - name: default
    passwordSecret: {{name: s, keys: [pw]}}
  persistence: {{size: 4Gi}}
  networking:
    tls:
      certificates: {{server: {{secretName: tls}}}}
  containers:
  - name: server
    resources:
      limits: {{memory: 3Gi}}
  scheduling:
    node:
      spread:
        shard: {{mode: Required}}
"
    );
    let inv = model(&text);
    let d = only(&inv);
    assert_eq!(crate::rules::facts::auth(d), Some(true));
    assert!(matches!(
        d.data,
        DataVolume::Claim {
            size_bytes: Some(4294967296),
            ..
        }
    ));
    assert_eq!(d.config.redis.int_value("tls-port"), 6379);
    assert_eq!(d.config.redis.int_value("port"), 0);
    let c = d.redis_container().unwrap();
    assert_eq!(c.limit_bytes(), Some(3 << 30));
    assert!(matches!(
        d.anti_affinity,
        crate::model::AntiAffinity::RequiredHostname { .. }
    ));
    // A disabled default user, or one with nopass.
    for (user, open) in [("enabled: false", false), ("nopass: true", true)] {
        let text = format!("{VALKEY_CLUSTER}  users:\n  - name: default\n    {user}\n");
        let inv = model(&text);
        assert_eq!(crate::rules::facts::auth(only(&inv)), Some(!open), "{user}");
    }
}

pub(super) const OT_CLUSTER: &str = "\
apiVersion: redis.redis.opstreelabs.in/v1beta2
kind: RedisCluster
metadata:
  name: redis-cluster
spec:
  clusterSize: 3
  clusterVersion: v7
  persistenceEnabled: true
  kubernetesConfig:
    image: quay.io/opstree/redis:v7.0.12
    imagePullPolicy: IfNotPresent
    resources:
      requests:
        cpu: 101m
        memory: 128Mi
      limits:
        cpu: 101m
        memory: 128Mi
  redisLeader:
    affinity:
      podAntiAffinity:
        requiredDuringSchedulingIgnoredDuringExecution:
          - labelSelector:
              matchLabels: {app: redis-cluster-leader}
            topologyKey: kubernetes.io/hostname
  storage:
    volumeClaimTemplate:
      spec:
        accessModes: [\"ReadWriteOnce\"]
        resources:
          requests:
            storage: 1Gi
";

/// OT `RedisCluster`: the leader's and follower's own `affinity`, and findings placed on the
/// block that stands for each container rather than on `spec.clusterSize`.
#[test]
fn ot_cluster_parts_have_their_own_affinity_and_place() {
    let inv = model(OT_CLUSTER);
    assert_eq!(inv.deployments.len(), 2);
    let leader = &inv.deployments[0];
    assert_eq!(leader.component.as_deref(), Some("leader"));
    assert!(matches!(
        leader.anti_affinity,
        crate::model::AntiAffinity::RequiredHostname { .. }
    ));
    assert_eq!(leader.containers[0].at.pointer, "/spec/redisLeader");
    let follower = &inv.deployments[1];
    assert_eq!(follower.anti_affinity, crate::model::AntiAffinity::None);
    assert_eq!(follower.containers[0].at.pointer, "/spec/kubernetesConfig");
}

//! Extractors on hand-written inputs, one shape or trap per test.

use super::*;
use crate::model::{DataVolume, Inventory, Origin, Platform, Role};
use crate::source::{Limits, load_yaml};

fn model(text: &str) -> Inventory {
    model_with(text, &Options::default())
}

fn model_with(text: &str, opts: &Options) -> Inventory {
    let file = load_yaml("t.yaml", text.to_string(), &Limits::default());
    assert!(
        file.diagnostics.iter().all(|d| !d.error),
        "{:?}",
        file.diagnostics
    );
    let (objects, _) = objects_of(&mut [file]);
    extract(objects, opts)
}

fn only(inv: &Inventory) -> &Deployment {
    assert_eq!(inv.deployments.len(), 1, "{:#?}", inv.deployments);
    &inv.deployments[0]
}

/// (line, column) of where the line setting `name` points.
fn line_pos(d: &Deployment, name: &str) -> (u32, u32) {
    let (_, src) = d.config.source_of(name).expect("directive set");
    let p = src.at.as_ref().and_then(|a| a.pos).expect("position");
    (p.line, p.column)
}

const STS_WITH_CM: &str = "\
apiVersion: v1
kind: ConfigMap
metadata: {name: redis-cfg, namespace: cache}
data:
  conf-key: |
    maxmemory 1gb
    appendonly no
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: redis, namespace: cache}
spec:
  replicas: 3
  template:
    metadata:
      labels: {app: redis}
    spec:
      containers:
      - name: redis
        image: redis:7.2.4
        args: [/etc/redis/redis.conf, --maxmemory, 2048mb]
        resources:
          requests: {memory: 2048m}
          limits: {memory: 0.5Gi}
        volumeMounts:
        - {name: cfg, mountPath: /etc/redis}
      volumes:
      - name: cfg
        configMap:
          name: redis-cfg
          items:
          - {key: conf-key, path: redis.conf}
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: {name: redis, namespace: cache}
spec:
  maxUnavailable: 1
  selector:
    matchLabels: {app: redis}
";

#[test]
fn args_override_the_file_and_items_map_keys_to_paths() {
    let inv = model(STS_WITH_CM);
    let d = only(&inv);
    assert_eq!(d.platform, Platform::Workload);
    assert_eq!(d.role, Role::Replication);
    assert!(d.config.complete, "{:?}", d.config.gaps);
    // `--maxmemory 2048mb` (argument) wins over `maxmemory 1gb` (file).
    assert_eq!(d.config.redis.maxmemory_bytes(), 2048 << 20);
    let (_, src) = d.config.source_of("maxmemory").unwrap();
    assert_eq!(src.origin, Origin::Args);
    // The directive's place is its name, after the `--`.
    assert_eq!(line_pos(d, "maxmemory"), (21, 41));
    // The file's line is still there, at its own line of the block scalar.
    let file_line = d
        .config
        .redis
        .lines()
        .iter()
        .find(|l| l.args == ["1gb"])
        .unwrap();
    let src = d.config.source_of_line(file_line).unwrap();
    assert_eq!(
        src.origin,
        Origin::File {
            path: "/etc/redis/redis.conf".into()
        }
    );
    assert_eq!(src.at.as_ref().unwrap().pos.unwrap().line, 6);
    assert!(!d.config.redis.appendonly());
    assert_eq!(d.related.len(), 1);
    assert!(d.pdb.is_some());
}

#[test]
fn milli_bytes_and_fractional_quantities() {
    let inv = model(STS_WITH_CM);
    let c = &only(&inv).containers[0];
    // `2048m` is 2.048 bytes, rounded up: the trap, not 2 GiB.
    assert_eq!(c.memory_request.as_ref().unwrap().bytes, 3);
    assert_eq!(c.memory_limit.as_ref().unwrap().bytes, 536_870_912);
    let p = c.memory_limit.as_ref().unwrap().at.pos.unwrap();
    assert_eq!((p.line, p.column), (24, 28));
}

#[test]
fn limit_without_request_defaults_request_and_empty_resources_are_nothing() {
    let inv = model(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: a}\nspec:\n  template:\n    spec:\n      containers:\n      - name: redis\n        image: redis\n        resources:\n          limits:\n            memory: 1Gi\n      - name: cache\n        image: valkey/valkey:8.0\n        resources: {}\n",
    );
    assert_eq!(inv.deployments.len(), 2);
    let a = &inv.deployments[0].containers[0];
    assert!(a.request_from_limit);
    assert_eq!(a.request_bytes(), Some(1 << 30));
    let b = &inv.deployments[1];
    assert_eq!(b.containers[0].limit_bytes(), None);
    assert_eq!(
        b.containers[0].resources_at.pointer,
        "/spec/template/spec/containers/1/resources"
    );
    assert_eq!(
        b.version.as_ref().unwrap().product,
        crate::model::Product::Valkey
    );
    assert!(inv.problems.is_empty(), "{:?}", inv.problems);
}

#[test]
fn invalid_quantity_is_a_problem_with_its_position() {
    let inv = model(
        "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - name: redis\n    image: redis:7\n    resources:\n      limits: {memory: 1GB}\n",
    );
    assert_eq!(inv.problems.len(), 1);
    assert_eq!(inv.problems[0].at.pos.unwrap().line, 9);
    assert!(inv.problems[0].message.contains("invalid memory quantity"));
    assert_eq!(only(&inv).containers[0].memory_errors.len(), 1);
}

#[test]
fn maxmemory_from_the_downward_api_equals_the_limit() {
    let inv = model(
        "apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {name: r}\nspec:\n  template:\n    spec:\n      containers:\n      - name: redis\n        image: redis:7.0\n        command: [redis-server, --maxmemory, $(MEM), --requirepass, $(PASS)]\n        env:\n        - name: MEM\n          valueFrom: {resourceFieldRef: {resource: limits.memory}}\n        - name: PASS\n          valueFrom: {secretKeyRef: {name: s, key: p}}\n        resources:\n          limits: {memory: 256Mi}\n",
    );
    let d = only(&inv);
    assert_eq!(d.config.redis.maxmemory_bytes(), 256 << 20);
    assert_eq!(d.config.unknown, ["requirepass"]);
    assert!(d.config.errors.is_empty(), "{:?}", d.config.errors);
    assert!(!d.config.is_known("requirepass"));
    assert!(d.config.is_known("maxmemory"));
}

#[test]
fn shell_script_arguments_are_read() {
    let inv = model(
        "apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {name: r}\nspec:\n  template:\n    spec:\n      containers:\n      - name: redis\n        image: redis:6.2\n        command:\n        - sh\n        - -c\n        - |\n          echo start\n          exec redis-server --cluster-enabled yes --maxmemory \"100mb\" && echo done\n",
    );
    let d = only(&inv);
    assert_eq!(d.role, Role::ClusterShard);
    assert_eq!(d.config.redis.maxmemory_bytes(), 100 << 20);
    assert_eq!(line_pos(d, "maxmemory"), (15, 53));
}

#[test]
fn config_copied_by_an_init_container_and_missing_config_maps() {
    let inv = model(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ro}\ndata:\n  redis.conf: |\n    maxmemory 0\n---\napiVersion: apps/v1\nkind: StatefulSet\nmetadata: {name: r}\nspec:\n  template:\n    spec:\n      containers:\n      - name: redis\n        image: redis:7\n        args: [/data/conf/redis.conf]\n        volumeMounts: [{name: ro, mountPath: /readonly}]\n      - name: other\n        image: redis:7\n        args: [/etc/x/redis.conf]\n        volumeMounts: [{name: gone, mountPath: /etc/x}]\n      volumes:\n      - {name: ro, configMap: {name: ro}}\n      - {name: gone, configMap: {name: not-here}}\n",
    );
    assert_eq!(inv.deployments.len(), 2);
    let copied = &inv.deployments[0];
    assert!(copied.config.complete);
    assert!(
        copied
            .config
            .gaps
            .iter()
            .any(|g| g.contains("init container"))
    );
    assert_eq!(line_pos(copied, "maxmemory"), (6, 5));
    let missing = &inv.deployments[1];
    assert!(!missing.config.complete);
    assert!(!missing.config.is_known("maxmemory"));
    assert!(missing.config.errors.is_empty());
    assert!(missing.config.gaps[0].contains("not-here"));
}

#[test]
fn an_include_of_a_runtime_file_is_a_gap_not_an_error() {
    let inv = model(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata:\n  redis.conf: |\n    include /data/generated.conf\n    maxmemory 1gb\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - name: redis\n    image: redis:7\n    args: [/etc/redis/redis.conf]\n    volumeMounts: [{name: c, mountPath: /etc/redis}]\n  volumes: [{name: c, configMap: {name: c}}]\n",
    );
    let d = only(&inv);
    assert!(d.config.errors.is_empty(), "{:?}", d.config.errors);
    assert!(!d.config.complete);
    assert_eq!(d.config.redis.maxmemory_bytes(), 1 << 30);
}

const SEED: &str = "\
apiVersion: apps.kubeblocks.io/v1
kind: Cluster
metadata: {name: prod, namespace: db}
spec:
  clusterDef: redis
  topology: replication
  componentSpecs:
  - name: redis
    replicas: 2
    resources:
      requests: {memory: 16Gi}
      limits: {memory: 32Gi}
    instances:
    - name: small
      replicas: 1
      resources:
        limits: {memory: 8Gi}
---
apiVersion: operations.kubeblocks.io/v1alpha1
kind: OpsRequest
metadata: {name: set-maxmemory, namespace: db}
spec:
  clusterName: prod
  type: Reconfiguring
  reconfigures:
  - componentName: redis
    parameters:
    - key: maxmemory
      value: '34359738368'
";

#[test]
fn kubeblocks_seed_incident_joins_the_ops_request_to_its_cluster() {
    let inv = model(SEED);
    // Cluster component, its instance template, and the OpsRequest projection of both.
    assert_eq!(inv.deployments.len(), 4, "{:#?}", inv.deployments);
    let base = &inv.deployments[0];
    assert_eq!(base.config.redis.maxmemory_bytes(), (32u64 << 30) * 8 / 10);
    let small = &inv.deployments[1];
    assert_eq!(small.component.as_deref(), Some("redis/small"));
    assert_eq!(small.containers[0].limit_bytes(), Some(8 << 30));
    // maxmemory still from the component's 32Gi limit.
    assert_eq!(small.config.redis.maxmemory_bytes(), (32u64 << 30) * 8 / 10);
    let ops = &inv.deployments[2];
    let op = ops.operation.as_ref().unwrap();
    assert!(op.cluster_found);
    assert_eq!(op.kind, "Reconfiguring");
    assert_eq!(ops.containers[0].limit_bytes(), Some(32 << 30));
    assert_eq!(ops.config.redis.maxmemory_bytes(), 32 << 30);
    let (_, src) = ops.config.source_of("maxmemory").unwrap();
    assert_eq!(src.origin, Origin::OpsRequest);
    assert_eq!(line_pos(ops, "maxmemory"), (29, 14));
    assert_eq!(ops.related.len(), 1);
}

#[test]
fn a_cluster_problem_is_reported_once_however_many_operations_target_it() {
    let text = SEED.replace("limits: {memory: 32Gi}", "limits: {memory: 32GB}");
    let inv = model(&format!("{text}---{}", SEED.split("---").nth(1).unwrap()));
    assert_eq!(inv.problems.len(), 1, "{:?}", inv.problems);
    assert_eq!(inv.problems[0].at.pos.unwrap().line, 12);
}

#[test]
fn kubeblocks_addon_generations_are_a_parameter() {
    let opts = Options {
        kubeblocks_maxmemory: "request".parse().unwrap(),
    };
    let inv = model_with(SEED, &opts);
    assert_eq!(inv.deployments[0].config.redis.maxmemory_bytes(), 16 << 30);
    let none = Options {
        kubeblocks_maxmemory: "none".parse().unwrap(),
    };
    let inv = model_with(SEED, &none);
    assert_eq!(inv.deployments[0].config.redis.maxmemory_bytes(), 0);
    assert!("limit:1.5".parse::<KubeBlocksMaxmemory>().is_err());
}

#[test]
fn no_limit_means_no_kubeblocks_maxmemory_line() {
    let inv = model(
        "apiVersion: apps.kubeblocks.io/v1alpha1\nkind: Cluster\nmetadata: {name: c}\nspec:\n  clusterDefinitionRef: redis\n  componentSpecs:\n  - name: redis\n    componentDefRef: redis\n    replicas: 1\n",
    );
    let d = only(&inv);
    assert_eq!(d.role, Role::Standalone);
    assert!(d.config.source_of("maxmemory").is_none());
    assert!(d.config.is_known("maxmemory"));
    assert!(d.notes.iter().any(|n| n.contains("no maxmemory line")));
}

#[test]
fn component_parameter_applies_to_its_cluster() {
    let text = format!(
        "{}---\napiVersion: parameters.kubeblocks.io/v1alpha1\nkind: ComponentParameter\nmetadata: {{name: prod-redis, namespace: db}}\nspec:\n  clusterName: prod\n  componentName: redis\n  configItemDetails:\n  - name: redis-replication-config\n    configFileParams:\n      redis.conf:\n        parameters:\n          maxmemory: 40gb\n",
        SEED.split("---").next().unwrap()
    );
    let inv = model(&text);
    let d = &inv.deployments[0];
    assert_eq!(d.config.redis.maxmemory_bytes(), 40 << 30);
    let (_, src) = d.config.source_of("maxmemory").unwrap();
    assert_eq!(src.origin, Origin::ComponentParameter);
    // The ComponentParameter itself adds no deployment of its own.
    assert_eq!(inv.deployments.len(), 2);
}

#[test]
fn ops_request_without_its_cluster_says_the_limit_is_unknown() {
    let text = format!("---{}", SEED.split("---").nth(1).unwrap());
    let inv = model(&text);
    let d = only(&inv);
    assert!(!d.operation.as_ref().unwrap().cluster_found);
    assert_eq!(d.containers[0].limit_bytes(), None);
    assert_eq!(d.config.redis.maxmemory_bytes(), 32 << 30);
    assert!(!d.config.complete);
    assert!(d.notes.iter().any(|n| n.contains("not in the input")));
}

#[test]
fn kubeblocks_0_9_reconfigure_and_sharding() {
    let inv = model(
        "apiVersion: apps.kubeblocks.io/v1alpha1\nkind: Cluster\nmetadata: {name: c}\nspec:\n  terminationPolicy: Delete\n  shardingSpecs:\n  - name: shard\n    shards: 3\n    template:\n      name: redis\n      componentDef: redis-cluster-7\n      replicas: 2\n      resources: {limits: {memory: 2Gi}}\n---\napiVersion: apps.kubeblocks.io/v1alpha1\nkind: OpsRequest\nmetadata: {name: o}\nspec:\n  clusterName: c\n  type: Reconfiguring\n  reconfigure:\n    componentName: shard\n    configurations:\n    - name: redis-cluster-config\n      keys:\n      - key: redis.conf\n        parameters:\n        - {key: maxmemory-policy, value: allkeys-lru}\n",
    );
    assert_eq!(inv.deployments.len(), 2);
    let shard = &inv.deployments[0];
    assert_eq!(shard.role, Role::ClusterShard);
    assert_eq!(shard.shards.as_ref().unwrap().value, 3);
    assert!(shard.config.redis.cluster_enabled());
    assert_eq!(shard.config.redis.maxmemory_bytes(), 1_717_986_918);
    assert_eq!(
        inv.deployments[1].config.redis.maxmemory_policy(),
        "allkeys-lru"
    );
}

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

#[test]
fn list_kind_and_non_objects() {
    let file = load_yaml(
        "t.yaml",
        "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Pod\n  metadata: {name: p}\n  spec:\n    containers: [{name: r, image: redis}]\n---\nreplicas: 2\n".into(),
        &Limits::default(),
    );
    let (objects, skipped) = objects_of(&mut [file]);
    assert_eq!(objects.len(), 1);
    assert_eq!(skipped.len(), 1);
    assert_eq!(skipped[0].line, 10);
    let inv = extract(objects, &Options::default());
    assert_eq!(inv.deployments.len(), 1);
}

#[test]
fn json_objects_extract_without_positions() {
    let json = serde_json::json!({
        "apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "r"},
        "spec": {"template": {"spec": {"containers": [{"name": "redis", "image": "redis:7",
            "args": ["--maxmemory", "1gb"], "resources": {"limits": {"memory": "1Gi"}}}]}}}
    });
    let root = crate::source::Node::from_json(&json);
    let object = crate::model::Object {
        api_version: "apps/v1".into(),
        kind: "StatefulSet".into(),
        namespace: None,
        name: "r".into(),
        file: None,
        document: None,
        pos: None,
        root,
    };
    let inv = extract(vec![object], &Options::default());
    let d = only(&inv);
    assert_eq!(d.config.redis.maxmemory_bytes(), 1 << 30);
    let (_, src) = d.config.source_of("maxmemory").unwrap();
    assert_eq!(
        src.at.as_ref().unwrap().pointer,
        "/spec/template/spec/containers/0/args/0"
    );
    assert_eq!(src.at.as_ref().unwrap().pos, None);
}

/// A workload whose image is `image`, reading a ConfigMap's redis.conf with `conf`.
fn with_image(image: &str, conf: &str) -> Inventory {
    model(&format!(
        r#"apiVersion: v1
kind: ConfigMap
metadata: {{name: conf}}
data:
  redis.conf: |
    {conf}
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {{name: cache}}
spec:
  template:
    spec:
      containers:
        - name: redis
          image: {image}
          args: ["/etc/redis/redis.conf"]
          volumeMounts: [{{name: conf, mountPath: /etc/redis}}]
      volumes: [{{name: conf, configMap: {{name: conf}}}}]
"#,
        conf = conf.replace('\n', "\n    ")
    ))
}

#[test]
fn each_release_judges_with_its_own_directive_table() {
    // Valid since 7.2: no start-up error on 7.2.5.
    let inv = with_image("redis:7.2.5", "locale-collate \"\"");
    assert!(
        only(&inv).config.errors.is_empty(),
        "{:?}",
        only(&inv).config.errors
    );
    // 7.0 refuses it, and the message says when it came.
    let inv = with_image("redis:7.0.11-alpine", "locale-collate \"\"");
    let errors = &only(&inv).config.errors;
    assert_eq!(errors.len(), 1);
    assert!(errors[0].0.certain);
    let hint = errors[0].0.hint.as_deref().unwrap();
    assert!(
        hint.contains("added in Redis 7.2") && hint.contains("Redis 7.0.15"),
        "{hint}"
    );
    // Valkey 8: its own names, and its changed defaults.
    let inv = with_image(
        "valkey/valkey:8.0.1",
        "primaryauth secret\navailability-zone az1",
    );
    let d = only(&inv);
    assert!(d.config.errors.is_empty(), "{:?}", d.config.errors);
    assert_eq!(d.engine, crate::model::Product::Valkey);
    assert!(d.config.redis.bool_value("lazyfree-lazy-eviction"));
    assert!(d.config.redis.line_of("masterauth").is_some());
    let inv = with_image("redis:7.2.5", "availability-zone az1");
    let hint = only(&inv).config.errors[0].0.hint.clone().unwrap();
    assert!(hint.contains("Valkey only"), "{hint}");
    // A tag that names no release: a name some release knows is accepted, one none knows
    // is reported as uncertain.
    let inv = with_image("redis:latest", "locale-collate \"\"\nno-such-directive 1");
    let errors = &only(&inv).config.errors;
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(!errors[0].0.certain);
}

#[test]
fn sidecars_exporters_and_clients_are_not_servers() {
    let inv = model(
        r#"apiVersion: apps/v1
kind: StatefulSet
metadata: {name: ha}
spec:
  template:
    spec:
      containers:
        - name: redis
          image: redis:7.2.4
        - name: sentinel
          image: redis:7.2.4
          command: ["redis-sentinel", "/data/sentinel.conf"]
        - name: split-brain-fix
          image: redis:7.2.4
          command: ["sh", "-c", "while true; do redis-cli -p 6379 info replication; sleep 60; done"]
        - name: metrics
          image: oliver006/redis_exporter:v1.62.0
        - name: app
          image: example/hello-app-redis:1.0
          readinessProbe: {httpGet: {path: /healthz, port: 8080}}
"#,
    );
    let names: Vec<(&str, Role)> = inv
        .deployments
        .iter()
        .map(|d| (d.component.as_deref().unwrap(), d.role))
        .collect();
    assert_eq!(
        names,
        [("redis", Role::Replication), ("sentinel", Role::Sentinel)]
    );
    assert_eq!(inv.deployments[1].data, DataVolume::None);
}

#[test]
fn a_bitnami_start_script_from_its_config_map_is_followed() {
    let inv = model(
        r#"apiVersion: v1
kind: ConfigMap
metadata: {name: scripts}
data:
  start-master.sh: |
    #!/bin/bash
    if [[ -f /opt/bitnami/redis/mounted-etc/redis.conf ]];then
        cp /opt/bitnami/redis/mounted-etc/redis.conf /opt/bitnami/redis/etc/redis.conf
    fi
    ARGS=("--port" "${REDIS_PORT}")
    ARGS+=("--protected-mode" "no")
    ARGS+=("--include" "/opt/bitnami/redis/etc/redis.conf")
    exec redis-server "${ARGS[@]}"
---
apiVersion: v1
kind: ConfigMap
metadata: {name: configuration}
data:
  redis.conf: |
    appendonly yes
    save ""
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: redis-master}
spec:
  template:
    spec:
      containers:
        - name: redis
          image: docker.io/bitnami/redis:7.2.4-debian-12-r9
          command: [/bin/bash]
          args: ["-c", "/opt/bitnami/scripts/start-scripts/start-master.sh"]
          env:
            - {name: REDIS_PORT, value: "6379"}
            - {name: ALLOW_EMPTY_PASSWORD, value: "yes"}
          volumeMounts:
            - {name: start-scripts, mountPath: /opt/bitnami/scripts/start-scripts}
            - {name: config, mountPath: /opt/bitnami/redis/mounted-etc}
      volumes:
        - {name: start-scripts, configMap: {name: scripts, defaultMode: 0755}}
        - {name: config, configMap: {name: configuration}}
"#,
    );
    let d = only(&inv);
    assert!(d.config.complete, "{:?}", d.config.gaps);
    assert!(!d.config.redis.bool_value("protected-mode"));
    assert!(d.config.redis.appendonly());
    assert_eq!(d.config.redis.config_get("port").as_deref(), Some("6379"));
    // `--protected-mode no` is found in the script, at its line of the ConfigMap.
    let (_, src) = d.config.source_of("protected-mode").unwrap();
    let at = src.args[0].as_ref().unwrap();
    assert_eq!(inv.object(at.object).name, "scripts");
    assert_eq!(at.pos.unwrap().line, 11);
}

const VALKEY_CLUSTER: &str = "\
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

/// The model of several files, `(name, text)`.
fn model_of_files(files: &[(&str, &str)]) -> Inventory {
    let mut loaded: Vec<_> = files
        .iter()
        .map(|(name, text)| load_yaml(name, text.to_string(), &Limits::default()))
        .collect();
    let (objects, _) = objects_of(&mut loaded);
    extract(objects, &Options::default())
}

/// `STS_WITH_CM` without its PDB: a ConfigMap (`appendonly no`) and a StatefulSet.
fn without_pdb() -> &'static str {
    &STS_WITH_CM[..STS_WITH_CM.rfind("---").unwrap()]
}

/// `STS_WITH_CM`'s StatefulSet alone.
fn sts_only() -> &'static str {
    let from = STS_WITH_CM.find("apiVersion: apps/v1").unwrap();
    &STS_WITH_CM[from..STS_WITH_CM.rfind("---").unwrap()]
}

/// `STS_WITH_CM`'s ConfigMap alone.
fn cm_only() -> &'static str {
    &STS_WITH_CM[..STS_WITH_CM.find("---").unwrap()]
}

#[test]
fn joins_stay_inside_one_copy_of_the_repository() {
    let file = |inv: &Inventory, d: &Deployment| inv.object(d.object).file.clone().unwrap();
    let pdb = &STS_WITH_CM[STS_WITH_CM.rfind("---").unwrap() + 4..];
    // Both environments complete: each StatefulSet joins its own ConfigMap and no PDB but
    // its own.
    let prod = without_pdb().replace("appendonly no", "appendonly yes");
    let inv = model_of_files(&[
        ("envs/dev/redis.yaml", without_pdb()),
        ("envs/prod/redis.yaml", &prod),
        ("envs/prod/pdb.yaml", pdb),
    ]);
    assert!(inv.ambiguous.is_empty(), "{:?}", inv.ambiguous);
    assert_eq!(inv.deployments.len(), 2);
    for d in &inv.deployments {
        let related: Vec<String> = d
            .related
            .iter()
            .map(|&r| inv.object(r).file.clone().unwrap())
            .collect();
        let pdb = d
            .pdb
            .as_ref()
            .map(|p| inv.object(p.object).file.clone().unwrap());
        match file(&inv, d).as_str() {
            "envs/dev/redis.yaml" => {
                assert_eq!(related, ["envs/dev/redis.yaml"]);
                assert!(!d.config.redis.appendonly());
                assert_eq!(pdb, None, "prod's PDB does not protect dev's pods");
            }
            "envs/prod/redis.yaml" => {
                assert_eq!(related, ["envs/prod/redis.yaml"]);
                assert!(d.config.redis.appendonly());
                assert_eq!(pdb.as_deref(), Some("envs/prod/pdb.yaml"));
            }
            other => panic!("{other}"),
        }
    }
    // prod lacks its ConfigMap: dev's is another copy's, so prod's configuration is a gap.
    let inv = model_of_files(&[
        ("envs/dev/redis.yaml", without_pdb()),
        ("envs/prod/redis.yaml", sts_only()),
    ]);
    let prod = inv
        .deployments
        .iter()
        .find(|d| file(&inv, d) == "envs/prod/redis.yaml")
        .unwrap();
    assert!(!prod.config.complete);
    assert!(prod.related.is_empty());
    // A StatefulSet with no copy joins a lone ConfigMap anywhere (a kustomize base).
    let inv = model_of_files(&[
        (
            "base/config.yaml",
            &cm_only().replace("appendonly no", "appendonly yes"),
        ),
        ("overlays/prod/redis.yaml", sts_only()),
    ]);
    assert_eq!(inv.deployments.len(), 1, "{:#?}", inv.deployments);
    assert!(inv.deployments[0].config.redis.appendonly());
    // Two ConfigMaps of one name in one file: the last, as `kubectl apply` leaves it.
    let twice = format!(
        "{}---\n{}",
        cm_only().replace("appendonly no", "appendonly yes"),
        without_pdb()
    );
    let inv = model(&twice);
    let d = only(&inv);
    assert!(!d.config.redis.appendonly());
    assert!(inv.ambiguous.is_empty());
}

const OT_CLUSTER: &str = "\
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

/// valkey-helm's Deployment and init script, hand-rendered from valkey-io/valkey-helm@dbcf6a6
/// (BSD-3-Clause; `valkey/templates/init_config.yaml`, `deploy_valkey.yaml`) with the default
/// values (auth, TLS and replicas off) plus `valkeyConfig: "maxmemory 100mb"`, trimmed to the
/// parts that shape valkey.conf. (A real `helm template` output of the chart, aserowy/dots
/// `paperless/`, gives the same model, but carries no licence to ship it here.)
const VALKEY_HELM: &str = r#"
apiVersion: v1
kind: ConfigMap
metadata: {name: valkey-init-scripts}
data:
  init.sh: |-
    #!/bin/sh
    set -eu

    # Default config paths
    VALKEY_CONFIG=${VALKEY_CONFIG_PATH:-/data/conf/valkey.conf}

    LOGFILE="/data/init.log"
    DATA_DIR="/data/conf"

    log() {
      echo "$(date) $1" | tee -a "$LOGFILE" >&2
    }

    log "Creating configuration in $DATA_DIR..."
    mkdir -p "$DATA_DIR"
    rm -f "$VALKEY_CONFIG"

    # Base valkey.conf
    log "Generating base valkey.conf"
    {
      echo "port 6379"
      echo "protected-mode no"
      echo "bind * -::*"
      echo "dir /data"
    } >>"$VALKEY_CONFIG"

    # Append extra configs if present
    if [ -f /usr/local/etc/valkey/valkey.conf ]; then
      log "Appending /usr/local/etc/valkey/valkey.conf"
      cat /usr/local/etc/valkey/valkey.conf >>"$VALKEY_CONFIG"
    fi
    if [ -d /extravalkeyconfigs ]; then
      log "Appending files in /extravalkeyconfigs/"
      cat /extravalkeyconfigs/* >>"$VALKEY_CONFIG"
    fi
---
apiVersion: v1
kind: ConfigMap
metadata: {name: valkey-config}
data:
  valkey.conf: |
    maxmemory 100mb
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: valkey}
spec:
  replicas: 1
  selector:
    matchLabels: {app.kubernetes.io/name: valkey}
  template:
    metadata:
      labels: {app.kubernetes.io/name: valkey}
    spec:
      initContainers:
        - name: valkey-init
          image: docker.io/valkey/valkey:8.1.3
          command: [ "/scripts/init.sh" ]
          volumeMounts:
            - {name: valkey-data, mountPath: /data}
            - {name: scripts, mountPath: /scripts}
            - {name: valkey-config, mountPath: /usr/local/etc/valkey/valkey.conf, subPath: valkey.conf}
      containers:
        - name: valkey
          image: docker.io/valkey/valkey:8.1.3
          command: [ "valkey-server" ]
          args: [ "/data/conf/valkey.conf" ]
          volumeMounts:
            - {name: valkey-data, mountPath: /data}
      volumes:
        - {name: scripts, configMap: {name: valkey-init-scripts, defaultMode: 0555}}
        - {name: valkey-config, configMap: {name: valkey-config}}
        - {name: valkey-data, emptyDir: {}}
"#;

#[test]
fn valkey_helm_init_script_composes_the_config_the_server_reads() {
    let inv = model(VALKEY_HELM);
    let d = inv
        .deployments
        .iter()
        .find(|d| d.platform == Platform::Workload)
        .expect("the valkey server");
    assert_eq!(d.engine, crate::model::Product::Valkey);
    assert!(d.config.complete, "{:?}", d.config.gaps);
    let r = &d.config.redis;
    assert!(!r.bool_value("protected-mode"));
    assert_eq!(r.maxmemory_bytes(), 100 << 20);
    // Each line points into the script that writes it, or the file it appends.
    assert_eq!(line_pos(d, "protected-mode"), (28, 13));
    let (_, src) = d.config.source_of("protected-mode").unwrap();
    assert_eq!(
        src.origin,
        Origin::InitScript {
            container: "valkey-init".into()
        }
    );
    let (_, src) = d.config.source_of("maxmemory").unwrap();
    // Appended from its own mount: read in place, as an include at that point.
    assert_eq!(
        src.origin,
        Origin::Include {
            path: "/usr/local/etc/valkey/valkey.conf".into()
        }
    );
    assert_eq!(line_pos(d, "maxmemory"), (48, 5));
    // Default chart values: no password, protected mode off, every interface.
    assert_eq!(crate::rules::facts::auth(d), Some(false));
    assert!(
        d.config
            .gaps
            .iter()
            .any(|g| g.contains("/extravalkeyconfigs/* where present")),
        "{:?}",
        d.config.gaps
    );
}

const CLUSTER_WITH_PHASE: &str = "\
apiVersion: apps.kubeblocks.io/v1
kind: Cluster
metadata: {name: prod, namespace: db}
spec:
  componentSpecs:
  - name: redis
    componentDef: redis-7
status: {phase: PHASE}
";

const STOP: &str = "\
apiVersion: operations.kubeblocks.io/v1alpha1
kind: OpsRequest
metadata: {name: stop-prod, namespace: db}
spec:
  clusterName: prod
  type: Stop
  force: FORCE
";

/// An OpsRequest is read once into the model: its type, `force`, where the Cluster is named,
/// and the phase of the Cluster the reference finds — the nearest copy, as every join.
#[test]
fn ops_requests_carry_their_cluster_phase() {
    let inv = model_of_files(&[
        // The copy a plain lookup by namespace and name would keep (the last) is dev's.
        (
            "envs/prod/cluster.yaml",
            &CLUSTER_WITH_PHASE.replace("PHASE", "Running"),
        ),
        (
            "envs/dev/cluster.yaml",
            &CLUSTER_WITH_PHASE.replace("PHASE", "Updating"),
        ),
        ("envs/prod/stop.yaml", &STOP.replace("FORCE", "false")),
    ]);
    assert!(inv.ambiguous.is_empty(), "{:?}", inv.ambiguous);
    let [ops] = inv.ops_requests.as_slice() else {
        panic!("{:?}", inv.ops_requests)
    };
    assert_eq!(ops.kind, "Stop");
    assert!(!ops.force);
    let name = ops.cluster_name.as_ref().unwrap();
    assert_eq!(name.value, "prod");
    assert_eq!(name.at.pointer, "/spec/clusterName");
    assert_eq!(name.at.pos.map(|p| p.line), Some(5));
    assert_eq!(ops.cluster_phase.as_deref(), Some("Running"));

    // Without the Cluster, the phase is unknown; `force: true` is read.
    let inv = model(&STOP.replace("FORCE", "true"));
    assert!(inv.ops_requests[0].force);
    assert_eq!(inv.ops_requests[0].cluster_phase, None);
}

/// What rules read of the written text through the model: places, shapes, strings.
#[test]
fn model_access_reads_places_shapes_and_strings() {
    use crate::model::access::Shape;
    let inv = model(STS_WITH_CM);
    let sts = inv.deployments[0].object;
    let d = &inv.deployments[0];
    assert_eq!(d.pod_spec.as_ref().unwrap().pointer, "/spec/template/spec");
    let c = "/spec/template/spec/containers/0";
    assert_eq!(
        inv.shape_at(sts, &format!("{c}/args")),
        Shape::Strings(vec!["/etc/redis/redis.conf", "--maxmemory", "2048mb"])
    );
    assert_eq!(inv.shape_at(sts, &format!("{c}/command")), Shape::Absent);
    assert_eq!(inv.shape_at(sts, &format!("{c}/resources")), Shape::Map);
    assert_eq!(inv.shape_at(sts, "/spec/replicas"), Shape::Scalar);
    assert_eq!(inv.str_at(sts, &format!("{c}/image")), Some("redis:7.2.4"));
    let absent = inv.absent_loc(sts, "/spec", "podManagementPolicy");
    assert_eq!(absent.pointer, "/spec/podManagementPolicy");
    assert_eq!(absent.pos, inv.loc_of(sts, "/spec").pos);
    let mut text = String::new();
    inv.strings_under(sts, c, &mut text);
    assert!(
        text.contains("redis:7.2.4\n") && text.contains("2048mb\n"),
        "{text}"
    );
}

//! KubeBlocks: Clusters, OpsRequests, ComponentParameters, addon generations.

use super::*;

pub(super) const SEED: &str = "\
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

pub(super) const CLUSTER_WITH_PHASE: &str = "\
apiVersion: apps.kubeblocks.io/v1
kind: Cluster
metadata: {name: prod, namespace: db}
spec:
  componentSpecs:
  - name: redis
    componentDef: redis-7
status: {phase: PHASE}
";

pub(super) const STOP: &str = "\
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

//! Extractors on hand-written inputs, one shape or trap per test.

use super::*;
use crate::model::{DataVolume, Inventory, Origin, Platform, Role};
use crate::source::{Limits, load_yaml};

mod images;
mod kubeblocks;
mod operators;

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

/// `redis-server /conf/redis.conf $ARGS`: the file is read, and the options `$ARGS` holds are
/// a gap — not a pop of the file name (kube-stub-cluster's KeyDB start script).
#[test]
fn an_unknown_word_of_its_own_keeps_the_file_before_it() {
    let inv = model(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: conf}\ndata:\n  redis.conf: |\n    maxmemory 100mb\n---\napiVersion: apps/v1\nkind: StatefulSet\nmetadata: {name: r}\nspec:\n  template:\n    spec:\n      containers:\n      - name: redis\n        image: redis:7.0\n        command: [sh, -c, 'redis-server /conf/redis.conf $ARGS']\n        env:\n        - name: ARGS\n          valueFrom: {secretKeyRef: {name: s, key: a}}\n        volumeMounts:\n        - {name: conf, mountPath: /conf}\n      volumes:\n      - name: conf\n        configMap: {name: conf}\n",
    );
    let d = only(&inv);
    assert_eq!(d.config.redis.maxmemory_bytes(), 100 << 20);
    assert!(!d.config.complete, "{:?}", d.config.gaps);
    assert!(d.config.unknown.is_empty(), "{:?}", d.config.unknown);
}

/// KeyDB's programs: `keydb-server` is a KeyDB server, `keydb-sentinel` a KeyDB Sentinel.
#[test]
fn keydb_programs_are_recognised() {
    let inv = model(
        "apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {name: k}\nspec:\n  replicas: 3\n  template:\n    spec:\n      containers:\n      - name: keydb\n        image: eqalpha/keydb:x86_64_v6.3.4\n        command: [keydb-server, --server-threads, '4', --active-replica, 'yes']\n      - name: sentinel\n        image: eqalpha/keydb:x86_64_v6.3.4\n        command: [keydb-sentinel, /etc/sentinel.conf]\n",
    );
    assert_eq!(inv.deployments.len(), 2);
    let server = &inv.deployments[0];
    assert_eq!(server.engine, crate::model::Product::KeyDb);
    assert_eq!(server.config.redis.int_value("io-threads"), 4);
    assert!(server.config.redis.bool_value("active-replica"));
    assert_eq!(inv.deployments[1].role, Role::Sentinel);
    assert_eq!(inv.deployments[1].engine, crate::model::Product::KeyDb);
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

/// A budget whose selector matches two workloads counts the pods of both (the disruption
/// controller does); a server and a Sentinel container of one pod count once; a workload whose
/// count is unknown makes the total unknown.
#[test]
fn a_budget_counts_every_pod_it_selects() {
    let sts = |name: &str, replicas: &str, sidecar: bool| {
        let sentinel = if sidecar {
            "\n        - name: sentinel\n          image: redis:7.2.4\n          command: [\"redis-sentinel\", \"/etc/s.conf\"]"
        } else {
            ""
        };
        format!(
            "apiVersion: apps/v1\nkind: StatefulSet\nmetadata:\n  name: {name}\nspec:\n  \
             {replicas}selector:\n    matchLabels: {{app: redis, part: {name}}}\n  template:\n    \
             metadata:\n      labels: {{app: redis, part: {name}}}\n    spec:\n      containers:\n        \
             - name: redis\n          image: redis:7.2.4{sentinel}\n---\n"
        )
    };
    let pdb = "apiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata:\n  name: redis\nspec:\n  \
               minAvailable: 3\n  selector:\n    matchLabels: {app: redis}\n";
    let inv = model(&format!(
        "{}{}{pdb}",
        sts("primary", "replicas: 1\n  ", false),
        sts("replicas", "replicas: 3\n  ", true)
    ));
    assert!(inv.deployments.len() >= 3, "{:#?}", inv.deployments);
    for d in &inv.deployments {
        assert_eq!(
            d.pdb.as_ref().and_then(|p| p.selected_pods),
            Some(4),
            "{d:?}"
        );
    }
    // A count the input cannot show (set from a Helm value left as text) makes it unknown.
    let inv = model(&format!(
        "{}{}{pdb}",
        sts("primary", "replicas: many\n  ", false),
        sts("replicas", "replicas: 3\n  ", false)
    ));
    let totals: Vec<_> = inv
        .deployments
        .iter()
        .map(|d| d.pdb.as_ref().and_then(|p| p.selected_pods))
        .collect();
    assert_eq!(totals, vec![None, None], "{:#?}", inv.deployments);
}

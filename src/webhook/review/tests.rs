use base64::Engine as _;
use serde_json::{Value, json};

use super::{BadReview, Hook, MUTATED_ANNOTATION, Policy, request_for, review, review_within};
use crate::webhook::lookups::NoLookups;

/// A StatefulSet running redis-server (password from a Secret) with the given maxmemory
/// under a 1Gi limit, no readiness or startup probe (mutating rules' fixes) and a 1 s
/// liveness timeout: `tests/fixtures/serve/statefulset.json`, shared with `tests/serve.rs`.
fn statefulset(maxmemory: &str) -> Value {
    let mut v: Value = serde_json::from_str(include_str!(
        "../../../tests/fixtures/serve/statefulset.json"
    ))
    .unwrap();
    v["spec"]["template"]["spec"]["containers"][0]["args"][1] = json!(maxmemory);
    v
}

fn request(operation: &str, object: &Value, old: Option<&Value>) -> Vec<u8> {
    let uid = "705ab4f5-6393-11e8-b7cc-42010a800002";
    serde_json::to_vec(&request_for(uid, operation, object, old)).unwrap()
}

fn answer(body: &[u8], hook: Hook, policy: &Policy) -> Value {
    review(body, hook, policy, &NoLookups).unwrap().0
}

/// The denial message of a validating review of `object` (which must be denied).
fn denial(object: &Value) -> String {
    let out = answer(
        &request("CREATE", object, None),
        Hook::Validate,
        &Policy::default(),
    );
    let r = &out["response"];
    assert_eq!(r["allowed"], false, "{r}");
    r["status"]["message"].as_str().unwrap().to_string()
}

#[test]
fn an_error_denies_naming_rule_field_and_fix_and_echoes_the_uid() {
    let out = answer(
        &request("CREATE", &statefulset("1gb"), None),
        Hook::Validate,
        &Policy::default(),
    );
    assert_eq!(out["apiVersion"], "admission.k8s.io/v1");
    assert_eq!(out["kind"], "AdmissionReview");
    let r = &out["response"];
    assert_eq!(r["uid"], "705ab4f5-6393-11e8-b7cc-42010a800002");
    assert_eq!(r["allowed"], false);
    let message = r["status"]["message"].as_str().unwrap();
    assert!(message.contains("[redis-maxmemory-headroom]"), "{message}");
    assert!(
        message.contains("/spec/template/spec/containers/0/args/1"),
        "{message}"
    );
    assert!(message.contains("Fix: set maxmemory"), "{message}");
}

#[test]
fn warnings_allow_and_are_listed() {
    let out = answer(
        &request("CREATE", &statefulset("600mb"), None),
        Hook::Validate,
        &Policy::default(),
    );
    let r = &out["response"];
    assert_eq!(r["allowed"], true, "{r}");
    let warnings = r["warnings"].as_array().unwrap();
    assert!(
        warnings.iter().any(|w| w
            .as_str()
            .unwrap()
            .starts_with("redline redis-readiness-probe-missing")),
        "{warnings:?}"
    );
    assert!(
        warnings
            .iter()
            .all(|w| w.as_str().unwrap().chars().count() <= 256)
    );
}

#[test]
fn delete_is_allowed_unread() {
    let out = answer(
        &request("DELETE", &statefulset("1gb"), None),
        Hook::Validate,
        &Policy::default(),
    );
    assert_eq!(out["response"]["allowed"], true);
}

#[test]
fn legacy_updates_may_keep_their_errors_but_not_add_new_ones() {
    let old = statefulset("1gb");
    let mut scaled = old.clone();
    scaled["spec"]["replicas"] = json!(3);
    let strict = Policy::default();
    let lenient = Policy {
        allow_legacy_updates: true,
        ..Policy::default()
    };
    let body = request("UPDATE", &scaled, Some(&old));
    assert_eq!(
        answer(&body, Hook::Validate, &strict)["response"]["allowed"],
        false
    );
    assert_eq!(
        answer(&body, Hook::Validate, &lenient)["response"]["allowed"],
        true
    );
    // A new error is still denied.
    let mut worse = scaled.clone();
    worse["spec"]["template"]["spec"]["containers"][0]["resources"]["requests"]["memory"] =
        json!("512m");
    let body = request("UPDATE", &worse, Some(&old));
    assert_eq!(
        answer(&body, Hook::Validate, &lenient)["response"]["allowed"],
        false
    );
}

/// The patch on the wire, decoded.
fn patch_of(out: &Value) -> Option<json_patch::Patch> {
    let r = &out["response"];
    let encoded = r
        .get("patch")?
        .as_str()
        .expect("the patch is a base64 string (kube-rs#1781)");
    assert_eq!(r["patchType"], "JSONPatch");
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .unwrap();
    Some(serde_json::from_slice(&bytes).unwrap())
}

#[test]
fn mutate_patches_once_and_records_the_rules() {
    let object = statefulset("600mb");
    let out = answer(
        &request("CREATE", &object, None),
        Hook::Mutate,
        &Policy::default(),
    );
    assert_eq!(out["response"]["allowed"], true);
    let patch = patch_of(&out).expect("a patch");
    let mut patched = object.clone();
    json_patch::patch(&mut patched, &patch).unwrap();
    let container = &patched["spec"]["template"]["spec"]["containers"][0];
    assert!(container.get("readinessProbe").is_some(), "{container}");
    assert!(
        container.get("startupProbe").is_none(),
        "no persistence, no startup probe"
    );
    let recorded = patched["metadata"]["annotations"][MUTATED_ANNOTATION]
        .as_str()
        .unwrap();
    assert!(
        recorded.contains("redis-readiness-probe-missing"),
        "{recorded}"
    );
    // Nothing the user wrote is removed.
    assert_eq!(
        container["args"],
        object["spec"]["template"]["spec"]["containers"][0]["args"]
    );
    // Idempotent: the patched object gets no patch.
    let again = answer(
        &request("CREATE", &patched, None),
        Hook::Mutate,
        &Policy::default(),
    );
    assert!(patch_of(&again).is_none(), "{again}");
}

#[test]
fn the_annotation_key_is_escaped_where_annotations_exist() {
    let mut object = statefulset("600mb");
    object["metadata"]["annotations"] = json!({"team": "cache"});
    let out = answer(
        &request("CREATE", &object, None),
        Hook::Mutate,
        &Policy::default(),
    );
    let patch = serde_json::to_value(patch_of(&out).unwrap()).unwrap();
    let paths: Vec<&str> = patch
        .as_array()
        .unwrap()
        .iter()
        .map(|op| op["path"].as_str().unwrap())
        .collect();
    assert!(
        paths.contains(&"/metadata/annotations/redline.dev~1mutated"),
        "{paths:?}"
    );
    let mut patched = object.clone();
    let patch: json_patch::Patch = serde_json::from_value(patch).unwrap();
    json_patch::patch(&mut patched, &patch).unwrap();
    assert_eq!(patched["metadata"]["annotations"]["team"], "cache");
}

#[test]
fn bad_bodies_are_400_messages_not_panics() {
    let policy = Policy::default();
    let cases: Vec<(&[u8], &str)> = vec![
        (b"", "not JSON"),
        (b"{", "not JSON"),
        (b"[1,2]", "admission.k8s.io/v1"),
        (br#"{"apiVersion":"admission.k8s.io/v1beta1","kind":"AdmissionReview","request":{}}"#, "admission.k8s.io/v1"),
        (br#"{"apiVersion":"v1","kind":"Pod"}"#, "admission.k8s.io/v1"),
        (br#"{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview"}"#, "no `request`"),
        (br#"{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"x"}}"#, "AdmissionReview"),
        // A compressed body is named as such, not "not JSON: expected value".
        (b"\x1f\x8b\x08\x00\x00\x00\x00\x00", "gzip-compressed"),
    ];
    for (body, expected) in cases {
        for hook in [Hook::Validate, Hook::Mutate] {
            let err: BadReview = review(body, hook, &policy, &NoLookups).unwrap_err();
            assert!(
                err.0.contains(expected),
                "{:?}: {}",
                String::from_utf8_lossy(body),
                err.0
            );
        }
    }
    // A request with an object that is not a Kubernetes object.
    let mut body: Value =
        serde_json::from_slice(&request("CREATE", &json!({"a": 1}), None)).unwrap();
    body["request"]["object"] = json!({"metadata": {"name": "x"}});
    let err = review(
        &serde_json::to_vec(&body).unwrap(),
        Hook::Validate,
        &policy,
        &NoLookups,
    );
    assert!(err.is_err(), "{err:?}");
    // An UPDATE without its object names the operation as the API server spells it.
    let mut body: Value =
        serde_json::from_slice(&request("UPDATE", &statefulset("1gb"), None)).unwrap();
    body["request"]["object"] = Value::Null;
    let err = review(
        &serde_json::to_vec(&body).unwrap(),
        Hook::Validate,
        &policy,
        &NoLookups,
    )
    .unwrap_err();
    assert_eq!(err.0, "the UPDATE request has no `object`");
}

/// The fixture's StatefulSet with its container repeated `n` times under new names.
fn containers(n: usize) -> Value {
    let mut o = statefulset("1gb");
    let c = o["spec"]["template"]["spec"]["containers"][0].clone();
    o["spec"]["template"]["spec"]["containers"] = (0..n)
        .map(|i| {
            let mut c = c.clone();
            c["name"] = json!(format!("redis-{i}"));
            c
        })
        .collect();
    o
}

#[test]
fn every_budget_check_stops_the_review_and_the_answer_says_it_was_not_judged() {
    use crate::budget::Budget;
    let body = request("CREATE", &containers(20), None);
    let policy = Policy::default();
    for hook in [Hook::Validate, Hook::Mutate] {
        // Trip at the first check, the second, …: each stops the work; from some number on
        // there are enough for the whole review.
        let mut enough = None;
        for checks in 0..10_000 {
            let (out, decision) = review_within(
                &body,
                hook,
                &policy,
                &NoLookups,
                &Budget::after_checks(checks),
            )
            .unwrap();
            if decision.outcome == "deadline" {
                assert!(
                    enough.is_none(),
                    "{hook:?}: cut after {checks} checks, judged with fewer"
                );
                assert_eq!(out["response"]["allowed"], true);
                assert!(out["response"].get("patch").is_none());
                assert!(
                    out["response"]["warnings"][0]
                        .as_str()
                        .unwrap()
                        .starts_with("redline: not judged")
                );
                assert_eq!((decision.denied, decision.patch_ops), (0, 0));
            } else if enough.is_none() {
                enough = Some(checks);
                break;
            }
        }
        // Checked per container at least: the 20 containers cannot pass on fewer checks.
        let enough = enough.expect("judged at some number of checks");
        assert!(enough > 40, "{hook:?}: judged on {enough} checks");
    }
}

#[test]
fn answers_stay_small_whatever_the_object_holds() {
    let body = request("CREATE", &containers(300), None);
    let (out, decision) = review(&body, Hook::Validate, &Policy::default(), &NoLookups).unwrap();
    let message = out["response"]["status"]["message"].as_str().unwrap();
    assert!(
        message.chars().count() <= super::DENIAL_MAX_CHARS + 200,
        "{}",
        message.len()
    );
    assert!(
        message.ends_with("more findings (`redline lint` on the object lists them all)."),
        "{message}"
    );
    assert!(decision.denied >= 300, "{}", decision.denied);
    let warnings: Vec<&str> = out["response"]["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w.as_str().unwrap())
        .collect();
    let total: usize = warnings.iter().map(|w| w.chars().count()).sum();
    assert!(total <= super::WARNINGS_MAX_CHARS, "{total}");
    assert!(
        warnings.last().unwrap().contains("more warnings"),
        "{warnings:?}"
    );
    // The decision names the rules, not the findings.
    assert!(decision.rules.len() < 10, "{:?}", decision.rules);
}

#[test]
fn a_patch_stops_growing_at_its_cap_and_says_what_is_left() {
    // ~250 bytes of patch per container: 5,000 containers need more than 1 MiB.
    let body = request("CREATE", &containers(5000), None);
    let (out, decision) = review(&body, Hook::Mutate, &Policy::default(), &NoLookups).unwrap();
    let patch = base64::engine::general_purpose::STANDARD
        .decode(out["response"]["patch"].as_str().unwrap())
        .unwrap();
    assert!(
        patch.len() <= super::PATCH_MAX_BYTES + 1024,
        "{}",
        patch.len()
    );
    let warning = out["response"]["warnings"][0].as_str().unwrap();
    assert!(
        warning.contains("more fixes not applied: the patch would exceed 1024 KiB"),
        "{warning}"
    );
    assert_eq!(decision.outcome, "patched");
    // What was sent applies.
    let patch: json_patch::Patch = serde_json::from_slice(&patch).unwrap();
    let mut object = containers(5000);
    json_patch::patch(&mut object, &patch).unwrap();
}

/// Answers every lookup with the objects it was given.
struct Cluster(Vec<Value>);

impl crate::webhook::lookups::Related for Cluster {
    fn find(
        &self,
        _: &str,
        _: &crate::webhook::lookups::Want,
    ) -> Result<Vec<Value>, crate::webhook::lookups::LookupError> {
        Ok(self.0.clone())
    }
}

#[test]
fn an_operation_is_judged_against_the_cluster_the_lookups_find() {
    // The seed incident: maxmemory set to the 32Gi limit through an OpsRequest.
    let ops = json!({"apiVersion": "operations.kubeblocks.io/v1alpha1", "kind": "OpsRequest",
        "metadata": {"name": "mm", "namespace": "default"},
        "spec": {"clusterName": "redis-prod", "type": "Reconfiguring",
                 "reconfigures": [{"componentName": "redis",
                                   "parameters": [{"key": "maxmemory", "value": "34359738368"}]}]}});
    let cluster = json!({"apiVersion": "apps.kubeblocks.io/v1", "kind": "Cluster",
        "metadata": {"name": "redis-prod", "namespace": "default"},
        "spec": {"clusterDef": "redis", "topology": "replication", "componentSpecs": [
            {"name": "redis", "replicas": 2, "resources": {
                "requests": {"memory": "16Gi"}, "limits": {"memory": "32Gi"}}}]},
        "status": {"phase": "Running"}});
    let body = request("CREATE", &ops, None);
    let alone = review(&body, Hook::Validate, &Policy::default(), &NoLookups)
        .unwrap()
        .0;
    assert_eq!(alone["response"]["allowed"], true, "{alone}");
    let (with_cluster, decision) = review(
        &body,
        Hook::Validate,
        &Policy::default(),
        &Cluster(vec![cluster]),
    )
    .unwrap();
    assert_eq!(with_cluster["response"]["allowed"], false, "{with_cluster}");
    let message = with_cluster["response"]["status"]["message"]
        .as_str()
        .unwrap();
    assert!(message.contains("[redis-maxmemory-headroom]"), "{message}");
    assert!(decision.lookup_errors.is_empty());
    // Findings about the Cluster alone (its request/limit ratio) are not this review's: the
    // headroom finding names the limit raise that follows as the plan's next step only.
    assert!(
        !with_cluster
            .to_string()
            .contains("[redis-memory-request-ratio]"),
        "{with_cluster}"
    );
    assert!(
        message.contains("then raise the limit to 40Gi"),
        "{message}"
    );
}

#[test]
fn a_valkey_cluster_is_judged_at_its_spec_config() {
    let object = json!({
        "apiVersion": "valkey.io/v1alpha1", "kind": "ValkeyCluster",
        "metadata": {"name": "vc", "namespace": "cache"},
        "spec": {"shards": 3, "replicas": 1,
                 "resources": {"limits": {"memory": "1Gi"}},
                 "config": {"maxmemory": "1gb"},
                 "users": [{"name": "default", "passwordSecret": {"name": "s", "keys": ["pw"]}}]}
    });
    assert!(crate::webhook::admits("valkey.io", "ValkeyCluster"));
    let message = denial(&object);
    assert!(message.contains("[redis-maxmemory-headroom]"), "{message}");
    assert!(message.contains("/spec/config/maxmemory"), "{message}");
}

/// The families of issue 27 through the webhook face: a Dragonfly resource with maxmemory at
/// its limit, a KubeDB Redis whose inline redis.conf does the same, a single-node Redis
/// Enterprise cluster.
#[test]
fn dragonfly_kubedb_and_redis_enterprise_objects_are_judged() {
    let dragonfly = json!({
        "apiVersion": "dragonflydb.io/v1alpha1", "kind": "Dragonfly",
        "metadata": {"name": "df", "namespace": "cache"},
        "spec": {"replicas": 1, "args": ["--maxmemory=1gb", "--proactor_threads=1"],
                 "authentication": {"passwordFromSecret": {"name": "s", "key": "pw"}},
                 "resources": {"limits": {"memory": "1Gi"}}}
    });
    assert!(crate::webhook::admits("dragonflydb.io", "Dragonfly"));
    let message = denial(&dragonfly);
    assert!(message.contains("[redis-maxmemory-headroom]"), "{message}");
    assert!(message.contains("/spec/args/0"), "{message}");
    let kubedb = json!({
        "apiVersion": "kubedb.com/v1", "kind": "Redis",
        "metadata": {"name": "rd", "namespace": "cache"},
        "spec": {"version": "7.2.6",
                 "configuration": {"inline": {"redis.conf": "maxmemory 1gb\n"}}}
    });
    assert!(crate::webhook::admits("kubedb.com", "Redis"));
    let message = denial(&kubedb);
    assert!(message.contains("[redis-maxmemory-headroom]"), "{message}");
    assert!(message.contains("1024Mi"), "{message}");
    let rec = json!({
        "apiVersion": "app.redislabs.com/v1", "kind": "RedisEnterpriseCluster",
        "metadata": {"name": "rec", "namespace": "cache"},
        "spec": {"nodes": 1}
    });
    assert!(crate::webhook::admits(
        "app.redislabs.com",
        "RedisEnterpriseCluster"
    ));
    let message = denial(&rec);
    assert!(message.contains("[redis-enterprise-nodes]"), "{message}");
}

/// A StatefulSet whose AOF goes to a memory-backed emptyDir is denied by
/// `redis-data-memory-medium` at the `medium` field (the rule through the webhook face).
#[test]
fn data_on_a_memory_backed_empty_dir_is_denied_at_its_medium() {
    let mut sts = statefulset("600mb");
    let pod = &mut sts["spec"]["template"]["spec"];
    pod["containers"][0]["args"][5] = json!("yes"); // --appendonly yes
    pod["containers"][0]["volumeMounts"] = json!([{"name": "data", "mountPath": "/data"}]);
    pod["volumes"] = json!([{"name": "data", "emptyDir": {"medium": "Memory"}}]);
    let message = denial(&sts);
    assert!(message.contains("[redis-data-memory-medium]"), "{message}");
    assert!(
        message.contains("/spec/template/spec/volumes/0/emptyDir/medium"),
        "{message}"
    );

    // On the node's disk, the same StatefulSet is not reported by the rule.
    sts["spec"]["template"]["spec"]["volumes"] = json!([{"name": "data", "emptyDir": {}}]);
    let out = answer(
        &request("CREATE", &sts, None),
        Hook::Validate,
        &Policy::default(),
    );
    assert!(
        !out.to_string().contains("redis-data-memory-medium"),
        "{out}"
    );
}

/// A StatefulSet that lists `vm.overcommit_memory` in its pod sysctls is denied by
/// `redis-node-tuning-from-pod` (the kubelet would refuse its pods).
#[test]
fn a_node_sysctl_in_the_pod_spec_is_denied() {
    let mut sts = statefulset("600mb");
    sts["spec"]["template"]["spec"]["securityContext"] =
        json!({"sysctls": [{"name": "vm.overcommit_memory", "value": "1"}]});
    let message = denial(&sts);
    assert!(
        message.contains("[redis-node-tuning-from-pod]"),
        "{message}"
    );
    assert!(
        message.contains("/spec/template/spec/securityContext/sysctls/0"),
        "{message}"
    );
}

/// A StatefulSet with 6gb in RDB and the default grace gets `redis-shutdown-grace`'s warning
/// from the validating webhook, allowed, naming where the grace would go.
#[test]
fn a_grace_shorter_than_the_final_save_is_a_warning() {
    let mut sts = statefulset("6gb");
    let c = &mut sts["spec"]["template"]["spec"]["containers"][0];
    c["args"][3] = json!("3600 1"); // --save "3600 1", appendonly stays no
    c["resources"] = json!({"requests": {"memory": "8Gi"}, "limits": {"memory": "16Gi"}});
    let out = answer(
        &request("CREATE", &sts, None),
        Hook::Validate,
        &Policy::default(),
    );
    let r = &out["response"];
    let warnings = r["warnings"].as_array().cloned().unwrap_or_default();
    assert!(
        warnings.iter().any(|w| {
            let w = w.as_str().unwrap_or("");
            w.contains("redis-shutdown-grace")
                && w.contains("/spec/template/spec/terminationGracePeriodSeconds")
        }),
        "{r}"
    );
}

/// `redis-repl-backlog-small` is an info, which the validating webhook does not send; raised
/// to a warning in the configuration, a replicated StatefulSet with the 1mb default gets it.
#[test]
fn a_small_backlog_is_a_warning_where_the_configuration_raises_it() {
    let mut sts = statefulset("600mb");
    sts["spec"]["replicas"] = json!(3);
    let body = request("CREATE", &sts, None);
    let mentions = |out: &Value| out.to_string().contains("redis-repl-backlog-small");
    assert!(!mentions(&answer(
        &body,
        Hook::Validate,
        &Policy::default()
    )));
    let mut policy = Policy::default();
    policy
        .settings
        .rules
        .get_mut("redis-repl-backlog-small")
        .unwrap()
        .severity = Some(crate::rules::Severity::Warning);
    let out = answer(&body, Hook::Validate, &policy);
    assert!(mentions(&out["response"]["warnings"]), "{out}");
}

/// `io-threads 4` on the command line under a 2-CPU limit: `redis-io-threads-cpu`'s warning
/// from the validating webhook, at the argument.
#[test]
fn io_threads_beyond_the_cpu_limit_are_a_warning() {
    let mut sts = statefulset("600mb");
    let c = &mut sts["spec"]["template"]["spec"]["containers"][0];
    c["args"]
        .as_array_mut()
        .unwrap()
        .extend([json!("--io-threads"), json!("4")]);
    c["resources"]["limits"]["cpu"] = json!("2");
    let out = answer(
        &request("CREATE", &sts, None),
        Hook::Validate,
        &Policy::default(),
    );
    let warnings = out["response"]["warnings"].to_string();
    assert!(warnings.contains("redis-io-threads-cpu"), "{out}");
    assert!(
        warnings.contains("/spec/template/spec/containers/0/args/9"),
        "{out}"
    );
}

/// Three pods with a 512mb replica hard limit: 700mb + 512mb of replica output buffers can
/// exceed the 1Gi limit — `redis-maxmemory-headroom`'s budget warning, at the maxmemory
/// argument, naming both parts.
#[test]
fn maxmemory_plus_replica_buffers_beyond_the_limit_is_a_warning() {
    let mut sts = statefulset("700mb");
    sts["spec"]["replicas"] = json!(3);
    let c = &mut sts["spec"]["template"]["spec"]["containers"][0];
    c["args"].as_array_mut().unwrap().extend([
        json!("--client-output-buffer-limit"),
        json!("replica 512mb 128mb 60"),
    ]);
    let out = answer(
        &request("CREATE", &sts, None),
        Hook::Validate,
        &Policy::default(),
    );
    assert_eq!(out["response"]["allowed"], true, "{out}");
    let warnings = out["response"]["warnings"].to_string();
    assert!(warnings.contains("redis-maxmemory-headroom"), "{out}");
    assert!(
        warnings.contains("replica output buffers up to 536870912 B"),
        "{out}"
    );
    assert!(
        warnings.contains("/spec/template/spec/containers/0/args/1"),
        "{out}"
    );
}

/// An OT RedisSentinel of one pod keeps the operator's default quorum "2": it never fails
/// over — `redis-sentinel-topology`'s error denies it, at the default's would-be place.
#[test]
fn a_sentinel_quorum_above_the_sentinels_is_denied() {
    let sentinel = json!({
        "apiVersion": "redis.redis.opstreelabs.in/v1beta2",
        "kind": "RedisSentinel",
        "metadata": {"name": "redis-sentinel", "namespace": "cache"},
        "spec": {
            "clusterSize": 1,
            "kubernetesConfig": {"image": "quay.io/opstree/redis-sentinel:v7.2.3"},
            "redisSentinelConfig": {
                "redisReplicationName": "redis",
                "resolveHostnames": "yes",
                "announceHostnames": "yes"
            }
        }
    });
    let message = denial(&sentinel);
    assert!(message.contains("redis-sentinel-topology"), "{message}");
    assert!(
        message.contains("/spec/redisSentinelConfig/quorum"),
        "{message}"
    );
}

/// A VerticalScaling that lowers the limit to 1Gi under a maxmemory of 2gb the Cluster's
/// ComponentParameter pins: KubeBlocks re-renders the template but keeps the pinned value, so
/// the operation is denied at its new limit. Without the pin, the re-rendered 0.8 × 2Gi is
/// only a warning.
#[test]
fn a_vertical_scaling_under_a_pinned_maxmemory_is_denied() {
    let vscale = json!({"apiVersion": "operations.kubeblocks.io/v1alpha1", "kind": "OpsRequest",
        "metadata": {"name": "vscale", "namespace": "default"},
        "spec": {"clusterName": "redis-prod", "type": "VerticalScaling",
                 "verticalScaling": [{"componentName": "redis",
                     "requests": {"memory": "1Gi"}, "limits": {"memory": "1Gi"}}]}});
    let cluster = json!({"apiVersion": "apps.kubeblocks.io/v1", "kind": "Cluster",
        "metadata": {"name": "redis-prod", "namespace": "default"},
        "spec": {"clusterDef": "redis", "topology": "replication", "componentSpecs": [
            {"name": "redis", "serviceVersion": "7.2.4", "replicas": 2, "resources": {
                "requests": {"memory": "4Gi"}, "limits": {"memory": "4Gi"}}}]},
        "status": {"phase": "Running"}});
    let pinned = json!({"apiVersion": "parameters.kubeblocks.io/v1alpha1",
        "kind": "ComponentParameter",
        "metadata": {"name": "redis-prod-redis", "namespace": "default"},
        "spec": {"clusterName": "redis-prod", "componentName": "redis",
                 "configItemDetails": [{"name": "redis-replication-config",
                     "configFileParams": {"redis.conf": {"parameters": {"maxmemory": "2gb"}}}}]}});
    let body = request("CREATE", &vscale, None);
    let judged = |objects: Vec<Value>| {
        review(&body, Hook::Validate, &Policy::default(), &Cluster(objects))
            .unwrap()
            .0
    };
    let out = judged(vec![cluster.clone(), pinned]);
    assert_eq!(out["response"]["allowed"], false, "{out}");
    let message = out["response"]["status"]["message"].as_str().unwrap();
    assert!(message.contains("[redis-maxmemory-headroom]"), "{message}");
    assert!(
        message.contains("/spec/verticalScaling/0/limits/memory"),
        "{message}"
    );
    assert!(message.contains("keeps a pinned maxmemory"), "{message}");
    let derived = judged(vec![cluster]);
    assert_eq!(derived["response"]["allowed"], true, "{derived}");
}

/// `redis-engine-lifecycle` (webhook: false) does not run in the admission webhook even
/// raised to a warning; the configuration's `webhook: true` turns it on there. `lint` runs it
/// by default (its rule cases).
#[test]
fn the_engine_lifecycle_rule_runs_in_the_webhook_only_when_configured() {
    let mut sts = statefulset("600mb");
    sts["spec"]["template"]["spec"]["containers"][0]["image"] = json!("redis:7.0.15");
    let body = request("CREATE", &sts, None);
    let mentions = |out: &Value| out.to_string().contains("redis-engine-lifecycle");
    let mut policy = Policy::default();
    let rule = policy
        .settings
        .rules
        .get_mut("redis-engine-lifecycle")
        .unwrap();
    rule.severity = Some(crate::rules::Severity::Warning);
    assert!(!rule.webhook);
    assert!(!mentions(&answer(&body, Hook::Validate, &policy)));
    policy
        .settings
        .rules
        .get_mut("redis-engine-lifecycle")
        .unwrap()
        .webhook = true;
    let out = answer(&body, Hook::Validate, &policy);
    assert!(mentions(&out["response"]["warnings"]), "{out}");
}

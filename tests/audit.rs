//! `redline audit` end to end: the real binary against the fake API server
//! (`common/fake_api.rs`), which answers with the real API server's shapes: discovery,
//! paginated lists, `410 Gone`, `403`, `404`, server-side apply. No real API server runs in
//! these tests (the README says so).

mod common;
#[path = "common/fake_api.rs"]
mod fake_api;
#[path = "common/server.rs"]
mod server;

use std::path::Path;
use std::process::{Command, Output};
use std::sync::Arc;

use serde_json::{Value, json};

use common::{BIN, code, root, scratch, stderr, stdout};

/// The bundled examples as a cluster holds them, among 40 ConfigMaps of other applications
/// (two namespaces) and a Service; KubeBlocks is installed, no other operator.
fn cluster() -> fake_api::Fake {
    let mut fake = fake_api::examples(root());
    let config_maps = fake.lists.get_mut("/api/v1/configmaps").unwrap();
    for i in 0..40 {
        let ns = if i % 2 == 0 { "cache" } else { "web" };
        config_maps.push(json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": format!("app-{i:02}"), "namespace": ns, "uid": format!("cm-{i}")},
            "data": {"app.properties": "x=1\n".repeat(50)}}));
    }
    // The API server lists by namespace, then name.
    config_maps.sort_by_key(|o| {
        (
            o["metadata"]["namespace"].as_str().unwrap().to_string(),
            o["metadata"]["name"].as_str().unwrap().to_string(),
        )
    });
    fake.lists.insert(
        "/api/v1/services".into(),
        vec![json!({"apiVersion": "v1", "kind": "Service",
            "metadata": {"name": "redis", "namespace": "cache", "uid": "svc-0"},
            "spec": {"ports": [{"port": 6379}]}})],
    );
    fake
}

struct Cluster {
    _rt: tokio::runtime::Runtime,
    fake: Arc<fake_api::Fake>,
    kubeconfig: std::path::PathBuf,
    dir: std::path::PathBuf,
}

fn start(name: &str, fake: fake_api::Fake) -> Cluster {
    let dir = scratch(name);
    let rt = server::tokio();
    let (addr, fake) = rt.block_on(fake_api::start(fake));
    let kubeconfig = fake_api::kubeconfig(&dir, addr, "cache");
    Cluster {
        _rt: rt,
        fake,
        kubeconfig,
        dir,
    }
}

impl Cluster {
    fn audit(&self, args: &[&str]) -> Output {
        Command::new(BIN)
            .arg("audit")
            .arg("--kubeconfig")
            .arg(&self.kubeconfig)
            .args(args)
            .current_dir(&self.dir)
            .env_remove("KUBECONFIG")
            .output()
            .unwrap()
    }
}

/// (rule, severity, message, object, path, fix) of a JSON report's findings.
fn findings(report: &Value) -> Vec<Value> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            json!([
                f["rule"],
                f["severity"],
                f["message"],
                f["object"],
                f["path"],
                f["fix"]
            ])
        })
        .collect()
}

fn sorted(mut v: Vec<Value>) -> Vec<Value> {
    v.sort_by_key(|x| x.to_string());
    v
}

#[test]
fn an_audit_finds_what_lint_finds_in_the_same_objects_in_every_format() {
    let c = start("audit-formats", cluster());
    let o = c.audit(&["--all-namespaces", "--format", "json", "--chunk-size", "7"]);
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    let audited: Value = serde_json::from_slice(&o.stdout).unwrap();
    let linted = common::run(&[
        "lint",
        "examples/statefulset-configmap.yaml",
        "examples/kubeblocks-seed-incident.yaml",
        "--format",
        "json",
    ]);
    let linted: Value = serde_json::from_slice(&linted.stdout).unwrap();
    assert_eq!(
        sorted(findings(&audited)),
        sorted(findings(&linted)),
        "audit and lint disagree on the same objects"
    );
    assert_eq!(findings(&audited).len(), 11);
    // No file, no line: the object's identity and the pointer.
    let first = &audited["findings"][0];
    assert_eq!(first["line"], Value::Null);
    assert!(
        audited["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["file"] == "cache/ConfigMap/redis-config" && f["path"] == "/data/redis.conf"),
        "{audited}"
    );
    // The kept objects: the examples' 4 and the Service, not the 40 other applications'
    // ConfigMaps.
    assert_eq!(audited["summary"]["objects"], 4 + 1, "{audited}");
    // Operators that are not installed are notes, not failures.
    let err = stderr(&o);
    assert!(
        err.contains("note: dragonflies.dragonflydb.io is not served (CRD not installed): skipped"),
        "{err}"
    );

    // Pages of 7: every ConfigMap page was asked for with a limit and a continue token.
    let requests = c.fake.requests();
    let pages: Vec<&String> = requests
        .iter()
        .filter(|r| r.starts_with("GET /api/v1/configmaps?"))
        .collect();
    assert_eq!(pages.len(), 42usize.div_ceil(7), "{pages:?}");
    assert!(pages.iter().all(|p| p.contains("limit=7")), "{pages:?}");
    assert!(
        pages[1..].iter().all(|p| p.contains("continue=offset-")),
        "{pages:?}"
    );

    // Human: the identity and the pointer, the summary without files.
    let o = c.audit(&["-A"]);
    assert_eq!(code(&o), 1);
    let text = stdout(&o);
    assert!(
        text.contains(
            "--> cache/ConfigMap/redis-config (ConfigMap cache/redis-config, /data/redis.conf)"
        ),
        "{text}"
    );
    assert!(
        text.contains("5 object(s): 4 error(s), 5 warning(s), 2 info(s)"),
        "{text}"
    );

    // Markdown: a row per finding, located by the object's identity.
    let o = c.audit(&["-A", "--format", "markdown"]);
    assert_eq!(code(&o), 1);
    let md = stdout(&o);
    assert!(
        md.contains("\n5 object(s) checked: **4 error(s)**, 5 warning(s), 2 info(s).\n"),
        "{md}"
    );
    assert!(
        md.contains(
            "| error | `redis-maxmemory-headroom` | cache/ConfigMap/redis-config | maxmemory "
        ),
        "{md}"
    );
    assert_eq!(md.matches("\n| error | `").count(), 4, "{md}");
    // The memory budgets: lint's, each named by its object's identity, without a line.
    let budgets = |report: &Value| -> Vec<Value> {
        let mut v: Vec<Value> = report["memory"]
            .as_array()
            .unwrap()
            .iter()
            .map(|b| {
                let mut b = b.clone();
                let o = b.as_object_mut().unwrap();
                o.remove("file");
                o.remove("line");
                b
            })
            .collect();
        v.sort_by_key(|x| x.to_string());
        v
    };
    assert_eq!(budgets(&audited), budgets(&linted));
    assert_eq!(audited["memory"].as_array().unwrap().len(), 3);
    assert!(
        audited["memory"]
            .as_array()
            .unwrap()
            .iter()
            .any(|b| b["file"] == "cache/StatefulSet/redis"
                && b["line"].is_null()
                && b["limit_bytes"] == 1073741824u64),
        "{audited}"
    );
    // The HTML page: a chart per server, located by identity.
    let o = c.audit(&["-A", "--format", "html"]);
    assert_eq!(code(&o), 1);
    let page = stdout(&o);
    assert!(page.starts_with("<!DOCTYPE html>"));
    assert_eq!(page.matches("<figure class=\"budget\"").count(), 3);
    assert!(page.contains("data-file=\"cache/StatefulSet/redis\" data-line=\"\""));

    // SARIF validates against the OASIS schema.
    let o = c.audit(&["-A", "--format", "sarif"]);
    let sarif: Value = serde_json::from_slice(&o.stdout).unwrap();
    let schema: Value = serde_json::from_slice(
        &std::fs::read(root().join("tests/schemas/sarif-schema-2.1.0.json")).unwrap(),
    )
    .unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(&sarif)
        .map(|e| e.to_string())
        .collect();
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(sarif["runs"][0]["results"].as_array().unwrap().len(), 11);

    // --fail-on never: findings do not fail the run.
    assert_eq!(code(&c.audit(&["-A", "--fail-on", "never"])), 0);
}

/// The v1alpha2 `openAPIV3Schema` of the vendored CRD, as a JSON Schema that also refuses
/// fields the schema does not declare: the API server would prune them silently.
fn report_schema(file: &str) -> jsonschema::Validator {
    let crd: Value = yaml_serde::from_str(
        &std::fs::read_to_string(root().join("tests/schemas").join(file)).unwrap(),
    )
    .unwrap();
    let version = crd["spec"]["versions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["name"] == "v1alpha2")
        .unwrap();
    let mut schema = version["schema"]["openAPIV3Schema"].clone();
    fn closed(v: &mut Value) {
        if let Some(m) = v.as_object_mut() {
            if m.contains_key("properties") && !m.contains_key("additionalProperties") {
                m.insert("additionalProperties".into(), json!(false));
            }
            for (_, child) in m.iter_mut() {
                closed(child);
            }
        } else if let Some(a) = v.as_array_mut() {
            a.iter_mut().for_each(closed);
        }
    }
    closed(&mut schema);
    jsonschema::validator_for(&schema).unwrap()
}

fn reports_of(text: &str) -> Vec<Value> {
    text.split("---\n")
        .filter(|d| !d.trim().is_empty())
        .map(|d| yaml_serde::from_str(d).unwrap())
        .collect()
}

#[test]
fn policy_reports_validate_against_the_upstream_crd() {
    let c = start("audit-policyreport", cluster());
    let o = c.audit(&["-A", "--format", "policyreport"]);
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    let reports = reports_of(&stdout(&o));
    let namespaced = report_schema("wgpolicyk8s.io_policyreports.yaml");
    for r in &reports {
        let errors: Vec<String> = namespaced.iter_errors(r).map(|e| e.to_string()).collect();
        assert!(errors.is_empty(), "{errors:?}\n{r}");
        assert_eq!(r["kind"], "PolicyReport");
        assert_eq!(r["metadata"]["name"], "redline");
        assert_eq!(
            r["metadata"]["labels"]["app.kubernetes.io/managed-by"],
            "redline"
        );
    }
    // One per namespace that holds a judged object; the 40 other ConfigMaps' `web` has none.
    let namespaces: Vec<&str> = reports
        .iter()
        .map(|r| r["metadata"]["namespace"].as_str().unwrap())
        .collect();
    assert_eq!(namespaces, ["cache", "default"]);
    let cache = &reports[0];
    assert_eq!(
        cache["summary"],
        json!({"pass": 0, "fail": 3, "warn": 3, "error": 0, "skip": 0})
    );
    let headroom = cache["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["policy"] == "redis-maxmemory-headroom")
        .unwrap();
    assert_eq!(headroom["result"], "fail");
    assert_eq!(headroom["severity"], "high");
    assert_eq!(headroom["properties"]["pointer"], "/data/redis.conf");
    assert_eq!(
        headroom["resources"],
        json!([{"apiVersion": "v1", "kind": "ConfigMap", "namespace": "cache",
                "name": "redis-config", "uid": "0000-0"}])
    );
    // Infos pass.
    let default = &reports[1];
    assert_eq!(default["summary"]["pass"], 2, "{default}");

    // The validation can fail: a result outside the enum, a field the CRD would prune.
    let mut bad = cache.clone();
    bad["results"][0]["result"] = json!("failed");
    assert!(!namespaced.is_valid(&bad));
    let mut pruned = cache.clone();
    pruned["results"][0]["fixPatch"] = json!("[]");
    assert!(!namespaced.is_valid(&pruned));
}

#[test]
fn write_reports_creates_then_updates_in_place_and_empties_stale_ones() {
    let fake = cluster();
    // A report an earlier audit left in a namespace whose Redis is gone.
    fake.applied.lock().unwrap().insert(
        "/apis/wgpolicyk8s.io/v1alpha2/policyreports".into(),
        vec![json!({"apiVersion": "wgpolicyk8s.io/v1alpha2", "kind": "PolicyReport",
            "metadata": {"name": "redline", "namespace": "old", "uid": "old-uid",
                         "labels": {"app.kubernetes.io/managed-by": "redline"}},
            "summary": {"fail": 1}, "results": [{"policy": "redis-maxmemory-headroom", "result": "fail"}]})],
    );
    let c = start("audit-write", fake);
    let collection = "/apis/wgpolicyk8s.io/v1alpha2/policyreports";
    let o = c.audit(&["-A", "--write-reports", "--fail-on", "never"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(
        stderr(&o).contains("applied 3 policy report(s)"),
        "{}",
        stderr(&o)
    );
    let first = c.fake.applied_to(collection);
    let of = |reports: &[Value], ns: &str| {
        reports
            .iter()
            .find(|r| r["metadata"]["namespace"] == ns)
            .cloned()
            .unwrap()
    };
    assert_eq!(first.len(), 3);
    assert_eq!(of(&first, "cache")["summary"]["fail"], 3);
    assert_eq!(of(&first, "old")["results"], json!([]));
    assert_eq!(of(&first, "old")["metadata"]["uid"], "old-uid");
    let applies: Vec<String> = c
        .fake
        .requests()
        .into_iter()
        .filter(|r| r.starts_with("PATCH "))
        .collect();
    assert!(
        applies
            .iter()
            .all(|r| r.contains("fieldManager=redline") && r.contains("force=true")),
        "{applies:?}"
    );

    // Again: the same objects updated in place (same uid, a new resourceVersion).
    let o = c.audit(&["-A", "--write-reports", "--fail-on", "never"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let second = c.fake.applied_to(collection);
    assert_eq!(second.len(), 3);
    for ns in ["cache", "default", "old"] {
        assert_eq!(
            of(&second, ns)["metadata"]["uid"],
            of(&first, ns)["metadata"]["uid"]
        );
        assert_ne!(
            of(&second, ns)["metadata"]["resourceVersion"],
            of(&first, ns)["metadata"]["resourceVersion"]
        );
    }
}

#[test]
fn a_forbidden_kind_names_its_rbac_rule_and_fails_the_run() {
    let mut fake = cluster();
    fake.forbidden = vec!["/apis/apps/v1/statefulsets".into()];
    let c = start("audit-forbidden", fake);
    let o = c.audit(&["-A", "--fail-on", "never", "--format", "json"]);
    assert_eq!(
        code(&o),
        1,
        "an incomplete audit fails whatever --fail-on says"
    );
    let err = stderr(&o);
    assert!(
        err.contains(
            "error: cannot list statefulsets.apps: statefulsets.apps is forbidden: User \
             \"system:serviceaccount:redline-system:redline\" cannot list resource \
             \"statefulsets\" in API group \"apps\" at the cluster scope; its objects were not \
             judged. The RBAC rule it needs: {apiGroups: [\"apps\"], resources: \
             [\"statefulsets\"], verbs: [\"get\", \"list\", \"watch\"]}"
        ),
        "{err}"
    );
    // The rest was judged: the KubeBlocks findings are there, the StatefulSet's are not.
    let report: Value = serde_json::from_slice(&o.stdout).unwrap();
    let rules: Vec<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["object"]["kind"].as_str().unwrap())
        .collect();
    assert!(rules.contains(&"OpsRequest"), "{report}");
    assert!(!rules.contains(&"StatefulSet"), "{report}");

    // A partial audit does not replace the reports of a complete one.
    let o = c.audit(&["-A", "--write-reports"]);
    assert_eq!(code(&o), 1);
    assert!(
        stderr(&o).contains("policy reports not written: the audit is incomplete"),
        "{}",
        stderr(&o)
    );
    assert!(
        !c.fake.requests().iter().any(|r| r.starts_with("PATCH ")),
        "{:?}",
        c.fake.requests()
    );
    // Nor does an audit of some labels only.
    let o = c.audit(&["-A", "-l", "app=redis", "--write-reports"]);
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("cannot be used with"), "{}", stderr(&o));
}

#[test]
fn an_expired_continue_token_restarts_the_list_and_loses_nothing() {
    let fake = cluster();
    fake.expire_continue
        .store(1, std::sync::atomic::Ordering::SeqCst);
    let c = start("audit-gone", fake);
    let o = c.audit(&["-A", "--format", "json", "--chunk-size", "7"]);
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    let report: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(findings(&report).len(), 11);
    let requests = c.fake.requests();
    let starts = requests
        .iter()
        .filter(|r| r.starts_with("GET /api/v1/configmaps?") && !r.contains("continue="))
        .count();
    assert_eq!(starts, 2, "the ConfigMap list started again: {requests:?}");

    // More 410s than restarts: the kind is reported, the run fails.
    let fake = cluster();
    fake.expire_continue
        .store(100, std::sync::atomic::Ordering::SeqCst);
    let c = start("audit-gone-again", fake);
    let o = c.audit(&["-A", "--chunk-size", "7", "--fail-on", "never"]);
    assert_eq!(code(&o), 1);
    assert!(
        stderr(&o)
            .contains("error: cannot list configmaps: The provided continue parameter is too old"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn namespaces_and_label_selectors_choose_what_is_judged() {
    let mut fake = cluster();
    // The StatefulSet carries app=redis; its ConfigMap carries no label and is still read.
    let sts = fake
        .lists
        .get_mut("/apis/apps/v1/statefulsets")
        .unwrap()
        .first_mut()
        .unwrap();
    sts["metadata"]["labels"] = json!({"app": "redis"});
    let c = start("audit-scope", fake);

    // The context's namespace (`cache`) by default: namespaced requests only.
    let o = c.audit(&["--format", "json"]);
    let report: Value = serde_json::from_slice(&o.stdout).unwrap();
    let namespaces: std::collections::BTreeSet<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["object"]["namespace"].as_str().unwrap())
        .collect();
    assert_eq!(namespaces.into_iter().collect::<Vec<_>>(), ["cache"]);
    assert!(
        c.fake
            .requests()
            .iter()
            .filter(|r| r.starts_with("GET /api/v1/") || r.starts_with("GET /apis/apps/"))
            .all(|r| r.contains("/namespaces/cache/")),
        "{:?}",
        c.fake.requests()
    );

    // -l app=redis across namespaces: the StatefulSet (with its ConfigMap), not KubeBlocks.
    let o = c.audit(&["-A", "-l", "app=redis", "--format", "json"]);
    let report: Value = serde_json::from_slice(&o.stdout).unwrap();
    let kinds: std::collections::BTreeSet<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["object"]["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds.into_iter().collect::<Vec<_>>(),
        ["ConfigMap", "StatefulSet"]
    );
    let headroom = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f["rule"] == "redis-maxmemory-headroom" && f["object"]["kind"] == "ConfigMap");
    assert!(headroom, "the unlabelled ConfigMap was read: {report}");
}

#[test]
fn an_unreachable_api_server_is_a_usage_error_naming_it() {
    let dir = scratch("audit-unreachable");
    // A port nothing listens on.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let kubeconfig = fake_api::kubeconfig(&dir, addr, "default");
    let o = Command::new(BIN)
        .args(["audit", "-A", "--kubeconfig"])
        .arg(&kubeconfig)
        .output()
        .unwrap();
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    assert!(
        stderr(&o).contains("cannot reach the API server"),
        "{}",
        stderr(&o)
    );
    let o = Command::new(BIN)
        .args(["audit", "--kubeconfig"])
        .arg(Path::new(&dir).join("missing"))
        .output()
        .unwrap();
    assert_eq!(code(&o), 2);
    assert!(
        stderr(&o).contains("cannot read the kubeconfig"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn serve_audits_in_the_background_and_exposes_the_findings_metric() {
    let c = start("audit-serve", cluster());
    let server = server::Server::start(
        &c.dir,
        &[
            "--lookups",
            "off",
            "--audit-interval",
            "1s",
            "--write-reports",
        ],
        &[("KUBECONFIG", c.kubeconfig.to_str().unwrap())],
        None,
    );
    let rt = server::tokio();
    let metrics = rt.block_on(async {
        let client = server.client();
        // The first audit runs at start-up; a busy machine gets a minute.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        loop {
            let m = server.metrics(&client).await;
            if m.contains("redline_audit_runs_total{result=\"ok\"}") {
                break m;
            }
            assert!(std::time::Instant::now() < deadline, "no audit ran: {m}");
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
    });
    for series in [
        r#"redline_audit_findings{rule="redis-maxmemory-headroom",severity="error",namespace="cache"} 1"#,
        r#"redline_audit_findings{rule="redis-maxmemory-headroom",severity="error",namespace="default"} 1"#,
        r#"redline_audit_findings{rule="redis-repl-backlog-small",severity="info",namespace="default"} 1"#,
    ] {
        assert!(metrics.contains(series), "{series} missing:\n{metrics}");
    }
    let reports = c
        .fake
        .applied_to("/apis/wgpolicyk8s.io/v1alpha2/policyreports");
    assert_eq!(reports.len(), 2, "{reports:?}");
}

#[test]
fn reports_that_cannot_be_written_name_the_rbac_rule_and_exit_2() {
    let mut fake = cluster();
    fake.forbidden = vec!["/apis/wgpolicyk8s.io/v1alpha2/policyreports".into()];
    let c = start("audit-write-forbidden", fake);
    let o = c.audit(&["-A", "--write-reports"]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    assert!(
        stderr(&o).contains(
            "cannot write policyreports.wgpolicyk8s.io: policyreports.wgpolicyk8s.io is forbidden"
        ) && stderr(&o).contains(
            "{apiGroups: [\"wgpolicyk8s.io\"], resources: [\"policyreports\"], verbs: [\"get\", \"list\", \"create\", \"patch\"]}"
        ),
        "{}",
        stderr(&o)
    );
}

#[test]
fn a_namespace_with_nothing_to_report_gets_an_empty_report() {
    let c = start("audit-empty", cluster());
    let o = c.audit(&["-n", "web", "--format", "policyreport"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let reports = reports_of(&stdout(&o));
    assert_eq!(reports.len(), 1);
    assert_eq!(reports[0]["metadata"]["namespace"], "web");
    assert_eq!(reports[0]["results"], json!([]));
    assert_eq!(
        reports[0]["summary"],
        json!({"pass": 0, "fail": 0, "warn": 0, "error": 0, "skip": 0})
    );
}

#[test]
fn progress_is_drawn_on_a_terminal_only() {
    let c = start("audit-progress", cluster());
    // Piped: the report and nothing else.
    let o = c.audit(&["-A", "--format", "json"]);
    assert!(!stderr(&o).contains("auditing ["), "{}", stderr(&o));
    // On a terminal (util-linux `script` gives the command a pseudo-terminal).
    let command = format!(
        "{BIN} audit -A --format json --chunk-size 7 --kubeconfig {} -o {}",
        c.kubeconfig.display(),
        c.dir.join("report.json").display()
    );
    let o = Command::new("script")
        .args(["-qec", &command, "/dev/null"])
        .output()
        .expect("script (util-linux)");
    let shown = String::from_utf8_lossy(&o.stdout).to_string();
    assert!(
        shown.contains("auditing [") && shown.contains("kinds, ") && shown.contains("\u{1b}[2K"),
        "{shown:?}"
    );
    // It moves with every page: the ConfigMaps' six pages show six counts.
    let counts: std::collections::BTreeSet<&str> = shown
        .split('\r')
        .filter(|l| l.trim_end().ends_with("objects read configmaps"))
        .collect();
    assert!(counts.len() >= 6, "{counts:?}");
    let report: Value =
        serde_json::from_slice(&std::fs::read(c.dir.join("report.json")).unwrap()).unwrap();
    assert_eq!(report["findings"].as_array().unwrap().len(), 11);
}

#[test]
fn findings_in_an_object_without_a_namespace_go_to_a_cluster_policy_report() {
    // No admitted kind is cluster-scoped today; the report kind is chosen by the object, so
    // one read without a namespace lands in the ClusterPolicyReport.
    let mut object: Value = serde_json::from_slice(
        &std::fs::read(root().join("tests/fixtures/serve/statefulset.json")).unwrap(),
    )
    .unwrap();
    object["metadata"] = json!({"name": "global", "uid": "u-1"});
    let linted = redline::audit::judge(
        vec![object],
        &redline::extract::Options::default(),
        &redline::engine::Settings::default(),
    );
    let report = redline::report::Report::new(&linted);
    assert!(!report.items.is_empty());
    let reports = redline::report::policyreport::reports(&report, &["cache".into()], 1_700_000_000);
    let kinds: Vec<&str> = reports
        .iter()
        .map(|r| r["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["ClusterPolicyReport", "PolicyReport"]);
    let cluster = &reports[0];
    assert!(cluster["metadata"].get("namespace").is_none(), "{cluster}");
    assert_eq!(cluster["results"][0]["resources"][0]["name"], "global");
    assert_eq!(cluster["results"][0]["timestamp"]["seconds"], 1_700_000_000);
    let schema = report_schema("wgpolicyk8s.io_clusterpolicyreports.yaml");
    let errors: Vec<String> = schema.iter_errors(cluster).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "{errors:?}");
    // The namespace audited with nothing found: an empty report.
    assert_eq!(reports[1]["results"], json!([]));
}

#[test]
fn context_chooses_the_cluster_of_a_kubeconfig_from_the_environment() {
    let c = start("audit-context", cluster());
    // Two clusters; the current context's is down.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let down = closed.local_addr().unwrap();
    drop(closed);
    let fake = std::fs::read_to_string(&c.kubeconfig).unwrap();
    let server = fake
        .lines()
        .find_map(|l| l.trim().strip_prefix("server: "))
        .unwrap()
        .to_string();
    let kubeconfig = c.dir.join("two-contexts");
    std::fs::write(
        &kubeconfig,
        format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: up\n  cluster:\n    server: {server}\n\
             - name: down\n  cluster:\n    server: http://{down}\nusers:\n- name: test\n  user:\n    \
             token: fake-token\ncontexts:\n- name: fake\n  context:\n    cluster: up\n    user: test\n\
             - name: broken\n  context:\n    cluster: down\n    user: test\ncurrent-context: broken\n"
        ),
    )
    .unwrap();
    let run = |args: &[&str]| {
        Command::new(BIN)
            .arg("audit")
            .args(args)
            .env("KUBECONFIG", &kubeconfig)
            .output()
            .unwrap()
    };
    let o = run(&["-A"]);
    assert_eq!(
        code(&o),
        2,
        "the current context's cluster is down: {}",
        stderr(&o)
    );
    let o = run(&["-A", "--context", "fake", "--format", "json"]);
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    let report: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(findings(&report).len(), 11);
    let o = run(&["-A", "--context", "missing"]);
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("missing"), "{}", stderr(&o));
}

//! Per rule, Polaris-style fixtures in `tests/fixtures/rules/<id>/`:
//! - `fail.yaml` gives at least one finding of the rule;
//! - `pass.yaml` gives none;
//! - `fixed.yaml`, for a rule whose findings in `fail.yaml` carry patches: byte for byte what
//!   `redline fix --rule ID fail.yaml` writes, equal as data to the objects of `fail.yaml`
//!   with those RFC 6902 patches applied; linting it gives no finding of the rule.
//!
//! A fixture may stand for several files (`# fixture-file: NAME` lines split it).
//!
//! `REDLINE_BLESS=1 cargo test --test rules` writes a missing `fixed.yaml` with `fix`, for
//! review; the test still fails until it is reviewed and committed.

use std::path::{Path, PathBuf};

use redline::engine::Settings;
use redline::extract::Options;
use redline::lint::{LOAD_RULE, Linted, lint};
use redline::rules::{self, FixEdit, Severity};
use redline::source::{Limits, load_yaml};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/rules")
}

fn lint_file(path: &Path) -> Linted {
    let linted = lint_file_as_is(path);
    assert!(
        !linted.has_load_errors(),
        "{}: {:?}",
        path.display(),
        linted.load_findings
    );
    linted
}

/// For the fixtures of the rule about documents that do not load.
fn lint_file_as_is(path: &Path) -> Linted {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let name = path.file_name().unwrap().to_string_lossy().into_owned();
    lint(
        sources(&name, &text),
        &Options::default(),
        &Settings::default(),
    )
}

/// A fixture is one file, or several: a line `# fixture-file: envs/dev/redis.yaml` starts
/// the next file of that name (for rules about how files of a repository relate).
fn sources(name: &str, text: &str) -> Vec<redline::source::SourceFile> {
    const MARK: &str = "# fixture-file: ";
    if !text.lines().any(|l| l.starts_with(MARK)) {
        return vec![load_yaml(name, text.to_string(), &Limits::default())];
    }
    let mut files: Vec<(String, String)> = Vec::new();
    for line in text.split_inclusive('\n') {
        match line.strip_prefix(MARK) {
            Some(file) => files.push((file.trim().to_string(), String::new())),
            None => {
                if let Some((_, body)) = files.last_mut() {
                    body.push_str(line);
                }
            }
        }
    }
    files
        .into_iter()
        .map(|(file, body)| load_yaml(&file, body, &Limits::default()))
        .collect()
}

fn of_rule<'a>(linted: &'a Linted, id: &str) -> Vec<&'a redline::engine::Finding> {
    linted
        .outcome
        .findings
        .iter()
        .filter(|f| f.rule == id)
        .collect()
}

/// The objects of a lint run as JSON, with every patch of `id`'s findings applied.
fn patched(linted: &Linted, id: &str) -> Option<Vec<serde_json::Value>> {
    let mut objects: Vec<serde_json::Value> = linted
        .inventory
        .objects
        .iter()
        .map(|o| o.root.to_json())
        .collect();
    let mut any = false;
    for f in of_rule(linted, id) {
        if let Some(FixEdit::Patch { object, ops }) = f.fix.as_ref().map(|f| &f.edit) {
            let patch: json_patch::Patch =
                serde_json::from_value(serde_json::to_value(ops).unwrap()).unwrap();
            json_patch::patch(&mut objects[object.0], &patch)
                .unwrap_or_else(|e| panic!("{id}: patch {ops:?} does not apply: {e}"));
            any = true;
        }
    }
    any.then_some(objects)
}

/// What `redline fix --rule id` makes of a file.
fn fixed_text(path: &Path, id: &str) -> String {
    let text = std::fs::read_to_string(path).unwrap();
    let source = load_yaml("fail.yaml", text, &Limits::default());
    let rules = [id.to_string()];
    let run = redline::fix::fix(
        vec![source],
        &Options::default(),
        &Settings::default(),
        &redline::fix::FixOptions::new(&rules),
        &Limits::default(),
    );
    run.files[0].fixed.clone()
}

#[test]
fn every_rule_has_fixtures_that_fail_pass_and_fix() {
    let mut failures = Vec::new();
    for rule in rules::all() {
        let id = rule.id();
        let dir = fixtures().join(id);
        if !dir.join("fail.yaml").is_file() || !dir.join("pass.yaml").is_file() {
            failures.push(format!("{id}: missing fail.yaml or pass.yaml"));
            continue;
        }
        if id == LOAD_RULE {
            let fail = lint_file_as_is(&dir.join("fail.yaml"));
            let severities: Vec<Severity> = fail.load_findings.iter().map(|f| f.severity).collect();
            if severities != [Severity::Warning, Severity::Error] {
                failures.push(format!("{id}: fail.yaml gives {:?}", fail.load_findings));
            }
            let pass = lint_file_as_is(&dir.join("pass.yaml"));
            if !pass.load_findings.is_empty() {
                failures.push(format!("{id}: pass.yaml gives {:?}", pass.load_findings));
            }
            continue;
        }
        let fail = lint_file(&dir.join("fail.yaml"));
        if of_rule(&fail, id).is_empty() {
            failures.push(format!("{id}: fail.yaml gives no finding"));
        }
        let pass = lint_file(&dir.join("pass.yaml"));
        for f in of_rule(&pass, id) {
            failures.push(format!("{id}: pass.yaml gives: {}", f.message));
        }
        let fixed_path = dir.join("fixed.yaml");
        match (patched(&fail, id), fixed_path.is_file()) {
            (None, false) => {}
            (None, true) => failures.push(format!("{id}: fixed.yaml but no patch in fail.yaml")),
            (Some(_), false) => {
                if std::env::var_os("REDLINE_BLESS").is_some() {
                    std::fs::write(&fixed_path, fixed_text(&dir.join("fail.yaml"), id)).unwrap();
                }
                failures.push(format!("{id}: fail.yaml has patches but no fixed.yaml"));
            }
            (Some(objects), true) => {
                // Byte for byte what `redline fix --rule ID fail.yaml` writes.
                let want = std::fs::read_to_string(&fixed_path).unwrap();
                let got = fixed_text(&dir.join("fail.yaml"), id);
                if got != want {
                    failures.push(format!(
                        "{id}: `fix --rule {id}` of fail.yaml differs from fixed.yaml:\n{}",
                        redline::fix::unified_diff("fixed.yaml", &want, &got)
                    ));
                }
                let fixed = lint_file(&fixed_path);
                let expected: Vec<serde_json::Value> = fixed
                    .inventory
                    .objects
                    .iter()
                    .map(|o| o.root.to_json())
                    .collect();
                if objects != expected {
                    failures.push(format!(
                        "{id}: patched fail.yaml differs from fixed.yaml:\n{}",
                        serde_json::to_string_pretty(&objects).unwrap()
                    ));
                }
                for f in of_rule(&fixed, id) {
                    failures.push(format!("{id}: fixed.yaml still gives: {}", f.message));
                }
            }
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

/// What a rule reports on its failing fixture, reviewed: message, place and fix.
#[test]
fn fixture_findings_snapshot() {
    let mut out = String::new();
    for rule in rules::all() {
        let path = fixtures().join(rule.id()).join("fail.yaml");
        if !path.is_file() {
            continue;
        }
        let linted = lint_file_as_is(&path);
        if rule.id() == LOAD_RULE {
            for f in &linted.load_findings {
                out.push_str(&format!(
                    "{}/fail.yaml:{} [{}]\n  {}\n",
                    rule.id(),
                    f.pos,
                    f.severity,
                    f.message
                ));
            }
        }
        for f in of_rule(&linted, rule.id()) {
            let pos = f
                .pos
                .map(|p| format!("{}:{}", p.line, p.column))
                .unwrap_or_default();
            out.push_str(&format!(
                "{}/fail.yaml:{pos} {} [{}] {}\n  {}\n",
                rule.id(),
                f.pointer,
                f.severity,
                linted.inventory.object(f.object),
                f.message
            ));
            if let Some(fix) = &f.fix {
                out.push_str(&format!("  fix: {}\n", fix.description));
            }
        }
    }
    insta::assert_snapshot!(out);
}

fn lint_text(text: &str) -> Linted {
    let source = load_yaml("input.yaml", text.to_string(), &Limits::default());
    lint(vec![source], &Options::default(), &Settings::default())
}

/// A KubeBlocks Cluster with the given memory and a Reconfiguring OpsRequest setting
/// maxmemory.
fn kubeblocks(request: &str, limit: &str, maxmemory: &str) -> String {
    format!(
        "apiVersion: apps.kubeblocks.io/v1\nkind: Cluster\nmetadata:\n  name: redis-prod\n  \
         namespace: default\nspec:\n  clusterDef: redis\n  topology: replication\n  \
         componentSpecs:\n    - name: redis\n      serviceVersion: \"7.2.4\"\n      replicas: 2\n      \
         resources:\n        requests:\n          memory: {request}\n        limits:\n          \
         memory: {limit}\n---\napiVersion: operations.kubeblocks.io/v1alpha1\nkind: OpsRequest\n\
         metadata:\n  name: redis-prod-maxmemory\n  namespace: default\nspec:\n  clusterName: \
         redis-prod\n  type: Reconfiguring\n  reconfigures:\n    - componentName: redis\n      \
         parameters:\n        - key: maxmemory\n          value: \"{maxmemory}\"\n"
    )
}

/// The seed incident: requests 16Gi, limits 32Gi, maxmemory 32 GiB through an OpsRequest.
#[test]
fn seed_incident_is_an_error_on_the_opsrequest() {
    let linted = lint_text(&kubeblocks("16Gi", "32Gi", "34359738368"));
    let errors: Vec<_> = linted
        .outcome
        .findings
        .iter()
        .filter(|f| f.rule == "redis-maxmemory-headroom" && f.severity == rules::Severity::Error)
        .collect();
    assert_eq!(errors.len(), 1, "{:#?}", linted.outcome.findings);
    let e = errors[0];
    assert_eq!(linted.inventory.object(e.object).kind, "OpsRequest");
    assert_eq!(e.pointer, "/spec/reconfigures/0/parameters/0/value");
    assert_eq!(e.pos.map(|p| p.line), Some(31));
    assert!(
        e.message.contains("34359738368 B (32.0 GiB) is 100%"),
        "{}",
        e.message
    );
}

/// The recommended shape: maxmemory = request, limit 3 × request: no maxmemory finding.
#[test]
fn recommended_case_gives_no_memory_finding() {
    let linted = lint_text(&kubeblocks("16Gi", "48Gi", "17179869184"));
    let memory: Vec<_> = linted
        .outcome
        .findings
        .iter()
        .filter(|f| f.rule.starts_with("redis-maxmemory") || f.rule.starts_with("redis-memory"))
        .collect();
    assert!(memory.is_empty(), "{memory:#?}");
}

/// Configuration and annotations change what is reported.
#[test]
fn configuration_and_exemptions() {
    let text = std::fs::read_to_string(fixtures().join("redis-pdb-missing/fail.yaml")).unwrap();
    let count = |text: &str, settings: &Settings| {
        let source = load_yaml("input.yaml", text.to_string(), &Limits::default());
        lint(vec![source], &Options::default(), settings)
            .outcome
            .findings
            .iter()
            .filter(|f| f.rule == "redis-pdb-missing")
            .count()
    };
    assert_eq!(count(&text, &Settings::default()), 1);

    let config = redline::settings::parse(
        "c.yaml",
        "rules:\n  redis-pdb-missing:\n    exclude_namespaces: [\"ca*\"]\n",
    )
    .unwrap();
    assert_eq!(
        count(&text, &config.settings),
        0,
        "namespace cache is excluded"
    );
    let config = redline::settings::parse(
        "c.yaml",
        "rules:\n  redis-pdb-missing:\n    namespaces: [prod]\n",
    )
    .unwrap();
    assert_eq!(count(&text, &config.settings), 0, "only namespace prod");
    let config = redline::settings::parse(
        "c.yaml",
        "rules:\n  redis-pdb-missing:\n    enabled: false\n",
    )
    .unwrap();
    assert_eq!(count(&text, &config.settings), 0);

    let annotated = text.replace(
        "  name: redis\n  namespace: cache\nspec:",
        "  name: redis\n  namespace: cache\n  annotations:\n    redline.dev/ignore: \
         \"redis-pdb-missing: PDBs live in the platform repo\"\nspec:",
    );
    assert_ne!(annotated, text);
    let source = load_yaml("input.yaml", annotated.clone(), &Limits::default());
    let linted = lint(vec![source], &Options::default(), &Settings::default());
    assert!(
        linted
            .outcome
            .findings
            .iter()
            .all(|f| f.rule != "redis-pdb-missing")
    );
    let s = &linted.outcome.suppressed;
    assert_eq!(s.len(), 1);
    assert_eq!(
        s[0].reason.as_deref(),
        Some("PDBs live in the platform repo")
    );

    let strict = Settings {
        annotation_exemptions: false,
        ..Settings::default()
    };
    assert_eq!(count(&annotated, &strict), 1, "--no-annotation-exemptions");
}

/// Generated objects land where the workload does and select what stays stable: no
/// `namespace: default` for a manifest that has none (it is applied with `-n`), and the
/// workload's own selector rather than pod labels such as `chart: redis-10.5.6`.
#[test]
fn generated_objects_take_the_workloads_namespace_and_selector() {
    let text = "\
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: redis-replicas}
spec:
  replicas: 3
  selector:
    matchLabels: {app: redis, release: r}
  template:
    metadata:
      labels: {app: redis, release: r, chart: redis-10.5.6, role: replica}
    spec:
      containers:
        - name: redis
          image: redis:7.4.1
          args: [--replicaof, redis-master, '6379', --requirepass, $(REDIS_PASSWORD)]
          env:
            - name: REDIS_PASSWORD
              valueFrom: {secretKeyRef: {name: redis, key: password}}
";
    let linted = lint_text(text);
    let pdb = of_rule(&linted, "redis-pdb-missing");
    assert_eq!(pdb.len(), 1);
    assert!(
        pdb[0].message.contains("several of its replicas"),
        "{}",
        pdb[0].message
    );
    let Some(FixEdit::Manifest(manifest)) = pdb[0].fix.as_ref().map(|f| &f.edit) else {
        panic!("a manifest: {:?}", pdb[0].fix);
    };
    assert_eq!(
        manifest["metadata"],
        serde_json::json!({"name": "redis-replicas"})
    );
    assert_eq!(
        manifest["spec"]["selector"],
        serde_json::json!({"matchLabels": {"app": "redis", "release": "r"}})
    );
    let anti = of_rule(&linted, "redis-anti-affinity-missing");
    assert_eq!(anti.len(), 1);
    assert!(
        anti[0].message.contains("several of its replicas"),
        "{}",
        anti[0].message
    );
    let patched = patched(&linted, "redis-anti-affinity-missing").unwrap();
    let term = &patched[0]["spec"]["template"]["spec"]["affinity"]["podAntiAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
        [0];
    assert_eq!(
        term["labelSelector"],
        serde_json::json!({"matchLabels": {"app": "redis", "release": "r"}})
    );
}

/// The memory rules plan together: on a Deployment with no maxmemory whose limit is below
/// 2.5 × its request, `lint` lists both steps in order and `fix` leaves nothing; on a
/// KubeBlocks component, the headroom and request-ratio rules ask for one and the same
/// Reconfiguring OpsRequest.
#[test]
fn memory_fixes_agree_on_one_plan() {
    let deployment = "\
apiVersion: apps/v1
kind: Deployment
metadata: {name: cart}
spec:
  selector: {matchLabels: {app: cart}}
  template:
    metadata: {labels: {app: cart}}
    spec:
      containers:
        - name: redis
          image: redis:7.4.1
          resources:
            requests: {memory: 200Mi}
            limits: {memory: 256Mi}
";
    let linted = lint_text(deployment);
    let unset = of_rule(&linted, "redis-maxmemory-unset");
    assert!(
        unset[0]
            .message
            .contains("(192.0 MiB)); then raise the limit to 500Mi"),
        "{}",
        unset[0].message
    );
    assert_eq!(of_rule(&linted, "redis-memory-request-ratio").len(), 1);
    let rules: [String; 0] = [];
    let run = redline::fix::fix(
        vec![load_yaml(
            "input.yaml",
            deployment.to_string(),
            &Limits::default(),
        )],
        &Options::default(),
        &Settings::default(),
        &redline::fix::FixOptions::new(&rules),
        &Limits::default(),
    );
    let fixed = &run.files[0].fixed;
    assert!(
        fixed.contains("--maxmemory") && fixed.contains("192mb"),
        "{fixed}"
    );
    assert!(fixed.contains("memory: 500Mi"), "{fixed}");
    let after = lint_text(fixed);
    for rule in [
        "redis-maxmemory-unset",
        "redis-maxmemory-headroom",
        "redis-memory-request-ratio",
    ] {
        assert!(
            of_rule(&after, rule).is_empty(),
            "{rule} after fix: {fixed}"
        );
    }

    // maxmemory derived as 0.8 × a limit equal to the request: both rules pin it once.
    let cluster = "\
apiVersion: apps.kubeblocks.io/v1
kind: Cluster
metadata: {name: c, namespace: default}
spec:
  clusterDef: redis
  topology: replication
  componentSpecs:
    - name: redis
      replicas: 2
      resources:
        requests: {memory: 1Gi}
        limits: {memory: 1Gi}
";
    let linted = lint_text(cluster);
    let manifest = |id| match of_rule(&linted, id)[0].fix.as_ref().map(|f| &f.edit) {
        Some(FixEdit::Manifest(m)) => m.clone(),
        other => panic!("{id}: {other:?}"),
    };
    let headroom = manifest("redis-maxmemory-headroom");
    assert_eq!(headroom, manifest("redis-memory-request-ratio"));
    assert_eq!(
        headroom["spec"]["reconfigures"][0]["parameters"][0]["value"],
        "805306368"
    );
}

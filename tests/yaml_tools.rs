//! What redline says about YAML the Kubernetes tools read differently is what those tools do:
//! each construct is given to `kubectl kustomize` (kyaml over go-yaml, as `.ci/run` installs
//! it) and to `redline lint`. A document kustomize renders must not be `yaml-invalid`; the
//! warnings name what each tool does.

mod common;

use std::process::Command;

use common::{code, run_in, scratch, stdout};

const STATEFULSET: &str = "\
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: redis
spec:
  replicas: 1
  selector:
    matchLabels: {app: redis}
  template:
    metadata:
      labels: {app: redis}
    spec:
      containers:
        - name: redis
          image: redis:7.2.4
          args:
            - \"--maxmemory 100mb
           --save 60 1\"
";

const REPEATED_KEY: &str = "\
apiVersion: v1
kind: ConfigMap
metadata:
  name: redis-config
data:
  redis.conf: |
    maxmemory 100mb
  redis.conf: |
    maxmemory 200mb
";

/// `kubectl kustomize` over a kustomization holding `text`: success and what it printed.
fn kustomize(name: &str, text: &str) -> (bool, String) {
    let dir = scratch(&format!("kustomize-{name}"));
    std::fs::write(dir.join("object.yaml"), text).unwrap();
    std::fs::write(
        dir.join("kustomization.yaml"),
        "resources:\n- object.yaml\n",
    )
    .unwrap();
    let out = Command::new("kubectl")
        .arg("kustomize")
        .arg(&dir)
        .output()
        .unwrap_or_else(|e| panic!("kubectl is needed (.ci/run installs it): {e}"));
    let printed = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), printed)
}

/// The findings of `redline lint --format json` on `text`.
fn lint(name: &str, text: &str) -> (i32, serde_json::Value) {
    let dir = scratch(&format!("lint-{name}"));
    std::fs::write(dir.join("object.yaml"), text).unwrap();
    let out = run_in(&dir, &["lint", "--format", "json", "object.yaml"], "");
    (code(&out), serde_json::from_str(&stdout(&out)).unwrap())
}

fn yaml_messages(report: &serde_json::Value) -> Vec<(String, String)> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "yaml-invalid")
        .map(|f| {
            (
                f["severity"].as_str().unwrap().to_string(),
                f["message"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn a_quoted_string_kustomize_renders_is_read_with_a_warning() {
    let (rendered, printed) = kustomize("under-indented", STATEFULSET);
    assert!(rendered, "{printed}");
    assert!(
        printed.contains("--maxmemory 100mb --save 60 1"),
        "{printed}"
    );
    let (_, report) = lint("under-indented", STATEFULSET);
    let messages = yaml_messages(&report);
    assert_eq!(messages.len(), 1, "{messages:?}");
    assert_eq!(messages[0].0, "warning");
    assert!(
        messages[0]
            .1
            .contains("read as kubectl, kustomize and PyYAML"),
        "{messages:?}"
    );
    // The StatefulSet is judged, not dropped: its findings are there, and none is an error
    // about the document.
    assert!(
        report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["rule"] == "redis-memory-limit-missing"),
        "{report}"
    );
}

#[test]
fn a_repeated_key_is_read_as_kubectl_reads_it_and_kustomize_refuses_it() {
    let (rendered, printed) = kustomize("repeated-key", REPEATED_KEY);
    assert!(!rendered, "{printed}");
    assert!(printed.contains("already defined"), "{printed}");
    let (_, report) = lint("repeated-key", REPEATED_KEY);
    let messages = yaml_messages(&report);
    assert_eq!(messages.len(), 1, "{messages:?}");
    assert_eq!(messages[0].0, "warning");
    assert!(
        messages[0].1.contains("kustomize refuses the document"),
        "{messages:?}"
    );
}

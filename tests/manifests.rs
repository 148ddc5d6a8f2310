//! `manifests/` and `certs/`: every overlay builds with `kubectl kustomize` (the self-signed
//! one from `redline certs generate` output), every object validates with
//! `kubernetes-validate` (PyPI) against the oldest Kubernetes we support and the newest it
//! knows, and the webhook configurations register exactly the kinds the server judges
//! (`redline::webhook::ADMITTED`), safely. Missing kubectl or kubernetes-validate fails the
//! test: `.ci/run` installs them.

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use base64::Engine as _;
use serde_json::Value;

use common::{BIN, root, scratch};

const OVERLAYS: [&str; 4] = ["self-signed", "cert-manager", "fail-closed", "audit"];

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// An overlay's name, its objects as JSON, and the YAML kubectl printed.
type Built = (&'static str, Vec<Value>, String);

/// A copy of `manifests/` next to a `certs/` that `redline certs generate` wrote, built per
/// overlay: (overlay, the objects as JSON), plus the certs directory.
fn build_all() -> (Vec<Built>, PathBuf) {
    let dir = scratch("manifests");
    copy_dir(&root().join("manifests"), &dir.join("manifests"));
    let out = Command::new(BIN)
        .current_dir(&dir)
        .args([
            "certs",
            "generate",
            "--service",
            "redline",
            "--namespace",
            "redline-system",
        ])
        .args(["--out", "certs/"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let built = OVERLAYS
        .iter()
        .map(|overlay| {
            let out = Command::new("kubectl")
                .arg("kustomize")
                .arg(dir.join("manifests/overlays").join(overlay))
                .output()
                .unwrap_or_else(|e| panic!("kubectl is needed (.ci/run installs it): {e}"));
            assert!(
                out.status.success(),
                "kubectl kustomize {overlay}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            let text = String::from_utf8(out.stdout).unwrap();
            let objects = text
                .split("\n---\n")
                .map(|doc| yaml_serde::from_str::<Value>(doc).unwrap())
                .collect();
            (*overlay, objects, text)
        })
        .collect();
    (built, dir.join("certs"))
}

fn of_kind<'a>(objects: &'a [Value], kind: &str) -> Vec<&'a Value> {
    objects.iter().filter(|o| o["kind"] == kind).collect()
}

fn named<'a>(objects: &'a [Value], kind: &str, name: &str) -> &'a Value {
    let found: Vec<&Value> = of_kind(objects, kind)
        .into_iter()
        .filter(|o| o["metadata"]["name"] == name)
        .collect();
    assert_eq!(found.len(), 1, "one {kind} {name}");
    found[0]
}

/// The audit overlay: `serve` audits and writes reports; it may read every kind `audit`
/// lists (exactly those) and write nothing but PolicyReports.
fn audit_is_on_with_the_rbac_it_needs(objects: &[Value], args: &[&str]) {
    assert!(args.contains(&"--audit-interval=10m"), "{args:?}");
    assert!(args.contains(&"--write-reports"), "{args:?}");
    let grants = |role: &Value| -> BTreeSet<(String, String, String)> {
        let mut out = BTreeSet::new();
        for rule in role["rules"].as_array().unwrap() {
            for g in rule["apiGroups"].as_array().unwrap() {
                for r in rule["resources"].as_array().unwrap() {
                    for v in rule["verbs"].as_array().unwrap() {
                        out.insert((
                            g.as_str().unwrap().to_string(),
                            r.as_str().unwrap().to_string(),
                            v.as_str().unwrap().to_string(),
                        ));
                    }
                }
            }
        }
        out
    };
    let expected: BTreeSet<(String, String, String)> = redline::audit::kinds()
        .iter()
        .flat_map(|k| {
            ["get", "list", "watch"]
                .map(|v| (k.group.to_string(), k.resource.to_string(), v.to_string()))
        })
        .collect();
    assert_eq!(
        grants(named(objects, "ClusterRole", "redline-audit")),
        expected
    );
    let writes: BTreeSet<(String, String, String)> = ["policyreports", "clusterpolicyreports"]
        .iter()
        .flat_map(|r| {
            ["get", "list", "create", "patch"]
                .map(|v| ("wgpolicyk8s.io".to_string(), r.to_string(), v.to_string()))
        })
        .collect();
    assert_eq!(
        grants(named(objects, "ClusterRole", "redline-policyreports")),
        writes
    );
    for binding in ["redline-audit", "redline-policyreports"] {
        let b = named(objects, "ClusterRoleBinding", binding);
        assert_eq!(b["roleRef"]["name"], binding);
        assert_eq!(b["subjects"][0]["name"], "redline");
        assert_eq!(b["subjects"][0]["namespace"], "redline-system");
    }
}

fn one<'a>(objects: &'a [Value], kind: &str) -> &'a Value {
    let found = of_kind(objects, kind);
    assert_eq!(found.len(), 1, "one {kind}");
    found[0]
}

#[test]
fn overlays_build_validate_and_register_exactly_the_judged_kinds_safely() {
    let (built, certs) = build_all();
    let expected: BTreeSet<(String, String, String)> = redline::webhook::ADMITTED
        .iter()
        .flat_map(|a| {
            a.versions
                .iter()
                .map(|v| (a.group.to_string(), v.to_string(), a.resource.to_string()))
        })
        .collect();
    for (overlay, objects, text) in &built {
        // kubernetes-validate, strict (unknown fields are errors), oldest and newest.
        let file = certs.join(format!("{overlay}.yaml"));
        std::fs::write(&file, text).unwrap();
        for version in ["1.33.0", "1.37.0"] {
            let out = Command::new("kubernetes-validate")
                .args(["--strict", "-k", version])
                .arg(&file)
                .output()
                .unwrap_or_else(|e| {
                    panic!("kubernetes-validate is needed (pip install kubernetes-validate): {e}")
                });
            let report = String::from_utf8_lossy(&out.stdout).to_string()
                + &String::from_utf8_lossy(&out.stderr);
            assert!(
                out.status.success(),
                "{overlay} against {version}:\n{report}"
            );
            // Only cert-manager's kinds lack a schema (they are CRDs).
            for line in report
                .lines()
                .filter(|l| l.contains("Couldn't find schema"))
            {
                assert!(line.contains("cert-manager.io"), "{overlay}: {line}");
            }
            // Every other object was checked against a schema, and passed.
            let passed = report.lines().filter(|l| l.contains(" passed ")).count();
            let built_in = objects
                .iter()
                .filter(|o| {
                    !o["apiVersion"]
                        .as_str()
                        .unwrap()
                        .starts_with("cert-manager.io/")
                })
                .count();
            assert_eq!(passed, built_in, "{overlay} against {version}: {report}");
        }

        let validating = one(objects, "ValidatingWebhookConfiguration");
        let mutating = one(objects, "MutatingWebhookConfiguration");
        for (config, path, timeout) in [(validating, "/validate", 3), (mutating, "/mutate", 2)] {
            let hooks = config["webhooks"].as_array().unwrap();
            assert_eq!(hooks.len(), 1);
            let hook = &hooks[0];
            let registered: BTreeSet<(String, String, String)> = hook["rules"]
                .as_array()
                .unwrap()
                .iter()
                .flat_map(|r| {
                    let list = |k: &str| -> Vec<String> {
                        r[k].as_array()
                            .unwrap()
                            .iter()
                            .map(|v| v.as_str().unwrap().to_string())
                            .collect()
                    };
                    assert_eq!(list("operations"), ["CREATE", "UPDATE"]);
                    let (groups, versions, resources) =
                        (list("apiGroups"), list("apiVersions"), list("resources"));
                    let mut out = Vec::new();
                    for g in &groups {
                        for v in &versions {
                            for res in &resources {
                                assert!(![g, v, res].iter().any(|s| s.contains('*')));
                                out.push((g.clone(), v.clone(), res.clone()));
                            }
                        }
                    }
                    out
                })
                .collect();
            assert_eq!(registered, expected, "{overlay} {path}: rules ≠ ADMITTED");
            assert_eq!(hook["clientConfig"]["service"]["path"], path);
            assert_eq!(
                hook["clientConfig"]["service"]["namespace"],
                "redline-system"
            );
            assert_eq!(hook["admissionReviewVersions"], serde_json::json!(["v1"]));
            assert_eq!(hook["sideEffects"], "None");
            assert_eq!(hook["timeoutSeconds"], timeout);
            let policy = if *overlay == "fail-closed" {
                "Fail"
            } else {
                "Ignore"
            };
            assert_eq!(hook["failurePolicy"], policy, "{overlay}");
            // The server answers what it cannot judge as the webhook would if it were down,
            // and before the API server gives up on it.
            let args: Vec<&str> =
                one(objects, "Deployment")["spec"]["template"]["spec"]["containers"][0]["args"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|a| a.as_str().unwrap())
                    .collect();
            assert!(
                args.contains(&format!("--failure-policy={policy}").as_str()),
                "{overlay}: {args:?}"
            );
            assert!(
                !args.iter().any(|a| a.starts_with("--review-deadline-ms")),
                "{overlay}: the default deadline is the one checked here"
            );
            assert!(
                redline::webhook::limits::DEFAULT_DEADLINE.as_millis() + 500
                    <= timeout as u128 * 1000,
                "{overlay} {path}: the review deadline must leave the answer time to arrive"
            );
            let excluded = &hook["namespaceSelector"]["matchExpressions"][0];
            assert_eq!(excluded["operator"], "NotIn");
            for ns in ["kube-system", "kube-node-lease", "redline-system"] {
                assert!(excluded["values"].as_array().unwrap().contains(&ns.into()));
            }
            assert_eq!(
                hook["objectSelector"]["matchExpressions"][0]["key"],
                "redline.dev/admission"
            );
            let condition = hook["matchConditions"][0]["expression"].as_str().unwrap();
            assert!(condition.contains("configmaps") && condition.contains(".conf"));
            if path == "/mutate" {
                assert_eq!(hook["reinvocationPolicy"], "IfNeeded");
            }
            match *overlay {
                "self-signed" | "audit" => {
                    let bundle = base64::engine::general_purpose::STANDARD
                        .decode(hook["clientConfig"]["caBundle"].as_str().unwrap())
                        .unwrap();
                    assert_eq!(bundle, std::fs::read(certs.join("ca.crt")).unwrap());
                }
                _ => assert_eq!(
                    config["metadata"]["annotations"]["cert-manager.io/inject-ca-from"],
                    "redline-system/redline-serving"
                ),
            }
        }

        // The pods: two, spread, probed, locked down, with the TLS Secret mounted.
        let deployment = one(objects, "Deployment");
        assert_eq!(deployment["spec"]["replicas"], 2);
        let pod = &deployment["spec"]["template"]["spec"];
        assert!(
            !pod["topologySpreadConstraints"]
                .as_array()
                .unwrap()
                .is_empty()
        );
        assert_eq!(pod["securityContext"]["runAsNonRoot"], true);
        assert_eq!(
            pod["securityContext"]["seccompProfile"]["type"],
            "RuntimeDefault"
        );
        let c = &pod["containers"][0];
        assert_eq!(c["securityContext"]["readOnlyRootFilesystem"], true);
        assert_eq!(c["securityContext"]["allowPrivilegeEscalation"], false);
        assert_eq!(
            c["securityContext"]["capabilities"]["drop"],
            serde_json::json!(["ALL"])
        );
        assert_eq!(c["readinessProbe"]["httpGet"]["path"], "/readyz");
        assert_eq!(c["livenessProbe"]["httpGet"]["path"], "/healthz");
        // The memory limit gives a review budget that holds the largest object the API server
        // accepts, so that one is judged rather than refused for its size.
        let limit = redline::units::quantity::Quantity::parse(
            c["resources"]["limits"]["memory"].as_str().unwrap(),
        )
        .unwrap()
        .bytes()
        .unwrap();
        let budget = redline::webhook::limits::memory_budget_for(Some(limit), None);
        assert!(
            budget >= redline::webhook::limits::review_cost_bytes(&common::maximal_review()),
            "{overlay}: a budget of {budget} bytes cannot judge the largest object"
        );
        assert_eq!(pod["volumes"][0]["secret"]["secretName"], "redline-tls");
        assert_eq!(
            one(objects, "PodDisruptionBudget")["spec"]["minAvailable"],
            1
        );
        one(objects, "NetworkPolicy");
        one(objects, "Service");

        // RBAC: read-only, and only the kinds the lookups read.
        let role = named(objects, "ClusterRole", "redline-lookups");
        let mut read: BTreeSet<String> = BTreeSet::new();
        for rule in role["rules"].as_array().unwrap() {
            assert_eq!(rule["verbs"], serde_json::json!(["get", "list", "watch"]));
            for r in rule["resources"].as_array().unwrap() {
                read.insert(r.as_str().unwrap().to_string());
            }
        }
        let looked_up: BTreeSet<String> = [
            "configmaps",
            "statefulsets",
            "deployments",
            "poddisruptionbudgets",
            "clusters",
            "componentparameters",
            "redises",
            "redisenterpriseclusters",
            "redisenterprisedatabases",
        ]
        .map(String::from)
        .into();
        assert_eq!(read, looked_up);
        assert_eq!(
            redline::webhook::lookups::Kind::ALL.len(),
            looked_up.len(),
            "a lookup kind was added: grant it in manifests/base/rbac.yaml"
        );
        let roles = of_kind(objects, "ClusterRole").len();
        let args: Vec<&str> = c["args"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a.as_str().unwrap())
            .collect();
        if *overlay == "audit" {
            audit_is_on_with_the_rbac_it_needs(objects, &args);
        } else {
            assert_eq!(roles, 1, "{overlay}");
            assert!(!args.iter().any(|a| a.starts_with("--audit")), "{overlay}");
        }
    }
    // The self-signed overlay's Secret is the generated pair.
    let (_, objects, _) = &built[0];
    let secret = one(objects, "Secret");
    assert_eq!(secret["type"], "kubernetes.io/tls");
    let encoded: String = secret["data"]["tls.crt"]
        .as_str()
        .unwrap()
        .split_whitespace()
        .collect();
    let crt = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .unwrap();
    assert_eq!(crt, std::fs::read(certs.join("tls.crt")).unwrap());
}

#[test]
fn no_private_key_is_committed_and_generated_ones_are_ignored() {
    let tracked = Command::new("git")
        .current_dir(root())
        .args(["ls-files", "certs"])
        .output()
        .unwrap();
    assert!(tracked.status.success());
    let files: Vec<String> = String::from_utf8(tracked.stdout)
        .unwrap()
        .lines()
        .map(String::from)
        .collect();
    assert_eq!(files, ["certs/.gitignore", "certs/README.md"]);
    for generated in [
        "ca.key",
        "tls.key",
        "ca.crt",
        "tls.crt",
        "kustomization.yaml",
    ] {
        let ignored = Command::new("git")
            .current_dir(root())
            .args(["check-ignore", "-q"])
            .arg(format!("certs/{generated}"))
            .status()
            .unwrap();
        assert!(ignored.success(), "certs/{generated} is not git-ignored");
    }
    let keys = Command::new("git")
        .current_dir(root())
        // PEM private keys of any type; the pattern does not match its own source line.
        .args([
            "grep",
            "-l",
            "-E",
            "-e",
            "-----BEGIN [A-Z ]*PRIVATE KEY-----",
        ])
        .output()
        .unwrap();
    assert!(
        keys.stdout.is_empty(),
        "private keys in git: {}",
        String::from_utf8_lossy(&keys.stdout)
    );
}

#[test]
fn certs_generate_again_keeps_the_ca_and_renews_the_certificate() {
    let dir = scratch("certs-rotate");
    let generate = |extra: &[&str]| {
        let out = Command::new(BIN)
            .current_dir(&dir)
            .args(["certs", "generate", "--out", "c"])
            .args(extra)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let read = |f: &str| std::fs::read(dir.join("c").join(f)).unwrap();
    assert!(generate(&[]).starts_with("wrote a new CA"));
    let (ca, cert) = (read("ca.crt"), read("tls.crt"));
    assert!(generate(&[]).starts_with("kept the CA"));
    assert_eq!(read("ca.crt"), ca);
    assert_ne!(read("tls.crt"), cert);
    // The kept CA's bundle, the renewed certificate that chains to it.
    redline::webhook::tls::verify_chain(&read("tls.crt"), &ca, "redline.redline-system.svc")
        .unwrap();
    generate(&["--new-ca"]);
    assert_ne!(read("ca.crt"), ca);
    // A CA key that is not the CA certificate's: refused, nothing half-written.
    std::fs::write(dir.join("c/ca.crt"), &ca).unwrap();
    let out = Command::new(BIN)
        .current_dir(&dir)
        .args(["certs", "generate", "--out", "c"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("use --new-ca"));
}

//! The commands and options the README documents beyond `lint`'s formats: `rules`,
//! `explain`, `check-conf`, `--dump-model`, where `.redline.yaml` is found and what a bad
//! one does, and where `fix --check` puts a manifest.

mod common;

use std::path::Path;

use common::{code, json, root, run_in, scratch, stderr, stdout};

fn example(name: &str) -> String {
    root().join("examples").join(name).display().to_string()
}

#[test]
fn rules_and_explain() {
    let dir = scratch("commands-rules");
    let text = run_in(&dir, &["rules"], "");
    assert_eq!(code(&text), 0);
    let listing = stdout(&text);
    assert_eq!(listing.lines().count(), redline::rules::all().len());
    assert!(
        listing
            .lines()
            .any(|l| l.starts_with("redis-maxmemory-headroom ") && l.contains(" error ")),
        "{listing}"
    );
    // The one rule the webhook leaves out by default says so.
    assert!(
        listing.lines().any(
            |l| l.starts_with("redis-engine-lifecycle ") && l.ends_with("[not in the webhook]")
        ),
        "{listing}"
    );

    let listed = run_in(&dir, &["rules", "--format", "json"], "");
    assert_eq!(code(&listed), 0);
    let v = json(&listed);
    assert_eq!(v["version"], 1);
    let rules = v["rules"].as_array().unwrap();
    assert_eq!(rules.len(), redline::rules::all().len());
    for key in [
        "id",
        "severity",
        "summary",
        "mutate",
        "webhook",
        "parameters",
        "sources",
    ] {
        assert!(rules.iter().all(|r| r.get(key).is_some()), "{key}");
    }

    let explain = run_in(&dir, &["explain", "redis-maxmemory-headroom"], "");
    assert_eq!(code(&explain), 0);
    let text = stdout(&explain);
    assert!(text.starts_with("## redis-maxmemory-headroom\n"), "{text}");
    assert!(text.contains("fork_ratio"), "its parameters: {text}");
    assert!(text.contains("https://"), "its sources: {text}");
    assert!(
        text.contains("Admission webhook runs it by default: yes"),
        "{text}"
    );

    // A misspelt ID: exit 2 and the closest one.
    let typo = run_in(&dir, &["explain", "redis-maxmemory-headrom"], "");
    assert_eq!(code(&typo), 2);
    assert!(
        stderr(&typo).contains("Did you mean `redis-maxmemory-headroom`?"),
        "{}",
        stderr(&typo)
    );
}

#[test]
fn check_conf_exit_codes_and_arguments() {
    let dir = scratch("commands-check-conf");
    std::fs::write(dir.join("ok.conf"), "maxmemory 1gb\n").unwrap();
    std::fs::write(dir.join("bad.conf"), "maxmemory 1gb # note\n").unwrap();

    // `redline check-conf ARGS…` in `dir`: exit code and standard output.
    let conf = |args: &[&str]| {
        let out = run_in(&dir, &[&["check-conf"], args].concat(), "");
        (code(&out), stdout(&out))
    };
    let (status, out) = conf(&["ok.conf"]);
    assert_eq!(status, 0, "{out}");
    assert!(out.contains("would start"), "{out}");

    let (status, out) = conf(&["bad.conf"]);
    assert_eq!(status, 1);
    assert!(
        out.contains("bad.conf:1:1: wrong number of arguments"),
        "{out}"
    );

    // Arguments after `--` are read as redis-server's command line, after the file.
    let (status, out) = conf(&["ok.conf", "--", "--maxmemory", "2Gi"]);
    assert_eq!(status, 1);
    assert!(out.contains("`Gi` is a Kubernetes suffix"), "{out}");
    let (status, out) = conf(&["ok.conf", "--", "--maxmemory", "2gb"]);
    assert_eq!(status, 0);
    assert!(out.contains("2147483648"), "the argument wins: {out}");

    let missing = run_in(&dir, &["check-conf", "missing.conf"], "");
    assert_eq!(code(&missing), 2);
    assert!(stderr(&missing).contains("cannot read missing.conf"));

    // `--release` picks the directive table: 7.2 knows locale-collate, 7.0 does not.
    std::fs::write(dir.join("r72.conf"), "locale-collate \"\"\n").unwrap();
    let (status, out) = conf(&["--release", "redis-7.2", "r72.conf"]);
    assert_eq!(status, 0, "{out}");
    assert!(out.contains("redis-server 7.2.6 would start"), "{out}");
    let (status, out) = conf(&["r72.conf"]);
    assert_eq!(status, 1, "{out}");
    assert!(out.contains("added in Redis 7.2"), "{out}");
    let (status, out) = conf(&["--release", "valkey-8.0", "r72.conf"]);
    assert_eq!(status, 0, "{out}");
    assert!(out.contains("valkey-server 8.0.1 would start"), "{out}");
    let unknown = run_in(
        &dir,
        &["check-conf", "--release", "redis-5.0", "ok.conf"],
        "",
    );
    assert_eq!(code(&unknown), 2);
    assert!(stderr(&unknown).contains("no directive table for `redis-5.0`"));
}

#[test]
fn dump_model_fails_when_a_document_does_not_load() {
    let dir = scratch("commands-dump");
    std::fs::write(dir.join("bad.yaml"), "kind: [unclosed\n").unwrap();
    let good = run_in(
        &dir,
        &[
            "lint",
            "--dump-model",
            &example("statefulset-configmap.yaml"),
        ],
        "",
    );
    assert_eq!(code(&good), 0, "{}", stdout(&good));
    assert!(stdout(&good).contains("maxmemory"), "{}", stdout(&good));

    let bad = run_in(&dir, &["lint", "--dump-model", "bad.yaml"], "");
    assert_eq!(code(&bad), 1, "{}", stdout(&bad));
    assert!(stdout(&bad).contains("bad.yaml:"), "{}", stdout(&bad));
}

/// `.redline.yaml` is looked for in the working directory, then its parents; a bad one is
/// exit 2 naming its file, line and key.
#[test]
fn configuration_is_found_in_a_parent_and_errors_name_the_line() {
    let dir = scratch("commands-config");
    let deeper = dir.join("repo/k8s/cache");
    std::fs::create_dir_all(&deeper).unwrap();
    let manifest = example("statefulset-configmap.yaml");
    let severity_of_headroom = |cwd: &Path| {
        let out = run_in(cwd, &["lint", "--format", "json", &manifest], "");
        let v = json(&out);
        v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["rule"] == "redis-maxmemory-headroom")
            .map(|f| f["severity"].as_str().unwrap().to_string())
    };
    assert_eq!(severity_of_headroom(&deeper).as_deref(), Some("error"));

    std::fs::write(
        dir.join("repo/.redline.yaml"),
        "rules:\n  redis-maxmemory-headroom:\n    severity: info\n",
    )
    .unwrap();
    assert_eq!(severity_of_headroom(&deeper).as_deref(), Some("info"));

    std::fs::write(
        dir.join("repo/.redline.yaml"),
        "rules:\n  redis-maxmemory-headroom:\n    severty: info\n",
    )
    .unwrap();
    let out = run_in(&deeper, &["lint", &manifest], "");
    assert_eq!(code(&out), 2);
    let message = stderr(&out);
    assert!(
        message.contains("repo/.redline.yaml:3:5:") && message.contains("unknown field `severty`"),
        "{message}"
    );
}

/// A KubeBlocks manifest to apply goes to standard output on a plain `fix`, to standard
/// error with `--check` (whose standard output lists the files that would change).
#[test]
fn fix_check_prints_a_manifest_on_standard_error() {
    let dir = scratch("commands-manifest");
    let seed = example("kubeblocks-seed-incident.yaml");
    let check = run_in(&dir, &["fix", "--check", &seed], "");
    assert_eq!(code(&check), 1);
    assert!(
        !stdout(&check).contains("kind: OpsRequest"),
        "{}",
        stdout(&check)
    );
    assert!(
        stderr(&check).contains("kind: OpsRequest"),
        "{}",
        stderr(&check)
    );
}

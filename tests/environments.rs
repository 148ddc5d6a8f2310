//! A GitOps repository with the same objects once per environment: linted as a whole it
//! gives exactly the findings of each directory linted alone, `fix` edits each copy with
//! its own values, and a reference two copies answer equally well is reported, not merged.

mod common;

use std::path::Path;

use common::{code, root, run_in, scratch, stdout};

/// `examples/statefulset-configmap.yaml` under `envs/dev/` (maxmemory 1gb, limit 1Gi: an
/// error) and `envs/prod/` (maxmemory 3gb, limit 4Gi).
fn environments(name: &str) -> std::path::PathBuf {
    let dir = scratch(name);
    let text = std::fs::read_to_string(root().join("examples/statefulset-configmap.yaml")).unwrap();
    let prod = text
        .replace("maxmemory 1gb", "maxmemory 3gb")
        .replace("memory: 1Gi", "memory: 4Gi");
    for (env, body) in [("dev", text.as_str()), ("prod", prod.as_str())] {
        std::fs::create_dir_all(dir.join("envs").join(env)).unwrap();
        std::fs::write(dir.join("envs").join(env).join("redis.yaml"), body).unwrap();
    }
    dir
}

/// The finding lines of a `--format github` run, without its summary, sorted.
fn findings(dir: &Path, paths: &[&str]) -> Vec<String> {
    let mut out = Vec::new();
    for p in paths {
        let run = run_in(dir, &["lint", "--format", "github", p], "");
        out.extend(
            stdout(&run)
                .lines()
                .filter(|l| l.starts_with("::"))
                .map(str::to_string),
        );
    }
    out.sort();
    out
}

#[test]
fn the_whole_repository_gives_each_environments_findings() {
    let dir = environments("envs-lint");
    let whole = findings(&dir, &["."]);
    let alone = findings(&dir, &["envs/dev", "envs/prod"]);
    assert_eq!(whole, alone);
    // dev's real error is there, judged with dev's limit; prod (75%) has none.
    let headroom: Vec<&String> = whole
        .iter()
        .filter(|l| l.contains("redis-maxmemory-headroom"))
        .collect();
    assert_eq!(headroom.len(), 1, "{whole:#?}");
    assert!(
        headroom[0].contains("file=envs/dev/redis.yaml"),
        "{headroom:?}"
    );
    assert!(headroom[0].contains("`1Gi`"), "{headroom:?}");
}

#[test]
fn fix_edits_each_copy_with_its_own_values() {
    let dir = environments("envs-fix");
    // prod at 90% of its limit: both copies need a fix, each for its own limit.
    let prod = dir.join("envs/prod/redis.yaml");
    let text = std::fs::read_to_string(&prod).unwrap();
    std::fs::write(&prod, text.replace("maxmemory 3gb", "maxmemory 3686mb")).unwrap();
    let run = run_in(
        &dir,
        &["fix", "--rule", "redis-maxmemory-headroom", "."],
        "",
    );
    assert_eq!(code(&run), 0, "{}", common::stderr(&run));
    let dev = std::fs::read_to_string(dir.join("envs/dev/redis.yaml")).unwrap();
    let prod = std::fs::read_to_string(&prod).unwrap();
    assert!(dev.contains("    maxmemory 768mb\n"), "{dev}");
    assert!(prod.contains("    maxmemory 3gb\n"), "{prod}");
    let again = run_in(
        &dir,
        &["fix", "--check", "--rule", "redis-maxmemory-headroom", "."],
        "",
    );
    assert_eq!(
        code(&again),
        0,
        "a second fix changes nothing: {}",
        stdout(&again)
    );
}

#[test]
fn equally_near_copies_are_reported_and_not_joined() {
    let dir = environments("envs-ambiguous");
    // A StatefulSet above both environments, mounting the ConfigMap both define.
    let text = std::fs::read_to_string(dir.join("envs/dev/redis.yaml")).unwrap();
    let sts = &text[text.find("apiVersion: apps/v1").unwrap()..];
    std::fs::write(
        dir.join("envs/shared.yaml"),
        sts.replace("name: redis\n", "name: shared\n"),
    )
    .unwrap();
    let run = run_in(
        &dir,
        &[
            "lint",
            "--format",
            "github",
            "envs/shared.yaml",
            "envs/dev",
            "envs/prod",
        ],
        "",
    );
    let out = stdout(&run);
    let ambiguous: Vec<&str> = out
        .lines()
        .filter(|l| l.contains("redline-ambiguous-reference"))
        .collect();
    assert_eq!(ambiguous.len(), 1, "{out}");
    assert!(ambiguous[0].contains("file=envs/shared.yaml"), "{out}");
    assert!(ambiguous[0].contains("envs/dev/redis.yaml:5"), "{out}");
    assert!(ambiguous[0].contains("envs/prod/redis.yaml:5"), "{out}");
    // Neither copy's maxmemory is pinned on the shared StatefulSet.
    assert!(
        !out.lines()
            .any(|l| l.contains("file=envs/shared.yaml") && l.contains("headroom")),
        "{out}"
    );
}

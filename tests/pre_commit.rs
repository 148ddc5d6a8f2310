//! The `.pre-commit-hooks.yaml` hook, run by the real pre-commit framework
//! (`pip install pre-commit`; `.ci/run` installs it): `pre-commit try-repo` builds redline
//! from this repository (uncommitted changes included) the way a user's pre-commit does,
//! then runs the hook in a fresh git repository.
//!
//! Fails, rather than skips, when pre-commit or git is missing.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn tool(name: &str) -> Command {
    let found = Command::new(name).arg("--version").output();
    assert!(
        found.is_ok_and(|o| o.status.success()),
        "`{name}` is needed by this test and is not installed \
         (`pip install pre-commit`; .ci/run installs it)"
    );
    Command::new(name)
}

fn git(repo: &Path, args: &[&str]) {
    let o = tool("git").args(args).current_dir(repo).output().unwrap();
    assert!(
        o.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}

fn try_repo(repo: &Path, file: &str) -> Output {
    // A pre-commit home and a cargo target directory kept between runs under target/, so the
    // hook's `cargo install` is incremental. Not cargo test's own target directory: cargo
    // holds its lock while the tests run.
    let cache: PathBuf = Path::new(env!("CARGO_TARGET_TMPDIR")).join("pre-commit");
    tool("pre-commit")
        .args([
            "try-repo",
            root().to_str().unwrap(),
            "redline",
            "--files",
            file,
        ])
        .current_dir(repo)
        .env("PRE_COMMIT_HOME", cache.join("home"))
        .env("CARGO_TARGET_DIR", cache.join("target"))
        .env("NO_COLOR", "1")
        .output()
        .unwrap()
}

#[test]
fn hook_fails_on_a_bad_manifest_and_passes_on_a_good_one() {
    let repo = std::env::temp_dir().join(format!("redline-pre-commit-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&repo);
    std::fs::create_dir_all(&repo).unwrap();
    git(&repo, &["init", "-q"]);
    std::fs::copy(
        root().join("examples/statefulset-configmap.yaml"),
        repo.join("bad.yaml"),
    )
    .unwrap();
    std::fs::write(
        repo.join("good.yaml"),
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: redis\nspec:\n  ports: [{port: 6379}]\n",
    )
    .unwrap();
    git(&repo, &["add", "."]);

    let bad = try_repo(&repo, "bad.yaml");
    let out = String::from_utf8_lossy(&bad.stdout);
    assert!(!bad.status.success(), "{out}");
    assert!(out.contains("error[redis-maxmemory-headroom]"), "{out}");
    assert!(out.contains("bad.yaml:12:15"), "{out}");

    let good = try_repo(&repo, "good.yaml");
    let out = String::from_utf8_lossy(&good.stdout);
    assert!(
        good.status.success(),
        "{out}{}",
        String::from_utf8_lossy(&good.stderr)
    );
    assert!(out.contains("Passed"), "{out}");
}

//! Names the commit in `redline --version` (`REDLINE_VERSION`): the short hash and commit
//! date of the checkout being built, `-modified` when the files it is built from differ
//! from it, or that it is not a git checkout (a crate tarball, a copy of the tree).

use std::path::Path;
use std::process::Command;

fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git").args(args).output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

fn main() {
    // What the binary is built from: a change there may make the tree differ from the
    // commit (`-modified`); the git files below add commits and checkouts.
    const BUILT_FROM: [&str; 6] = [
        "src",
        "rules",
        "tools/engines",
        "Cargo.toml",
        "Cargo.lock",
        "build.rs",
    ];
    for watched in BUILT_FROM {
        println!("cargo:rerun-if-changed={watched}");
    }
    let inside = git(&["rev-parse", "--is-inside-work-tree"]).is_some_and(|s| s == "true");
    // Only this package's own repository: a tree copied into another repository (the
    // scaffold check's copy under target/) would otherwise name that repository's commit.
    let top = git(&["rev-parse", "--show-toplevel"]);
    let here = std::env::var("CARGO_MANIFEST_DIR").unwrap_or_default();
    let ours =
        top.is_some_and(|t| std::fs::canonicalize(&t).ok() == std::fs::canonicalize(&here).ok());
    let commit = if inside && ours {
        if let Some(p) = git(&["rev-parse", "--git-path", "HEAD"]) {
            println!("cargo:rerun-if-changed={p}");
        }
        if let Some(r) = git(&["symbolic-ref", "-q", "HEAD"])
            && let Some(p) = git(&["rev-parse", "--git-path", &r])
            && Path::new(&p).exists()
        {
            println!("cargo:rerun-if-changed={p}");
        }
        match git(&["log", "-1", "--format=%h %cs", "--abbrev=12"]) {
            Some(line) if !line.is_empty() => {
                let (hash, date) = line.split_once(' ').unwrap_or((&line, ""));
                let mut status = vec!["status", "--porcelain", "--untracked-files=no", "--"];
                status.extend(BUILT_FROM);
                let dirty = git(&status).is_some_and(|s| !s.is_empty());
                format!(
                    "commit {hash}{}, {date}",
                    if dirty { "-modified" } else { "" }
                )
            }
            _ => String::new(),
        }
    } else {
        String::new()
    };
    let version = std::env::var("CARGO_PKG_VERSION").unwrap_or_default();
    let long = if commit.is_empty() {
        format!("{version} (not built from a git checkout)")
    } else {
        format!("{version} ({commit})")
    };
    println!("cargo:rustc-env=REDLINE_VERSION={long}");
}

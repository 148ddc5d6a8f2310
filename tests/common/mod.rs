//! What several integration tests share: where the corpus is and which files it holds.

#![allow(dead_code)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// The corpus of real upstream manifests, `tests/corpus` (sources and licences in its
/// `SOURCES.md`). Part of the repository: a clone needs nothing beside it.
pub fn corpus_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus");
    assert!(
        dir.join("SOURCES.md").is_file(),
        "corpus not found at {}",
        dir.display()
    );
    dir
}

/// Every corpus file, sorted: not its `SOURCES.md` nor the licence texts.
pub fn corpus_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.file_name().is_some_and(|n| {
                let n = n.to_string_lossy();
                !n.ends_with(".md") && !n.ends_with(".tsv") && !n.starts_with("LICENSE")
            }) {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

// The binary as a user runs it.

pub const BIN: &str = env!("CARGO_BIN_EXE_redline");

pub fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Run redline in `cwd` with `stdin`.
pub fn run_in(cwd: &Path, args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(BIN)
        .args(args)
        .current_dir(cwd)
        .env_remove("NO_COLOR")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("redline runs");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

pub fn run(args: &[&str]) -> Output {
    run_in(root(), args, "")
}

pub fn code(o: &Output) -> i32 {
    o.status.code().expect("exited, not killed")
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Standard output as JSON; not JSON, the test fails showing it.
pub fn json(o: &Output) -> serde_json::Value {
    serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&o.stdout)))
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).unwrap()
}

/// A fresh directory outside the repository (whose `.gitignore` would apply inside it).
pub fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("redline-cli-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The directories directly under `dir`, sorted (one per upstream project).
pub fn subdirs(dir: &Path) -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    dirs
}

/// The model of one file, as `lint --dump-model` prints it, named relative to `dir`.
pub fn model_of(dir: &Path, path: &Path) -> String {
    use redline::extract::{Options, extract, objects_of};
    let name = path.strip_prefix(dir).unwrap().display().to_string();
    let text = std::fs::read_to_string(path).unwrap();
    let mut file = redline::source::load_yaml(&name, text, &redline::source::Limits::default());
    let diagnostics: Vec<_> = file
        .diagnostics
        .iter()
        .map(|d| (name.clone(), d.clone()))
        .collect();
    let (objects, skipped) = objects_of(std::slice::from_mut(&mut file));
    let inventory = extract(objects, &Options::default());
    redline::dump::dump(&inventory, &diagnostics, &skipped)
}

/// Every file under `sub` linted together (default settings), file names relative to `dir`.
pub fn lint_dir(dir: &Path, sub: &Path) -> redline::lint::Linted {
    let sources: Vec<_> = corpus_files(sub)
        .iter()
        .map(|p| {
            let name = p.strip_prefix(dir).unwrap().display().to_string();
            redline::source::load_yaml(
                &name,
                std::fs::read_to_string(p).unwrap(),
                &redline::source::Limits::default(),
            )
        })
        .collect();
    redline::lint::lint(
        sources,
        &redline::extract::Options::default(),
        &redline::engine::Settings::default(),
    )
}

/// Each finding's file, `line:column` (empty without a position), rule and message.
pub fn finding_rows(linted: &redline::lint::Linted) -> Vec<(String, String, String, String)> {
    linted
        .outcome
        .findings
        .iter()
        .map(|f| {
            let o = linted.inventory.object(f.object);
            (
                o.file.clone().unwrap_or_default(),
                f.pos
                    .map(|p| format!("{}:{}", p.line, p.column))
                    .unwrap_or_default(),
                f.rule.to_string(),
                f.message.clone(),
            )
        })
        .collect()
}

/// The findings of every file under `sub` linted together (default settings), one line
/// each with its fix, file names relative to `dir`.
pub fn findings_of(dir: &Path, sub: &Path) -> String {
    let linted = lint_dir(dir, sub);
    let mut out = String::new();
    for f in &linted.outcome.findings {
        let o = linted.inventory.object(f.object);
        let pos = f
            .pos
            .map(|p| format!(":{}:{}", p.line, p.column))
            .unwrap_or_default();
        out.push_str(&format!(
            "{}{pos} {} {} [{}] {}\n",
            o.file.as_deref().unwrap_or(""),
            f.severity,
            f.rule,
            o,
            f.message
        ));
        if let Some(fix) = &f.fix {
            out.push_str(&format!("    fix: {}\n", fix.description));
        }
    }
    out
}

/// An AdmissionReview (CREATE) of `tests/fixtures/serve/statefulset.json` with its container
/// repeated 4,500 times under new names: about 1.5 MiB, the largest object etcd accepts.
pub fn maximal_review() -> Vec<u8> {
    let mut object: serde_json::Value =
        serde_json::from_str(include_str!("../fixtures/serve/statefulset.json")).unwrap();
    let container = object["spec"]["template"]["spec"]["containers"][0].clone();
    object["spec"]["template"]["spec"]["containers"] = (0..4500)
        .map(|i| {
            let mut c = container.clone();
            c["name"] = serde_json::json!(format!("redis-{i}"));
            c
        })
        .collect();
    serde_json::to_vec(&redline::webhook::review::request_for(
        "uid-max", "CREATE", &object, None,
    ))
    .unwrap()
}

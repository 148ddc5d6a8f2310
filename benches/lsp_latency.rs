//! `redline lsp` on workspaces of growing size (issue 25): how long an editor waits.
//! The workspace is `tests/realworld/` and `tests/corpus/` copied K times, plus the example
//! StatefulSet and ConfigMap open in the editor. Per K, the release binary is driven over
//! JSON-RPC and three latencies are timed, each over 20 edits that toggle the open
//! ConfigMap's `maxmemory` between two values:
//! - edit → diagnostics: `didChange`, then the `publishDiagnostics` that shows the new value
//!   (includes the server's 250 ms debounce: what a typist sees);
//! - edit → hover: `didChange` then `hover` at once (a request lints before it answers, no
//!   debounce: the cost of one lint of the workspace);
//! - code actions: the quick fix of the headroom finding with its edit (a `fix` run over
//!   the workspace, and one more for the file's fix-all), for a client that does not resolve
//!   edits; for one that does, listing (no `fix`) and `codeAction/resolve` of the quick fix.
//!
//! Run: `cargo bench --bench lsp_latency` (`REDLINE_BENCH_COPIES=1,5,20` to choose K).

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

#[path = "../tests/common/lsp_client.rs"]
mod lsp_client;
use lsp_client::{Client, uri};

const EDITS: usize = 20;

fn copy_dir(from: &Path, to: &Path) -> usize {
    std::fs::create_dir_all(to).unwrap();
    let mut n = 0;
    for e in std::fs::read_dir(from).unwrap() {
        let p = e.unwrap().path();
        let target = to.join(p.file_name().unwrap());
        if p.is_dir() {
            n += copy_dir(&p, &target);
        } else {
            std::fs::copy(&p, &target).unwrap();
            n += 1;
        }
    }
    n
}

fn median_ms(mut v: Vec<Duration>) -> String {
    v.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    format!(
        "{:.0} ({:.0}–{:.0})",
        ms(v[v.len() / 2]),
        ms(v[0]),
        ms(v[v.len() - 1])
    )
}

fn main() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let copies: Vec<usize> = std::env::var("REDLINE_BENCH_COPIES")
        .unwrap_or_else(|_| "1,5,20".into())
        .split(',')
        .map(|s| s.trim().parse().unwrap())
        .collect();
    let example =
        std::fs::read_to_string(root.join("examples/statefulset-configmap.yaml")).unwrap();
    let (cm_text, sts_text) = example.split_once("---\n").unwrap();
    println!(
        "| copies | files | MB | edit → diagnostics ms, median (min–max) | edit → hover ms | \
         code actions with edits ms | listed for a resolving client ms | resolve ms |"
    );
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|");
    for k in copies {
        let dir =
            std::env::temp_dir().join(format!("redline-bench-lsp-{}-{k}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let ws = dir.join("ws");
        let mut files = 0;
        for i in 0..k {
            files += copy_dir(
                &root.join("tests/realworld"),
                &ws.join(format!("realworld-{i}")),
            );
            files += copy_dir(&root.join("tests/corpus"), &ws.join(format!("corpus-{i}")));
        }
        let open = ws.join("redis");
        std::fs::create_dir_all(&open).unwrap();
        let cm = open.join("configmap.yaml");
        std::fs::write(&cm, cm_text).unwrap();
        std::fs::write(open.join("statefulset.yaml"), sts_text).unwrap();
        files += 2;
        let bytes: u64 = walk_bytes(&ws);
        let mut c = Client::start(&ws, &dir.join("cache"), json!({}));
        let uri = uri(&cm);
        c.open(&cm, cm_text);
        let line = cm_text
            .lines()
            .position(|l| l.contains("maxmemory 1gb"))
            .unwrap();
        let column = cm_text.lines().nth(line).unwrap().find("1gb").unwrap();
        let mut version = 1;
        let mut edit = |c: &mut Client, value: &str, old_len: usize| {
            version += 1;
            c.notify(
                "textDocument/didChange",
                json!({"textDocument": {"uri": uri, "version": version},
                       "contentChanges": [{"range": {
                           "start": {"line": line, "character": column},
                           "end": {"line": line, "character": column + old_len}},
                         "text": value}]}),
            );
        };
        // The values and what the message says of each.
        let values = [("900mb", "943718400 B"), ("1gb", "1073741824 B")];
        let mut current = "1gb";
        let mut to_diagnostics = Vec::new();
        for i in 0..EDITS {
            let (value, shown) = values[i % 2];
            let t = Instant::now();
            edit(&mut c, value, current.len());
            current = value;
            c.diagnostics(&uri, |d| {
                d.iter()
                    .any(|d| d["message"].as_str().unwrap().contains(shown))
            });
            to_diagnostics.push(t.elapsed());
            // The workspace's other files' publications are not looked at.
            c.seen.clear();
        }
        let mut to_hover = Vec::new();
        for i in 0..EDITS {
            let (value, _) = values[i % 2];
            let t = Instant::now();
            edit(&mut c, value, current.len());
            current = value;
            c.request(
                "textDocument/hover",
                json!({"textDocument": {"uri": uri}, "position": {"line": line, "character": column}}),
            );
            to_hover.push(t.elapsed());
            c.seen.clear();
        }
        let mut actions = Vec::new();
        for _ in 0..EDITS {
            let t = Instant::now();
            let quickfix = quick_fix(&mut c, &uri, line, column);
            actions.push(t.elapsed());
            assert!(quickfix["edit"].is_object(), "{quickfix}");
        }
        c.shutdown();
        // A client that resolves edits: listing runs no `fix`, choosing one does.
        let mut c = Client::start(
            &ws,
            &dir.join("cache"),
            json!({"textDocument": {"codeAction": {"resolveSupport": {"properties": ["edit"]}}}}),
        );
        c.open(&cm, cm_text);
        c.diagnostics(&uri, |d| !d.is_empty());
        c.seen.clear();
        let (mut listed, mut resolved) = (Vec::new(), Vec::new());
        for _ in 0..EDITS {
            let t = Instant::now();
            let quickfix = quick_fix(&mut c, &uri, line, column);
            listed.push(t.elapsed());
            assert!(quickfix.get("edit").is_none(), "{quickfix}");
            let t = Instant::now();
            let resolved_action = c.request("codeAction/resolve", quickfix);
            resolved.push(t.elapsed());
            assert!(resolved_action["edit"].is_object(), "{resolved_action}");
        }
        c.shutdown();
        println!(
            "| {k} | {files} | {:.1} | {} | {} | {} | {} | {} |",
            bytes as f64 / 1e6,
            median_ms(to_diagnostics),
            median_ms(to_hover),
            median_ms(actions),
            median_ms(listed),
            median_ms(resolved)
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}

fn walk_bytes(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk_bytes(&p)
            } else {
                p.metadata().unwrap().len()
            }
        })
        .sum()
}

/// The quick fix the server lists at `line`:`column` of `uri`.
fn quick_fix(c: &mut Client, uri: &str, line: usize, column: usize) -> Value {
    let at = json!({"line": line, "character": column});
    let actions = c.request(
        "textDocument/codeAction",
        json!({"textDocument": {"uri": uri}, "range": {"start": at, "end": at},
               "context": {"diagnostics": []}}),
    );
    actions
        .as_array()
        .and_then(|a| a.iter().find(|x| x["kind"] == "quickfix"))
        .cloned()
        .unwrap_or_else(|| panic!("no quick fix: {actions}"))
}

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

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

const EDITS: usize = 20;

struct Client {
    child: Child,
    stdin: ChildStdin,
    incoming: Receiver<Value>,
    id: i64,
}

impl Client {
    fn send(&mut self, m: Value) {
        let body = m.to_string();
        write!(self.stdin, "Content-Length: {}\r\n\r\n{body}", body.len()).unwrap();
        self.stdin.flush().unwrap();
    }

    /// Shut the server down and wait for it to exit.
    fn stop(mut self) {
        self.request("shutdown", Value::Null);
        self.notify("exit", Value::Null);
        let status = self.child.wait().unwrap();
        assert!(status.success(), "{status}");
    }

    fn notify(&mut self, method: &str, params: Value) {
        self.send(json!({"jsonrpc": "2.0", "method": method, "params": params}));
    }

    fn request(&mut self, method: &str, params: Value) -> Value {
        self.id += 1;
        let id = self.id;
        self.send(json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
        self.wait(|m| m["id"] == id && m.get("method").is_none())
    }

    fn wait(&mut self, wanted: impl Fn(&Value) -> bool) -> Value {
        loop {
            let m = self
                .incoming
                .recv_timeout(Duration::from_secs(600))
                .expect("the server answers");
            if m.get("method").is_some() && m.get("id").is_some() {
                let id = m["id"].clone();
                self.send(json!({"jsonrpc": "2.0", "id": id, "result": null}));
            }
            if wanted(&m) {
                return m;
            }
        }
    }
}

fn start(workspace: &Path, cache: &Path, capabilities: Value) -> Client {
    let mut child = Command::new(env!("CARGO_BIN_EXE_redline"))
        .arg("lsp")
        .env("XDG_CACHE_HOME", cache)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let stdin = child.stdin.take().unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let (tx, incoming) = channel();
    std::thread::spawn(move || {
        loop {
            let mut length = 0;
            loop {
                let mut line = String::new();
                if stdout.read_line(&mut line).unwrap_or(0) == 0 {
                    return;
                }
                if line.trim().is_empty() {
                    break;
                }
                if let Some(n) = line.trim().strip_prefix("Content-Length: ") {
                    length = n.parse().unwrap();
                }
            }
            let mut body = vec![0; length];
            if stdout.read_exact(&mut body).is_err() {
                return;
            }
            let _ = tx.send(serde_json::from_slice(&body).unwrap());
        }
    });
    let mut c = Client {
        child,
        stdin,
        incoming,
        id: 0,
    };
    let root = format!("file://{}", workspace.display());
    c.request(
        "initialize",
        json!({"processId": null, "rootUri": root, "capabilities": capabilities}),
    );
    c.notify("initialized", json!({}));
    c
}

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
        let mut c = start(&ws, &dir.join("cache"), json!({}));
        let uri = format!("file://{}", cm.display());
        c.notify(
            "textDocument/didOpen",
            json!({"textDocument": {"uri": uri, "languageId": "yaml", "version": 1, "text": cm_text}}),
        );
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
            c.wait(|m| {
                m["method"] == "textDocument/publishDiagnostics"
                    && m["params"]["uri"] == uri
                    && m["params"]["diagnostics"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .any(|d| d["message"].as_str().unwrap().contains(shown))
            });
            to_diagnostics.push(t.elapsed());
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
        }
        let mut actions = Vec::new();
        for _ in 0..EDITS {
            let t = Instant::now();
            let r = c.request(
                "textDocument/codeAction",
                json!({"textDocument": {"uri": uri},
                       "range": {"start": {"line": line, "character": column},
                                 "end": {"line": line, "character": column}},
                       "context": {"diagnostics": []}}),
            );
            actions.push(t.elapsed());
            assert!(
                r["result"]
                    .as_array()
                    .is_some_and(|a| a.iter().any(|x| x["kind"] == "quickfix")),
                "{r}"
            );
        }
        c.stop();
        // A client that resolves edits: listing runs no `fix`, choosing one does.
        let mut c = start(
            &ws,
            &dir.join("cache"),
            json!({"textDocument": {"codeAction": {"resolveSupport": {"properties": ["edit"]}}}}),
        );
        c.notify(
            "textDocument/didOpen",
            json!({"textDocument": {"uri": uri, "languageId": "yaml", "version": 1, "text": cm_text}}),
        );
        c.wait(|m| {
            m["method"] == "textDocument/publishDiagnostics"
                && m["params"]["uri"] == uri
                && !m["params"]["diagnostics"].as_array().unwrap().is_empty()
        });
        let (mut listed, mut resolved) = (Vec::new(), Vec::new());
        for _ in 0..EDITS {
            let t = Instant::now();
            let r = c.request(
                "textDocument/codeAction",
                json!({"textDocument": {"uri": uri},
                       "range": {"start": {"line": line, "character": column},
                                 "end": {"line": line, "character": column}},
                       "context": {"diagnostics": []}}),
            );
            listed.push(t.elapsed());
            let quickfix = r["result"]
                .as_array()
                .and_then(|a| a.iter().find(|x| x["kind"] == "quickfix"))
                .cloned()
                .unwrap_or_else(|| panic!("{r}"));
            let t = Instant::now();
            let r = c.request("codeAction/resolve", quickfix);
            resolved.push(t.elapsed());
            assert!(r["result"]["edit"].is_object(), "{r}");
        }
        c.stop();
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

//! A language client for `redline lsp`, as an editor is one: the real binary, JSON-RPC with
//! `Content-Length` framing over its standard input and output. Shared by `tests/lsp.rs`
//! and `benches/lsp_latency.rs` (`#[path]`-included by each). Nothing waits for a fixed
//! time: each call waits for the message it needs, up to [`PATIENCE`].

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

pub const BIN: &str = env!("CARGO_BIN_EXE_redline");
/// Only a hung server waits this long.
pub const PATIENCE: Duration = Duration::from_secs(60);

pub struct Client {
    child: Child,
    stdin: ChildStdin,
    incoming: Receiver<Value>,
    next_id: i64,
    /// Notifications seen while waiting for something else.
    pub seen: Vec<Value>,
}

/// The `file:` URI of an absolute path, percent-encoded as editors send them.
pub fn uri(path: &Path) -> String {
    let mut out = String::from("file://");
    for b in path.to_str().unwrap().bytes() {
        if b.is_ascii_alphanumeric() || b"/-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

impl Client {
    /// Starts the server with `workspace` as its folder, and initializes it.
    pub fn start(workspace: &Path, cache: &Path, capabilities: Value) -> Client {
        let mut child = Command::new(BIN)
            .args(["lsp", "--stdio"])
            .env("XDG_CACHE_HOME", cache)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let stdin = child.stdin.take().unwrap();
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let (tx, incoming) = channel();
        std::thread::spawn(move || {
            loop {
                let mut length = None;
                loop {
                    let mut line = String::new();
                    if stdout.read_line(&mut line).unwrap_or(0) == 0 {
                        return;
                    }
                    let line = line.trim_end();
                    if line.is_empty() {
                        break;
                    }
                    if let Some(n) = line.strip_prefix("Content-Length: ") {
                        length = n.parse::<usize>().ok();
                    }
                }
                let mut body = vec![0; length.expect("Content-Length header")];
                if stdout.read_exact(&mut body).is_err() {
                    return;
                }
                let _ = tx.send(serde_json::from_slice(&body).expect("a JSON-RPC message"));
            }
        });
        let mut client = Client {
            child,
            stdin,
            incoming,
            next_id: 0,
            seen: Vec::new(),
        };
        let result = client.request(
            "initialize",
            json!({
                "processId": null,
                "rootUri": uri(workspace),
                "workspaceFolders": [{"uri": uri(workspace), "name": "workspace"}],
                "capabilities": capabilities,
            }),
        );
        assert_eq!(result["serverInfo"]["name"], "redline", "{result}");
        assert_eq!(result["capabilities"]["textDocumentSync"]["change"], 2);
        client.notify("initialized", json!({}));
        client
    }

    fn send(&mut self, message: Value) {
        let body = message.to_string();
        write!(self.stdin, "Content-Length: {}\r\n\r\n{body}", body.len()).unwrap();
        self.stdin.flush().unwrap();
    }

    pub fn notify(&mut self, method: &str, params: Value) {
        self.send(json!({"jsonrpc": "2.0", "method": method, "params": params}));
    }

    fn next(&mut self, deadline: Instant) -> Value {
        match self
            .incoming
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
        {
            Ok(m) => m,
            Err(RecvTimeoutError::Timeout) => {
                panic!("no message from the server: {:#?}", self.seen)
            }
            Err(RecvTimeoutError::Disconnected) => panic!("the server went away"),
        }
    }

    /// The next message that satisfies `wanted`; the others are kept in `seen`, and the
    /// server's own requests are answered on the way.
    pub fn wait(&mut self, wanted: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let m = self.next(deadline);
            self.answer_server_request(&m);
            if wanted(&m) {
                return m;
            }
            self.seen.push(m);
        }
    }

    /// The whole response to a request (`result` or `error`).
    pub fn call(&mut self, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        self.send(json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
        self.wait(|m| m["id"] == id && m.get("method").is_none())
    }

    pub fn request(&mut self, method: &str, params: Value) -> Value {
        let response = self.call(method, params);
        assert!(response.get("error").is_none(), "{response}");
        response["result"].clone()
    }

    /// The server's own requests (client/registerCapability) get an empty answer.
    fn answer_server_request(&mut self, m: &Value) {
        if m.get("method").is_some() && m.get("id").is_some() {
            let id = m["id"].clone();
            self.send(json!({"jsonrpc": "2.0", "id": id, "result": null}));
        }
    }

    /// The diagnostics published for `uri` once they satisfy `wanted`: the last ones
    /// already received if they do, else the next that do.
    pub fn diagnostics(&mut self, uri: &str, wanted: impl Fn(&[Value]) -> bool) -> Vec<Value> {
        let of_uri = |m: &Value| {
            m["method"] == "textDocument/publishDiagnostics" && m["params"]["uri"] == uri
        };
        let list = |m: &Value| m["params"]["diagnostics"].as_array().unwrap().clone();
        let last = self
            .seen
            .iter()
            .rposition(of_uri)
            .map(|i| list(&self.seen[i]));
        self.seen.retain(|m| !of_uri(m));
        if let Some(last) = last
            && wanted(&last)
        {
            return last;
        }
        let m = self.wait(|m| of_uri(m) && wanted(&list(m)));
        // Earlier publications for the uri are superseded by this one.
        self.seen.retain(|m| !of_uri(m));
        list(&m)
    }

    pub fn open(&mut self, path: &Path, text: &str) {
        self.notify(
            "textDocument/didOpen",
            json!({"textDocument": {
                "uri": uri(path), "languageId": "yaml", "version": 1, "text": text,
            }}),
        );
    }

    pub fn shutdown(mut self) {
        let result = self.call("shutdown", Value::Null);
        assert!(result.get("error").is_none(), "{result}");
        self.notify("exit", Value::Null);
        let deadline = Instant::now() + PATIENCE;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                assert!(status.success(), "{status}");
                return;
            }
            assert!(Instant::now() < deadline, "the server did not exit");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

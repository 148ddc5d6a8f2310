//! `redline lsp` driven as an editor drives it: the real binary, JSON-RPC over its standard
//! input and output (initialize, didOpen, didChange, codeAction, hover, shutdown, exit).
//! No test waits for a fixed time: each waits for the message it needs, with a generous
//! limit that only a hung server reaches.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{Value, json};

#[path = "common/lsp_client.rs"]
mod lsp_client;
use lsp_client::{BIN, Client, uri};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn rules_of(diagnostics: &[Value]) -> Vec<&str> {
    let mut rules: Vec<&str> = diagnostics
        .iter()
        .map(|d| d["code"].as_str().unwrap())
        .collect();
    rules.sort_unstable();
    rules
}

/// UTF-16 (line, character) of the byte offset `at` of `text`, computed independently of
/// the server: what an editor holds.
fn position(text: &str, at: usize) -> Value {
    let before = &text[..at];
    let line = before.matches('\n').count();
    let start = before.rfind('\n').map_or(0, |i| i + 1);
    json!({"line": line, "character": text[start..at].encode_utf16().count()})
}

/// The byte offset of a UTF-16 position (the inverse, again independent of the server).
fn offset(text: &str, p: &Value) -> usize {
    let line = p["line"].as_u64().unwrap() as usize;
    let character = p["character"].as_u64().unwrap() as usize;
    let start: usize = text.split_inclusive('\n').take(line).map(str::len).sum();
    let mut units = 0;
    for (i, c) in text[start..].char_indices() {
        if units >= character || c == '\n' {
            return start + i;
        }
        units += c.len_utf16();
    }
    text.len()
}

/// Apply a code action's edits to `text`, the document at `uri`.
fn apply(text: &str, action: &Value, uri: &str) -> String {
    let edits: Vec<Value> = match action["edit"].get("documentChanges") {
        Some(changes) => changes
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["textDocument"]["uri"] == uri)
            .flat_map(|c| c["edits"].as_array().unwrap().clone())
            .collect(),
        None => action["edit"]["changes"][uri].as_array().unwrap().clone(),
    };
    assert!(!edits.is_empty(), "{action}");
    let mut text = text.to_string();
    // Back to front, so earlier offsets stay valid.
    let mut ranges: Vec<(usize, usize, String)> = edits
        .iter()
        .map(|e| {
            (
                offset(&text, &e["range"]["start"]),
                offset(&text, &e["range"]["end"]),
                e["newText"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    ranges.sort_by_key(|r| std::cmp::Reverse(r.0));
    for (start, end, new) in ranges {
        text.replace_range(start..end, &new);
    }
    text
}

/// A workspace of the example split in two files, the ConfigMap apart from the
/// StatefulSet that mounts it.
fn split_example(dir: &Path) -> (PathBuf, PathBuf) {
    let example =
        std::fs::read_to_string(root().join("examples/statefulset-configmap.yaml")).unwrap();
    let (cm, sts) = example.split_once("---\n").unwrap();
    std::fs::create_dir_all(dir).unwrap();
    let (cm_path, sts_path) = (dir.join("configmap.yaml"), dir.join("statefulset.yaml"));
    std::fs::write(&cm_path, cm).unwrap();
    std::fs::write(&sts_path, sts).unwrap();
    (cm_path, sts_path)
}

fn temp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("redline-lsp-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::canonicalize(&dir).unwrap()
}

/// `redline fix` over a copy of `workspace`: the text it writes into `file`.
fn fixed_by_cli(workspace: &Path, file: &str) -> String {
    let copy = workspace.with_extension("fixed");
    let _ = std::fs::remove_dir_all(&copy);
    std::fs::create_dir_all(&copy).unwrap();
    for entry in std::fs::read_dir(workspace).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), copy.join(entry.file_name())).unwrap();
    }
    let out = Command::new(BIN)
        .args(["fix", "."])
        .current_dir(&copy)
        .output()
        .unwrap();
    assert!(out.status.code().is_some_and(|c| c <= 1), "{out:?}");
    std::fs::read_to_string(copy.join(file)).unwrap()
}

#[test]
fn the_workspace_is_one_input_and_a_code_action_writes_what_fix_writes() {
    let dir = temp("workspace");
    let ws = dir.join("ws");
    let (cm, sts) = split_example(&ws);
    let cm_text = std::fs::read_to_string(&cm).unwrap();
    let mut client = Client::start(&ws, &dir.join("cache"), json!({}));
    // The ConfigMap alone has nothing wrong; with the StatefulSet of the other file, its
    // maxmemory is the whole memory limit. Only the ConfigMap is open.
    client.open(&cm, &cm_text);
    let diagnostics = client.diagnostics(&uri(&cm), |d| !d.is_empty());
    assert_eq!(rules_of(&diagnostics), ["redis-maxmemory-headroom"]);
    let d = &diagnostics[0];
    assert_eq!(d["severity"], 1, "{d}");
    assert_eq!(d["source"], "redline");
    // The memory budget of the server, under the finding as in the human format.
    let message = d["message"].as_str().unwrap();
    assert!(
        message.ends_with(
            "\nmemory: limit 1.0 GiB, request 1 B, maxmemory 1.0 GiB, backlog 1.0 MiB in it, \
             fork ≤1.0 GiB, no replica buffers, worst case over by 1.0 GiB"
        ),
        "{message}"
    );
    let at = cm_text.find("maxmemory 1gb").unwrap() + "maxmemory ".len();
    assert_eq!(d["range"]["start"], position(&cm_text, at), "{d}");
    assert_eq!(d["range"]["end"], position(&cm_text, at + 3), "{d}");
    // The code links to the rule's explanation, written where the link says.
    let href = d["codeDescription"]["href"].as_str().unwrap();
    let doc = href.strip_prefix("file://").unwrap();
    let explanation = std::fs::read_to_string(doc).unwrap();
    assert!(
        explanation.starts_with("# redis-maxmemory-headroom\n"),
        "{explanation}"
    );
    assert!(explanation.contains("Sources:"), "{explanation}");
    // The file that is not open is published too (the Problems panel of the workspace).
    let sts_diagnostics = client.diagnostics(&uri(&sts), |d| !d.is_empty());
    assert!(rules_of(&sts_diagnostics).contains(&"k8s-memory-milli"));

    // The quick fix is the edit `redline fix` makes in that file.
    let actions = client.request(
        "textDocument/codeAction",
        json!({
            "textDocument": {"uri": uri(&cm)},
            "range": d["range"],
            "context": {"diagnostics": [d]},
        }),
    );
    let actions = actions.as_array().unwrap();
    let quickfix = actions
        .iter()
        .find(|a| a["kind"] == "quickfix")
        .unwrap_or_else(|| panic!("{actions:?}"));
    assert_eq!(
        quickfix["title"],
        "redis-maxmemory-headroom: set maxmemory to 805306368 B (768.0 MiB)"
    );
    let fixed = apply(&cm_text, quickfix, &uri(&cm));
    assert_eq!(fixed, fixed_by_cli(&ws, "configmap.yaml"));
    assert_ne!(fixed, cm_text);

    // Hover on the finding: the message, then `redline explain`.
    let hover = client.request(
        "textDocument/hover",
        json!({"textDocument": {"uri": uri(&cm)}, "position": position(&cm_text, at + 1)}),
    );
    let shown = hover["contents"]["value"].as_str().unwrap();
    assert!(
        shown.starts_with("**redis-maxmemory-headroom**: maxmemory"),
        "{shown}"
    );
    assert!(shown.contains("**Why it matters.**"), "{shown}");
    // Nowhere near a finding: nothing.
    let nothing = client.request(
        "textDocument/hover",
        json!({"textDocument": {"uri": uri(&cm)}, "position": {"line": 0, "character": 0}}),
    );
    assert_eq!(nothing, Value::Null);

    // The fix applied in the editor: the finding goes away.
    client.notify(
        "textDocument/didChange",
        json!({
            "textDocument": {"uri": uri(&cm), "version": 2},
            "contentChanges": [{"text": fixed}],
        }),
    );
    client.diagnostics(&uri(&cm), |d| d.is_empty());

    // A change that changes no finding publishes nothing: no file's diagnostics are sent
    // again. (A request is answered after the lint before it and its publications: the
    // first hover flushes those of the fix, the second follows the lint of the change.)
    let hover_at_start =
        json!({"textDocument": {"uri": uri(&cm)}, "position": {"line": 0, "character": 0}});
    client.request("textDocument/hover", hover_at_start.clone());
    client.seen.clear();
    client.notify(
        "textDocument/didChange",
        json!({
            "textDocument": {"uri": uri(&cm), "version": 3},
            "contentChanges": [{"text": format!("{fixed}# reviewed\n")}],
        }),
    );
    client.request("textDocument/hover", hover_at_start);
    let published: Vec<&Value> = client
        .seen
        .iter()
        .filter(|m| m["method"] == "textDocument/publishDiagnostics")
        .collect();
    assert!(published.is_empty(), "{published:?}");

    // A request redline does not answer gets an error, and the server goes on.
    let error = client.call("textDocument/definition", json!({}));
    assert_eq!(error["error"]["code"], -32601, "{error}");
    client.shutdown();
}

#[test]
fn positions_are_utf16_in_changes_diagnostics_and_edits() {
    let dir = temp("utf16");
    let ws = dir.join("ws");
    let (cm, sts) = split_example(&ws);
    // The maxmemory on the command line, after a path with é (1 UTF-16 unit, 2 bytes) and
    // 😀 (2 units, 4 bytes): a server counting bytes or characters lands elsewhere.
    let cm_text = std::fs::read_to_string(&cm)
        .unwrap()
        .replace("    maxmemory 1gb\n", "");
    std::fs::write(&cm, &cm_text).unwrap();
    let sts_text = std::fs::read_to_string(&sts)
        .unwrap()
        .replace(
            r#"command: ["redis-server", "/etc/redis/redis.conf"]"#,
            r#"command: ["redis-server", "/etc/rédis-😀/redis.conf", "--maxmemory", "1gb"]"#,
        )
        .replace("mountPath: /etc/redis", r#"mountPath: "/etc/rédis-😀""#);
    std::fs::write(&sts, &sts_text).unwrap();
    let mut client = Client::start(
        &ws,
        &dir.join("cache"),
        json!({"workspace": {"workspaceEdit": {"documentChanges": true}}}),
    );
    client.open(&sts, &sts_text);
    let diagnostics = client.diagnostics(&uri(&sts), |d| {
        rules_of(d).contains(&"redis-maxmemory-headroom")
    });
    let at = sts_text.find(r#""1gb""#).unwrap() + 1;
    let headroom = diagnostics
        .iter()
        .find(|d| d["code"] == "redis-maxmemory-headroom")
        .unwrap();
    assert_eq!(
        headroom["range"]["start"],
        position(&sts_text, at),
        "{headroom}"
    );
    // Column 80 in characters (`redline lint` prints 20:80), 83 in bytes.
    assert_eq!(headroom["range"]["start"]["character"], 80);

    // An incremental change of `1gb` to `900mb` by UTF-16 range: the finding is now about
    // 900 MB, which only the right bytes being replaced gives.
    let edited = format!("{}900mb{}", &sts_text[..at], &sts_text[at + 3..]);
    client.notify(
        "textDocument/didChange",
        json!({
            "textDocument": {"uri": uri(&sts), "version": 2},
            "contentChanges": [{
                "range": {"start": position(&sts_text, at), "end": position(&sts_text, at + 3)},
                "text": "900mb",
            }],
        }),
    );
    let diagnostics = client.diagnostics(&uri(&sts), |d| {
        d.iter().any(|d| {
            d["code"] == "redis-maxmemory-headroom"
                && d["message"]
                    .as_str()
                    .unwrap()
                    .starts_with("maxmemory 943718400 B")
        })
    });
    assert!(
        !rules_of(&diagnostics).contains(&"yaml-invalid"),
        "{diagnostics:?}"
    );

    // Fix every finding of the file: a versioned edit equal to `redline fix`'s output of
    // the same text.
    let actions = client.request(
        "textDocument/codeAction",
        json!({
            "textDocument": {"uri": uri(&sts)},
            "range": {"start": {"line": 0, "character": 0}, "end": {"line": 0, "character": 0}},
            "context": {"diagnostics": [], "only": ["source.fixAll"]},
        }),
    );
    let actions = actions.as_array().unwrap();
    assert_eq!(actions.len(), 1, "{actions:?}");
    assert_eq!(actions[0]["kind"], "source.fixAll.redline");
    let change = &actions[0]["edit"]["documentChanges"][0];
    assert_eq!(change["textDocument"]["version"], 2, "{change}");
    let fixed = apply(&edited, &actions[0], &uri(&sts));
    std::fs::write(&sts, &edited).unwrap();
    assert_eq!(fixed, fixed_by_cli(&ws, "statefulset.yaml"));
    assert!(fixed.contains(r#""--maxmemory", "768mb"]"#), "{fixed}");
    client.shutdown();
}

#[test]
fn a_change_to_the_configuration_is_picked_up() {
    let dir = temp("config");
    let ws = dir.join("ws");
    let (cm, _) = split_example(&ws);
    let mut client = Client::start(
        &ws,
        &dir.join("cache"),
        json!({"workspace": {"didChangeWatchedFiles": {"dynamicRegistration": true}}}),
    );
    client.diagnostics(&uri(&cm), |d| !d.is_empty());
    // The server asked to be told of changes to .redline.yaml.
    let registration = client
        .seen
        .iter()
        .find(|m| m["method"] == "client/registerCapability")
        .cloned()
        .expect("client/registerCapability");
    assert!(
        registration.to_string().contains("**/.redline.yaml"),
        "{registration}"
    );
    // The rule turned off on disk: its finding goes away once the client reports it.
    let config = ws.join(".redline.yaml");
    std::fs::write(
        &config,
        "rules:\n  redis-maxmemory-headroom:\n    enabled: false\n",
    )
    .unwrap();
    client.notify(
        "workspace/didChangeWatchedFiles",
        json!({"changes": [{"uri": uri(&config), "type": 1}]}),
    );
    client.diagnostics(&uri(&cm), |d| d.is_empty());
    // Being edited in the editor, its buffer counts; a broken buffer is a diagnostic on it,
    // and the last configuration that loaded stays in force.
    client.open(
        &config,
        "rules:\n  redis-maxmemory-headroom:\n    enabled: [\n",
    );
    let problems = client.diagnostics(&uri(&config), |d| !d.is_empty());
    assert_eq!(problems[0]["severity"], 1, "{problems:?}");
    assert!(
        problems[0]["message"]
            .as_str()
            .unwrap()
            .contains("last configuration that loaded"),
        "{problems:?}"
    );
    // The rule stays off meanwhile: no finding came back for the ConfigMap in that lint
    // (a request answered after it orders it before the answer).
    client.request(
        "textDocument/hover",
        json!({"textDocument": {"uri": uri(&cm)}, "position": {"line": 0, "character": 0}}),
    );
    assert!(
        !client.seen.iter().any(|m| {
            m["method"] == "textDocument/publishDiagnostics"
                && m["params"]["uri"] == uri(&cm)
                && !m["params"]["diagnostics"].as_array().unwrap().is_empty()
        }),
        "{:?}",
        client.seen
    );
    client.notify(
        "textDocument/didChange",
        json!({
            "textDocument": {"uri": uri(&config), "version": 2},
            "contentChanges": [{"text": "rules:\n  redis-maxmemory-headroom:\n    enabled: true\n"}],
        }),
    );
    client.diagnostics(&uri(&config), |d| d.is_empty());
    let back = client.diagnostics(&uri(&cm), |d| !d.is_empty());
    assert_eq!(rules_of(&back), ["redis-maxmemory-headroom"]);
    client.shutdown();
}

#[test]
fn a_client_that_resolves_edits_gets_them_when_it_chooses_an_action() {
    let dir = temp("resolve");
    let ws = dir.join("ws");
    let (cm, _) = split_example(&ws);
    let cm_text = std::fs::read_to_string(&cm).unwrap();
    let mut client = Client::start(
        &ws,
        &dir.join("cache"),
        json!({"textDocument": {"codeAction": {
            "dataSupport": true,
            "resolveSupport": {"properties": ["edit"]},
        }}}),
    );
    client.open(&cm, &cm_text);
    let diagnostics = client.diagnostics(&uri(&cm), |d| !d.is_empty());
    let d = &diagnostics[0];
    let actions = client.request(
        "textDocument/codeAction",
        json!({"textDocument": {"uri": uri(&cm)}, "range": d["range"], "context": {"diagnostics": [d]}}),
    );
    let actions = actions.as_array().unwrap();
    // Listed without an edit (no `fix` run for a cursor move), with what resolves it.
    assert_eq!(actions.len(), 2, "{actions:?}");
    assert!(
        actions
            .iter()
            .all(|a| a.get("edit").is_none() && a["data"]["targets"].is_array())
    );
    let quickfix = actions.iter().find(|a| a["kind"] == "quickfix").unwrap();
    let resolved = client.request("codeAction/resolve", quickfix.clone());
    assert_eq!(resolved["title"], quickfix["title"]);
    let fixed = apply(&cm_text, &resolved, &uri(&cm));
    assert_eq!(fixed, fixed_by_cli(&ws, "configmap.yaml"));
    client.shutdown();
}

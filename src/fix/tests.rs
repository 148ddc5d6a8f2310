use serde_json::{Value, json};

use super::edit::{self, Editor};
use crate::patch::PatchOp;
use crate::source::{Limits, load_yaml};

/// Edit the first document of `text` with `ops`; the result must read back as the patched
/// data (the check `fix` makes) and is returned for comparison with the expected bytes.
fn edited(text: &str, ops: &[PatchOp]) -> Result<String, String> {
    let file = load_yaml("t.yaml", text.to_string(), &Limits::default());
    assert!(file.diagnostics.iter().all(|d| !d.error), "{text}");
    let root = &file.documents[0].root;
    let edits = Editor::new(text, root, super::edit::eol_of(text)).edits(ops)?;
    let out = edit::apply(text, &edits);
    let mut want = root.to_json();
    let patch = crate::patch::to_json_patch(ops).unwrap();
    json_patch::patch(&mut want, &patch).unwrap();
    let back = load_yaml("t.yaml", out.clone(), &Limits::default());
    assert!(
        back.diagnostics.iter().all(|d| !d.error),
        "does not load:\n{out}\n{:?}",
        back.diagnostics
    );
    assert_eq!(back.documents[0].root.to_json(), want, "\n{out}");
    Ok(out)
}

fn replace(path: &str, value: Value) -> PatchOp {
    PatchOp::Replace {
        path: path.into(),
        value,
    }
}

fn add(path: &str, value: Value) -> PatchOp {
    PatchOp::Add {
        path: path.into(),
        value,
    }
}

#[test]
fn a_scalar_keeps_its_quotes_and_its_comment() {
    let text = "a:\n  memory: \"1Gi\"   # keep\n  b: 'x'\n  c: 1Gi\n";
    let out = edited(
        text,
        &[
            replace("/a/memory", json!("2Gi")),
            replace("/a/b", json!("y")),
            replace("/a/c", json!("1500")),
        ],
    )
    .unwrap();
    assert_eq!(
        out,
        "a:\n  memory: \"2Gi\"   # keep\n  b: 'y'\n  c: '1500'\n"
    );
}

#[test]
fn a_new_key_takes_its_siblings_indentation() {
    let text = "spec:\n    containers:\n    -   name: redis\n        image: redis:7 # pinned\n\n# trailer\nother: 1\n";
    let out = edited(
        text,
        &[add(
            "/spec/containers/0/resources",
            json!({"limits": {"memory": "2Gi"}}),
        )],
    )
    .unwrap();
    assert_eq!(
        out,
        "spec:\n    containers:\n    -   name: redis\n        image: redis:7 # pinned\n        resources:\n            limits:\n                memory: 2Gi\n\n# trailer\nother: 1\n"
    );
}

#[test]
fn an_empty_flow_mapping_becomes_a_block() {
    let text = "c:\n  resources: {}  # none yet\n  name: x\n";
    let out = edited(
        text,
        &[add("/c/resources/limits", json!({"memory": "2Gi"}))],
    )
    .unwrap();
    assert_eq!(
        out,
        "c:\n  resources:  # none yet\n    limits:\n      memory: 2Gi\n  name: x\n"
    );
}

#[test]
fn flow_mappings_and_sequences_grow_in_place() {
    let text = "c: {requests: {memory: 1Gi}}\nargs: [--port, '6379']\nempty: []\n";
    let out = edited(
        text,
        &[
            add("/c/limits", json!({"memory": "2Gi"})),
            add("/args/-", json!("--maxmemory")),
            add("/empty/-", json!("x")),
        ],
    )
    .unwrap();
    assert_eq!(
        out,
        "c: {requests: {memory: 1Gi}, limits: {memory: 2Gi}}\nargs: [--port, '6379', --maxmemory]\nempty:\n  - x\n"
    );
}

#[test]
fn block_sequences_append_at_their_dash_column() {
    let text = "args:\n- --port\n- \"6379\"\nnext: 1\n";
    let out = edited(
        text,
        &[
            add("/args/-", json!("--maxmemory")),
            add("/args/-", json!("1gb")),
        ],
    )
    .unwrap();
    assert_eq!(
        out,
        "args:\n- --port\n- \"6379\"\n- --maxmemory\n- 1gb\nnext: 1\n"
    );
}

#[test]
fn a_literal_block_changes_only_its_changed_lines() {
    let text =
        "data:\n  redis.conf: |\n    port 6379\n    maxmemory 1gb\n\n    save \"\"\n  other: x\n";
    let out = edited(
        text,
        &[replace(
            "/data/redis.conf",
            json!("port 6379\nmaxmemory 768mb\n\nsave \"\"\n"),
        )],
    )
    .unwrap();
    assert_eq!(
        out,
        "data:\n  redis.conf: |\n    port 6379\n    maxmemory 768mb\n\n    save \"\"\n  other: x\n"
    );
    // A line added at the end goes after the last line, before what follows the block.
    let out = edited(
        text,
        &[replace(
            "/data/redis.conf",
            json!("port 6379\nmaxmemory 1gb\n\nsave \"\"\nmaxmemory-policy allkeys-lru\n"),
        )],
    )
    .unwrap();
    assert_eq!(
        out,
        "data:\n  redis.conf: |\n    port 6379\n    maxmemory 1gb\n\n    save \"\"\n    maxmemory-policy allkeys-lru\n  other: x\n"
    );
}

#[test]
fn a_stripped_literal_is_rewritten_whole() {
    let text = "data:\n  redis.conf: |-\n    port 6379\n  other: x\n";
    let out = edited(
        text,
        &[replace(
            "/data/redis.conf",
            json!("port 6379\nmaxmemory 1gb\n"),
        )],
    )
    .unwrap();
    assert_eq!(
        out,
        "data:\n  redis.conf: |\n    port 6379\n    maxmemory 1gb\n  other: x\n"
    );
}

#[test]
fn null_values_get_a_value_or_a_block() {
    let text = "a:\n  empty:\n  tilde: ~ # c\n  n: null\n";
    let out = edited(
        text,
        &[
            replace("/a/empty", json!("x")),
            replace("/a/tilde", json!({"limits": {"memory": "1Gi"}})),
            replace("/a/n", json!(5)),
        ],
    )
    .unwrap();
    assert_eq!(
        out,
        "a:\n  empty: x\n  tilde: # c\n    limits:\n      memory: 1Gi\n  n: 5\n"
    );
}

#[test]
fn json_files_stay_json() {
    let text = "{\n  \"spec\": {\n    \"a\": \"1Gi\",\n    \"args\": [\"x\"]\n  }\n}\n";
    let out = edited(
        text,
        &[
            replace("/spec/a", json!("2Gi")),
            add("/spec/limits", json!({"memory": "2Gi"})),
            add("/spec/args/-", json!("y")),
        ],
    )
    .unwrap();
    assert_eq!(
        out,
        "{\n  \"spec\": {\n    \"a\": \"2Gi\",\n    \"args\": [\"x\", \"y\"],\n    \"limits\": {\n      \"memory\": \"2Gi\"\n    }\n  }\n}\n"
    );
}

#[test]
fn crlf_files_keep_crlf() {
    let text = "a:\r\n  b: 1\r\n";
    let out = edited(text, &[add("/a/c", json!({"d": 2}))]).unwrap();
    assert_eq!(out, "a:\r\n  b: 1\r\n  c:\r\n    d: 2\r\n");
}

#[test]
fn a_file_without_a_final_line_break() {
    let text = "a:\n  b: 1";
    let out = edited(text, &[add("/a/c", json!(2))]).unwrap();
    assert_eq!(out, "a:\n  b: 1\n  c: 2\n");
}

#[test]
fn sequence_style_follows_the_document() {
    let text = "a:\n  list:\n  - x\n  m:\n    k: v\n";
    let out = edited(text, &[add("/a/m/args", json!(["--x", "1"]))]).unwrap();
    assert_eq!(
        out,
        "a:\n  list:\n  - x\n  m:\n    k: v\n    args:\n    - --x\n    - '1'\n"
    );
}

#[test]
fn anchors_are_refused() {
    let text = "base: &b\n  memory: 1Gi\nuse: *b\nmerged:\n  <<: *b\n  cpu: 1\n";
    let file = load_yaml("t.yaml", text.to_string(), &Limits::default());
    let root = &file.documents[0].root;
    for path in ["/use/memory", "/merged/memory"] {
        let err = Editor::new(text, root, super::edit::eol_of(text))
            .edits(&[replace(path, json!("2Gi"))])
            .unwrap_err();
        assert!(err.contains("anchor"), "{path}: {err}");
    }
}

/// The indexes `fix_file` and the mutating webhook use instead of scanning every earlier fix
/// answer as the pairwise checks they replace.
#[test]
fn touched_fields_and_taken_bytes_answer_like_the_pairwise_checks() {
    use super::edit::TextEdit;
    use super::{Taken, Touched};
    use crate::patch::PatchOp;
    use serde_json::json;
    let op = |path: &str| PatchOp::Add {
        path: path.into(),
        value: json!(1),
    };
    let mut touched = Touched::default();
    touched.add(&[op("/spec/template/spec/containers/0/readinessProbe")]);
    for (path, overlaps) in [
        ("/spec/template/spec/containers/0/readinessProbe", true),
        (
            "/spec/template/spec/containers/0/readinessProbe/periodSeconds",
            true,
        ),
        ("/spec/template/spec/containers/0", true),
        ("/spec/template/spec/containers/0/readinessProbeX", false),
        ("/spec/template/spec/containers/1/readinessProbe", false),
        ("/spec/template/spec/containers/0/livenessProbe", false),
    ] {
        assert_eq!(touched.overlaps(&[op(path)]), overlaps, "{path}");
    }
    let edit = |start, end| TextEdit {
        start,
        end,
        text: "x".into(),
    };
    let mut taken = Taken::default();
    taken.add(&[edit(10, 20), edit(30, 30), edit(40, 50)]);
    for (e, overlaps) in [
        (edit(0, 10), false),
        (edit(0, 11), true),
        (edit(19, 19), true),
        (edit(20, 20), false),
        (edit(20, 30), false),
        (edit(25, 35), true),
        (edit(30, 30), false),
        (edit(30, 31), true),
        (edit(45, 46), true),
        (edit(50, 60), false),
        (edit(5, 60), true),
    ] {
        let pairwise = [edit(10, 20), edit(30, 30), edit(40, 50)]
            .iter()
            .any(|t| super::edit::overlap(t, &e));
        assert_eq!(pairwise, overlaps, "{}..{}", e.start, e.end);
        assert_eq!(taken.overlaps(&e), overlaps, "{}..{}", e.start, e.end);
    }
}

/// A block scalar of a CRLF file replaced by a multi-line value reads back as that value
/// (its new lines take the file's `\r\n`, and no line gains a blank one).
#[test]
fn crlf_block_scalars_are_replaced_line_for_line() {
    let text = "a:\r\n  b: 'x'\r\n  c:\r\n  - 1\r\n  d: |\r\n    l1\r\n    l2\r\n";
    let out = edited(
        text,
        &[replace("/a/d", json!("maxmemory 1gb\nsave \"\"\n"))],
    )
    .unwrap();
    assert!(
        out.contains("    maxmemory 1gb\r\n    save \"\"\r\n"),
        "{out:?}"
    );
}

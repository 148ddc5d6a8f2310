use super::*;

fn load(text: &str) -> SourceFile {
    load_yaml("t.yaml", text.to_string(), &Limits::default())
}

/// The (line, column) of the character at `offset` of a scalar, and check that the byte
/// offset really points at that character in the file.
fn scalar_pos(file: &SourceFile, node: &Node, needle: &str) -> (u32, u32) {
    let s = node.scalar().expect("scalar");
    let at = s.text.find(needle).expect("needle in scalar");
    let pos = s.pos_at(at).expect("position");
    assert!(
        file.text[pos.offset..].starts_with(needle),
        "offset {} does not point at {needle:?}",
        pos.offset
    );
    (pos.line, pos.column)
}

#[test]
fn positions_of_keys_and_values_across_documents() {
    let f = load(
        "# comment\napiVersion: v1\nkind: ConfigMap\n---\napiVersion: apps/v1\nkind: StatefulSet\nspec:\n  template:\n    spec:\n      containers:\n      - name: redis\n        resources:\n          limits:\n            memory: 1Gi\n",
    );
    assert!(f.diagnostics.is_empty(), "{:?}", f.diagnostics);
    assert_eq!(f.documents.len(), 2);
    assert_eq!(f.documents[1].index, 1);
    let root = Cursor::root(&f.documents[1].root);
    let mem = root
        .at(&["spec", "template", "spec", "containers"])
        .unwrap()
        .items()[0]
        .at(&["resources", "limits", "memory"])
        .unwrap();
    assert_eq!(
        mem.pointer,
        "/spec/template/spec/containers/0/resources/limits/memory"
    );
    let p = mem.pos().unwrap();
    assert_eq!((p.line, p.column), (14, 21));
    assert_eq!(&f.text[p.offset..p.offset + 3], "1Gi");
    let k = mem.key_pos().unwrap();
    assert_eq!((k.line, k.column), (14, 13));
}

#[test]
fn literal_block_lines_map_to_file_lines() {
    let text = "data:\n  redis.conf: |\n\n    # header\n    maxmemory 1gb\n      save \"\"\n\n    appendonly yes\nnext: 1\n";
    let f = load(text);
    let node = f.documents[0]
        .root
        .get("data")
        .unwrap()
        .get("redis.conf")
        .unwrap();
    assert_eq!(scalar_pos(&f, node, "maxmemory"), (5, 5));
    assert_eq!(scalar_pos(&f, node, "1gb"), (5, 15));
    assert_eq!(scalar_pos(&f, node, "save"), (6, 7));
    assert_eq!(scalar_pos(&f, node, "appendonly"), (8, 5));
}

#[test]
fn folded_and_plain_multiline_scalars() {
    let f = load("a: >-\n  first line\n  second\n\n  third\nb: plain\n  continued here\n");
    let a = f.documents[0].root.get("a").unwrap();
    assert_eq!(a.as_str(), Some("first line second\nthird"));
    assert_eq!(scalar_pos(&f, a, "second"), (3, 3));
    assert_eq!(scalar_pos(&f, a, "third"), (5, 3));
    let b = f.documents[0].root.get("b").unwrap();
    assert_eq!(scalar_pos(&f, b, "continued"), (7, 3));
}

#[test]
fn json_flow_with_backslash_continuations() {
    // The kubernetes-website example, verbatim shape.
    let text = "---\n{\n  data: {\n    redis-config: \"\\\n       maxmemory 2mb\\n\\\n       maxmemory-policy allkeys-lru\\n\\\n      \",\n  },\n}\n";
    let f = load(text);
    assert!(f.diagnostics.is_empty(), "{:?}", f.diagnostics);
    let node = f.documents[0]
        .root
        .get("data")
        .unwrap()
        .get("redis-config")
        .unwrap();
    assert_eq!(
        node.as_str(),
        Some("maxmemory 2mb\nmaxmemory-policy allkeys-lru\n")
    );
    assert_eq!(scalar_pos(&f, node, "maxmemory 2mb"), (5, 8));
    assert_eq!(scalar_pos(&f, node, "2mb"), (5, 18));
    assert_eq!(scalar_pos(&f, node, "maxmemory-policy"), (6, 8));
}

#[test]
fn quoted_scalars_with_escapes_and_folding() {
    let f = load("a: \"x\\ty  \n  z\"\nb: 'it''s here'\n");
    let a = f.documents[0].root.get("a").unwrap();
    assert_eq!(a.as_str(), Some("x\ty z"));
    assert_eq!(scalar_pos(&f, a, "z"), (2, 3));
    let b = f.documents[0].root.get("b").unwrap();
    assert_eq!(b.as_str(), Some("it's here"));
    assert_eq!(scalar_pos(&f, b, "here"), (3, 11));
}

#[test]
fn non_ascii_text_keeps_byte_offsets() {
    let f = load("# café ☕\nname: \"größe\"\nmemory: 1Gi\n");
    let m = f.documents[0].root.get("memory").unwrap();
    let p = m.start().unwrap();
    assert_eq!((p.line, p.column), (3, 9));
    assert_eq!(&f.text[p.offset..p.offset + 3], "1Gi");
}

#[test]
fn a_broken_document_does_not_hide_the_others() {
    let text =
        "a: 1\n---\nb:\n\tc: 2\n---\n{{- if .Values.enabled }}\nkind: X\n{{- end }}\n---\nd: 4\n";
    let f = load(text);
    assert_eq!(f.documents.len(), 2);
    assert_eq!(f.documents[0].root.get("a").and_then(Node::as_i64), Some(1));
    assert_eq!(f.documents[1].root.get("d").and_then(Node::as_i64), Some(4));
    assert_eq!(f.documents[1].index, 3);
    assert_eq!(f.diagnostics.len(), 2, "{:?}", f.diagnostics);
    assert_eq!(f.diagnostics[0].pos.line, 4);
    assert!(
        f.diagnostics[0].message.contains("tabs"),
        "{}",
        f.diagnostics[0].message
    );
    assert_eq!(f.diagnostics[1].pos.line, 6);
    assert!(f.diagnostics[1].message.contains("helm template"));
}

#[test]
fn helm_source_comments_map_lines_to_the_rendered_template() {
    let f = load(concat!(
        "---\n",                                   // 1
        "# Source: redis-ha/templates/cm.yaml\n",  // 2
        "apiVersion: v1\n",                        // 3: cm.yaml line 1
        "kind: ConfigMap\n",                       // 4: cm.yaml line 2
        "---\n",                                   // 5
        "# Source: redis-ha/templates/sts.yaml\n", // 6
        "apiVersion: apps/v1\n",                   // 7: sts.yaml line 1
        "---\n",                                   // 8
        "# Source: redis-ha/templates/cm.yaml\n",  // 9
        "apiVersion: v1\n",                        // 10: cm.yaml line 4 (after `---`)
        "kind: ConfigMap\n",                       // 11: cm.yaml line 5
    ));
    assert_eq!(f.helm_origin(1), None);
    assert_eq!(f.helm_origin(3), Some(("redis-ha/templates/cm.yaml", 1)));
    assert_eq!(f.helm_origin(4), Some(("redis-ha/templates/cm.yaml", 2)));
    assert_eq!(f.helm_origin(7), Some(("redis-ha/templates/sts.yaml", 1)));
    assert_eq!(f.helm_origin(10), Some(("redis-ha/templates/cm.yaml", 4)));
    assert_eq!(f.helm_origin(11), Some(("redis-ha/templates/cm.yaml", 5)));
    assert_eq!(f.documents.len(), 3);
}

#[test]
fn alias_bomb_is_refused_fast() {
    let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x]\n");
    for i in 1..12 {
        let refs = vec![format!("*a{}", i - 1); 9].join(", ");
        text.push_str(&format!("a{i}: &a{i} [{refs}]\n"));
    }
    let start = std::time::Instant::now();
    let f = load(&text);
    assert!(f.documents.is_empty());
    assert!(
        f.diagnostics[0].message.contains("aliases"),
        "{:?}",
        f.diagnostics
    );
    // Generous bound: only guards against an expansion that runs away.
    assert!(start.elapsed().as_secs() < 10);
}

#[test]
fn deep_nesting_is_refused_without_overflow() {
    let text = "- ".repeat(100_000) + "x\n";
    let f = load(&text);
    assert!(f.documents.is_empty());
    assert!(f.diagnostics[0].message.contains("nesting"));
    let text = "[".repeat(50_000);
    let f = load(&text);
    assert!(f.documents.is_empty());
    assert_eq!(f.diagnostics.len(), 1);
}

#[test]
fn merge_keys_and_repeated_keys() {
    let f = load("base: &b {memory: 1Gi, cpu: 1}\nlimits:\n  <<: *b\n  cpu: 2\nx: 1\nx: 2\n");
    let limits = f.documents[0].root.get("limits").unwrap();
    assert_eq!(limits.get("memory").and_then(Node::as_str), Some("1Gi"));
    assert_eq!(limits.get("cpu").and_then(Node::as_i64), Some(2));
    assert_eq!(f.documents[0].root.get("x").and_then(Node::as_i64), Some(2));
    assert_eq!(f.diagnostics.len(), 1);
    assert!(!f.diagnostics[0].error);
    assert_eq!(f.diagnostics[0].pos.line, 6);
}

#[test]
fn empty_and_comment_only_documents_are_skipped() {
    let f = load("---\n# nothing\n---\n...\n---\na: 1\n");
    assert!(f.diagnostics.is_empty(), "{:?}", f.diagnostics);
    assert_eq!(f.documents.len(), 1);
}

#[test]
fn json_round_trip_keeps_types() {
    let f = load("a: \"1\"\nb: 1\nc: yes\nd: ~\ne: 1.5\nf: [1, two]\n");
    let j = f.documents[0].root.to_json();
    assert_eq!(
        j,
        serde_json::json!({"a": "1", "b": 1, "c": true, "d": null, "e": 1.5, "f": [1, "two"]})
    );
    assert_eq!(Node::from_json(&j).to_json(), j);
}

proptest::proptest! {
    #[test]
    fn loading_never_panics(text in "[-a-z:{}\\[\\]\"'|>&*!#\\\\ \n\t0-9.]{0,200}") {
        let f = load(&text);
        for d in &f.diagnostics {
            proptest::prop_assert!(d.pos.offset <= text.len());
        }
    }
}

/// `{{ }}` inside a string is data (dashboards, alert templates); where it shapes the YAML,
/// or the document does not parse, it is an unrendered template.
#[test]
fn template_syntax_only_where_it_is_not_data() {
    let data = [
        "kind: ConfigMap\ndata:\n  dash.json: |\n    {\"legendFormat\": \"{{instance}}\"}\n",
        "kind: ConfigMap\ndata:\n  a: \"{{ $labels.pod }} is down\"\n  b: '{{x}}'\n",
        "kind: PrometheusRule\nsummary: Instance {{ $labels.instance }} down\n",
        "kind: X\nlist: [\"{{a}}\", b]\n",
    ];
    for text in data {
        let f = load(text);
        assert!(f.diagnostics.is_empty(), "{text}: {:?}", f.diagnostics);
        assert_eq!(f.documents.len(), 1, "{text}");
    }
    let templates = [
        ("metadata:\n  name: {{ .Release.Name }}\n", 2, 9),
        ("a: 1\n{{- if .Values.x }}\nb: 2\n{{- end }}\n", 2, 1),
        ("a: \"ok {{x}}\"\nb: {{ .Values.b }}\n", 2, 4),
    ];
    for (text, line, column) in templates {
        let f = load(text);
        assert_eq!(f.documents.len(), 0, "{text}");
        assert_eq!(f.diagnostics.len(), 1, "{text}: {:?}", f.diagnostics);
        let d = &f.diagnostics[0];
        assert!(d.message.contains("helm template"), "{}", d.message);
        assert_eq!((d.pos.line, d.pos.column), (line, column), "{text}");
    }
}
/// Properties before a scalar (a tag, an anchor) are not part of it: its span and the
/// positions inside it are those of the same scalar without them (the parser's own span
/// starts at the first property).
#[test]
fn tags_and_anchors_do_not_move_a_scalars_positions() {
    let value = |t: &str| {
        let f = crate::source::load_yaml("f", t.to_string(), &Default::default());
        let n = f.documents[0].root.entries()[0].value.clone();
        (n.span.unwrap().start, n.scalar().unwrap().runs.clone())
    };
    for (plain, adorned) in [
        ("a: |\n  x y\n  z\n", "a: !!str |\n  x y\n  z\n"),
        ("a: |\n  x y\n  z\n", "a: &conf |\n  x y\n  z\n"),
        ("a: >-\n\n  x\n", "a: !!str &c >-\n\n  x\n"),
        ("a: |\r\n  x\r\n", "a: !!str |\r\n  x\r\n"),
        ("a: x\n", "a: !!str x\n"),
        ("a: 'x'\n", "a: &q 'x'\n"),
    ] {
        let (start, runs) = value(plain);
        let (a_start, a_runs) = value(adorned);
        let shift = adorned.len() - plain.len();
        let shifted = |p: crate::source::Pos| {
            if p.line == 1 {
                (p.line, p.column - shift as u32)
            } else {
                (p.line, p.column)
            }
        };
        assert_eq!(shifted(a_start), (start.line, start.column), "{adorned:?}");
        assert_eq!(
            a_runs
                .iter()
                .map(|(i, p)| (*i, shifted(*p)))
                .collect::<Vec<_>>(),
            runs.iter()
                .map(|(i, p)| (*i, (p.line, p.column)))
                .collect::<Vec<_>>(),
            "{adorned:?}"
        );
    }
}

/// Quoted strings whose continuation lines are indented less than YAML 1.2 requires are read
/// as libyaml (kubectl, kustomize, PyYAML) reads them, with a warning naming the leniency —
/// not refused. The constructs: the multi-line `args` one space short, and a
/// description from OT-CONTAINER-KIT redis-operator 0.15.0's CRD as published in
/// redhat-openshift-ecosystem/community-operators-prod@699495f2ff526f9679a0d9d54688f09c683eff2c
/// (`operators/redis-operator/0.15.0/manifests/redis.redis.redis.opstreelabs.in.crd.yaml`,
/// lines 113–117, Apache-2.0): continuation lines at the key's own column.
#[test]
fn under_indented_quoted_continuations_are_read_with_a_warning() {
    let args = "\
spec:
  containers:
    - name: redis
      args:
        - \"--maxmemory 100mb
       --save 60 1\"
";
    let f = load(args);
    assert!(
        f.diagnostics.iter().all(|d| !d.error),
        "{:?}",
        f.diagnostics
    );
    let root = &f.documents[0].root;
    assert_eq!(
        root.pointer("/spec/containers/0/args/0")
            .and_then(Node::as_str),
        Some("--maxmemory 100mb --save 60 1")
    );
    let warning = f.diagnostics.iter().find(|d| !d.error).expect("a warning");
    assert_eq!((warning.pos.line, warning.pos.column), (5, 11));
    assert!(
        warning.message.contains("line 6 of this quoted string"),
        "{}",
        warning.message
    );
    assert!(
        warning.message.contains("kubectl, kustomize and PyYAML"),
        "{}",
        warning.message
    );

    let crd = "\
secret:
  description: \"Adapts a Secret into a volume. \\n The contents of
  the target Secret's Data field will be presented in a volume
  as files using the keys in the Data field as the file names.
  Secret volumes support ownership management and SELinux relabeling.\"
";
    let f = load(crd);
    assert!(
        f.diagnostics.iter().all(|d| !d.error),
        "{:?}",
        f.diagnostics
    );
    // PyYAML's value: the line breaks fold into spaces, `\n` is a newline.
    assert_eq!(
        f.documents[0]
            .root
            .pointer("/secret/description")
            .and_then(Node::as_str),
        Some(
            "Adapts a Secret into a volume. \n The contents of the target Secret's Data field \
             will be presented in a volume as files using the keys in the Data field as the \
             file names. Secret volumes support ownership management and SELinux relabeling."
        )
    );
    assert_eq!(f.diagnostics.iter().filter(|d| !d.error).count(), 1);
    // A document marker inside a quoted string stays an error, as in libyaml.
    let f = load("a: \"x\n---\ny\"\n");
    assert!(f.diagnostics.iter().any(|d| d.error), "{:?}", f.diagnostics);
}

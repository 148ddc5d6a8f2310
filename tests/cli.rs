//! `redline lint` as a user runs it: the binary, its exit codes, its formats (the JSON shape
//! is a stable interface; SARIF is validated against the OASIS schema), directory walking
//! with `.gitignore` and `--exclude`, Helm output on stdin, and output order.

use std::path::Path;
use std::process::{Command, Stdio};

use serde_json::Value;

mod common;
use common::{BIN, code, json, root, run, run_in, scratch, stderr, stdout};

fn write(dir: &Path, rel: &str, text: &str) {
    let path = dir.join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

/// A ConfigMap whose maxmemory equals the limit of the StatefulSet mounting it: an error.
fn bad_manifest(name: &str) -> String {
    format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}-conf\ndata:\n  redis.conf: |\n    \
         maxmemory 1gb\n---\napiVersion: apps/v1\nkind: StatefulSet\nmetadata:\n  name: {name}\nspec:\n  \
         serviceName: {name}\n  selector:\n    matchLabels: {{app: {name}}}\n  template:\n    metadata:\n      \
         labels: {{app: {name}}}\n    spec:\n      containers:\n        - name: redis\n          \
         image: redis:7.2.4\n          command: [redis-server, /etc/redis/redis.conf]\n          \
         resources:\n            limits: {{memory: 1Gi}}\n          volumeMounts:\n            \
         - {{name: conf, mountPath: /etc/redis}}\n      volumes:\n        - name: conf\n          \
         configMap: {{name: {name}-conf}}\n"
    )
}

const CLEAN: &str =
    "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\nspec:\n  ports: [{port: 80}]\n";

#[test]
fn exit_codes_follow_fail_on() {
    let dir = scratch("exit");
    write(&dir, "bad.yaml", &bad_manifest("redis"));
    write(&dir, "clean.yaml", CLEAN);
    write(&dir, "broken.yaml", "kind: [unclosed\n");
    let at = |args: &[&str]| code(&run_in(&dir, args, ""));
    assert_eq!(at(&["lint", "clean.yaml"]), 0);
    assert_eq!(at(&["lint", "bad.yaml"]), 1);
    assert_eq!(at(&["lint", "bad.yaml", "--fail-on", "never"]), 0);
    // The StatefulSet also has warnings only a lower threshold fails on.
    let warnings_only = "apiVersion: apps/v1\nkind: StatefulSet\nmetadata:\n  name: r\nspec:\n  \
        serviceName: r\n  selector: {matchLabels: {app: r}}\n  template:\n    metadata: {labels: {app: r}}\n    \
        spec:\n      containers:\n        - name: redis\n          image: redis:7.2.4\n          \
        args: [--maxmemory, 600mb, --requirepass, $(PW)]\n          \
        resources: {requests: {memory: 1Gi}, limits: {memory: 1Gi}}\n";
    write(&dir, "warn.yaml", warnings_only);
    let o = run_in(&dir, &["lint", "warn.yaml", "--format", "json"], "");
    let summary = &json(&o)["summary"];
    assert_eq!(summary["errors"], 0, "{}", stdout(&o));
    assert!(summary["warnings"].as_u64().unwrap() > 0, "{}", stdout(&o));
    assert_eq!(code(&o), 0);
    assert_eq!(at(&["lint", "warn.yaml", "--fail-on", "warning"]), 1);
    // A document that does not load fails the run whatever the threshold.
    assert_eq!(at(&["lint", "broken.yaml", "--fail-on", "never"]), 1);
    // Usage and I/O errors.
    assert_eq!(at(&["lint", "missing.yaml"]), 2);
    assert_eq!(at(&["lint", ".", "--exclude", "a/**/[z"]), 2);
    assert_eq!(at(&["lint", ".", "--format", "xml"]), 2);
    assert_eq!(at(&["lint", ".", "--output", "no/such/dir/out.json"]), 2);
}

#[test]
fn json_shape_is_stable() {
    let o = run(&["lint", "examples/", "--format", "json"]);
    assert_eq!(code(&o), 1);
    let doc = json(&o);
    assert_eq!(doc["version"], 1);
    let keys = |v: &Value| -> Vec<String> { v.as_object().unwrap().keys().cloned().collect() };
    let findings = doc["findings"].as_array().unwrap();
    assert!(!findings.is_empty());
    for f in findings {
        assert_eq!(
            keys(f),
            [
                "rule", "severity", "message", "file", "line", "column", "object", "path", "fix"
            ]
        );
        assert_eq!(
            keys(&f["object"]),
            ["apiVersion", "kind", "namespace", "name"]
        );
        assert!(["error", "warning", "info"].contains(&f["severity"].as_str().unwrap()));
        assert!(f["line"].as_u64().unwrap() >= 1 && f["column"].as_u64().unwrap() >= 1);
        assert!(f["path"].as_str().unwrap().starts_with('/'));
        if !f["fix"].is_null() {
            let fix = keys(&f["fix"]);
            assert!(
                fix == ["description", "patch"] || fix == ["description", "manifest"],
                "{fix:?}"
            );
        }
    }
    let summary = &doc["summary"];
    for k in ["files", "objects", "errors", "warnings", "infos"] {
        assert!(summary[k].is_u64(), "summary.{k}");
    }
    let count = |s: &str| findings.iter().filter(|f| f["severity"] == s).count() as u64;
    assert_eq!(summary["errors"], count("error"));
    assert_eq!(summary["warnings"], count("warning"));
    assert_eq!(summary["infos"], count("info"));
    assert_eq!(summary["files"], 2, "examples/ holds two YAML files");
    // A patch names its object and carries RFC 6902 operations.
    let patch = findings
        .iter()
        .find_map(|f| f["fix"].get("patch"))
        .expect("examples/ has a patchable finding");
    assert!(patch["object"]["kind"].is_string());
    assert!(patch["operations"][0]["op"].is_string());
}

fn sarif_validator() -> jsonschema::Validator {
    let path = root().join("tests/schemas/sarif-schema-2.1.0.json");
    let schema: Value = serde_json::from_slice(
        &std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display())),
    )
    .unwrap();
    jsonschema::validator_for(&schema).expect("the SARIF schema compiles")
}

fn schema_errors(validator: &jsonschema::Validator, sarif: &Value) -> Vec<String> {
    validator
        .iter_errors(sarif)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect()
}

#[test]
fn sarif_validates_against_the_schema() {
    let dir = scratch("sarif");
    write(&dir, "a b.yaml", &bad_manifest("redis"));
    write(&dir, "broken.yaml", "kind: [unclosed\n");
    // An exempted finding becomes a suppressed result.
    let exempt = bad_manifest("cache").replace(
        "kind: StatefulSet\nmetadata:\n",
        "kind: StatefulSet\nmetadata:\n  annotations:\n    redline.dev/ignore: \"redis-readiness-probe-missing: single node\"\n",
    );
    write(&dir, "exempt.yaml", &exempt);
    let o = run_in(&dir, &["lint", ".", "--format", "sarif"], "");
    assert_eq!(code(&o), 1);
    let sarif = json(&o);
    let validator = sarif_validator();
    let errors = schema_errors(&validator, &sarif);
    assert!(errors.is_empty(), "{errors:#?}");

    let run = &sarif["runs"][0];
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    assert_eq!(rules.len(), redline::rules::all().len());
    assert!(
        rules
            .iter()
            .all(|r| r["help"]["text"].as_str().unwrap().len() > 100)
    );
    let results = run["results"].as_array().unwrap();
    let headroom = results
        .iter()
        .find(|r| r["ruleId"] == "redis-maxmemory-headroom")
        .unwrap();
    let region = &headroom["locations"][0]["physicalLocation"]["region"];
    // `    maxmemory 1gb` is line 7; the value starts at column 15.
    assert_eq!(
        (region["startLine"].as_u64(), region["startColumn"].as_u64()),
        (Some(7), Some(15))
    );
    assert_eq!(
        headroom["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "a%20b.yaml"
    );
    let rule_index = headroom["ruleIndex"].as_u64().unwrap() as usize;
    assert_eq!(rules[rule_index]["id"], "redis-maxmemory-headroom");
    assert!(
        results
            .iter()
            .any(|r| r["ruleId"] == "yaml-invalid" && r["level"] == "error")
    );
    let suppressed = results
        .iter()
        .find(|r| r.get("suppressions").is_some())
        .expect("the exempted finding is a suppressed result");
    assert_eq!(
        suppressed["suppressions"][0]["justification"],
        "single node"
    );

    // The headroom fix as SARIF replacements gives what `fix --rule` writes.
    let text = std::fs::read_to_string(dir.join("a b.yaml")).unwrap();
    let change = &headroom["fixes"][0]["artifactChanges"][0];
    assert_eq!(change["artifactLocation"]["uri"], "a%20b.yaml");
    let chars: Vec<char> = text.chars().collect();
    let mut edited = String::new();
    let mut at = 0;
    for r in change["replacements"].as_array().unwrap() {
        let offset = r["deletedRegion"]["charOffset"].as_u64().unwrap() as usize;
        let length = r["deletedRegion"]["charLength"].as_u64().unwrap() as usize;
        edited.extend(&chars[at..offset]);
        edited.push_str(r["insertedContent"]["text"].as_str().unwrap());
        at = offset + length;
    }
    edited.extend(&chars[at..]);
    let fixed = run_in(
        &dir,
        &[
            "fix",
            "--rule",
            "redis-maxmemory-headroom",
            "--diff",
            "a b.yaml",
        ],
        "",
    );
    assert!(
        stdout(&fixed).contains("+    maxmemory "),
        "{}",
        stdout(&fixed)
    );
    run_in(
        &dir,
        &["fix", "--rule", "redis-maxmemory-headroom", "a b.yaml"],
        "",
    );
    assert_eq!(
        edited,
        std::fs::read_to_string(dir.join("a b.yaml")).unwrap()
    );
    assert_ne!(edited, text);

    // The validation can fail: a region starting at line 0 is not SARIF.
    let mut broken = sarif.clone();
    broken["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]["startLine"] =
        0.into();
    assert!(!schema_errors(&validator, &broken).is_empty());
}

/// The SARIF result of one rule on one object, in `sarif`.
fn sarif_result<'a>(sarif: &'a Value, rule: &str) -> &'a Value {
    sarif["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["ruleId"] == rule)
        .unwrap_or_else(|| panic!("no {rule} result"))
}

/// A finding keeps its fingerprint when lines move above it (code scanning matches alerts
/// across commits by it), and its line follows.
#[test]
fn sarif_fingerprints_survive_moved_lines() {
    let dir = scratch("sarif-moved");
    let rule = "redis-maxmemory-headroom";
    write(&dir, "redis.yaml", &bad_manifest("redis"));
    let before = json(&run_in(&dir, &["lint", ".", "--format", "sarif"], ""));
    write(
        &dir,
        "redis.yaml",
        &format!("# a comment\n\n{}", bad_manifest("redis")),
    );
    let after = json(&run_in(&dir, &["lint", ".", "--format", "sarif"], ""));
    let (b, a) = (sarif_result(&before, rule), sarif_result(&after, rule));
    assert_eq!(b["partialFingerprints"], a["partialFingerprints"]);
    let line = |r: &Value| {
        r["locations"][0]["physicalLocation"]["region"]["startLine"]
            .as_u64()
            .unwrap()
    };
    assert_eq!(line(a), line(b) + 2);
}

/// In-place fixes are SARIF `fixes` for files up to 4 MiB; past that the result carries no
/// fix (checking it would cost more than the lint), and `redline fix` still fixes it.
#[test]
fn sarif_fixes_stop_at_four_mebibytes() {
    let dir = scratch("sarif-big");
    let rule = "redis-maxmemory-headroom";
    write(&dir, "small.yaml", &bad_manifest("small"));
    // The same objects after 4 MiB of comment lines.
    let padding = "# padding\n".repeat((4 << 20) / 10 + 1);
    write(
        &dir,
        "big.yaml",
        &format!("{padding}{}", bad_manifest("big")),
    );
    let sarif = json(&run_in(&dir, &["lint", ".", "--format", "sarif"], ""));
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    let of = |file: &str| {
        results
            .iter()
            .find(|r| {
                r["ruleId"] == rule
                    && r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
                        .as_str()
                        .is_some_and(|u| u.ends_with(file))
            })
            .unwrap_or_else(|| panic!("no {rule} result in {file}"))
    };
    assert!(of("small.yaml")["fixes"].is_array(), "{}", of("small.yaml"));
    assert!(of("big.yaml").get("fixes").is_none(), "{}", of("big.yaml"));
}

#[test]
fn junit_and_github_formats() {
    let o = run(&["lint", "examples/", "--format", "junit"]);
    let xml = stdout(&o);
    let report = json(&run(&["lint", "examples/", "--format", "json"]));
    let findings = report["findings"].as_array().unwrap().len();
    let errors = report["summary"]["errors"].as_u64().unwrap() as usize;
    assert!(xml.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites"));
    assert_eq!(xml.matches("<testcase ").count(), findings);
    assert_eq!(
        xml.matches("<failure ").count(),
        errors,
        "default --fail-on error"
    );
    assert!(xml.contains(&format!(
        "<testsuites name=\"redline\" tests=\"{findings}\" failures=\"{errors}\""
    )));
    assert_eq!(
        xml.matches("<testsuite ").count(),
        xml.matches("</testsuite>").count()
    );
    let xml = stdout(&run(&[
        "lint",
        "examples/",
        "--format",
        "junit",
        "--fail-on",
        "info",
    ]));
    assert_eq!(xml.matches("<failure ").count(), findings);

    let gh = stdout(&run(&["lint", "examples/", "--format", "github"]));
    let annotations: Vec<&str> = gh.lines().filter(|l| l.starts_with("::")).collect();
    assert_eq!(annotations.len(), findings);
    assert!(
        annotations.iter().any(|l| l.starts_with(
            "::error file=examples/statefulset-configmap.yaml,line=12,col=15,title=redline redis-maxmemory-headroom::"
        )),
        "{gh}"
    );
    // One line each: newlines and `%` are escaped.
    assert!(annotations.iter().all(|l| !l.contains("% ")));
}

/// Rows of a Markdown findings table: lines of five unescaped `|`.
fn table_rows(md: &str) -> Vec<&str> {
    md.lines()
        .filter(|l| l.starts_with("| ") && !l.starts_with("| Severity |"))
        .filter(|l| {
            let b = l.as_bytes();
            (0..b.len())
                .filter(|&i| b[i] == b'|' && (i == 0 || b[i - 1] != b'\\'))
                .count()
                == 5
        })
        .collect()
}

#[test]
fn markdown_format() {
    let o = run(&["lint", "examples/", "--format", "markdown"]);
    assert_eq!(code(&o), 1, "exit status as every format");
    let md = stdout(&o);
    let report = json(&run(&["lint", "examples/", "--format", "json"]));
    assert_eq!(
        table_rows(&md).len(),
        report["findings"].as_array().unwrap().len()
    );
    insta::assert_snapshot!("markdown_examples", md);
}

/// A report of one bad manifest through the library, its items then edited as a test needs.
fn with_report(edit: impl FnOnce(&mut redline::report::Report), check: impl FnOnce(&str)) {
    let file = redline::source::load_yaml(
        "bad.yaml",
        bad_manifest("redis"),
        &redline::source::Limits::default(),
    );
    let linted = redline::lint::lint(
        vec![file],
        &redline::extract::Options::default(),
        &redline::engine::Settings::default(),
    );
    let mut report = redline::report::Report::new(&linted);
    assert!(report.items.len() >= 2);
    edit(&mut report);
    check(&redline::report::markdown::render(&report));
}

#[test]
fn markdown_escapes_hostile_text() {
    with_report(
        |r| {
            r.items[0].message = "a | b `code` <img src=x onerror=alert(1)> **bold** [link](http://x) &amp; \\|\nsecond line\r\nthird";
            r.items[0].file = "dir|x/`y`_z.yaml".to_string();
            // A finding without a position (an object read from a cluster by `audit`).
            r.items[1].file = "shop/StatefulSet/redis".to_string();
            r.items[1].line = None;
            r.items.truncate(2);
        },
        |md| {
            let rows = table_rows(md);
            assert_eq!(rows.len(), 2, "every row one line of four cells:\n{md}");
            assert!(rows[1].contains("| shop/StatefulSet/redis |"), "{md}");
            insta::assert_snapshot!("markdown_hostile", md);
        },
    );
}

#[test]
fn markdown_table_is_capped() {
    with_report(
        |r| {
            let first = r.items[0].clone();
            r.items = vec![first; 600];
        },
        |md| {
            assert_eq!(table_rows(md).len(), redline::report::markdown::MAX_ROWS);
            assert!(md.contains("\n…and 100 more finding(s) not shown"), "{md}");
        },
    );
    // Long messages: the byte budget stops the table before the row cap.
    let long = "x".repeat(20_000);
    with_report(
        |r| {
            let mut first = r.items[0].clone();
            first.message = Box::leak(long.into_boxed_str());
            r.items = vec![first; 100];
        },
        |md| {
            assert!(
                md.len() <= redline::report::markdown::MAX_BYTES,
                "{}",
                md.len()
            );
            let shown = table_rows(md).len();
            assert!(shown > 0 && shown < 100, "{shown}");
            assert!(
                md.contains(&format!("…and {} more finding(s)", 100 - shown)),
                "{}",
                &md[md.len() - 300..]
            );
        },
    );
}

#[test]
fn human_format_has_carets_and_colour_only_when_asked() {
    let o = run(&["lint", "examples/"]);
    let text = stdout(&o);
    assert!(
        text.contains(
            "error[redis-maxmemory-headroom]: maxmemory 1073741824 B (1.0 GiB) is 100% of the memory limit"
        ),
        "{text}"
    );
    assert!(text.contains(
        "  --> examples/statefulset-configmap.yaml:12:15 (ConfigMap cache/redis-config, /data/redis.conf)\n   |\n12 |     maxmemory 1gb\n   |               ^\n"
    ), "{text}");
    assert!(!text.contains('\u{1b}'), "no colour when not a terminal");
    assert!(text.lines().last().unwrap().starts_with("2 file(s), "));
    let coloured = stdout(&run(&["lint", "examples/", "--color", "always"]));
    assert!(coloured.contains("\u{1b}[1m\u{1b}[31merror"), "{coloured}");
}

/// The memory budget under each memory finding: a bar and the numbers of the JSON's
/// `memory` entry, within 80 columns, coloured only when asked.
#[test]
fn human_format_shows_the_memory_budget_under_memory_findings() {
    const MEMORY_RULES: &[&str] = &[
        "redis-maxmemory-headroom",
        "redis-memory-request-ratio",
        "redis-maxmemory-unset",
        "redis-memory-limit-missing",
        "dragonfly-threads-memory",
        "redis-repl-backlog-small",
    ];
    let text = stdout(&run(&["lint", "examples/"]));
    let report = json(&run(&["lint", "examples/", "--format", "json"]));
    let memory_findings = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| MEMORY_RULES.contains(&f["rule"].as_str().unwrap()))
        .count();
    assert!(memory_findings >= 3);
    // One budget per memory finding, right under its source line; none elsewhere.
    let blocks: Vec<&str> = text.split("\n\n").collect();
    let mut shown = 0;
    for block in &blocks {
        let rule = block
            .split_once('[')
            .and_then(|(_, r)| r.split_once(']'))
            .map(|(r, _)| r);
        let has = block.contains("   = memory: ");
        assert_eq!(
            has,
            rule.is_some_and(|r| MEMORY_RULES.contains(&r)),
            "{block}"
        );
        shown += usize::from(has);
    }
    assert_eq!(shown, memory_findings);
    // The StatefulSet's budget, in words and as a bar: maxmemory = limit = 1 GiB, a fork of
    // as much, no replica buffers.
    let statefulset = &report["memory"][2];
    assert_eq!(statefulset["object"]["name"], "redis");
    assert_eq!(statefulset["limit_bytes"], 1u64 << 30);
    assert_eq!(statefulset["headroom_bytes"], -(1i64 << 30));
    assert!(
        text.contains(
            "   = memory: [############|===========] limit 1.0 GiB, request 1 B,\n     \
             maxmemory 1.0 GiB (#), backlog 1.0 MiB in it, fork ≤1.0 GiB (=),\n     \
             no replica buffers, worst case over by 1.0 GiB\n"
        ),
        "{text}"
    );
    // Every memory line, from the bar to the fix (or the block's end), fits 80 columns.
    for block in &blocks {
        let lines = block
            .lines()
            .skip_while(|l| !l.starts_with("   = memory: "))
            .take_while(|l| !l.starts_with("   = fix:"));
        for l in lines {
            assert!(l.chars().count() <= 80, "{l}");
        }
    }
    assert!(!text.contains('\u{1b}'));
    let coloured = stdout(&run(&["lint", "examples/", "--color", "always"]));
    let bar = coloured
        .lines()
        .find(|l| l.contains("= memory:"))
        .expect("a memory line");
    assert!(bar.contains("\u{1b}[34m#\u{1b}[0m"), "{bar:?}");
    // NO_COLOR turns it off, as for everything else.
    let plain = Command::new(BIN)
        .args(["lint", "examples/", "--color", "auto"])
        .current_dir(root())
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    assert_eq!(stdout(&plain), text);

    // Without a limit: no bar (nor its characters), the unknown said in words.
    let text = stdout(&run(&[
        "lint",
        "tests/fixtures/rules/redis-memory-limit-missing/fail.yaml",
    ]));
    assert!(
        text.contains(
            "   = memory: no memory limit, request 1.0 GiB, maxmemory 700.0 MiB,\n     \
             backlog 1.0 MiB in it, no fork, no replica buffers, headroom unknown\n"
        ),
        "{text}"
    );
}

#[test]
fn output_file() {
    let dir = scratch("output");
    let out = dir.join("report.sarif");
    let o = run(&[
        "lint",
        "examples/",
        "--format",
        "sarif",
        "--output",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code(&o), 1);
    assert!(o.stdout.is_empty());
    let written: Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    assert_eq!(written["version"], "2.1.0");
}

fn files_linted(dir: &Path, args: &[&str]) -> Vec<String> {
    let mut all = vec!["lint", "--format", "json", "--fail-on", "never"];
    all.extend_from_slice(args);
    let o = run_in(dir, &all, "");
    assert_eq!(code(&o), 0, "{}", String::from_utf8_lossy(&o.stderr));
    let mut files: Vec<String> = json(&o)["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["file"].as_str().unwrap().to_string())
        .collect();
    files.dedup();
    files
}

#[test]
fn directories_honour_gitignore_and_exclude() {
    let dir = scratch("walk");
    write(&dir, ".gitignore", "rendered/\n*.bak.yaml\n");
    write(&dir, "a.yaml", &bad_manifest("a"));
    write(&dir, "old.bak.yaml", &bad_manifest("old"));
    write(&dir, "rendered/b.yaml", &bad_manifest("b"));
    write(&dir, "vendor/c.yml", &bad_manifest("c"));
    write(&dir, "vendor/deep/d.json", &serde_json::to_string(&serde_json::json!({
        "apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "d", "annotations": {"redline.dev/ignore": "no-such-rule"}}
    })).unwrap());
    write(&dir, ".hidden/e.yaml", &bad_manifest("e"));
    write(&dir, "notes.txt", "not yaml: [");
    assert_eq!(
        files_linted(&dir, &["."]),
        ["a.yaml", "vendor/c.yml", "vendor/deep/d.json"]
    );
    assert_eq!(
        files_linted(&dir, &[".", "--exclude", "vendor/**"]),
        ["a.yaml"]
    );
    assert_eq!(
        files_linted(&dir, &[".", "--exclude", "*.json"]),
        ["a.yaml", "vendor/c.yml"]
    );
    assert_eq!(
        files_linted(&dir, &[".", "--no-ignore"]),
        [
            "a.yaml",
            "old.bak.yaml",
            "rendered/b.yaml",
            "vendor/c.yml",
            "vendor/deep/d.json"
        ]
    );
    // A file named on the command line is read even if ignored, but --exclude applies
    // (pre-commit passes file names).
    assert_eq!(
        files_linted(&dir, &["rendered/b.yaml"]),
        ["rendered/b.yaml"]
    );
    assert!(files_linted(&dir, &["vendor/c.yml", "--exclude", "vendor/**"]).is_empty());
    assert!(files_linted(&dir, &["vendor/deep/d.json", "--exclude", "vendor/"]).is_empty());
    assert!(files_linted(&dir, &["vendor/deep/d.json", "--exclude", "deep"]).is_empty());
    // Nothing left to lint: exit 0, but said on stderr.
    let o = run_in(&dir, &["lint", "vendor", "--exclude", "vendor/**"], "");
    assert_eq!(code(&o), 0);
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("no YAML or JSON files to lint under vendor")
    );
}

/// `.ignore` files leave paths out as `.gitignore` does (ripgrep's convention).
#[test]
fn dot_ignore_files_are_honoured() {
    let dir = scratch("dot-ignore");
    write(&dir, "vendor/redis.yaml", &bad_manifest("vendored"));
    write(&dir, "redis.yaml", &bad_manifest("ours"));
    write(&dir, ".ignore", "vendor/\n");
    assert_eq!(files_linted(&dir, &["."]), ["redis.yaml"]);
    assert_eq!(
        files_linted(&dir, &["--no-ignore", "."]),
        ["redis.yaml", "vendor/redis.yaml"]
    );
}

#[test]
fn helm_output_on_stdin_points_at_templates() {
    let rendered = format!(
        "---\n# Source: redis/templates/configmap.yaml\n{}",
        bad_manifest("redis").replace("---\n", "---\n# Source: redis/templates/statefulset.yaml\n")
    );
    let o = run_in(root(), &["lint", "-", "--format", "json"], &rendered);
    let doc = json(&o);
    let headroom = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == "redis-maxmemory-headroom")
        .unwrap();
    // `maxmemory 1gb` is line 9 of the stream and line 7 of the rendered configmap.yaml.
    assert_eq!(headroom["file"], "redis/templates/configmap.yaml");
    assert_eq!(
        (headroom["line"].as_u64(), headroom["column"].as_u64()),
        (Some(7), Some(15))
    );
    assert!(
        doc["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["file"] == "redis/templates/statefulset.yaml")
    );
    let human = stdout(&run_in(root(), &["lint", "-"], &rendered));
    assert!(
        human.contains("--> redis/templates/configmap.yaml:7:15"),
        "{human}"
    );
    assert!(human.contains("7 |     maxmemory 1gb"), "{human}");
}

#[test]
fn parallel_reading_keeps_a_stable_order() {
    let dir = scratch("order");
    for i in 0..40 {
        write(
            &dir,
            &format!("m{:02}.yaml", 39 - i),
            &bad_manifest(&format!("r{i}")),
        );
    }
    let first = stdout(&run_in(&dir, &["lint", "."], ""));
    for _ in 0..3 {
        assert_eq!(stdout(&run_in(&dir, &["lint", "."], "")), first);
    }
    let files = files_linted(&dir, &["."]);
    let mut sorted = files.clone();
    sorted.sort();
    assert_eq!(files, sorted);
    assert_eq!(files.len(), 40);
}

#[test]
fn bad_bytes_are_findings_and_closed_pipes_are_quiet() {
    let dir = scratch("bytes");
    std::fs::write(dir.join("latin1.yaml"), b"kind: ConfigMap\nname: caf\xe9\n").unwrap();
    let o = run_in(&dir, &["lint", "latin1.yaml", "--format", "json"], "");
    assert_eq!(code(&o), 1);
    let f = &json(&o)["findings"][0];
    assert_eq!(f["rule"], "yaml-invalid");
    assert_eq!(
        (f["line"].as_u64(), f["column"].as_u64()),
        (Some(2), Some(10))
    );

    // Far more output than a pipe holds, read by nobody.
    for i in 0..200 {
        write(
            &dir,
            &format!("m{i:03}.yaml"),
            &bad_manifest(&format!("r{i}")),
        );
    }
    let mut child = Command::new(BIN)
        .args(["lint", "."])
        .current_dir(&dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let o = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(code(&o), 1, "the exit code still tells the findings");
}

/// A one-line JSON of many containers: every finding shows a window of the line around its
/// column, not the whole line (which made the output grow with findings × line length),
/// and SARIF leaves the snippet out rather than repeating the line in every result.
#[test]
fn findings_on_a_long_line_show_a_window_of_it() {
    let dir = scratch("long-line");
    let mut object: Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("tests/fixtures/serve/statefulset.json")).unwrap(),
    )
    .unwrap();
    let container = object["spec"]["template"]["spec"]["containers"][0].clone();
    object["spec"]["template"]["spec"]["containers"] = Value::Array(
        (0..100)
            .map(|i| {
                let mut c = container.clone();
                c["name"] = Value::String(format!("redis-{i}"));
                c
            })
            .collect(),
    );
    let text = serde_json::to_string(&object).unwrap();
    assert!(text.len() > 30_000 && !text.contains('\n'));
    std::fs::write(dir.join("one-line.json"), &text).unwrap();
    let out = run_in(&dir, &["lint", "one-line.json"], "");
    let human = stdout(&out);
    let findings = human.matches(" --> one-line.json:1:").count();
    assert!(findings >= 100, "{findings} findings");
    let longest = human.lines().map(|l| l.chars().count()).max().unwrap();
    assert!(longest < 400, "a line of {longest} characters");
    assert!(human.contains(" …"), "the cut is marked");
    let sarif = json(&run_in(
        &dir,
        &["lint", "--format", "sarif", "one-line.json"],
        "",
    ));
    assert!(!sarif.to_string().contains("\"snippet\""));
}

/// The size cap applies before reading: a symlink to `/dev/zero` (a file that never ends)
/// is refused after the limit, not read until memory runs out; so is `check-conf` of it.
#[test]
fn the_size_cap_holds_for_endless_files() {
    let dir = scratch("endless");
    std::os::unix::fs::symlink("/dev/zero", dir.join("zero.yaml")).unwrap();
    let out = run_in(&dir, &["lint", "zero.yaml"], "");
    assert_eq!(code(&out), 1);
    assert!(
        stdout(&out).contains("file is larger than the limit of 67108864 bytes; not read"),
        "{}",
        stdout(&out)
    );
    let out = run_in(&dir, &["check-conf", "/dev/zero"], "");
    assert_eq!(code(&out), 2);
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("larger than the limit"),
        "{:?}",
        out
    );
}

/// `-o` naming one of the inputs (itself, or through a symlink) is refused before anything is
/// written: the report never replaces the manifest it reports on.
#[test]
fn the_report_never_overwrites_an_input() {
    let dir = scratch("cli-output-is-input");
    let text = std::fs::read_to_string(root().join("examples/statefulset-configmap.yaml")).unwrap();
    std::fs::write(dir.join("x.yaml"), &text).unwrap();
    std::os::unix::fs::symlink(dir.join("x.yaml"), dir.join("link.yaml")).unwrap();
    for (inputs, output) in [(&["x.yaml"][..], "x.yaml"), (&["."][..], "link.yaml")] {
        let mut args = vec!["lint", "-o", output];
        args.extend(inputs);
        let out = run_in(&dir, &args, "");
        assert_eq!(code(&out), 2, "{}", stderr(&out));
        assert!(
            stderr(&out).contains(&format!("--output {output} is the input")),
            "{}",
            stderr(&out)
        );
        assert_eq!(std::fs::read_to_string(dir.join("x.yaml")).unwrap(), text);
    }
    // Another file is written as before.
    let out = run_in(&dir, &["lint", "-o", "report.txt", "x.yaml"], "");
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    assert!(
        std::fs::read_to_string(dir.join("report.txt"))
            .unwrap()
            .contains("redis-maxmemory-headroom")
    );
}

/// A file name with ESC and a newline cannot recolour the terminal or fake a report line: the
/// human format shows them escaped.
#[test]
fn control_characters_in_file_names_are_shown_escaped() {
    let dir = scratch("cli-control-names");
    let text = std::fs::read_to_string(root().join("examples/statefulset-configmap.yaml")).unwrap();
    std::fs::write(dir.join("a\u{1b}[31mb\nc.yaml"), &text).unwrap();
    let out = run_in(&dir, &["lint", "--color", "never", "."], "");
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    let shown = stdout(&out);
    assert!(!shown.contains('\u{1b}'), "{shown:?}");
    assert!(shown.contains("a\\u{1b}[31mb\\nc.yaml:"), "{shown}");
    let fixed = run_in(&dir, &["fix", "--check", "."], "");
    assert!(!stdout(&fixed).contains('\u{1b}') && !stderr(&fixed).contains('\u{1b}'));
    assert!(
        stdout(&fixed).contains("would fix: a\\u{1b}[31mb\\nc.yaml"),
        "{}",
        stdout(&fixed)
    );
}

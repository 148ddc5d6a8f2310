//! `tools/new_rule.py`, the rule scaffold, on a scratch copy of the files it edits: what it
//! writes and what it refuses. `tests/scaffold-check` (run by `tests/run` after `cargo test`)
//! compiles a scaffolded rule and runs the registry tests on it.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// A scratch root with what the scaffold reads and edits.
fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("scaffold-{name}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("src/rules")).unwrap();
    std::fs::create_dir_all(dir.join("rules")).unwrap();
    std::fs::create_dir_all(dir.join("tests/fixtures/rules")).unwrap();
    std::fs::copy(
        root().join("src/rules/mod.rs"),
        dir.join("src/rules/mod.rs"),
    )
    .unwrap();
    dir
}

fn scaffold(dir: &Path, args: &[&str]) -> Output {
    Command::new("python3")
        .arg(root().join("tools/new_rule.py"))
        .args(args)
        .arg("--root")
        .arg(dir)
        .output()
        .expect("python3 runs the scaffold")
}

#[test]
fn scaffold_writes_the_yaml_the_module_the_registry_line_and_stubs() {
    let dir = scratch("writes");
    let out = scaffold(
        &dir,
        &[
            "redis-example-check",
            "--summary",
            "an example",
            "--severity",
            "error",
            "--param",
            "ratio=0.5",
            "--param",
            "min_seconds=30",
            "--param",
            "mode=fast",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let yaml = std::fs::read_to_string(dir.join("rules/redis-example-check.yaml")).unwrap();
    let meta: redline::rules::RuleMeta = yaml_serde::from_str(&yaml).unwrap();
    assert_eq!(meta.id, "redis-example-check");
    assert_eq!(meta.severity, redline::rules::Severity::Error);
    assert_eq!(meta.summary, "an example");
    use redline::rules::ParamValue;
    let defaults: Vec<(&str, &ParamValue)> = meta
        .parameters
        .iter()
        .map(|(k, v)| (k.as_str(), &v.default))
        .collect();
    assert_eq!(
        defaults,
        [
            ("min_seconds", &ParamValue::Number(30.0)),
            ("mode", &ParamValue::Text("fast".into())),
            ("ratio", &ParamValue::Number(0.5)),
        ]
    );

    let module = std::fs::read_to_string(dir.join("src/rules/redis_example_check.rs")).unwrap();
    let doc: String = module
        .lines()
        .map_while(|l| l.strip_prefix("//!"))
        .collect();
    assert!(doc.starts_with(" ## redis-example-check"), "{module}");
    assert!(doc.len() > 200, "explain needs a real text: {doc}");
    for field in [
        "pub ratio: f64,",
        "pub min_seconds: i64,",
        "pub mode: String,",
    ] {
        assert!(module.contains(field), "{field}: {module}");
    }
    assert!(module.contains("type Params = Params;"), "{module}");

    let registry = std::fs::read_to_string(dir.join("src/rules/mod.rs")).unwrap();
    let line = "    redis_example_check => \"redis-example-check\",\n";
    assert_eq!(registry.matches(line).count(), 1);
    let anchor = "    // tools/new_rule.py adds new rules above this line.\n";
    assert!(
        registry.contains(&format!("{line}{anchor}")),
        "above the anchor"
    );
    let original = std::fs::read_to_string(root().join("src/rules/mod.rs")).unwrap();
    assert_eq!(
        registry.replacen(line, "", 1),
        original,
        "nothing else changed"
    );

    for stub in ["fail.yaml", "pass.yaml"] {
        let text = std::fs::read_to_string(
            dir.join("tests/fixtures/rules/redis-example-check")
                .join(stub),
        )
        .unwrap();
        assert!(
            text.contains("# fixture-piece: redis-statefulset\n"),
            "{text}"
        );
    }

    // An inventory rule without parameters.
    let out = scaffold(
        &dir,
        &[
            "k8s-example-objects",
            "--summary",
            "objects",
            "--scope",
            "inventory",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let module = std::fs::read_to_string(dir.join("src/rules/k8s_example_objects.rs")).unwrap();
    assert!(module.contains("type Params = NoParams;"), "{module}");
    assert!(
        module.contains("fn inventory(&self, cx: &Context,"),
        "{module}"
    );
}

#[test]
fn scaffold_refuses_what_would_clash_or_not_compile() {
    let dir = scratch("refuses");
    std::fs::write(dir.join("rules/redis-pdb-missing.yaml"), "taken").unwrap();
    let cases: [(&[&str], &str); 5] = [
        (&["redis-pdb-missing", "--summary", "s"], "already there"),
        (&["Redis_Thing", "--summary", "s"], "kebab-case"),
        (&["redis", "--summary", "s"], "kebab-case"),
        (
            &["redis-thing", "--summary", "s", "--param", "Ratio=1"],
            "snake_case",
        ),
        (
            &["redis-thing", "--summary", "s", "--param", "ratio"],
            "NAME=DEFAULT",
        ),
    ];
    for (args, expected) in cases {
        let out = scaffold(&dir, args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
    }
    let registry = std::fs::read_to_string(dir.join("src/rules/mod.rs")).unwrap();
    let original = std::fs::read_to_string(root().join("src/rules/mod.rs")).unwrap();
    assert_eq!(registry, original, "a refusal writes nothing");
    assert!(!dir.join("src/rules/redis_thing.rs").exists());
}

//! The GitHub Action (`action.yml`, `action/*.sh`) run the way an Actions runner runs it:
//! `tests/action/run_action.py` executes the composite steps with the runner's environment
//! and file commands (what it emulates is in its docstring). The install step finds a fake
//! `cargo` on the PATH that records its arguments and links this build's binary where
//! `cargo install --root` would put it, so the cache-miss path is tested without compiling;
//! a second run over the same tool cache takes the cache-hit path. Also: `action.yml`
//! validated against SchemaStore's action metadata schema (`tests/schemas/github-action.json`).
//!
//! Needs python3 with PyYAML on the PATH (tests/run puts target/test-tools/venv/bin there);
//! fails, rather than skips, without it.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

mod common;
use common::{BIN, root, run_in, stdout};

const CLEAN: &str =
    "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\nspec:\n  ports: [{port: 80}]\n";

/// A fresh directory for one case.
fn case_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("redline-action-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A workspace holding a copy of `examples/` (or only a clean manifest).
fn workspace(dir: &Path, with_examples: bool) -> PathBuf {
    let ws = dir.join("workspace");
    std::fs::create_dir_all(ws.join("examples")).unwrap();
    if with_examples {
        for e in std::fs::read_dir(root().join("examples"))
            .unwrap()
            .flatten()
        {
            std::fs::copy(e.path(), ws.join("examples").join(e.file_name())).unwrap();
        }
    } else {
        std::fs::write(ws.join("examples/clean.yaml"), CLEAN).unwrap();
    }
    ws
}

/// A directory holding a fake `cargo` that appends its arguments to `log` and links this
/// build's binary as `<--root>/bin/redline`.
fn fake_cargo(dir: &Path) -> (PathBuf, PathBuf) {
    let bin = dir.join("fake-bin");
    std::fs::create_dir_all(&bin).unwrap();
    let log = dir.join("cargo.log");
    let script = format!(
        "#!/usr/bin/env bash\nprintf '%s\\n' \"$*\" >> '{log}'\n\
         while (($#)); do [[ $1 == --root ]] && root=$2; shift; done\n\
         mkdir -p \"$root/bin\" && ln -s '{bin}' \"$root/bin/redline\"\n",
        log = log.display(),
        bin = BIN
    );
    let cargo = bin.join("cargo");
    std::fs::write(&cargo, script).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&cargo, std::fs::Permissions::from_mode(0o755)).unwrap();
    (bin, log)
}

/// python3 with PyYAML, found on the PATH now (a test may give the runner another PATH).
fn python() -> Command {
    let found = std::env::var_os("PATH").and_then(|path| {
        std::env::split_paths(&path)
            .map(|d| d.join("python3"))
            .find(|p| {
                Command::new(p)
                    .args(["-c", "import yaml"])
                    .output()
                    .is_ok_and(|o| o.status.success())
            })
    });
    let python = found.unwrap_or_else(|| {
        panic!(
            "python3 with PyYAML is needed (tests/run puts target/test-tools/venv/bin on the PATH)"
        )
    });
    Command::new(python)
}

struct Run {
    code: i32,
    record: Value,
    stdout: String,
    stderr: String,
}

/// The action's steps run by the runner script in `dir`, with `path_first` ahead of the
/// PATH (the fake cargo) and `path` replacing the rest when given.
fn run_action(
    dir: &Path,
    ws: &Path,
    tool_cache: &Path,
    inputs: &[(&str, &str)],
    path_first: &Path,
    path: Option<&str>,
) -> Run {
    let result = dir.join("result.json");
    let _ = std::fs::remove_file(&result);
    let mut cmd = python();
    cmd.arg(root().join("tests/action/run_action.py"))
        .arg(root())
        .arg("--workspace")
        .arg(ws)
        .arg("--runner-dir")
        .arg(dir.join("runner"))
        .arg("--tool-cache")
        .arg(tool_cache)
        .arg("--result")
        .arg(&result);
    for (k, v) in inputs {
        cmd.arg("--input").arg(format!("{k}={v}"));
    }
    let rest = path.map_or_else(|| std::env::var("PATH").unwrap(), str::to_string);
    cmd.env("PATH", format!("{}:{rest}", path_first.display()))
        .env_remove("NO_COLOR");
    let o = cmd.output().unwrap();
    let code = o.status.code().expect("exited");
    let stdout = String::from_utf8_lossy(&o.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&o.stderr).into_owned();
    let record = std::fs::read(&result)
        .map(|b| serde_json::from_slice(&b).unwrap())
        .unwrap_or_else(|_| panic!("no result (exit {code})\n{stdout}\n{stderr}"));
    Run {
        code,
        record,
        stdout,
        stderr,
    }
}

fn step<'a>(run: &'a Run, name: &str) -> &'a Value {
    run.record["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == name)
        .unwrap_or_else(|| panic!("no step {name}: {}", run.record))
}

/// `redline lint` of the workspace, as a user runs it there.
fn lint(ws: &Path, args: &[&str]) -> std::process::Output {
    let mut all = vec!["lint"];
    all.extend_from_slice(args);
    run_in(ws, &all, "")
}

fn sarif_errors(sarif: &Value) -> Vec<String> {
    let schema: Value = serde_json::from_slice(
        &std::fs::read(root().join("tests/schemas/sarif-schema-2.1.0.json")).unwrap(),
    )
    .unwrap();
    let v = jsonschema::validator_for(&schema).unwrap();
    v.iter_errors(sarif)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect()
}

fn annotation_lines(run: &Run) -> Vec<String> {
    run.record["annotations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["line"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn findings_become_annotations_a_summary_and_sarif() {
    let dir = case_dir("findings");
    let ws = workspace(&dir, true);
    let cache = dir.join("tool-cache");
    let (fake, log) = fake_cargo(&dir);
    let run = run_action(&dir, &ws, &cache, &[("paths", "examples")], &fake, None);
    let all = format!("{}\n{}\n{}", run.record, run.stdout, run.stderr);

    // Findings at error (the default fail-on): the lint step fails, after writing everything.
    assert_eq!(run.code, 1, "{all}");
    assert_eq!(run.record["conclusion"], "failure");
    assert_eq!(step(&run, "Lint")["status"], 1, "{all}");

    // Cache miss: cargo install from the action's source into the tool cache.
    let calls = std::fs::read_to_string(&log).unwrap();
    assert_eq!(calls.lines().count(), 1, "{calls}");
    let expected = format!(
        "install --locked --path {} --root {}/redline/.install.",
        root().display(),
        cache.display()
    );
    assert!(calls.starts_with(&expected), "{calls}\nexpected {expected}");
    assert_eq!(
        step(&run, "Install redline")["outputs"]["cache-hit"],
        "false"
    );

    // Outputs: the JSON report's count, and a SARIF file that validates.
    let report = common::json(&lint(&ws, &["examples", "--format", "json"]));
    let findings = report["findings"].as_array().unwrap();
    assert!(findings.len() > 5);
    assert_eq!(
        run.record["outputs"]["findings"],
        findings.len().to_string(),
        "{all}"
    );
    let sarif_path = run.record["outputs"]["sarif"].as_str().unwrap();
    assert!(sarif_path.ends_with("/redline.sarif"), "{sarif_path}");
    let sarif: Value = serde_json::from_slice(&std::fs::read(sarif_path).unwrap()).unwrap();
    assert_eq!(sarif_errors(&sarif), Vec::<String>::new());
    assert_eq!(
        sarif["runs"][0]["results"].as_array().unwrap().len(),
        findings.len()
    );
    // The upload step would run (always(), sarif true) on that file; it is the one step
    // the runner script does not run.
    let upload = step(&run, "Upload SARIF");
    assert_eq!(upload["outcome"], "not emulated");
    assert_eq!(upload["uses"], "github/codeql-action/upload-sarif@v3");
    assert_eq!(upload["with"]["sarif_file"], sarif_path);

    // Annotations: exactly the workflow commands of `lint --format github`.
    let gh = stdout(&lint(&ws, &["examples", "--format", "github"]));
    let expected: Vec<String> = gh
        .lines()
        .filter(|l| l.starts_with("::"))
        .map(str::to_string)
        .collect();
    assert_eq!(annotation_lines(&run), expected);
    let first = &run.record["annotations"][0];
    assert_eq!(first["properties"]["file"], findings[0]["file"]);
    assert_eq!(
        first["properties"]["line"],
        findings[0]["line"].to_string(),
        "{first}"
    );
    assert!(
        first["message"]
            .as_str()
            .unwrap()
            .starts_with(findings[0]["message"].as_str().unwrap())
    );

    // The step summary: the Markdown table, a row per finding.
    let summary = run.record["summary"].as_str().unwrap();
    assert!(summary.starts_with("## redline\n"), "{summary}");
    assert!(summary.contains("| Severity | Rule | Location | Message |\n|---|---|---|---|\n"));
    let rows: Vec<&str> = summary
        .lines()
        .filter(|l| {
            l.starts_with("| error |") || l.starts_with("| warning |") || l.starts_with("| info |")
        })
        .filter(|l| l.matches(" | ").count() >= 3)
        .collect();
    assert_eq!(rows.len(), findings.len(), "{summary}");
    for (row, f) in rows.iter().zip(findings) {
        let start = format!(
            "| {} | `{}` | {}:{} | ",
            f["severity"].as_str().unwrap(),
            f["rule"].as_str().unwrap(),
            f["file"].as_str().unwrap(),
            f["line"]
        );
        assert!(row.starts_with(&start), "{row}\nexpected {start}");
    }

    // Again over the same tool cache: the build is reused, cargo is not called.
    let again = run_action(&dir, &ws, &cache, &[("paths", "examples")], &fake, None);
    assert_eq!(again.code, 1);
    assert_eq!(
        std::fs::read_to_string(&log).unwrap(),
        calls,
        "cargo ran again"
    );
    assert_eq!(
        step(&again, "Install redline")["outputs"]["cache-hit"],
        "true"
    );
    assert_eq!(again.record["outputs"], run.record["outputs"]);
    assert_eq!(annotation_lines(&again), expected);
}

#[test]
fn fail_on_never_succeeds_with_the_same_outputs() {
    let dir = case_dir("never");
    let ws = workspace(&dir, true);
    let (fake, _) = fake_cargo(&dir);
    let run = run_action(
        &dir,
        &ws,
        &dir.join("cache"),
        &[("paths", "examples"), ("fail-on", "never")],
        &fake,
        None,
    );
    assert_eq!(run.code, 0, "{}\n{}", run.record, run.stderr);
    assert_eq!(run.record["conclusion"], "success");
    let report = common::json(&lint(&ws, &["examples", "--format", "json"]));
    assert_eq!(
        run.record["outputs"]["findings"],
        report["findings"].as_array().unwrap().len().to_string()
    );
    assert!(std::path::Path::new(run.record["outputs"]["sarif"].as_str().unwrap()).is_file());
}

#[test]
fn a_clean_workspace_passes_with_no_findings() {
    let dir = case_dir("clean");
    let ws = workspace(&dir, false);
    let (fake, _) = fake_cargo(&dir);
    // The default paths: `.`, the workspace.
    let run = run_action(&dir, &ws, &dir.join("cache"), &[], &fake, None);
    assert_eq!(run.code, 0, "{}\n{}", run.record, run.stderr);
    assert_eq!(run.record["outputs"]["findings"], "0");
    assert_eq!(run.record["annotations"], serde_json::json!([]));
    let summary = run.record["summary"].as_str().unwrap();
    assert!(summary.contains("No findings."), "{summary}");
    assert!(!summary.contains("| Rule |"), "{summary}");
    let sarif: Value = serde_json::from_slice(
        &std::fs::read(run.record["outputs"]["sarif"].as_str().unwrap()).unwrap(),
    )
    .unwrap();
    assert_eq!(sarif_errors(&sarif), Vec::<String>::new());
    assert_eq!(sarif["runs"][0]["results"], serde_json::json!([]));

    // A fail-on redline does not know: its usage error, exit 2, fails the step.
    let bad = run_action(
        &dir,
        &ws,
        &dir.join("cache"),
        &[("fail-on", "sometimes")],
        &fake,
        None,
    );
    assert_eq!(bad.code, 1);
    assert_eq!(step(&bad, "Lint")["status"], 2, "{}", bad.record);
    assert!(bad.stderr.contains("sometimes"), "{}", bad.stderr);
}

#[test]
fn sarif_false_writes_none_and_skips_the_upload() {
    let dir = case_dir("nosarif");
    let ws = workspace(&dir, true);
    let (fake, _) = fake_cargo(&dir);
    let run = run_action(
        &dir,
        &ws,
        &dir.join("cache"),
        // Compared ignoring case, by the `if:` expression and by the script alike.
        &[("paths", "examples"), ("sarif", "False")],
        &fake,
        None,
    );
    assert_eq!(run.code, 1);
    assert_eq!(run.record["outputs"]["sarif"], "");
    assert_eq!(step(&run, "Upload SARIF")["outcome"], "skipped");
    assert!(!dir.join("runner/temp/redline.sarif").exists());
    // The rest is still there.
    assert_ne!(run.record["outputs"]["findings"], "0");
    assert!(run.record["summary"].as_str().unwrap().contains("| Rule |"));
}

#[test]
fn config_input_is_the_configuration_used() {
    let dir = case_dir("config");
    let ws = workspace(&dir, true);
    std::fs::create_dir_all(ws.join("ci")).unwrap();
    std::fs::write(
        ws.join("ci/redline.yaml"),
        "rules:\n  redis-no-auth-exposed:\n    enabled: false\n",
    )
    .unwrap();
    let (fake, _) = fake_cargo(&dir);
    let run = run_action(
        &dir,
        &ws,
        &dir.join("cache"),
        &[("paths", "examples"), ("config", "ci/redline.yaml")],
        &fake,
        None,
    );
    let with = common::json(&lint(
        &ws,
        &[
            "examples",
            "--format",
            "json",
            "--config",
            "ci/redline.yaml",
        ],
    ));
    let without = common::json(&lint(&ws, &["examples", "--format", "json"]));
    let n = |r: &Value| r["findings"].as_array().unwrap().len();
    assert!(
        n(&with) < n(&without),
        "the configuration must change something"
    );
    assert_eq!(run.record["outputs"]["findings"], n(&with).to_string());
    assert!(
        annotation_lines(&run)
            .iter()
            .all(|l| !l.contains("redis-no-auth-exposed")),
        "{}",
        run.record
    );
    // A configuration file that does not exist: exit 2, shown, nothing else written.
    let bad = run_action(
        &dir,
        &ws,
        &dir.join("cache"),
        &[("paths", "examples"), ("config", "ci/missing.yaml")],
        &fake,
        None,
    );
    assert_eq!(bad.code, 1);
    assert_eq!(step(&bad, "Lint")["status"], 2, "{}", bad.record);
    assert!(bad.stderr.contains("ci/missing.yaml"), "{}", bad.stderr);
    assert!(
        bad.record["annotations"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["command"] == "error"
                && a["message"]
                    .as_str()
                    .unwrap()
                    .contains("redline lint exited with status 2")),
        "{}",
        bad.record
    );
    assert_eq!(step(&bad, "Upload SARIF")["outcome"], "skipped");
}

#[test]
fn shell_metacharacters_in_inputs_are_not_run() {
    let dir = case_dir("inject");
    let ws = workspace(&dir, true);
    let (fake, _) = fake_cargo(&dir);
    let mark = |n: u32| dir.join(format!("pwned{n}"));
    let paths = format!(
        "examples\n$(touch {})\n`touch {}`\n; touch {} #\n' \"; touch {}",
        mark(1).display(),
        mark(2).display(),
        mark(3).display(),
        mark(4).display()
    );
    let run = run_action(
        &dir,
        &ws,
        &dir.join("cache"),
        &[("paths", &paths)],
        &fake,
        None,
    );
    // The text reached redline as paths, and was refused as such.
    assert_eq!(step(&run, "Lint")["status"], 2, "{}", run.record);
    assert!(run.stderr.contains("$(touch"), "{}", run.stderr);
    let config = format!(
        "x$(touch {})`touch {}`",
        mark(5).display(),
        mark(6).display()
    );
    let run = run_action(
        &dir,
        &ws,
        &dir.join("cache"),
        &[("paths", "examples"), ("config", &config)],
        &fake,
        None,
    );
    assert_eq!(step(&run, "Lint")["status"], 2, "{}", run.record);
    assert!(run.stderr.contains(&config), "{}", run.stderr);
    for n in 1..=6 {
        assert!(
            !mark(n).exists(),
            "input text was run: {}",
            mark(n).display()
        );
    }
}

#[test]
fn without_cargo_the_install_fails_and_nothing_else_runs() {
    let dir = case_dir("nocargo");
    let ws = workspace(&dir, true);
    let empty = dir.join("empty-bin");
    std::fs::create_dir_all(&empty).unwrap();
    let run = run_action(
        &dir,
        &ws,
        &dir.join("cache"),
        &[("paths", "examples")],
        &empty,
        Some("/usr/bin:/bin"),
    );
    assert_eq!(run.code, 1, "{}\n{}", run.record, run.stderr);
    assert_eq!(step(&run, "Install redline")["outcome"], "failure");
    assert_eq!(step(&run, "Lint")["outcome"], "skipped");
    assert_eq!(step(&run, "Upload SARIF")["outcome"], "skipped");
    assert!(
        run.record["annotations"][0]["message"]
            .as_str()
            .unwrap()
            .contains("cargo is not on the PATH"),
        "{}",
        run.record
    );
    assert_eq!(run.record["outputs"]["findings"], "");
}

/// The runner script itself: status functions, the implicit `success()`, multi-line
/// outputs, GITHUB_PATH and GITHUB_ENV between steps, and a loud refusal of what it does not
/// emulate.
#[test]
fn the_runner_script_follows_the_runner_and_refuses_the_unknown() {
    let dir = case_dir("runner");
    let action = dir.join("action");
    std::fs::create_dir_all(action.join("bin")).unwrap();
    let write_action = |steps: &str| {
        std::fs::write(
            action.join("action.yml"),
            format!(
                "name: t\ndescription: t\ninputs:\n  x:\n    description: x\n    default: \"Yes\"\n\
                 outputs:\n  text:\n    description: t\n    value: ${{{{ steps.one.outputs.text }}}}\n\
                 runs:\n  using: composite\n  steps:\n{steps}"
            ),
        )
        .unwrap();
    };
    std::fs::write(action.join("bin/hello"), "#!/bin/sh\necho hello\n").unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(
        action.join("bin/hello"),
        std::fs::Permissions::from_mode(0o755),
    )
    .unwrap();
    write_action(
        "    - id: one\n      shell: bash\n      run: |\n        \
         printf 'text<<EOF\\nline 1\\nline 2\\nEOF\\n' >> \"$GITHUB_OUTPUT\"\n        \
         echo \"$GITHUB_ACTION_PATH/bin\" >> \"$GITHUB_PATH\"\n        \
         echo 'GREETING=hi there' >> \"$GITHUB_ENV\"\n        \
         test -z \"${INPUT_X:-}\"\n\
         \x20   - id: two\n      shell: bash\n      env: {X: '${{ inputs.x }}'}\n      run: |\n        \
         [[ $X == Yes && $GREETING == 'hi there' && $(hello) == hello ]]\n        \
         echo '::warning file=a%2Cb.yaml,line=3::50%25 done%0Anext'\n        exit 3\n\
         \x20   - id: three\n      if: inputs.x == 'yes'\n      shell: bash\n      run: echo never\n\
         \x20   - id: four\n      if: failure() && steps.two.outcome == 'failure'\n      shell: bash\n      \
         run: echo \"ran after $(echo failure)\"\n",
    );
    let ws = dir.join("ws");
    std::fs::create_dir_all(&ws).unwrap();
    let run_it = || {
        let o = python()
            .arg(root().join("tests/action/run_action.py"))
            .arg(&action)
            .arg("--workspace")
            .arg(&ws)
            .arg("--runner-dir")
            .arg(dir.join("runner"))
            .arg("--result")
            .arg(dir.join("result.json"))
            .output()
            .unwrap();
        let record: Value = std::fs::read(dir.join("result.json"))
            .ok()
            .map_or(Value::Null, |b| serde_json::from_slice(&b).unwrap());
        let _ = std::fs::remove_file(dir.join("result.json"));
        (o, record)
    };
    let (o, r) = run_it();
    let all = format!("{r}\n{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(o.status.code(), Some(1), "{all}");
    assert_eq!(r["outputs"]["text"], "line 1\nline 2", "{all}");
    assert_eq!(r["steps"][1]["status"], 3, "{all}");
    // `if: inputs.x == 'yes'` (equal ignoring case) is `success() && …` after a failure.
    assert_eq!(r["steps"][2]["outcome"], "skipped", "{all}");
    assert_eq!(r["steps"][3]["outcome"], "success", "{all}");
    assert_eq!(r["annotations"][0]["properties"]["file"], "a,b.yaml");
    assert_eq!(r["annotations"][0]["message"], "50% done\nnext");

    for (what, steps) in [
        (
            "github.sha",
            "    - shell: bash\n      run: echo ${{ github.sha }}\n",
        ),
        (
            "contains",
            "    - if: contains(inputs.x, 'e')\n      shell: bash\n      run: 'true'\n",
        ),
        ("actions/checkout", "    - uses: actions/checkout@v4\n"),
        ("sh", "    - shell: sh\n      run: 'true'\n"),
        (
            "continue-on-error",
            "    - shell: bash\n      continue-on-error: true\n      run: 'true'\n",
        ),
    ] {
        write_action(steps);
        let (o, _) = run_it();
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{what}: {err}");
        assert!(err.contains("not emulated"), "{what}: {err}");
    }
}

fn action_schema() -> jsonschema::Validator {
    let schema: Value = serde_json::from_slice(
        &std::fs::read(root().join("tests/schemas/github-action.json")).unwrap(),
    )
    .unwrap();
    jsonschema::validator_for(&schema).expect("the action schema compiles")
}

fn action_yml() -> Value {
    yaml_serde::from_str(&std::fs::read_to_string(root().join("action.yml")).unwrap()).unwrap()
}

#[test]
fn action_yml_validates_against_the_metadata_schema() {
    let validator = action_schema();
    let action = action_yml();
    let errors: Vec<String> = validator
        .iter_errors(&action)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert_eq!(errors, Vec::<String>::new());
    // The validator is not a formality: it refuses a broken copy.
    let mut broken = action.clone();
    broken.as_object_mut().unwrap().remove("runs");
    assert!(!validator.is_valid(&broken));
    let mut broken = action.clone();
    broken["runs"]["steps"][0]
        .as_object_mut()
        .unwrap()
        .remove("shell");
    assert!(!validator.is_valid(&broken), "a run step needs its shell");

    // Hardening: inputs reach the scripts through env, never `${{ }}` inside a script.
    let steps = action["runs"]["steps"].as_array().unwrap();
    for s in steps {
        if let Some(run) = s["run"].as_str() {
            assert!(!run.contains("${{"), "expression in a script: {run}");
            assert_eq!(s["shell"], "bash");
        }
    }
}

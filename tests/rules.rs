//! Per rule, cases in `tests/fixtures/rules/<id>/`, as ruff and Polaris keep them:
//! - `fail.yaml`, `fail.<case>.yaml`: each gives at least one finding of the rule;
//! - `pass.yaml`, `pass.<case>.yaml`: each gives none;
//! - `fixed.yaml`, `fixed.<case>.yaml`, for a failing case whose findings carry patches: byte
//!   for byte what `redline fix --rule ID` writes of it (a piece the fix left alone may stay a
//!   `# fixture-piece:` line), equal as data to its objects with those RFC 6902 patches
//!   applied; linting it gives no finding of the rule;
//! - `<case>.redline.yaml`: the configuration of `fail.<case>.yaml` and `pass.<case>.yaml`
//!   (parameters, severity), so a parameter is shown failing on one side and passing on the
//!   other.
//!
//! Every failing case's findings (place, severity, message, fix) are one reviewed snapshot per
//! rule, `tests/snapshots/rules__<id>.snap`. A case may stand for several files
//! (`# fixture-file: NAME` lines split it) and may take shared pieces: a line
//! `# fixture-piece: NAME` is replaced by `tests/fixtures/rules/_pieces/NAME.yaml`.
//!
//! `REDLINE_BLESS=1 cargo test --test rules` writes a missing `fixed*.yaml` with `fix`, for
//! review; the test still fails until it is reviewed and committed.

use std::path::{Path, PathBuf};

use redline::engine::Settings;
use redline::extract::Options;
use redline::lint::{LOAD_RULE, Linted, lint};
use redline::rules::{self, FixEdit, Severity};
use redline::source::{Limits, load_yaml};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/rules")
}

/// Shared pieces of fixtures, not a rule.
const PIECES: &str = "_pieces";

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Side {
    Fail,
    Pass,
}

/// One case of a rule: a failing or passing input with its configuration.
struct Case {
    side: Side,
    /// `""` for `fail.yaml`/`pass.yaml`.
    name: String,
    file: String,
    /// The text as linted: pieces expanded.
    text: String,
    settings: Settings,
    options: Options,
    /// The configuration file's name, for the snapshot.
    config: Option<String>,
}

impl Case {
    fn fixed_name(&self) -> String {
        if self.name.is_empty() {
            "fixed.yaml".into()
        } else {
            format!("fixed.{}.yaml", self.name)
        }
    }
}

/// The text of a fixture with its `# fixture-piece:` lines replaced by the pieces.
fn expand(path: &Path) -> String {
    const PIECE: &str = "# fixture-piece: ";
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut out = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        match line.strip_prefix(PIECE) {
            Some(name) => {
                let piece = fixtures()
                    .join(PIECES)
                    .join(format!("{}.yaml", name.trim()));
                let piece = std::fs::read_to_string(&piece)
                    .unwrap_or_else(|e| panic!("{}: {}: {e}", path.display(), piece.display()));
                out.push_str(&piece);
            }
            None => out.push_str(line),
        }
    }
    out
}

/// A fixed text with the pieces its case takes put back as `# fixture-piece:` lines, where
/// the fix left a piece as it was (a piece it changed stays written out).
fn with_pieces(case_text: &str, mut fixed: String) -> String {
    const PIECE: &str = "# fixture-piece: ";
    for line in case_text.lines() {
        let Some(name) = line.strip_prefix(PIECE) else {
            continue;
        };
        let piece = std::fs::read_to_string(
            fixtures()
                .join(PIECES)
                .join(format!("{}.yaml", name.trim())),
        )
        .unwrap();
        if fixed.matches(&piece).count() == 1 {
            fixed = fixed.replacen(&piece, &format!("{line}\n"), 1);
        }
    }
    fixed
}

/// The cases of rule `id`, sorted (`fail` before `pass`, the unnamed case first). A file in
/// the directory that names no case is an error, so a misspelt name cannot go unread.
fn cases(id: &str) -> Result<Vec<Case>, String> {
    let dir = fixtures().join(id);
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .map_err(|e| format!("{id}: {e}"))?
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    let mut cases = Vec::new();
    let mut configs = Vec::new();
    let mut fixed = Vec::new();
    for file in &names {
        let parts: Vec<&str> = file.split('.').collect();
        match parts.as_slice() {
            [side @ ("fail" | "pass"), rest @ .., "yaml"] => {
                let name = rest.join(".");
                let side = if *side == "fail" {
                    Side::Fail
                } else {
                    Side::Pass
                };
                cases.push((side, name, file.clone()));
            }
            ["fixed", .., "yaml"] => fixed.push(file.clone()),
            [.., "redline", "yaml"] => configs.push(file.clone()),
            _ => {
                return Err(format!(
                    "{id}: `{file}` is not a case, a fixed text or a configuration"
                ));
            }
        }
    }
    let mut out = Vec::new();
    for (side, name, file) in cases {
        let config_file = format!("{name}.redline.yaml");
        let config = (!name.is_empty() && configs.contains(&config_file)).then_some(config_file);
        let (settings, options) = match &config {
            Some(c) => {
                let text = std::fs::read_to_string(dir.join(c)).unwrap();
                let user = redline::settings::parse(c, &text).map_err(|e| format!("{id}: {e}"))?;
                let options = Options {
                    kubeblocks_maxmemory: user
                        .kubeblocks_maxmemory
                        .unwrap_or(Options::default().kubeblocks_maxmemory),
                };
                (user.settings, options)
            }
            None => (Settings::default(), Options::default()),
        };
        out.push(Case {
            side,
            text: expand(&dir.join(&file)),
            name,
            file,
            settings,
            options,
            config,
        });
    }
    for c in &configs {
        let name = c.trim_end_matches(".redline.yaml");
        if !out.iter().any(|case| case.name == name) {
            return Err(format!("{id}: `{c}` configures no case"));
        }
    }
    for f in &fixed {
        if !out
            .iter()
            .any(|case| case.side == Side::Fail && case.fixed_name() == *f)
        {
            return Err(format!("{id}: `{f}` is the fixed text of no failing case"));
        }
    }
    out.sort_by(|a, b| (a.side, &a.name).cmp(&(b.side, &b.name)));
    Ok(out)
}

fn lint_case(case: &Case) -> Linted {
    let linted = lint_case_as_is(case);
    assert!(
        !linted.has_load_errors(),
        "{}: {:?}",
        case.file,
        linted.load_findings
    );
    linted
}

/// For the fixtures of the rule about documents that do not load.
fn lint_case_as_is(case: &Case) -> Linted {
    lint(
        sources(&case.file, &case.text),
        &case.options,
        &case.settings,
    )
}

/// A fixture is one file, or several: a line `# fixture-file: envs/dev/redis.yaml` starts
/// the next file of that name (for rules about how files of a repository relate).
fn sources(name: &str, text: &str) -> Vec<redline::source::SourceFile> {
    const MARK: &str = "# fixture-file: ";
    if !text.lines().any(|l| l.starts_with(MARK)) {
        return vec![load_yaml(name, text.to_string(), &Limits::default())];
    }
    let mut files: Vec<(String, String)> = Vec::new();
    for line in text.split_inclusive('\n') {
        match line.strip_prefix(MARK) {
            Some(file) => files.push((file.trim().to_string(), String::new())),
            None => {
                if let Some((_, body)) = files.last_mut() {
                    body.push_str(line);
                }
            }
        }
    }
    files
        .into_iter()
        .map(|(file, body)| load_yaml(&file, body, &Limits::default()))
        .collect()
}

fn of_rule<'a>(linted: &'a Linted, id: &str) -> Vec<&'a redline::engine::Finding> {
    linted
        .outcome
        .findings
        .iter()
        .filter(|f| f.rule == id)
        .collect()
}

/// The objects of a lint run as JSON, with every patch of `id`'s findings applied.
fn patched(linted: &Linted, id: &str) -> Option<Vec<serde_json::Value>> {
    let mut objects: Vec<serde_json::Value> = linted
        .inventory
        .objects
        .iter()
        .map(|o| o.root.to_json())
        .collect();
    let mut any = false;
    for f in of_rule(linted, id) {
        if let Some(FixEdit::Patch { object, ops }) = f.fix.as_ref().map(|f| &f.edit) {
            let patch: json_patch::Patch =
                serde_json::from_value(serde_json::to_value(ops).unwrap()).unwrap();
            json_patch::patch(&mut objects[object.0], &patch)
                .unwrap_or_else(|e| panic!("{id}: patch {ops:?} does not apply: {e}"));
            any = true;
        }
    }
    any.then_some(objects)
}

/// What `redline fix --rule id` makes of a case, with the case's configuration.
fn fixed_text(case: &Case, id: &str) -> String {
    let source = load_yaml(&case.file, case.text.clone(), &Limits::default());
    let rules = [id.to_string()];
    let run = redline::fix::fix(
        vec![source],
        &case.options,
        &case.settings,
        &redline::fix::FixOptions::new(&rules),
        &Limits::default(),
    );
    run.files[0].fixed.clone()
}

/// Checks one case; what is wrong goes to `failures`.
fn check_case(id: &str, case: &Case, failures: &mut Vec<String>) {
    let dir = fixtures().join(id);
    let at = format!("{id}/{}", case.file);
    if id == LOAD_RULE {
        let linted = lint_case_as_is(case);
        match case.side {
            Side::Fail if linted.load_findings.is_empty() => {
                failures.push(format!("{at}: no finding"));
            }
            Side::Pass if !linted.load_findings.is_empty() => {
                failures.push(format!("{at}: {:?}", linted.load_findings));
            }
            _ => {}
        }
        return;
    }
    let linted = lint_case(case);
    if case.side == Side::Pass {
        for f in of_rule(&linted, id) {
            failures.push(format!("{at} gives: {}", f.message));
        }
        return;
    }
    if of_rule(&linted, id).is_empty() {
        failures.push(format!("{at} gives no finding"));
    }
    let fixed_path = dir.join(case.fixed_name());
    match (patched(&linted, id), fixed_path.is_file()) {
        (None, false) => {}
        (None, true) => failures.push(format!("{at}: {} but no patch", case.fixed_name())),
        (Some(_), false) => {
            if std::env::var_os("REDLINE_BLESS").is_some() {
                let written = std::fs::read_to_string(dir.join(&case.file)).unwrap();
                std::fs::write(&fixed_path, with_pieces(&written, fixed_text(case, id))).unwrap();
            }
            failures.push(format!("{at} has patches but no {}", case.fixed_name()));
        }
        (Some(objects), true) => {
            // Byte for byte what `redline fix --rule ID` writes (pieces expanded).
            let want = expand(&fixed_path);
            let got = fixed_text(case, id);
            if got != want {
                failures.push(format!(
                    "{at}: `fix --rule {id}` differs from {}:\n{}",
                    case.fixed_name(),
                    redline::fix::unified_diff(&case.fixed_name(), &want, &got)
                ));
            }
            let fixed_case = Case {
                side: Side::Pass,
                name: case.name.clone(),
                file: case.fixed_name(),
                text: want,
                settings: case.settings.clone(),
                options: case.options.clone(),
                config: None,
            };
            let fixed = lint_case(&fixed_case);
            let expected: Vec<serde_json::Value> = fixed
                .inventory
                .objects
                .iter()
                .map(|o| o.root.to_json())
                .collect();
            if objects != expected {
                failures.push(format!(
                    "{at}: patched, it differs from {}:\n{}",
                    case.fixed_name(),
                    serde_json::to_string_pretty(&objects).unwrap()
                ));
            }
            for f in of_rule(&fixed, id) {
                failures.push(format!(
                    "{id}/{} still gives: {}",
                    case.fixed_name(),
                    f.message
                ));
            }
        }
    }
}

#[test]
fn every_rule_has_cases_that_fail_pass_and_fix() {
    let mut failures = Vec::new();
    for rule in rules::all() {
        let id = rule.id();
        let cases = match cases(id) {
            Ok(c) => c,
            Err(e) => {
                failures.push(e);
                continue;
            }
        };
        for side in [Side::Fail, Side::Pass] {
            if !cases.iter().any(|c| c.side == side) {
                failures.push(format!("{id}: no {side:?} case"));
            }
        }
        for case in &cases {
            check_case(id, case, &mut failures);
        }
    }
    // Every directory is a rule's (or the shared pieces).
    for entry in std::fs::read_dir(fixtures()).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        if name != PIECES && rules::get(&name).is_none() {
            failures.push(format!("tests/fixtures/rules/{name} is no rule's"));
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

/// The cases of the rule that reports documents that do not load: a warning and an error.
#[test]
fn load_rule_cases_give_a_warning_and_an_error() {
    let cases = cases(LOAD_RULE).unwrap();
    let fail = cases
        .iter()
        .find(|c| c.side == Side::Fail && c.name.is_empty())
        .unwrap();
    let severities: Vec<Severity> = lint_case_as_is(fail)
        .load_findings
        .iter()
        .map(|f| f.severity)
        .collect();
    assert_eq!(severities, [Severity::Warning, Severity::Error]);
}

/// What each rule reports on its failing cases, reviewed: place, severity, message and fix;
/// one snapshot per rule.
#[test]
fn rule_findings_snapshots() {
    let mut settings = insta::Settings::clone_current();
    settings.set_prepend_module_to_snapshot(true);
    settings.set_omit_expression(true);
    for rule in rules::all() {
        let id = rule.id();
        let mut out = String::new();
        for case in cases(id).unwrap() {
            let linted = lint_case_as_is(&case);
            let config = case
                .config
                .as_ref()
                .map(|c| format!(" (with {c})"))
                .unwrap_or_default();
            if case.side == Side::Pass {
                out.push_str(&format!("{}{config}: no finding\n", case.file));
                continue;
            }
            out.push_str(&format!("{}{config}:\n", case.file));
            if id == LOAD_RULE {
                for f in &linted.load_findings {
                    out.push_str(&format!(
                        "  {} [{}]\n    {}\n",
                        f.pos, f.severity, f.message
                    ));
                }
                continue;
            }
            for f in of_rule(&linted, id) {
                let pos = f
                    .pos
                    .map(|p| format!("{}:{}", p.line, p.column))
                    .unwrap_or_default();
                out.push_str(&format!(
                    "  {pos} {} [{}] {}\n    {}\n",
                    f.pointer,
                    f.severity,
                    linted.inventory.object(f.object),
                    f.message
                ));
                if let Some(fix) = &f.fix {
                    out.push_str(&format!("    fix: {}\n", fix.description));
                }
            }
        }
        settings.bind(|| insta::assert_snapshot!(id, out));
    }
}

fn lint_text(text: &str) -> Linted {
    let source = load_yaml("input.yaml", text.to_string(), &Limits::default());
    lint(vec![source], &Options::default(), &Settings::default())
}

/// A KubeBlocks Cluster with the given memory and a Reconfiguring OpsRequest setting
/// maxmemory.
fn kubeblocks(request: &str, limit: &str, maxmemory: &str) -> String {
    format!(
        "apiVersion: apps.kubeblocks.io/v1\nkind: Cluster\nmetadata:\n  name: redis-prod\n  \
         namespace: default\nspec:\n  clusterDef: redis\n  topology: replication\n  \
         componentSpecs:\n    - name: redis\n      serviceVersion: \"7.2.4\"\n      replicas: 2\n      \
         resources:\n        requests:\n          memory: {request}\n        limits:\n          \
         memory: {limit}\n---\napiVersion: operations.kubeblocks.io/v1alpha1\nkind: OpsRequest\n\
         metadata:\n  name: redis-prod-maxmemory\n  namespace: default\nspec:\n  clusterName: \
         redis-prod\n  type: Reconfiguring\n  reconfigures:\n    - componentName: redis\n      \
         parameters:\n        - key: maxmemory\n          value: \"{maxmemory}\"\n"
    )
}

/// The seed incident: requests 16Gi, limits 32Gi, maxmemory 32 GiB through an OpsRequest.
#[test]
fn seed_incident_is_an_error_on_the_opsrequest() {
    let linted = lint_text(&kubeblocks("16Gi", "32Gi", "34359738368"));
    let errors: Vec<_> = linted
        .outcome
        .findings
        .iter()
        .filter(|f| f.rule == "redis-maxmemory-headroom" && f.severity == rules::Severity::Error)
        .collect();
    assert_eq!(errors.len(), 1, "{:#?}", linted.outcome.findings);
    let e = errors[0];
    assert_eq!(linted.inventory.object(e.object).kind, "OpsRequest");
    assert_eq!(e.pointer, "/spec/reconfigures/0/parameters/0/value");
    assert_eq!(e.pos.map(|p| p.line), Some(31));
    assert!(
        e.message.contains("34359738368 B (32.0 GiB) is 100%"),
        "{}",
        e.message
    );
}

/// The recommended shape: maxmemory = request, limit 3 × request: no maxmemory finding.
#[test]
fn recommended_case_gives_no_memory_finding() {
    let linted = lint_text(&kubeblocks("16Gi", "48Gi", "17179869184"));
    let memory: Vec<_> = linted
        .outcome
        .findings
        .iter()
        .filter(|f| f.rule.starts_with("redis-maxmemory") || f.rule.starts_with("redis-memory"))
        .collect();
    assert!(memory.is_empty(), "{memory:#?}");
}

/// Configuration and annotations change what is reported.
#[test]
fn configuration_and_exemptions() {
    let text = expand(&fixtures().join("redis-pdb-missing/fail.yaml"));
    let count = |text: &str, settings: &Settings| {
        let source = load_yaml("input.yaml", text.to_string(), &Limits::default());
        lint(vec![source], &Options::default(), settings)
            .outcome
            .findings
            .iter()
            .filter(|f| f.rule == "redis-pdb-missing")
            .count()
    };
    assert_eq!(count(&text, &Settings::default()), 1);

    let config = redline::settings::parse(
        "c.yaml",
        "rules:\n  redis-pdb-missing:\n    exclude_namespaces: [\"ca*\"]\n",
    )
    .unwrap();
    assert_eq!(
        count(&text, &config.settings),
        0,
        "namespace cache is excluded"
    );
    let config = redline::settings::parse(
        "c.yaml",
        "rules:\n  redis-pdb-missing:\n    namespaces: [prod]\n",
    )
    .unwrap();
    assert_eq!(count(&text, &config.settings), 0, "only namespace prod");
    let config = redline::settings::parse(
        "c.yaml",
        "rules:\n  redis-pdb-missing:\n    enabled: false\n",
    )
    .unwrap();
    assert_eq!(count(&text, &config.settings), 0);

    let annotated = text.replace(
        "  name: redis\n  namespace: cache\nspec:",
        "  name: redis\n  namespace: cache\n  annotations:\n    redline.dev/ignore: \
         \"redis-pdb-missing: PDBs live in the platform repo\"\nspec:",
    );
    assert_ne!(annotated, text);
    let source = load_yaml("input.yaml", annotated.clone(), &Limits::default());
    let linted = lint(vec![source], &Options::default(), &Settings::default());
    assert!(
        linted
            .outcome
            .findings
            .iter()
            .all(|f| f.rule != "redis-pdb-missing")
    );
    let s = &linted.outcome.suppressed;
    assert_eq!(s.len(), 1);
    assert_eq!(
        s[0].reason.as_deref(),
        Some("PDBs live in the platform repo")
    );

    let strict = Settings {
        annotation_exemptions: false,
        ..Settings::default()
    };
    assert_eq!(count(&annotated, &strict), 1, "--no-annotation-exemptions");
}

/// Generated objects land where the workload does and select what stays stable: no
/// `namespace: default` for a manifest that has none (it is applied with `-n`), and the
/// workload's own selector rather than pod labels such as `chart: redis-10.5.6`.
#[test]
fn generated_objects_take_the_workloads_namespace_and_selector() {
    let text = "\
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: redis-replicas}
spec:
  replicas: 3
  selector:
    matchLabels: {app: redis, release: r}
  template:
    metadata:
      labels: {app: redis, release: r, chart: redis-10.5.6, role: replica}
    spec:
      containers:
        - name: redis
          image: redis:7.4.1
          args: [--replicaof, redis-master, '6379', --requirepass, $(REDIS_PASSWORD)]
          env:
            - name: REDIS_PASSWORD
              valueFrom: {secretKeyRef: {name: redis, key: password}}
";
    let linted = lint_text(text);
    let pdb = of_rule(&linted, "redis-pdb-missing");
    assert_eq!(pdb.len(), 1);
    assert!(
        pdb[0].message.contains("several of its replicas"),
        "{}",
        pdb[0].message
    );
    let Some(FixEdit::Manifest(manifest)) = pdb[0].fix.as_ref().map(|f| &f.edit) else {
        panic!("a manifest: {:?}", pdb[0].fix);
    };
    assert_eq!(
        manifest["metadata"],
        serde_json::json!({"name": "redis-replicas"})
    );
    assert_eq!(
        manifest["spec"]["selector"],
        serde_json::json!({"matchLabels": {"app": "redis", "release": "r"}})
    );
    let anti = of_rule(&linted, "redis-anti-affinity-missing");
    assert_eq!(anti.len(), 1);
    assert!(
        anti[0].message.contains("several of its replicas"),
        "{}",
        anti[0].message
    );
    let patched = patched(&linted, "redis-anti-affinity-missing").unwrap();
    let term = &patched[0]["spec"]["template"]["spec"]["affinity"]["podAntiAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
        [0];
    assert_eq!(
        term["labelSelector"],
        serde_json::json!({"matchLabels": {"app": "redis", "release": "r"}})
    );
}

/// The memory rules plan together: on a Deployment with no maxmemory whose limit is below
/// 2.5 × its request, `lint` lists both steps in order and `fix` leaves nothing; on a
/// KubeBlocks component, the headroom and request-ratio rules ask for one and the same
/// Reconfiguring OpsRequest.
#[test]
fn memory_fixes_agree_on_one_plan() {
    let deployment = "\
apiVersion: apps/v1
kind: Deployment
metadata: {name: cart}
spec:
  selector: {matchLabels: {app: cart}}
  template:
    metadata: {labels: {app: cart}}
    spec:
      containers:
        - name: redis
          image: redis:7.4.1
          resources:
            requests: {memory: 200Mi}
            limits: {memory: 256Mi}
";
    let linted = lint_text(deployment);
    let unset = of_rule(&linted, "redis-maxmemory-unset");
    assert!(
        unset[0]
            .message
            .contains("(192.0 MiB)); then raise the limit to 500Mi"),
        "{}",
        unset[0].message
    );
    assert_eq!(of_rule(&linted, "redis-memory-request-ratio").len(), 1);
    let rules: [String; 0] = [];
    let run = redline::fix::fix(
        vec![load_yaml(
            "input.yaml",
            deployment.to_string(),
            &Limits::default(),
        )],
        &Options::default(),
        &Settings::default(),
        &redline::fix::FixOptions::new(&rules),
        &Limits::default(),
    );
    let fixed = &run.files[0].fixed;
    assert!(
        fixed.contains("--maxmemory") && fixed.contains("192mb"),
        "{fixed}"
    );
    assert!(fixed.contains("memory: 500Mi"), "{fixed}");
    let after = lint_text(fixed);
    for rule in [
        "redis-maxmemory-unset",
        "redis-maxmemory-headroom",
        "redis-memory-request-ratio",
    ] {
        assert!(
            of_rule(&after, rule).is_empty(),
            "{rule} after fix: {fixed}"
        );
    }

    // maxmemory derived as 0.8 × a limit equal to the request: both rules pin it once.
    let cluster = "\
apiVersion: apps.kubeblocks.io/v1
kind: Cluster
metadata: {name: c, namespace: default}
spec:
  clusterDef: redis
  topology: replication
  componentSpecs:
    - name: redis
      replicas: 2
      resources:
        requests: {memory: 1Gi}
        limits: {memory: 1Gi}
";
    let linted = lint_text(cluster);
    let manifest = |id| match of_rule(&linted, id)[0].fix.as_ref().map(|f| &f.edit) {
        Some(FixEdit::Manifest(m)) => m.clone(),
        other => panic!("{id}: {other:?}"),
    };
    let headroom = manifest("redis-maxmemory-headroom");
    assert_eq!(headroom, manifest("redis-memory-request-ratio"));
    assert_eq!(
        headroom["spec"]["reconfigures"][0]["parameters"][0]["value"],
        "805306368"
    );
}

/// The piece the scaffold's fixture stubs start from is clean: no rule reports it, so a new
/// rule's first finding on it is the rule's own.
#[test]
fn the_scaffolds_starting_piece_gives_no_finding() {
    let text = expand(&fixtures().join(PIECES).join("redis-statefulset.yaml"));
    let linted = lint_text(&text);
    assert!(!linted.has_load_errors(), "{:?}", linted.load_findings);
    assert_eq!(linted.inventory.deployments.len(), 1);
    assert!(
        linted.outcome.findings.is_empty(),
        "{:#?}",
        linted.outcome.findings
    );
}

/// README.md's rule count is the registry's: a test, not a hand count.
#[test]
fn the_readme_counts_the_rules_of_the_registry() {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let said = readme
        .split("| rule engine, ")
        .nth(1)
        .and_then(|rest| rest.split(" rules").next())
        .unwrap_or_else(|| panic!("README.md's status table has no `| rule engine, N rules`"));
    assert_eq!(
        said,
        rules::all().len().to_string(),
        "README.md says {said} rules"
    );
}

/// The memory budget is the picture of what `redis-maxmemory-headroom` judges: for every
/// finding of that rule in its cases, the budget of the deployment judged holds the
/// maxmemory and limit the message states, a fork copy of the whole maxmemory exactly when
/// the message says it forks (0 when it says the server never forks), and, in a buffer
/// finding, the replica buffers (and their sum with maxmemory) it states.
#[test]
fn the_memory_budget_holds_what_the_headroom_rule_says() {
    use redline::rules::facts::bytes;
    let mut checked = 0;
    for case in cases("redis-maxmemory-headroom").unwrap() {
        let linted = lint_case(&case);
        for f in &linted.outcome.findings {
            if f.rule != "redis-maxmemory-headroom" {
                continue;
            }
            let d = f.deployment.expect("a deployment's finding");
            let budgets = redline::engine::budgets(&linted.inventory);
            let b = &budgets
                .iter()
                .find(|b| b.deployment == d)
                .unwrap_or_else(|| panic!("no budget for {}: {}", case.file, f.message))
                .memory;
            let (m, limit) = (b.maxmemory_bytes.unwrap(), b.limit_bytes.unwrap());
            let at = format!("{}: {} ({b:?})", case.file, f.message);
            assert!(
                f.message.contains(&format!("maxmemory {}", bytes(m))),
                "{at}"
            );
            assert!(f.message.contains(&format!("= {}", bytes(limit))), "{at}");
            if f.message.contains("replica output buffers up to") {
                let r = b.replica_buffers_bytes.expect(&at);
                assert!(f.message.contains(&format!("up to {}", bytes(r))), "{at}");
                assert!(f.message.contains(&format!(") = {}", bytes(m + r))), "{at}");
            } else if f.message.contains("replica output buffers without a bound") {
                assert_eq!(b.replica_buffers_bytes, None, "{at}");
                assert_eq!(b.headroom_bytes, None, "{at}");
            } else if f.message.contains("(it forks (") {
                assert!(b.fork_reason.is_some_and(|r| f.message.contains(r)), "{at}");
                assert_eq!(b.fork_copy_bytes, Some(m), "{at}");
            } else {
                assert_eq!(b.fork_reason, None, "{at}");
                assert_eq!(b.fork_copy_bytes, Some(0), "{at}");
            }
            checked += 1;
        }
    }
    assert!(checked >= 30, "only {checked} findings checked");
}

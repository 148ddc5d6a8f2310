//! What each fuzz target checks, beyond "no panic, no hang, no runaway memory". One file,
//! compiled into the fuzz targets (`fuzz_targets/*.rs`) and into the regression test
//! `tests/fuzz_regressions.rs`, which replays every input kept in `tests/fixtures/fuzz/`.

#![allow(dead_code)] // each fuzz target uses one of these

use base64::Engine as _;
use redline::engine::Settings;
use redline::extract::Options;
use redline::fix::{FixOptions, fix};
use redline::lint::lint;
use redline::redisconf::{ConfigFiles, Location, ReadOptions, RedisConfig};
use redline::report::{Format, Report, Style, render};
use redline::source::{Limits, load_yaml};
use redline::units::quantity::Quantity;
use redline::units::redis::parse_memory;
use redline::webhook::lookups::NoLookups;
use redline::webhook::review::{Hook, Policy, request_for, review};
use serde_json::Value;

/// ConfigMap `data` values are UTF-8 strings; other bytes cannot reach the reader.
fn text(data: &[u8]) -> Option<&str> {
    std::str::from_utf8(data).ok()
}

/// The redis.conf reader, as a file and as a command line, with `include`s resolvable (the
/// file may include itself), and every accessor the rules use.
pub fn redis_conf(data: &[u8]) {
    let Some(conf) = text(data) else { return };
    let path = "/etc/redis/redis.conf";
    let from_file = RedisConfig::from_text(path, conf);
    check_config(&from_file, &[conf]);

    let mut files = ConfigFiles::new();
    files.insert(path, conf);
    files.insert("/data/extra.conf", conf);
    let mut argv = vec![path.to_string()];
    argv.extend(conf.split('\n').map(str::to_string));
    let from_argv = RedisConfig::from_argv(&argv, &files, &ReadOptions::default());
    check_config(&from_argv, &[conf]);

    for word in conf.split_whitespace().take(64) {
        if let Ok(v) = parse_memory(word) {
            // memtoull's digits times the unit: never more than the digits' own value can
            // produce without the wrap it reports.
            if v.accident.is_none() {
                assert!(v.bytes == 0 || word.bytes().any(|b| b.is_ascii_digit()));
            }
        }
    }
}

fn check_config(cfg: &RedisConfig, files: &[&str]) {
    let max_lines = files
        .iter()
        .map(|f| f.lines().count() + 1)
        .max()
        .unwrap_or(1);
    for line in cfg.lines() {
        assert!(!line.locations.is_empty(), "a line without a location");
        for loc in &line.locations {
            if let Location::File { line, column, .. } = loc {
                assert!(*line >= 1 && *column >= 1, "positions are 1-based: {loc}");
                assert!(
                    *line as usize <= max_lines,
                    "{loc} is past the end of the file"
                );
            }
        }
        let _ = line.arg_location(line.args.len());
    }
    for error in cfg.errors() {
        let shown = error.to_string();
        assert!(!shown.is_empty());
    }
    let _ = (
        cfg.starts(),
        cfg.maxmemory_bytes(),
        cfg.maxmemory_policy(),
        cfg.appendonly(),
        cfg.cluster_enabled(),
        cfg.repl_backlog_bytes(),
        cfg.save_points(),
        cfg.save_is_default(),
        cfg.replicaof(),
        cfg.bind(),
        cfg.has_requirepass(),
        cfg.renamed_commands().count(),
        cfg.config_get("maxmemory"),
        cfg.config_get("save"),
        cfg.config_get("client-output-buffer-limit"),
    );
}

/// The Quantity parser: what parses has a canonical spelling that parses to the same value
/// (the round trip `kubectl get -o yaml` relies on), and the byte view agrees with the value.
pub fn quantity(data: &[u8]) {
    let Some(input) = text(data) else { return };
    let Ok(q) = Quantity::parse(input) else {
        return;
    };
    if let Some(canonical) = q.canonical() {
        let again = Quantity::parse(&canonical).unwrap_or_else(|e| {
            panic!("{input:?} → canonical {canonical:?} does not parse: {e:?}")
        });
        assert_eq!(
            q.cmp_value(&again),
            std::cmp::Ordering::Equal,
            "{input:?} → {canonical:?} changes the value"
        );
        assert_eq!(
            again.canonical().as_deref(),
            Some(canonical.as_str()),
            "{input:?}"
        );
    }
    match (q.value(), q.bytes()) {
        (Some(v), Some(b)) => assert_eq!(v, i128::from(b)),
        (Some(v), None) => assert!(v < 0 || v > i128::from(u64::MAX)),
        (None, b) => assert!(b.is_none()),
    }
    if q.is_negative() {
        assert!(q.bytes().is_none_or(|b| b == 0), "{input:?}");
    }
}

/// Loading, extraction, every rule, every report format, and `fix`: a file that loaded
/// still loads after its fixes, and every finding's line is inside the file.
pub fn yaml_lint(data: &[u8]) {
    let Some(input) = text(data) else { return };
    let limits = Limits::default();
    let opts = Options::default();
    let settings = Settings::default();
    let source = load_yaml("fuzz.yaml", input.to_string(), &limits);
    let lines = input.lines().count() as u32 + 1;
    let loaded = !source.diagnostics.iter().any(|d| d.error);
    let linted = lint(vec![source], &opts, &settings);
    for finding in &linted.outcome.findings {
        if let Some(pos) = finding.pos {
            assert!(
                pos.line >= 1 && pos.line <= lines,
                "{}: line {}",
                finding.rule,
                pos.line
            );
            assert!(
                pos.offset <= input.len(),
                "{}: offset {}",
                finding.rule,
                pos.offset
            );
        }
    }
    {
        let report = Report::new(&linted);
        let style = Style {
            color: false,
            fail_on: None,
        };
        for format in [
            Format::Human,
            Format::Json,
            Format::Sarif,
            Format::Junit,
            Format::Github,
            Format::Html,
        ] {
            let _ = render(&report, format, style);
        }
    }
    let run = fix(
        vec![load_yaml("fuzz.yaml", input.to_string(), &limits)],
        &opts,
        &settings,
        &FixOptions::new(&[]),
        &limits,
    );
    for file in &run.files {
        if loaded && file.changed() {
            let again = load_yaml("fuzz.yaml", file.fixed.clone(), &limits);
            if let Some(d) = again.diagnostics.iter().find(|d| d.error) {
                panic!(
                    "fix broke a file that loaded: {} {}\n--- before\n{}\n--- after\n{}",
                    d.pos, d.message, file.original, file.fixed
                );
            }
        }
    }
}

/// One AdmissionReview body through both hooks. The input is the body itself and, when it
/// is a JSON or YAML object rather than a review, that object wrapped in a CREATE review
/// (how tenant content reaches the webhook). An answer echoes the uid; a patch is base64 of
/// a JSON Patch that applies to the object.
pub fn admission_review(data: &[u8]) {
    answer(data);
    if let Some(object) = as_object(data)
        && object.get("kind").is_some_and(|k| k != "AdmissionReview")
    {
        let body = request_for("fuzz", "CREATE", &object, None);
        answer(&serde_json::to_vec(&body).expect("a Value serializes"));
    }
}

fn as_object(data: &[u8]) -> Option<Value> {
    if let Ok(v @ Value::Object(_)) = serde_json::from_slice::<Value>(data) {
        return Some(v);
    }
    let input = text(data)?;
    let source = load_yaml("fuzz.yaml", input.to_string(), &Limits::default());
    let doc = source.documents.first()?;
    match doc.root.to_json() {
        v @ Value::Object(_) => Some(v),
        _ => None,
    }
}

fn answer(body: &[u8]) {
    let sent: Option<Value> = serde_json::from_slice(body).ok();
    for hook in [Hook::Validate, Hook::Mutate] {
        let Ok((response, decision)) = review(body, hook, &Policy::default(), &NoLookups) else {
            continue;
        };
        let uid = sent
            .as_ref()
            .and_then(|s| s.pointer("/request/uid"))
            .and_then(Value::as_str)
            .unwrap_or_default();
        assert_eq!(
            response.pointer("/response/uid").and_then(Value::as_str),
            Some(uid)
        );
        assert_eq!(decision.uid, uid);
        let allowed = response
            .pointer("/response/allowed")
            .and_then(Value::as_bool);
        assert!(allowed.is_some(), "no `allowed` in {response}");
        if let Some(patch) = response.pointer("/response/patch") {
            assert_eq!(hook, Hook::Mutate, "validate answered with a patch");
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(patch.as_str().expect("the patch is a base64 string"))
                .expect("the patch is valid base64");
            let patch: json_patch::Patch =
                serde_json::from_slice(&bytes).expect("the patch is an RFC 6902 document");
            let mut object = sent
                .as_ref()
                .and_then(|s| s.pointer("/request/object"))
                .cloned()
                .expect("a patch for a request with an object");
            if let Err(e) = json_patch::patch(&mut object, &patch) {
                panic!(
                    "the patch does not apply: {e}\n{}",
                    String::from_utf8_lossy(&bytes)
                );
            }
        }
    }
}

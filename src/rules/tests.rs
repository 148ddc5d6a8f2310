//! The registry's own consistency: every rule has its YAML, its module, a doc comment that
//! `explain` can print, and typed parameters that are the ones its YAML declares.

use super::{MODULES, ParamValue, Parameters, all};

#[test]
fn registry_is_consistent() {
    let rules = all();
    assert_eq!(rules.len(), MODULES.len());
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/rules");
    let files: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        files.len(),
        rules.len(),
        "rules/ holds a YAML file per rule: {files:?}"
    );
    for ((module, id), rule) in MODULES.iter().zip(rules) {
        assert_eq!(rule.id(), *id);
        assert_eq!(module.replace('_', "-"), *id, "module name is the ID");
        assert!(
            rule.doc.starts_with(&format!("## {id}\n")),
            "{id}: the doc comment starts with its ID"
        );
        assert!(rule.doc.len() > 200, "{id}: explain text is too short");
        assert!(!rule.meta.summary.is_empty() && !rule.meta.rationale.is_empty());
        assert!(
            rule.meta.sources.iter().all(|s| s.starts_with("https://")),
            "{id}: sources are links"
        );
        for (name, spec) in &rule.meta.parameters {
            spec.check(&spec.default)
                .unwrap_or_else(|e| panic!("{id}: default of {name}: {e}"));
        }
    }
    let mut ids: Vec<&str> = rules.iter().map(|r| r.id()).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), rules.len(), "IDs are unique");
}

/// A rule's parameter struct and its YAML name the same parameters with the same types: the
/// defaults deserialize into the struct (it denies unknown fields and has no serde defaults,
/// so a name on one side only fails), read back equal, and every value a string parameter
/// allows is accepted. The code reads fields, so a misspelled name does not compile.
#[test]
fn typed_parameters_match_their_yaml() {
    let parameters = Parameters::default();
    for rule in all() {
        let id = rule.id();
        let typed = parameters
            .of(id)
            .unwrap_or_else(|| panic!("{id}: no parameters"));
        let fields = typed.as_object().unwrap_or_else(|| panic!("{id}: {typed}"));
        let declared: Vec<&String> = rule.meta.parameters.keys().collect();
        let mut named: Vec<&String> = fields.keys().collect();
        named.sort();
        assert_eq!(
            named, declared,
            "{id}: the struct's fields are the YAML's parameters"
        );
        for (name, spec) in &rule.meta.parameters {
            let read: ParamValue = serde_json::from_value(fields[name].clone()).unwrap();
            assert_eq!(
                read, spec.default,
                "{id}.{name}: the struct holds the YAML's default"
            );
            let mut p = parameters.clone();
            p.set(id, name, &spec.default)
                .unwrap_or_else(|e| panic!("{id}.{name}: {e}"));
            for value in spec.values.iter().flatten() {
                p.set(id, name, &ParamValue::Text(value.clone()))
                    .unwrap_or_else(|e| panic!("{id}.{name} = {value}: {e}"));
            }
        }
    }
}

/// What `Parameters::set` refuses: a name the rule does not have, a value of the wrong type,
/// a fraction for a whole number, a string the enum does not name, an unknown rule.
#[test]
fn parameters_refuse_what_does_not_fit() {
    let mut p = Parameters::default();
    let number = ParamValue::Number(0.7);
    let cases = [
        (
            "redis-maxmemory-headroom",
            "fork_ratoi",
            number.clone(),
            "unknown field `fork_ratoi`",
        ),
        (
            "redis-maxmemory-headroom",
            "fork_ratio",
            ParamValue::Bool(true),
            "invalid type: boolean",
        ),
        (
            "redis-liveness-probe-timeout",
            "min_timeout_seconds",
            ParamValue::Number(5.5),
            "floating point `5.5`",
        ),
        (
            "redis-memory-request-ratio",
            "mode",
            ParamValue::Text("raise".into()),
            "unknown variant `raise`",
        ),
        (
            "redis-no-auth-exposed",
            "ratio",
            number.clone(),
            "unknown field `ratio`",
        ),
        ("redis-maxmemory-headroon", "ratio", number, "unknown rule"),
    ];
    for (id, name, value, expected) in cases {
        let e = p.set(id, name, &value).unwrap_err();
        assert!(e.contains(expected), "{id}.{name}: {e}");
    }
    p.set(
        "redis-liveness-probe-timeout",
        "min_timeout_seconds",
        &ParamValue::Number(7.0),
    )
    .unwrap();
    assert_eq!(p.redis_liveness_probe_timeout.min_timeout_seconds, 7);
    p.set(
        "redis-memory-request-ratio",
        "mode",
        &ParamValue::Text("off".into()),
    )
    .unwrap();
    assert_eq!(
        p.redis_memory_request_ratio.mode,
        super::redis_memory_request_ratio::Mode::Off
    );
}

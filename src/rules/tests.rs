//! The registry's own consistency: every rule has its YAML, its module, a doc comment that
//! `explain` can print, and parameters its code reads.

use super::{MODULES, all};

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

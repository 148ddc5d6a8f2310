//! SARIF 2.1.0, for GitHub code scanning and other SARIF viewers: every rule with its help
//! text (what `redline explain` prints), results with real `startLine`/`startColumn`,
//! exempted findings as results with an in-source suppression, and a fingerprint that
//! survives lines moving (rule, object, field), so a viewer tracks a finding across commits.
//! A fix that `redline fix` would write in place is also a SARIF `fix`: the byte edits as
//! replacements (character offsets, like our columns), checked as `fix` checks them.

use serde_json::{Value, json};

use super::{Item, Report, subject};
use crate::patch;
use crate::rules::{self, Severity};

const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";

fn level(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "note",
    }
}

pub fn render(report: &Report) -> String {
    let all = rules::all();
    let rules: Vec<Value> = all
        .iter()
        .map(|r| {
            json!({
                "id": r.id(),
                "name": r.id(),
                "shortDescription": {"text": r.meta.summary},
                "fullDescription": {"text": r.meta.rationale.trim()},
                "help": {"text": r.doc, "markdown": r.doc},
                "defaultConfiguration": {"level": level(r.meta.severity)},
                "properties": {"sources": r.meta.sources},
            })
        })
        .collect();
    let index = |id: &str| all.iter().position(|r| r.id() == id);
    let cx = Cx {
        verified: verified(report),
        report,
        ascii_until: report
            .linted
            .sources
            .iter()
            .map(|s| {
                let first = s.text.bytes().position(|b| !b.is_ascii());
                (s.name.as_str(), first.unwrap_or(s.text.len()))
            })
            .collect(),
        sources: report
            .linted
            .sources
            .iter()
            .map(|s| (s.name.as_str(), s))
            .collect(),
    };
    let mut results: Vec<Value> = report
        .items
        .iter()
        .map(|i| result(&cx, i, index(i.rule)))
        .collect();
    results.extend(report.exempted.iter().map(|e| {
        let mut r = result(&cx, &e.item, index(e.item.rule));
        let mut suppression = json!({"kind": "inSource", "status": "accepted"});
        if let Some(reason) = e.reason {
            suppression["justification"] = json!(reason);
        }
        r["suppressions"] = json!([suppression]);
        r
    }));
    let sarif = json!({
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "redline",
                "version": env!("CARGO_PKG_VERSION"),
                "semanticVersion": env!("CARGO_PKG_VERSION"),
                "rules": rules,
            }},
            // Our columns count characters, as a viewer of the file shows them.
            "columnKind": "unicodeCodePoints",
            "invocations": [{"executionSuccessful": true}],
            "results": results,
        }],
    });
    let mut out = serde_json::to_string_pretty(&sarif).expect("plain data serializes");
    out.push('\n');
    out
}

/// The objects whose patch fixes (of reported and exempted findings) pass `fix`'s check
/// applied all together, checked once per object.
fn verified(report: &Report) -> std::collections::HashSet<crate::model::ObjectId> {
    use std::collections::HashMap;
    let linted = report.linted;
    let mut by_object: HashMap<crate::model::ObjectId, Vec<&patch::Fix>> = HashMap::new();
    for item in report
        .items
        .iter()
        .chain(report.exempted.iter().map(|e| &e.item))
    {
        if let Some(fix) = item.fix
            && let patch::FixEdit::Patch { object, ops } = &fix.edit
        {
            let fixes = by_object.entry(*object).or_default();
            let same = |f: &&patch::Fix| matches!(&f.edit, patch::FixEdit::Patch { ops: o, .. } if o == ops);
            if !fixes.iter().any(same) {
                fixes.push(fix);
            }
        }
    }
    let limits = crate::source::Limits::default();
    let sources: HashMap<&str, &crate::source::SourceFile> = linted
        .sources
        .iter()
        .map(|s| (s.name.as_str(), s))
        .collect();
    by_object
        .into_iter()
        .filter(|(object, fixes)| {
            let o = linted.inventory.object(*object);
            let Some(source) = o.file.as_deref().and_then(|n| sources.get(n)) else {
                return false;
            };
            if source.text.len() > FIX_CHECK_MAX_BYTES {
                return false;
            }
            let planned: Option<Vec<(&[patch::PatchOp], Vec<crate::fix::edit::TextEdit>)>> = fixes
                .iter()
                .map(|f| {
                    let patch::FixEdit::Patch { ops, .. } = &f.edit else {
                        return None;
                    };
                    Some((
                        ops.as_slice(),
                        crate::fix::edits_unchecked(source, &o.root, f)?,
                    ))
                })
                .collect();
            planned
                .is_some_and(|p| crate::fix::check_together(linted, source, *object, &p, &limits))
        })
        .map(|(object, _)| object)
        .collect()
}

/// The report, and per file the offset of its first non-ASCII byte: below it a byte offset
/// is a character offset (computed once: counting per fix made a large file quadratic).
struct Cx<'r> {
    report: &'r Report<'r>,
    /// Objects whose fixes were checked all together: their edits need no check of their own.
    verified: std::collections::HashSet<crate::model::ObjectId>,
    ascii_until: std::collections::HashMap<&'r str, usize>,
    sources: std::collections::HashMap<&'r str, &'r crate::source::SourceFile>,
}

fn result(cx: &Cx, item: &Item, rule_index: Option<usize>) -> Value {
    let mut text = item.message.to_string();
    if let Some(fix) = item.fix {
        text.push_str("\nFix: ");
        text.push_str(&fix.description);
    }
    let mut physical = json!({"artifactLocation": {"uri": uri(&item.file)}});
    if let (Some(line), Some(column)) = (item.line, item.column) {
        let mut region = json!({"startLine": line, "startColumn": column});
        // The snippet is the region's exact text, so a long line (one-line JSON) gets none
        // rather than repeating the whole line in every result.
        if let Some(snippet) = item.snippet.filter(|s| s.len() <= 400) {
            region["snippet"] = json!({"text": snippet});
        }
        physical["region"] = region;
    }
    let mut location = json!({"physicalLocation": physical});
    if let Some(o) = item.object {
        location["logicalLocations"] = json!([{
            "name": o.name,
            "fullyQualifiedName": format!("{}{}", subject(item), item.path),
            "kind": "resource",
        }]);
    }
    let mut r = json!({
        "ruleId": item.rule,
        "level": level(item.severity),
        "message": {"text": text},
        "locations": [location],
        "partialFingerprints": {
            "redlineFinding/v1": fingerprint(&[item.rule, &subject(item), item.path]),
        },
    });
    if let Some(i) = rule_index {
        r["ruleIndex"] = json!(i);
    }
    if let Some(fix) = item.fix.and_then(|f| sarif_fix(cx, f)) {
        r["fixes"] = json!([fix]);
    }
    r
}

/// Each SARIF fix is checked by re-reading its whole file; beyond this size (a bundle of
/// rendered charts) that costs more than the lint itself, and results carry the fix's
/// description only (`redline fix --diff` shows the edits).
const FIX_CHECK_MAX_BYTES: usize = 4 << 20;

/// The fix as SARIF `artifactChanges`, when it is an edit of a file (not of standard input,
/// not a manifest) that `fix` would write.
fn sarif_fix(cx: &Cx, fix: &patch::Fix) -> Option<Value> {
    let report = cx.report;
    let patch::FixEdit::Patch { object, .. } = &fix.edit else {
        return None;
    };
    let name = report.linted.inventory.object(*object).file.as_deref()?;
    let source = *cx.sources.get(name)?;
    if source.text.len() > FIX_CHECK_MAX_BYTES || name == crate::input::STDIN {
        return None;
    }
    let limits = crate::source::Limits::default();
    let edits = if cx.verified.contains(object) {
        let root = &report.linted.inventory.object(*object).root;
        crate::fix::edits_unchecked(source, root, fix)?
    } else {
        crate::fix::edits_of(report.linted, source, fix, &limits)?
    };
    let file = name.to_string();
    let text = &source.text;
    let ascii_until = cx.ascii_until.get(file.as_str()).copied().unwrap_or(0);
    // SARIF counts characters.
    let chars = |a: usize, b: usize| {
        let part = text.get(a..b)?;
        Some(if b <= ascii_until {
            b - a
        } else {
            part.chars().count()
        })
    };
    let start_chars = |at: usize| {
        let prefix = text.get(..at)?;
        Some(if at <= ascii_until {
            at
        } else {
            prefix.chars().count()
        })
    };
    let replacements: Option<Vec<Value>> = edits
        .iter()
        .map(|e| {
            Some(json!({
                "deletedRegion": {
                    "charOffset": start_chars(e.start)?,
                    "charLength": chars(e.start, e.end)?,
                },
                "insertedContent": {"text": e.text},
            }))
        })
        .collect();
    Some(json!({
        "description": {"text": fix.description},
        "artifactChanges": [{
            "artifactLocation": {"uri": uri(&file)},
            "replacements": replacements?,
        }],
    }))
}

/// A relative path stays relative (resolved against the repository root by viewers); an
/// absolute one becomes a `file://` URI. Characters outside RFC 3986's unreserved set and
/// `/` are percent-encoded (`<stdin>` → `%3Cstdin%3E`).
fn uri(path: &str) -> String {
    let path = path.replace('\\', "/");
    let scheme = if path.starts_with('/') { "file://" } else { "" };
    format!("{scheme}{}", crate::input::uri_path(path.as_bytes()))
}

/// FNV-1a, 64 bits, hex: stable across builds and platforms (std's hasher is not
/// guaranteed to be).
fn fingerprint(parts: &[&str]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for b in part.bytes().chain([0]) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    format!("{h:016x}")
}

#[cfg(test)]
mod tests {
    use super::{fingerprint, uri};

    #[test]
    fn uris_are_encoded() {
        assert_eq!(uri("examples/a b.yaml"), "examples/a%20b.yaml");
        assert_eq!(uri("<stdin>"), "%3Cstdin%3E");
        assert_eq!(uri("/abs/x.yaml"), "file:///abs/x.yaml");
    }

    #[test]
    fn fingerprints_are_stable() {
        // FNV-1a of "a\0" is fixed by the algorithm; a change here breaks viewers' tracking.
        assert_eq!(fingerprint(&["a"]), "089be207b544f1e4");
        assert_ne!(fingerprint(&["ab", "c"]), fingerprint(&["a", "bc"]));
    }
}

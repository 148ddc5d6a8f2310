//! What a judged review answers: the denial or warnings of a validation, the patch of a
//! mutation, each capped to what the API server accepts.

use super::*;

pub(super) fn validate(
    allow: AdmissionResponse,
    judged: &Judged,
    old_errors: &HashSet<(&'static str, String)>,
    decision: &mut Decision,
) -> AdmissionResponse {
    let denied: Vec<&Finding> = judged
        .reviewed()
        .filter(|f| f.severity == Severity::Error)
        .filter(|f| !old_errors.contains(&(f.rule, judged.field(f))))
        .collect();
    let warned: Vec<&Finding> = judged
        .reviewed()
        .filter(|f| f.severity == Severity::Warning)
        .collect();
    for f in denied.iter().chain(&warned) {
        if !decision.rules.contains(&f.rule) {
            decision.rules.push(f.rule);
        }
    }
    decision.denied = denied.len();
    let message = capped(
        denied.iter().map(|f| {
            let fix = f
                .fix
                .as_ref()
                .map(|x| format!(" Fix: {}.", x.description))
                .unwrap_or_default();
            format!("[{}] {}: {}.{fix}", f.rule, judged.field(f), f.message)
        }),
        denied.len(),
        DENIAL_MAX_CHARS,
        |left| format!("… and {left} more findings (`redline lint` on the object lists them all)."),
    );
    let warnings = capped_warnings(
        warned
            .iter()
            .map(|f| format!("redline {}: {}: {}", f.rule, judged.field(f), f.message)),
        warned.len(),
    );
    let mut response = if denied.is_empty() {
        allow
    } else {
        decision.outcome = "denied";
        allow.deny(format!("redline: {}", message.join(" ")))
    };
    if !warnings.is_empty() {
        if decision.outcome == "allowed" {
            decision.outcome = "warned";
        }
        response.warnings = Some(warnings);
    }
    response
}

/// As many of `items` (of `total`) as fit in `max_chars`, then `more(left)` naming how many
/// did not: the answer stays small whatever the object holds, and says what it left out.
pub(super) fn capped(
    items: impl Iterator<Item = String>,
    total: usize,
    max_chars: usize,
    more: impl Fn(usize) -> String,
) -> Vec<String> {
    let mut out = Vec::new();
    let mut used = 0;
    for item in items {
        let chars = item.chars().count() + 1;
        let left = total - out.len();
        // Room for the last line unless this item is the last.
        let reserve = if left > 1 {
            more(left - 1).chars().count() + 1
        } else {
            0
        };
        if used + chars + reserve > max_chars {
            out.push(more(left));
            return out;
        }
        used += chars;
        out.push(item);
    }
    out
}

/// Warnings each within the API server's item limit and together within its total.
pub(super) fn capped_warnings(items: impl Iterator<Item = String>, total: usize) -> Vec<String> {
    capped(
        items.map(|w| truncate(&w)),
        total,
        WARNINGS_MAX_CHARS,
        |left| {
            format!(
                "redline: … and {left} more warnings (`redline lint` on the object lists them all)"
            )
        },
    )
}

pub(super) fn truncate(s: &str) -> String {
    if s.chars().count() <= WARNING_MAX_CHARS {
        return s.to_string();
    }
    let mut out: String = s.chars().take(WARNING_MAX_CHARS - 1).collect();
    out.push('…');
    out
}

/// The mutating rules' fixes on the reviewed object, as one patch that applies to it, of at
/// most [`PATCH_MAX_BYTES`]; checked against `budget` per fix.
pub(super) fn mutate(
    allow: AdmissionResponse,
    object: &Value,
    outcome: &Outcome,
    decision: &mut Decision,
    budget: &Budget,
) -> Result<AdmissionResponse, Stop> {
    let mut patched = object.clone();
    let mut ops: Vec<PatchOp> = Vec::new();
    let mut patch_bytes = 0;
    let mut left_out = 0;
    let mut touched = Touched::default();
    let mut rules: Vec<&'static str> = Vec::new();
    for f in outcome.findings.iter().filter(|f| f.mutate) {
        budget.check()?;
        let Some(FixEdit::Patch {
            object: id,
            ops: fix_ops,
        }) = f.fix.as_ref().map(|x| &x.edit)
        else {
            continue;
        };
        // Only the reviewed object can be patched; a fix touching a field an earlier fix
        // changed waits for the API server's reinvocation (`reinvocationPolicy: IfNeeded`).
        if id.0 != 0 || touched.overlaps(fix_ops) {
            continue;
        }
        let Ok(patch) = to_json_patch(fix_ops) else {
            continue;
        };
        let bytes = serde_json::to_vec(&patch).map_or(usize::MAX, |b| b.len());
        if patch_bytes + bytes > PATCH_MAX_BYTES {
            left_out += 1;
            continue;
        }
        // `json_patch::patch` reverts what it applied when an operation fails: no copy of
        // the object per fix (that made a StatefulSet of many containers quadratic).
        if json_patch::patch(&mut patched, &patch).is_ok() {
            patch_bytes += bytes;
            touched.add(fix_ops);
            ops.extend(fix_ops.iter().cloned());
            if !rules.contains(&f.rule) {
                rules.push(f.rule);
            }
        }
    }
    let mut response = allow;
    if left_out > 0 {
        response.warnings = Some(vec![format!(
            "redline: {left_out} more fixes not applied: the patch would exceed {} KiB; \
             they apply on a later write",
            PATCH_MAX_BYTES / 1024
        )]);
    }
    if ops.is_empty() {
        return Ok(response);
    }
    ops.push(annotation(&patched, &rules));
    decision.patch_ops = ops.len();
    decision.rules = rules;
    let patch = to_json_patch(&ops).map_err(|e| BadReview(format!("internal patch error: {e}")))?;
    decision.outcome = "patched";
    Ok(response
        .with_patch(patch)
        .map_err(|e| BadReview(format!("internal patch error: {e}")))?)
}

/// `redline.dev/mutated: rule,rule` added to the patched object (rules an earlier mutation
/// recorded are kept).
pub(super) fn annotation(patched: &Value, rules: &[&str]) -> PatchOp {
    let existing = patched
        .pointer("/metadata/annotations")
        .and_then(Value::as_object);
    let mut ids: Vec<String> = existing
        .and_then(|a| a.get(MUTATED_ANNOTATION))
        .and_then(Value::as_str)
        .map(|s| s.split(',').map(str::to_string).collect())
        .unwrap_or_default();
    for r in rules {
        if !ids.iter().any(|i| i == r) {
            ids.push((*r).to_string());
        }
    }
    let value = ids.join(",");
    let escaped = crate::pointer::escape(MUTATED_ANNOTATION);
    match (existing, patched.get("metadata")) {
        (Some(_), _) => PatchOp::Add {
            path: format!("/metadata/annotations/{escaped}"),
            value: json!(value),
        },
        (None, Some(_)) => PatchOp::Add {
            path: "/metadata/annotations".into(),
            value: json!({ MUTATED_ANNOTATION: value }),
        },
        (None, None) => PatchOp::Add {
            path: "/metadata".into(),
            value: json!({"annotations": { MUTATED_ANNOTATION: value }}),
        },
    }
}

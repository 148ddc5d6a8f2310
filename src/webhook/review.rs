//! One AdmissionReview in, one out: the engine behind `POST /validate` and `POST /mutate`,
//! with no HTTP in it (the server is a thin adapter, as in kube-rs' admission example).
//!
//! - Validate: error findings deny, naming rule, field, message and fix; warning findings
//!   become `response.warnings` (kubectl prints them). DELETE and CONNECT are allowed
//!   unread. With `allow_legacy_updates`, an UPDATE is denied only for errors the old object
//!   did not already have (a legacy object can still be scaled).
//! - Mutate: the fixes of rules marked `mutate: true`, as one RFC 6902 patch built against the
//!   object the API server holds (never an `add` under a missing parent: `rules::fixes`
//!   builds every patch that way), plus the annotation `redline.dev/mutated: <rule ids>`. A
//!   patched object gets no patch (idempotent). The patch is a base64 string on the wire, as
//!   the API documents it (kube serializes it as an array of numbers: kube-rs#1781).
//!
//! Whatever the request holds, the answer is a review or a [`BadReview`] message for a 400:
//! never a panic.

use std::collections::HashSet;

use base64::Engine as _;
use kube::core::DynamicObject;
use kube::core::admission::{AdmissionRequest, AdmissionResponse, AdmissionReview, Operation};
use serde_json::{Value, json};

use super::lookups::{self, Related};
use crate::engine::{self, Finding, Outcome, Settings};
use crate::extract::{self, Options};
use crate::rules::{FixEdit, PatchOp, Severity};

/// The annotation that records which rules changed an object.
pub const MUTATED_ANNOTATION: &str = "redline.dev/mutated";

/// Kubernetes truncates longer warnings; it asks for 120 characters where possible.
const WARNING_MAX_CHARS: usize = 256;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hook {
    Validate,
    Mutate,
}

/// How reviews are judged.
#[derive(Debug, Clone, Default)]
pub struct Policy {
    pub settings: Settings,
    pub options: Options,
    /// Deny an UPDATE only for errors its old object did not have.
    pub allow_legacy_updates: bool,
}

/// Why a body is not a review we can answer (HTTP 400).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct BadReview(pub String);

/// What a review decided, for logs and metrics.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    pub uid: String,
    pub kind: String,
    pub namespace: String,
    pub name: String,
    pub operation: String,
    /// The API server will not persist the object; the answer is the same (no side effects).
    pub dry_run: bool,
    /// `allowed`, `denied`, `warned`, `patched`.
    pub outcome: &'static str,
    /// The kinds whose lookup failed (the object was judged without them).
    pub lookup_errors: Vec<&'static str>,
}

/// The AdmissionReview the API server would send for `object` (and `old_object`, for an
/// UPDATE): kind from the object's apiVersion and kind, the resource's plural from
/// [`ADMITTED`](super::ADMITTED) (else the lower-cased kind + `s`), name and namespace from
/// its metadata; a DELETE carries the object as `oldObject` only. For tests, benchmarks,
/// the load generator and the fuzz targets, which must send what the API server sends.
pub fn request_for(
    uid: &str,
    operation: &str,
    object: &Value,
    old_object: Option<&Value>,
) -> Value {
    let kind = object
        .get("kind")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let api_version = object
        .get("apiVersion")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let (group, version) = api_version.rsplit_once('/').unwrap_or(("", api_version));
    let resource = super::ADMITTED
        .iter()
        .find(|a| a.group == group && a.kind == kind)
        .map_or_else(
            || format!("{}s", kind.to_lowercase()),
            |a| a.resource.to_string(),
        );
    let (object, old_object) = match operation {
        "DELETE" => (None, Some(old_object.unwrap_or(object))),
        _ => (Some(object), old_object),
    };
    json!({
        "apiVersion": "admission.k8s.io/v1",
        "kind": "AdmissionReview",
        "request": {
            "uid": uid,
            "kind": {"group": group, "version": version, "kind": kind},
            "resource": {"group": group, "version": version, "resource": resource},
            "name": object.or(old_object).and_then(|o| o.pointer("/metadata/name")),
            "namespace": object.or(old_object).and_then(|o| o.pointer("/metadata/namespace")),
            "operation": operation,
            "userInfo": {"username": "admin"},
            "object": object,
            "oldObject": old_object,
            "dryRun": false
        }
    })
}

/// Answer one AdmissionReview body: the response review as JSON, and what was decided.
pub fn review(
    body: &[u8],
    hook: Hook,
    policy: &Policy,
    lookups: &dyn Related,
) -> Result<(Value, Decision), BadReview> {
    let mut raw: Value = serde_json::from_slice(body)
        .map_err(|e| BadReview(format!("the body is not JSON: {e}")))?;
    if raw.get("apiVersion").and_then(Value::as_str) != Some("admission.k8s.io/v1")
        || raw.get("kind").and_then(Value::as_str) != Some("AdmissionReview")
    {
        return Err(BadReview(
            "expected an AdmissionReview of apiVersion admission.k8s.io/v1 \
             (admissionReviewVersions: [v1])"
                .into(),
        ));
    }
    let Some(request) = raw.get_mut("request").and_then(Value::as_object_mut) else {
        return Err(BadReview("the AdmissionReview has no `request`".into()));
    };
    // The objects (up to 1.5 MiB each) are judged as the JSON they arrived as; kube's types
    // read the rest of the request, without a copy of them into `DynamicObject`s.
    let object = request.remove("object").filter(|o| !o.is_null());
    let old_object = request.remove("oldObject").filter(|o| !o.is_null());
    let parsed: AdmissionReview<DynamicObject> = serde_json::from_value(raw)
        .map_err(|e| BadReview(format!("not a valid AdmissionReview: {e}")))?;
    let req: AdmissionRequest<DynamicObject> = parsed
        .try_into()
        .map_err(|e| BadReview(format!("not a valid AdmissionReview: {e}")))?;
    let mut decision = Decision {
        uid: req.uid.clone(),
        kind: req.kind.kind.clone(),
        namespace: req.namespace.clone().unwrap_or_default(),
        name: req.name.clone(),
        operation: format!("{:?}", req.operation).to_uppercase(),
        dry_run: req.dry_run,
        outcome: "allowed",
        lookup_errors: Vec::new(),
    };
    let allow = AdmissionResponse::from(&req);
    if matches!(req.operation, Operation::Delete | Operation::Connect)
        || !super::admits(&req.kind.group, &req.kind.kind)
    {
        return Ok((to_wire(allow)?, decision));
    }
    let object = object
        .ok_or_else(|| BadReview(format!("a {:?} request without `object`", req.operation)))?;
    let namespace = req.namespace.as_deref().unwrap_or("default");
    let (related, failed) = lookups::related(lookups, &object, namespace);
    decision.lookup_errors = failed.iter().map(|e| e.kind).collect();
    let Some(judged) = judge(&object, &related, req.namespace.as_deref(), policy) else {
        return Err(BadReview("the object has no apiVersion or kind".into()));
    };
    let mut response = match hook {
        Hook::Validate => {
            let old_errors = match (&req.operation, &old_object) {
                (Operation::Update, Some(old)) if policy.allow_legacy_updates => {
                    judge(old, &related, req.namespace.as_deref(), policy)
                        .map(|j| {
                            j.reviewed()
                                .filter(|f| f.severity == Severity::Error)
                                .map(|f| (f.rule, j.field(f)))
                                .collect()
                        })
                        .unwrap_or_default()
                }
                _ => HashSet::new(),
            };
            validate(allow, &judged, &old_errors, &mut decision)
        }
        Hook::Mutate => mutate(allow, &object, &judged.outcome, &mut decision)?,
    };
    // A lookup that failed never blocks: the object was judged alone, and the user is told.
    if !failed.is_empty() {
        let note = truncate(&format!(
            "redline: judged without related objects ({}); findings that need them may be missing",
            failed
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("; ")
        ));
        response.warnings.get_or_insert_with(Vec::new).push(note);
    }
    Ok((to_wire(response)?, decision))
}

/// The engine's verdict on a reviewed object judged with its related objects.
struct Judged {
    outcome: Outcome,
    /// `Kind namespace/name` of each object, by ObjectId (0 is the reviewed object).
    names: Vec<String>,
}

impl Judged {
    /// Findings about the reviewed object: in it, or about its deployment (a StatefulSet
    /// judged with the ConfigMap line that sets maxmemory). Findings that concern only the
    /// related objects are theirs to answer for when they are reviewed.
    fn reviewed(&self) -> impl Iterator<Item = &Finding> {
        self.outcome
            .findings
            .iter()
            .filter(|f| f.object.0 == 0 || f.subject.0 == 0)
    }

    /// Where a finding is: the field of the reviewed object, or the related object and its
    /// field.
    fn field(&self, f: &Finding) -> String {
        let pointer = if f.pointer.is_empty() {
            None
        } else {
            Some(f.pointer.as_str())
        };
        match (f.object.0, pointer) {
            (0, Some(p)) => p.to_string(),
            (0, None) => "the object".to_string(),
            (i, Some(p)) => format!("{} {p}", self.names[i]),
            (i, None) => self.names[i].clone(),
        }
    }
}

/// The engine on the reviewed object and its related objects.
fn judge(
    object: &Value,
    related: &[Value],
    namespace: Option<&str>,
    policy: &Policy,
) -> Option<Judged> {
    let mut objects = vec![extract::object_from_json(object, namespace)?];
    objects.extend(
        related
            .iter()
            .filter_map(|r| extract::object_from_json(r, namespace)),
    );
    let names = objects
        .iter()
        .map(|o| format!("{} {}/{}", o.kind, o.namespace_or_default(), o.name))
        .collect();
    let inventory = extract::extract(objects, &policy.options);
    Some(Judged {
        outcome: engine::run(&inventory, &policy.settings),
        names,
    })
}

fn validate(
    allow: AdmissionResponse,
    judged: &Judged,
    old_errors: &HashSet<(&'static str, String)>,
    decision: &mut Decision,
) -> AdmissionResponse {
    let denied: Vec<String> = judged
        .reviewed()
        .filter(|f| f.severity == Severity::Error)
        .filter(|f| !old_errors.contains(&(f.rule, judged.field(f))))
        .map(|f| {
            let fix = f
                .fix
                .as_ref()
                .map(|x| format!(" Fix: {}.", x.description))
                .unwrap_or_default();
            format!("[{}] {}: {}.{fix}", f.rule, judged.field(f), f.message)
        })
        .collect();
    let warnings: Vec<String> = judged
        .reviewed()
        .filter(|f| f.severity == Severity::Warning)
        .map(|f| {
            truncate(&format!(
                "redline {}: {}: {}",
                f.rule,
                judged.field(f),
                f.message
            ))
        })
        .collect();
    let mut response = if denied.is_empty() {
        allow
    } else {
        decision.outcome = "denied";
        allow.deny(format!("redline: {}", denied.join(" ")))
    };
    if !warnings.is_empty() {
        if decision.outcome == "allowed" {
            decision.outcome = "warned";
        }
        response.warnings = Some(warnings);
    }
    response
}

fn truncate(s: &str) -> String {
    if s.chars().count() <= WARNING_MAX_CHARS {
        return s.to_string();
    }
    let mut out: String = s.chars().take(WARNING_MAX_CHARS - 1).collect();
    out.push('…');
    out
}

/// The mutating rules' fixes on the reviewed object, as one patch that applies to it.
fn mutate(
    allow: AdmissionResponse,
    object: &Value,
    outcome: &Outcome,
    decision: &mut Decision,
) -> Result<AdmissionResponse, BadReview> {
    let mut patched = object.clone();
    let mut ops: Vec<PatchOp> = Vec::new();
    let mut touched = crate::fix::Touched::default();
    let mut rules: Vec<&str> = Vec::new();
    for f in outcome.findings.iter().filter(|f| f.mutate) {
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
        let Ok(patch) = to_patch(fix_ops) else {
            continue;
        };
        // `json_patch::patch` reverts what it applied when an operation fails: no copy of
        // the object per fix (that made a StatefulSet of many containers quadratic).
        if json_patch::patch(&mut patched, &patch).is_ok() {
            touched.add(fix_ops);
            ops.extend(fix_ops.iter().cloned());
            if !rules.contains(&f.rule) {
                rules.push(f.rule);
            }
        }
    }
    if ops.is_empty() {
        return Ok(allow);
    }
    ops.push(annotation(&patched, &rules));
    let patch = to_patch(&ops).map_err(|e| BadReview(format!("internal patch error: {e}")))?;
    decision.outcome = "patched";
    allow
        .with_patch(patch)
        .map_err(|e| BadReview(format!("internal patch error: {e}")))
}

/// `redline.dev/mutated: rule,rule` added to the patched object (rules an earlier mutation
/// recorded are kept).
fn annotation(patched: &Value, rules: &[&str]) -> PatchOp {
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
    let escaped = MUTATED_ANNOTATION.replace('~', "~0").replace('/', "~1");
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

fn to_patch(ops: &[PatchOp]) -> Result<json_patch::Patch, serde_json::Error> {
    serde_json::to_value(ops).and_then(serde_json::from_value)
}

/// The review as the API server reads it: `response.patch` a base64 string.
fn to_wire(response: AdmissionResponse) -> Result<Value, BadReview> {
    let review = response.into_review();
    let mut value = serde_json::to_value(&review)
        .map_err(|e| BadReview(format!("internal error serializing the review: {e}")))?;
    if let Some(bytes) = value.pointer("/response/patch").and_then(Value::as_array) {
        let bytes: Option<Vec<u8>> = bytes
            .iter()
            .map(|b| b.as_u64().and_then(|b| u8::try_from(b).ok()))
            .collect();
        let bytes = bytes.ok_or_else(|| BadReview("internal error: patch bytes".into()))?;
        value["response"]["patch"] =
            Value::String(base64::engine::general_purpose::STANDARD.encode(bytes));
    }
    Ok(value)
}

#[cfg(test)]
mod tests;

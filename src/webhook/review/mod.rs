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
use crate::budget::{Budget, Exceeded, Trip};
use crate::engine::{self, Finding, Outcome, Settings};
use crate::extract::{self, Options};
use crate::patch::{FixEdit, PatchOp, Touched, to_json_patch};
use crate::rules::Severity;

mod answer;
use answer::*;

/// The annotation that records which rules changed an object.
pub const MUTATED_ANNOTATION: &str = "redline.dev/mutated";

/// The API server truncates each warning to 256 characters and stops adding them at 4,096
/// in all (k8s.io/apiserver `endpoints/filters/warning.go`: `truncateItemRunes`,
/// `truncateAtTotalRunes`); it asks for 120 characters where possible. Ours stop before it
/// would cut, with a last one saying how many are left out.
const WARNING_MAX_CHARS: usize = 256;
const WARNINGS_MAX_CHARS: usize = 4 * 1024;
/// A denial names findings up to this many characters, then how many more there are: the
/// message reaches a terminal and the API server's audit log, not a report.
const DENIAL_MAX_CHARS: usize = 8 * 1024;
/// Fixes stop being added to a patch past this size (the patched object must still fit the
/// API server's 1.5 MiB request limit); the rest wait for the next write and are named in a
/// warning.
const PATCH_MAX_BYTES: usize = 1024 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hook {
    Validate,
    Mutate,
}

/// How reviews are judged.
#[derive(Debug, Clone)]
pub struct Policy {
    pub settings: Settings,
    pub options: Options,
    /// Deny an UPDATE only for errors its old object did not have.
    pub allow_legacy_updates: bool,
    /// The answer to a review redline could not finish (deadline, busy, over the memory
    /// budget): the webhook configuration's own `failurePolicy`, so an unjudged object is
    /// treated the same whether redline is down or overloaded.
    pub failure_policy: FailurePolicy,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            settings: Settings::default().for_webhook(),
            options: Options::default(),
            allow_legacy_updates: false,
            failure_policy: FailurePolicy::default(),
        }
    }
}

/// What an object that was not judged gets, as `failurePolicy` names it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum FailurePolicy {
    /// Allowed, with a warning saying it was not judged.
    #[default]
    Ignore,
    /// Refused with 503 (retry later).
    Fail,
}

/// Why a review was not judged; the decision label of its metric.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unjudged {
    /// Its deadline passed while it was judged (or its client went away).
    Deadline { after_ms: u128 },
    /// No review slot or memory came free before its deadline (others were being judged).
    Busy { after_ms: u128 },
    /// Its estimated memory exceeds the whole budget.
    OverBudget { need_bytes: u64, budget_bytes: u64 },
    /// It took more memory than was reserved for it, and was stopped.
    OverReservation { reserved_bytes: u64 },
}

impl Unjudged {
    pub fn label(&self) -> &'static str {
        match self {
            Unjudged::Deadline { .. } => "deadline",
            Unjudged::Busy { .. } => "busy",
            Unjudged::OverBudget { .. } | Unjudged::OverReservation { .. } => "over_budget",
        }
    }

    fn reason(&self) -> String {
        match self {
            Unjudged::Deadline { after_ms } => {
                format!("the review did not finish within its deadline of {after_ms} ms")
            }
            Unjudged::Busy { after_ms } => format!(
                "redline was busy with other reviews for its whole deadline of {after_ms} ms"
            ),
            Unjudged::OverBudget {
                need_bytes,
                budget_bytes,
            } => format!(
                "the object needs about {} MiB to judge, more than the review memory budget of {} MiB",
                need_bytes.div_ceil(1 << 20),
                budget_bytes >> 20
            ),
            Unjudged::OverReservation { reserved_bytes } => format!(
                "judging the object took more than the {} MiB of memory reserved for it",
                reserved_bytes.div_ceil(1 << 20)
            ),
        }
    }
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
    /// Error findings that denied it.
    pub denied: usize,
    /// Warnings returned.
    pub warnings: usize,
    /// Patch operations sent.
    pub patch_ops: usize,
    /// The rules behind the denial, warnings and patch, in the order found (bounded by the
    /// registry: a log line names rules and counts, never the object's contents).
    pub rules: Vec<&'static str>,
}

impl Decision {
    /// For a review answered before it was read (only its uid is known).
    pub fn unread(uid: String) -> Decision {
        Decision {
            uid,
            kind: "unknown".into(),
            namespace: String::new(),
            name: String::new(),
            operation: "unknown".into(),
            dry_run: false,
            outcome: "allowed",
            lookup_errors: Vec::new(),
            denied: 0,
            warnings: 0,
            patch_ops: 0,
            rules: Vec::new(),
        }
    }
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
    review_within(body, hook, policy, lookups, &Budget::unlimited())
}

/// [`review`] within `budget`: once it is exceeded the work stops and the answer is the one
/// `policy.failure_policy` gives an object that was not judged ([`Unjudged::Deadline`]).
pub fn review_within(
    body: &[u8],
    hook: Hook,
    policy: &Policy,
    lookups: &dyn Related,
    budget: &Budget,
) -> Result<(Value, Decision), BadReview> {
    // The review's memory is what this thread allocates from here.
    budget.start_here();
    let mut raw: Value = serde_json::from_slice(body).map_err(|e| BadReview(not_json(body, &e)))?;
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
        kind: req.kind.kind.clone(),
        namespace: req.namespace.clone().unwrap_or_default(),
        name: req.name.clone(),
        operation: format!("{:?}", req.operation).to_uppercase(),
        dry_run: req.dry_run,
        ..Decision::unread(req.uid.clone())
    };
    let allow = AdmissionResponse::from(&req);
    if matches!(req.operation, Operation::Delete | Operation::Connect)
        || !super::admits(&req.kind.group, &req.kind.kind)
    {
        return Ok((to_wire(allow)?, decision));
    }
    let object = object.ok_or_else(|| {
        BadReview(format!(
            "the {} request has no `object`",
            decision.operation
        ))
    })?;
    let namespace = req.namespace.as_deref().unwrap_or("default");
    let (related, failed) = lookups::related(lookups, &object, namespace);
    decision.lookup_errors = failed.iter().map(|e| e.kind).collect();
    let judged = |o: &Value| judge(o, &related, req.namespace.as_deref(), policy, budget);
    let response = (|| -> Result<AdmissionResponse, Stop> {
        let reviewed = judged(&object)?
            .ok_or_else(|| BadReview("the object has no apiVersion or kind".into()))?;
        Ok(match hook {
            Hook::Validate => {
                let old_errors = match (&req.operation, &old_object) {
                    (Operation::Update, Some(old)) if policy.allow_legacy_updates => judged(old)?
                        .map(|j| {
                            j.reviewed()
                                .filter(|f| f.severity == Severity::Error)
                                .map(|f| (f.rule, j.field(f)))
                                .collect()
                        })
                        .unwrap_or_default(),
                    _ => HashSet::new(),
                };
                validate(allow.clone(), &reviewed, &old_errors, &mut decision)
            }
            Hook::Mutate => mutate(
                allow.clone(),
                &object,
                &reviewed.outcome,
                &mut decision,
                budget,
            )?,
        })
    })();
    let mut response = match response {
        Ok(response) => response,
        Err(Stop::Bad(bad)) => return Err(bad),
        Err(Stop::Exceeded) => {
            let cut = match budget.tripped_by() {
                Some(Trip::Memory) => Unjudged::OverReservation {
                    reserved_bytes: budget.memory().unwrap_or_default(),
                },
                _ => Unjudged::Deadline {
                    after_ms: budget.limit().unwrap_or_default().as_millis(),
                },
            };
            decision.denied = 0;
            decision.patch_ops = 0;
            decision.rules.clear();
            let uid = decision.uid.clone();
            let answer = unjudged(&uid, policy.failure_policy, &cut, &mut decision);
            return Ok((answer, decision));
        }
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
    decision.warnings = response.warnings.as_ref().map_or(0, Vec::len);
    Ok((to_wire(response)?, decision))
}

/// The answer for an object that was not judged, as `failure_policy` says; `decision`
/// records why. For the server too, which can run out of budget before a review starts.
pub fn unjudged(
    uid: &str,
    failure_policy: FailurePolicy,
    why: &Unjudged,
    decision: &mut Decision,
) -> Value {
    decision.outcome = why.label();
    let allowed = failure_policy == FailurePolicy::Ignore;
    decision.warnings = usize::from(allowed);
    let reason = why.reason();
    let message = if allowed {
        format!("redline: not judged: {reason}; allowed (failurePolicy Ignore)")
    } else {
        format!("redline: not judged: {reason}; refused (failurePolicy Fail): retry the request")
    };
    not_judged(uid, allowed, &message)
}

/// The review for an object that was not judged: allowed with `message` as its warning, or
/// refused with 503 and `message`.
pub fn not_judged(uid: &str, allowed: bool, message: &str) -> Value {
    let response = if allowed {
        json!({ "uid": uid, "allowed": true, "warnings": [truncate(message)] })
    } else {
        json!({
            "uid": uid,
            "allowed": false,
            "status": { "code": 503, "reason": "ServiceUnavailable", "message": message },
        })
    };
    json!({
        "apiVersion": "admission.k8s.io/v1",
        "kind": "AdmissionReview",
        "response": response,
    })
}

/// What a body that is not JSON gets: a compressed body named as such (the API server
/// never compresses one; a proxy in between might), else serde's position and reason.
fn not_json(body: &[u8], e: &serde_json::Error) -> String {
    match body {
        [0x1f, 0x8b, ..] => "the body is gzip-compressed; send it uncompressed JSON \
                             (Content-Encoding is not supported)"
            .to_string(),
        _ => format!("the body is not JSON: {e}"),
    }
}

/// The `request.uid` of a review body, read without building the objects (for answers
/// given before a review runs).
pub fn uid_of(body: &[u8]) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct Review {
        request: Request,
    }
    #[derive(serde::Deserialize)]
    struct Request {
        uid: String,
    }
    serde_json::from_slice::<Review>(body)
        .ok()
        .map(|r| r.request.uid)
}

/// Why a review stopped before its answer: a request it cannot answer (400), or its budget.
enum Stop {
    Bad(BadReview),
    Exceeded,
}

impl From<BadReview> for Stop {
    fn from(bad: BadReview) -> Self {
        Stop::Bad(bad)
    }
}

impl From<Exceeded> for Stop {
    fn from(_: Exceeded) -> Self {
        Stop::Exceeded
    }
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
    budget: &Budget,
) -> Result<Option<Judged>, Exceeded> {
    let Some(reviewed) = extract::object_from_json(object, namespace) else {
        return Ok(None);
    };
    let mut objects = vec![reviewed];
    objects.extend(
        related
            .iter()
            .filter_map(|r| extract::object_from_json(r, namespace)),
    );
    let names = objects
        .iter()
        .map(|o| format!("{} {}/{}", o.kind, o.namespace_or_default(), o.name))
        .collect();
    let inventory = extract::extract_within(objects, &policy.options, budget)?;
    Ok(Some(Judged {
        outcome: engine::run_within(&inventory, &policy.settings, budget)?,
        names,
    }))
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

//! The JSON format. Its field names are a stable interface (`version` 1): fields may be
//! added, never renamed or removed.
//!
//! ```json
//! {"version": 1,
//!  "findings": [{"rule", "severity", "message", "file", "line", "column",
//!                "object": {"apiVersion", "kind", "namespace", "name"}, "path", "fix"}],
//!  "exempted": [{…finding…, "reason"}],
//!  "summary": {"files", "objects", "errors", "warnings", "infos", "exempted", "skipped"},
//!  "memory": [{"file", "line", "object": {…}, "component",
//!              "request_bytes", "limit_bytes", "maxmemory_bytes", "maxmemory_visible",
//!              "backlog_bytes", "fork_reason", "fork_copy_bytes", "replica_buffers_bytes",
//!              "headroom_bytes"}]}
//! ```
//! `line`/`column` are null for findings without a position, `object` for documents that did
//! not load, `namespace` when the object does not say; `fix` is null or
//! `{"description", "patch": {"object", "operations"}}` (RFC 6902 operations on that object)
//! or `{"description", "manifest"}` (an object to apply).
//!
//! `memory` (added after `version` 1's first fields) holds one memory budget per server that
//! holds data (`crate::rules::memory`), in the order of the model's deployments: where its
//! object is (`file` and `line` as a finding's; for an object from a cluster `file` is
//! `namespace/Kind/name` and `line` null), the component where one object holds several
//! servers, and the amounts in bytes. `null` is "not known here or unbounded", never a
//! guess: `limit_bytes`/`request_bytes` none written; `maxmemory_bytes` 0 (no bound) or not
//! visible (`maxmemory_visible` false); `fork_copy_bytes` (maxmemory when `fork_reason` is a
//! string, 0 when it is null) and `replica_buffers_bytes` unbounded or unknown;
//! `backlog_bytes` is inside maxmemory; `headroom_bytes` (limit − maxmemory − fork copy −
//! buffers, negative when over) is null when any of those is.

use serde::Serialize;

use super::{Item, Report};
use crate::model::Object;
use crate::patch::{FixEdit, PatchOp};
use crate::rules::Severity;

#[derive(Serialize)]
struct Document<'a> {
    version: u32,
    findings: Vec<JsonFinding<'a>>,
    exempted: Vec<JsonExempted<'a>>,
    summary: super::Summary,
    memory: Vec<JsonBudget<'a>>,
}

#[derive(Serialize)]
struct JsonBudget<'a> {
    file: &'a str,
    line: Option<u32>,
    object: ObjectRef<'a>,
    component: Option<&'a str>,
    request_bytes: Option<u64>,
    limit_bytes: Option<u64>,
    maxmemory_bytes: Option<u64>,
    maxmemory_visible: bool,
    backlog_bytes: Option<u64>,
    fork_reason: Option<&'a str>,
    fork_copy_bytes: Option<u64>,
    replica_buffers_bytes: Option<u64>,
    headroom_bytes: Option<i64>,
}

fn budget<'a>(b: &'a super::Budget<'a>) -> JsonBudget<'a> {
    let m = b.memory();
    JsonBudget {
        file: &b.file,
        line: b.line,
        object: ObjectRef::of(b.object),
        component: b.server.component.as_deref(),
        request_bytes: m.request_bytes,
        limit_bytes: m.limit_bytes,
        maxmemory_bytes: m.maxmemory_bytes,
        maxmemory_visible: m.maxmemory_visible,
        backlog_bytes: m.backlog_bytes,
        fork_reason: m.fork_reason,
        fork_copy_bytes: m.fork_copy_bytes,
        replica_buffers_bytes: m.replica_buffers_bytes,
        headroom_bytes: m.headroom_bytes,
    }
}

#[derive(Serialize)]
struct JsonFinding<'a> {
    rule: &'a str,
    severity: Severity,
    message: &'a str,
    file: &'a str,
    line: Option<u32>,
    column: Option<u32>,
    object: Option<ObjectRef<'a>>,
    path: &'a str,
    fix: Option<JsonFix<'a>>,
}

#[derive(Serialize)]
struct JsonExempted<'a> {
    #[serde(flatten)]
    finding: JsonFinding<'a>,
    reason: Option<&'a str>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct ObjectRef<'a> {
    api_version: &'a str,
    kind: &'a str,
    namespace: Option<&'a str>,
    name: &'a str,
}

impl<'a> ObjectRef<'a> {
    pub(super) fn of(o: &'a Object) -> ObjectRef<'a> {
        ObjectRef {
            api_version: &o.api_version,
            kind: &o.kind,
            namespace: o.namespace.as_deref(),
            name: &o.name,
        }
    }
}

#[derive(Serialize)]
struct JsonFix<'a> {
    description: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    patch: Option<JsonPatch<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    manifest: Option<&'a serde_json::Value>,
}

#[derive(Serialize)]
struct JsonPatch<'a> {
    object: ObjectRef<'a>,
    operations: &'a [PatchOp],
}

fn finding<'a>(report: &Report<'a>, item: &'a Item<'a>) -> JsonFinding<'a> {
    JsonFinding {
        rule: item.rule,
        severity: item.severity,
        message: item.message,
        file: &item.file,
        line: item.line,
        column: item.column,
        object: item.object.map(ObjectRef::of),
        path: item.path,
        fix: item.fix.map(|f| JsonFix {
            description: &f.description,
            patch: match &f.edit {
                FixEdit::Patch { object, ops } => Some(JsonPatch {
                    object: ObjectRef::of(report.object(*object)),
                    operations: ops,
                }),
                FixEdit::Manifest(_) => None,
            },
            manifest: match &f.edit {
                FixEdit::Manifest(m) => Some(m),
                FixEdit::Patch { .. } => None,
            },
        }),
    }
}

pub fn render(report: &Report) -> String {
    let doc = Document {
        version: 1,
        findings: report.items.iter().map(|i| finding(report, i)).collect(),
        exempted: report
            .exempted
            .iter()
            .map(|e| JsonExempted {
                finding: finding(report, &e.item),
                reason: e.reason,
            })
            .collect(),
        summary: report.summary,
        memory: report.budgets.iter().map(budget).collect(),
    };
    let mut out = serde_json::to_string_pretty(&doc).expect("plain data serializes");
    out.push('\n');
    out
}

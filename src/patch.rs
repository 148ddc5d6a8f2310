//! What a fix is, shared by the rules that propose fixes, `fix` that writes them, the reports
//! that show them and the webhook that sends them: RFC 6902 operations on one object, or a
//! manifest to apply; turning them into a `json_patch::Patch`; and telling whether two
//! patches touch the same field. No face owns these, and none imports another for them.

use serde::{Deserialize, Serialize};

use crate::model::ObjectId;

/// One RFC 6902 operation, with a pointer relative to the root of the object it edits.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "lowercase")]
pub enum PatchOp {
    Add {
        path: String,
        value: serde_json::Value,
    },
    Replace {
        path: String,
        value: serde_json::Value,
    },
    /// Guards a patch: the API server's object must still hold `value` there.
    Test {
        path: String,
        value: serde_json::Value,
    },
}

impl PatchOp {
    /// The JSON pointer it acts on.
    pub fn path(&self) -> &str {
        match self {
            PatchOp::Add { path, .. }
            | PatchOp::Replace { path, .. }
            | PatchOp::Test { path, .. } => path,
        }
    }
}

/// What a fix changes.
#[derive(Debug, Clone, PartialEq)]
pub enum FixEdit {
    /// Operations on one object of the input.
    Patch { object: ObjectId, ops: Vec<PatchOp> },
    /// The change belongs in an object the input does not hold (a KubeBlocks Reconfiguring
    /// OpsRequest): the manifest to apply.
    Manifest(serde_json::Value),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Fix {
    /// One line, imperative: "raise limits.memory to 40Gi (2.5 × the request)".
    pub description: String,
    pub edit: FixEdit,
}

/// `ops` as the `json-patch` crate's patch (to apply it, or to send it).
pub fn to_json_patch(ops: &[PatchOp]) -> Result<json_patch::Patch, serde_json::Error> {
    serde_json::to_value(ops).and_then(serde_json::from_value)
}

/// The fields some patches touch, so that whether another patch touches one of them (the
/// same field, or one inside the other) costs O(log n) instead of a scan of every earlier
/// patch (a StatefulSet with hundreds of containers has hundreds of fixes).
#[derive(Default)]
pub struct Touched(std::collections::BTreeSet<String>);

impl Touched {
    pub fn overlaps(&self, ops: &[PatchOp]) -> bool {
        ops.iter().map(PatchOp::path).any(|p| {
            // The field itself or one that contains it …
            let ancestor = p
                .match_indices('/')
                .map(|(i, _)| &p[..i])
                .chain(std::iter::once(p))
                .any(|a| self.0.contains(a));
            // … or one inside it.
            let inner = format!("{p}/");
            ancestor
                || self
                    .0
                    .range::<str, _>((
                        std::ops::Bound::Included(inner.as_str()),
                        std::ops::Bound::Unbounded,
                    ))
                    .next()
                    .is_some_and(|t| t.starts_with(&inner))
        })
    }

    pub fn add(&mut self, ops: &[PatchOp]) {
        self.0.extend(ops.iter().map(|op| op.path().to_string()));
    }
}

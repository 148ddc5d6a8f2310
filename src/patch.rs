//! What a fix is, shared by the rules that propose fixes, `fix` that writes them, the reports
//! that show them and the webhook that sends them: RFC 6902 operations on one object, or a
//! manifest to apply; turning them into a `json_patch::Patch`; and telling whether two
//! patches touch the same field. No face owns these, and none imports another for them.

use serde::{Deserialize, Serialize};

use serde_json::{Value, json};

use crate::model::{Inventory, ObjectId};
use crate::source::{Node, NodeKind};

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

/// Operations that set `pointer` to `value` in `object`: a `replace` when the field exists,
/// else an `add` of the missing part under the deepest parent that exists (so `resources:
/// {}` gets `limits`, and a missing `resources` gets `{limits: {memory}}`). `None` when a
/// parent on the way is a scalar or a list index that does not exist.
pub fn set_path(
    inv: &Inventory,
    object: ObjectId,
    pointer: &str,
    value: Value,
) -> Option<Vec<PatchOp>> {
    set_path_in(&inv.object(object).root, pointer, value)
}

/// [`set_path`] in one tree.
pub fn set_path_in(root: &Node, pointer: &str, value: Value) -> Option<Vec<PatchOp>> {
    let tokens: Vec<&str> = pointer.strip_prefix('/')?.split('/').collect();
    let mut node = root;
    for (i, token) in tokens.iter().enumerate() {
        let key = crate::pointer::unescape(token);
        let here = format!("/{}", tokens[..=i].join("/"));
        let child = match &node.kind {
            NodeKind::Map(_) => node.entry(&key).map(|e| &e.value),
            NodeKind::Seq(_) if key == "-" => None,
            NodeKind::Seq(items) => Some(items.get(key.parse::<usize>().ok()?)?),
            NodeKind::Scalar(_) => return None,
        };
        match child {
            Some(c) if c.is_null() || i + 1 == tokens.len() => {
                let rest = nest(&tokens[i + 1..], value);
                return Some(vec![PatchOp::Replace {
                    path: here,
                    value: rest,
                }]);
            }
            Some(c) => node = c,
            None => {
                let rest = nest(&tokens[i + 1..], value);
                return Some(vec![PatchOp::Add {
                    path: here,
                    value: rest,
                }]);
            }
        }
    }
    Some(vec![PatchOp::Replace {
        path: String::new(),
        value,
    }])
}

/// `{"a": {"b": value}}` for the tokens `a`, `b`.
fn nest(tokens: &[&str], value: Value) -> Value {
    tokens.iter().rev().fold(value, |v, t| {
        let key = crate::pointer::unescape(t);
        json!({ key: v })
    })
}

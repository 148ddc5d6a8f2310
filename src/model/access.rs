//! What rules may read of the written objects beyond the extracted facts: places of fields
//! (for findings and fixes), the shape of a field a fix appends to, and the strings under a
//! field ([`crate::patch::set_path`] builds the patch that sets one). Rules call these
//! instead of walking YAML trees, so that every reading of the source text is here or in
//! `extract`.

use crate::source::Node;

use super::{Inventory, Loc, ObjectId};

/// What is written at a pointer, as a fix that appends to a list needs to know it.
#[derive(Debug, Clone, PartialEq)]
pub enum Shape<'a> {
    Absent,
    /// A list of plain strings (`command`, `args`, `customConfig`).
    Strings(Vec<&'a str>),
    /// A list holding something other than strings.
    List,
    Map,
    /// A scalar (null among them).
    Scalar,
}

impl Inventory {
    fn node(&self, object: ObjectId, pointer: &str) -> Option<&Node> {
        self.object(object).root.pointer(pointer)
    }

    /// The place of `pointer` in `object`: the field's position, else the object's.
    pub fn loc_of(&self, object: ObjectId, pointer: &str) -> Loc {
        Loc {
            object,
            pointer: pointer.to_string(),
            pos: self
                .node(object, pointer)
                .and_then(Node::start)
                .or(self.object(object).pos),
        }
    }

    /// The place of field `key` of `parent` when it is not written: its pointer, at the
    /// parent's position (else the object's).
    pub fn absent_loc(&self, object: ObjectId, parent: &str, key: &str) -> Loc {
        Loc {
            pointer: format!("{parent}/{}", crate::pointer::escape(key)),
            ..self.loc_of(object, parent)
        }
    }

    /// The string at `pointer`, when one is written there.
    pub fn str_at(&self, object: ObjectId, pointer: &str) -> Option<&str> {
        self.node(object, pointer)?.as_str()
    }

    /// What is written at `pointer`.
    pub fn shape_at(&self, object: ObjectId, pointer: &str) -> Shape<'_> {
        match self.node(object, pointer) {
            None => Shape::Absent,
            Some(n) if n.is_seq() => n
                .items()
                .iter()
                .map(Node::as_str)
                .collect::<Option<Vec<&str>>>()
                .map_or(Shape::List, Shape::Strings),
            Some(n) if n.is_map() => Shape::Map,
            Some(_) => Shape::Scalar,
        }
    }

    /// Every string value under `pointer` (`""`: the whole object), one per line: the text
    /// of start-up commands and scripts, for rules that look for what they do.
    pub fn strings_under(&self, object: ObjectId, pointer: &str, out: &mut String) {
        if let Some(node) = self.node(object, pointer) {
            collect_strings(node, out);
        }
    }
}

fn collect_strings(node: &Node, out: &mut String) {
    if let Some(s) = node.as_str() {
        out.push_str(s);
        out.push('\n');
    }
    for item in node.items() {
        collect_strings(item, out);
    }
    for entry in node.entries() {
        collect_strings(&entry.value, out);
    }
}

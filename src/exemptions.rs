//! Exemptions written in the objects themselves: the `redline.dev/ignore` annotation, read by
//! the engine (which findings it suppresses) and by the rule that reports names in it that
//! are not rules.

use crate::model::Object;

/// The annotation that exempts an object from rules: `"<id>[,<id>…][: reason]"`.
pub const IGNORE_ANNOTATION: &str = "redline.dev/ignore";

/// The `redline.dev/ignore` annotation of an object.
pub fn ignore_annotation(object: &Object) -> Option<&str> {
    object
        .root
        .get("metadata")?
        .get("annotations")?
        .get(IGNORE_ANNOTATION)?
        .as_str()
}

/// `"a, b: reason"` → (`["a", "b"]`, `Some("reason")`).
pub fn parse_ignore(value: &str) -> (Vec<&str>, Option<&str>) {
    let (ids, reason) = match value.split_once(':') {
        Some((ids, reason)) => (ids, Some(reason.trim()).filter(|r| !r.is_empty())),
        None => (value, None),
    };
    (
        ids.split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .collect(),
        reason,
    )
}

#[cfg(test)]
mod tests {
    use super::parse_ignore;

    #[test]
    fn ignore_annotation_lists_ids_and_a_reason() {
        assert_eq!(
            parse_ignore("redis-pdb-missing, redis-anti-affinity-missing: single-node dev"),
            (
                vec!["redis-pdb-missing", "redis-anti-affinity-missing"],
                Some("single-node dev")
            )
        );
        assert_eq!(parse_ignore("a"), (vec!["a"], None));
        assert_eq!(parse_ignore(" , "), (Vec::<&str>::new(), None));
    }
}

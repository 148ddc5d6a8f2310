//! ## redline-ignore-unknown
//!
//! **What it does.** Checks the `redline.dev/ignore` annotations of the input: each must
//! list known rule IDs, separated by commas, optionally followed by `: reason`.
//!
//! **Why it matters.** A misspelled ID exempts nothing, and the finding it was meant to
//! silence keeps failing the build — or, worse, the author believes a different rule is
//! exempted. Rule IDs are listed by `redline rules`.
//!
//! **Fix.** None: correct the ID (the message suggests the closest one).
use crate::exemptions::{IGNORE_ANNOTATION, ignore_annotation, parse_ignore};
use crate::model::ObjectId;

use super::{Context, NoParams, Rule, Violation};

pub struct Check;

impl Rule for Check {
    type Params = NoParams;

    fn inventory(&self, cx: &Context, out: &mut Vec<Violation>) {
        for (i, o) in cx.inventory.objects.iter().enumerate() {
            let Some(value) = ignore_annotation(o) else { continue };
            let (ids, _) = parse_ignore(value);
            for id in ids {
                if super::get(id).is_some() {
                    continue;
                }
                let hint = super::closest(id)
                    .map(|c| format!("; did you mean `{c}`?"))
                    .unwrap_or_default();
                out.push(Violation::new(
                    cx.inventory.loc_of(
                        ObjectId(i),
                        &format!(
                            "/metadata/annotations/{}",
                            crate::pointer::escape(IGNORE_ANNOTATION)
                        ),
                    ),
                    format!("`{id}` in {IGNORE_ANNOTATION} is not a redline rule{hint}"),
                ));
            }
        }
    }
}

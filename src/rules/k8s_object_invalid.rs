//! ## k8s-object-invalid
//!
//! **What it does.** Reports what is wrong with the objects themselves, found while reading
//! them: a memory quantity the API server rejects, a field of the wrong type, a volume mount
//! that names no volume, a ConfigMap key a mount or an operator expects but that is not
//! there, an operation on a component its Cluster does not have.
//!
//! **Why it matters.** The API server rejects some of these outright; the others make pods
//! fail to start (`CreateContainerConfigError`) or operations fail, and every rule that
//! needed the value is blind to it.
//!
//! **Fix.** None: the message names the field and what is wrong.
use super::{Context, NoParams, Rule, Violation};

pub struct Check;

impl Rule for Check {
    type Params = NoParams;

    fn inventory(&self, cx: &Context, out: &mut Vec<Violation>) {
        for p in &cx.inventory.problems {
            out.push(Violation::new(p.at.clone(), p.message.clone()));
        }
    }
}

//! ## redline-ambiguous-reference
//!
//! **What it does.** Reports a reference (a workload's ConfigMap, an OpsRequest's Cluster)
//! that the input answers with several equally near copies of one object: the same
//! namespace and name under `envs/dev/` and `envs/prod/`, say, seen from a file that sits
//! above both. redline joins an object with the copy in its own file, else its own
//! directory, else the nearest directory above or below it, and never with another
//! environment's copy; when two copies are equally near it joins neither.
//!
//! **Why it matters.** Judging a StatefulSet with another environment's ConfigMap gives
//! wrong findings and wrong fixes (prod's `maxmemory 3gb` "fixed" for dev's 1Gi limit).
//! What the referring object gets is unknown until the copies are told apart.
//!
//! **Fix.** None: lint each environment's directory on its own, or keep the shared object
//! in one place (a kustomize base) and the referring objects below it.
use super::{Context, NoParams, Rule, Violation};

pub struct Check;

impl Rule for Check {
    type Params = NoParams;

    fn inventory(&self, cx: &Context, out: &mut Vec<Violation>) {
        for p in &cx.inventory.ambiguous {
            out.push(Violation::new(p.at.clone(), p.message.clone()));
        }
    }
}

//! ## redline-not-judged
//!
//! **What it does.** Names, as an info, what the input holds that redline reads but cannot
//! judge: a Redis-family resource it does not model (a Redis Enterprise Active-Active
//! database, `RedisEnterpriseActiveActiveDatabase`), and a field whose value is a Flux
//! post-build or envsubst variable (`replicas: ${replica_count}`), substituted before the
//! object is applied — judged as unknown, not as invalid.
//!
//! **Why it matters.** A linter that passes what it did not read gives a false all-clear:
//! the CI gate exits 0 and nothing says the object was skipped. The note says it was seen
//! and not judged. (Dragonfly, KeyDB, KubeDB and Redis Enterprise clusters and databases
//! were named here until redline modelled them.)
//!
//! **Fix.** None: the note goes away when redline models the resource, or when the value is
//! written out.
use super::{Context, NoParams, Rule, Violation};

pub struct Check;

impl Rule for Check {
    type Params = NoParams;

    fn inventory(&self, cx: &Context, out: &mut Vec<Violation>) {
        for p in &cx.inventory.unjudged {
            out.push(Violation::new(p.at.clone(), p.message.clone()));
        }
    }
}

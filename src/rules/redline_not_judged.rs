//! ## redline-not-judged
//!
//! **What it does.** Names every Redis-family server of the input that redline does not model
//! yet, as an info: a Dragonfly resource (`dragonflydb.io`), a KubeDB `Redis`,
//! `RedisSentinel` or `RedisOpsRequest`, a Redis Enterprise cluster or database
//! (`app.redislabs.com`), and a workload container whose image is KeyDB or Dragonfly.
//!
//! **Why it matters.** A linter that passes what it did not read gives a false all-clear: a
//! Dragonfly with `--maxmemory` at its limit, or a KeyDB without a password, would pass the
//! CI gate with exit 0 and nothing said. The note says the object was seen and not judged.
//!
//! **Fix.** None: the note goes away when redline models the engine.
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

//! ## redis-conf-unparseable
//!
//! **What it does.** Reads the effective configuration exactly as redis-server 7.0 does
//! (`sdssplitargs` tokenizing, directive table, argument counts, value checks, includes,
//! command-line arguments appended after the file) and reports every line it would refuse.
//!
//! **Why it matters.** redis-server exits at the first bad line with `FATAL CONFIG FILE
//! ERROR`; in Kubernetes that is a CrashLoopBackOff with the reason only in the previous
//! container's log. Common causes: an inline `# comment` (Redis has none: the words become
//! arguments), unbalanced quotes, an unknown or misspelled directive, Kubernetes units such
//! as `2Gi` or decimals such as `1.5gb` in memory values, `yes`/`no` misspelled.
//!
//! **Fix.** None: the message says what redis-server says, and why.
use crate::model::Deployment;

use super::{Context, Rule, Violation};

pub struct Check;

impl Rule for Check {
    fn deployment(&self, _cx: &Context, d: &Deployment, out: &mut Vec<Violation>) {
        let Some(fallback) = d.redis_container().map(|c| c.at.clone()) else {
            return;
        };
        for (error, at) in &d.config.errors {
            let mut message = format!("redis-server refuses to start: {}", error.message);
            if !error.line_text.is_empty() {
                message.push_str(&format!(" in `{}`", error.line_text));
            }
            if let Some(hint) = &error.hint {
                message.push_str(&format!(" ({hint})"));
            }
            out.push(Violation::new(
                at.clone().unwrap_or_else(|| fallback.clone()),
                message,
            ));
        }
    }
}

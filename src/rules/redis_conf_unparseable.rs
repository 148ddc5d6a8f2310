//! ## redis-conf-unparseable
//!
//! **What it does.** Reads the effective configuration as the container's server does
//! (`sdssplitargs` tokenizing, the directive table of its engine and release — Redis 6.2 to
//! 8.0, Valkey 7.2 to 8.1, from the image tag — argument counts, value checks, includes,
//! command-line arguments appended after the file) and reports every line it would refuse.
//! A directive its release does not know says when it came or went ("added in Redis 7.2",
//! "Valkey only"). Where the tag does not name the release (`latest`, a digest), a directive
//! any release knows is accepted, and one none knows is a warning: the server may refuse it.
//!
//! KeyDB (6.3.4's table) adds its own refusals: `replicaof` before `active-replica` or
//! `multi-master`, and `multi-master` without `active-replica`. Dragonfly reads absl flags:
//! a value absl refuses (a size its release cannot read, such as `512MI` from v1.36), and a
//! `DFLY_` variable that is no flag — `DFLY_PASSWORD` from v1.14, and from v1.11 the service
//! links of a Service named `dfly` or `dfly-…` in its namespace (including the one
//! dragonfly-operator names after a resource called so) — stop it before it serves.
//!
//! **Why it matters.** redis-server exits at the first bad line with `FATAL CONFIG FILE
//! ERROR`; in Kubernetes that is a CrashLoopBackOff with the reason only in the previous
//! container's log. Common causes: an inline `# comment` (Redis has none: the words become
//! arguments), unbalanced quotes, an unknown or misspelled directive, Kubernetes units such
//! as `2Gi` or decimals such as `1.5gb` in memory values, `yes`/`no` misspelled.
//!
//! **Fix.** None: the message says what redis-server says, and why.
use crate::model::Deployment;

use super::{Context, NoParams, Rule, Severity, Violation};

pub struct Check;

impl Rule for Check {
    type Params = NoParams;

    fn deployment(&self, _cx: &Context, d: &Deployment, out: &mut Vec<Violation>) {
        let Some(fallback) = d.redis_container().map(|c| c.at.clone()) else {
            return;
        };
        for (error, at) in &d.config.errors {
            let server = super::facts::server(d);
            let mut message = if error.certain {
                format!("{server} refuses to start: {}", error.message)
            } else {
                format!("{server} may refuse to start: {}", error.message)
            };
            if !error.line_text.is_empty() {
                message.push_str(&format!(" in `{}`", error.line_text));
            }
            if let Some(hint) = &error.hint {
                message.push_str(&format!(" ({hint})"));
            }
            let v = Violation::new(at.clone().unwrap_or_else(|| fallback.clone()), message);
            out.push(if error.certain {
                v
            } else {
                v.severity(Severity::Warning)
            });
        }
    }
}

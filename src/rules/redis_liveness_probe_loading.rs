//! ## redis-liveness-probe-loading
//!
//! **What it does.** Finds liveness probes that run `PING` and accept only `PONG`:
//! `redis-cli ping` on its own (redis-cli exits non-zero on an error reply), or piped into a
//! `grep PONG` or a comparison with `PONG`, without also accepting `LOADING`.
//!
//! **Why it matters.** While Redis loads its RDB or AOF at start-up, `PING` answers
//! `-LOADING Redis is loading the dataset in memory`; a replica with
//! `replica-serve-stale-data no` answers `-MASTERDOWN`. Loading a large dataset takes
//! minutes, so a liveness probe that wants `PONG` kills Redis in the middle of it, forever:
//! the restart starts loading again. Liveness should ask "is the process alive", readiness
//! "can it serve".
//!
//! **Fix.** None automatic (the command may carry auth): accept `PONG`, `LOADING` and
//! `MASTERDOWN` in the liveness script, or use a `tcpSocket` liveness check and keep PONG
//! for readiness. A startupProbe covers the load at start-up, but not a replica loading
//! the RDB of a full resync, which answers `-LOADING` too.
use crate::model::{Deployment, Handler};

use super::facts;
use super::{Context, Rule, Severity, Violation};

pub struct Check;

impl Rule for Check {
    fn deployment(&self, _cx: &Context, d: &Deployment, out: &mut Vec<Violation>) {
        let Some(c) = facts::data_container(d) else { return };
        let Some(probe) = &c.probes.liveness else { return };
        let Handler::Exec(command) = &probe.handler else { return };
        if !requires_pong(command) {
            return;
        }
        let at = probe.at.clone().unwrap_or_else(|| c.at.clone());
        match facts::probe_owner(&probe.origin) {
            Some(owner) => out.push(
                Violation::new(
                    at,
                    format!(
                        "the liveness probe fails while Redis answers -LOADING; it is set by \
                         {owner}, so change it there"
                    ),
                )
                .severity(Severity::Info),
            ),
            None => out.push(Violation::new(
                at,
                format!(
                    "container `{}`: the liveness probe `{}` requires PONG, and PING answers \
                     -LOADING while the dataset loads: the kubelet kills Redis during every \
                     long start-up; accept LOADING and MASTERDOWN, or check tcpSocket",
                    c.name,
                    command.join(" ")
                ),
            )),
        }
    }
}

/// The probe's command pings and wants PONG, without accepting LOADING.
pub fn requires_pong(command: &[String]) -> bool {
    let text = command.join(" ");
    let lower = text.to_ascii_lowercase();
    if !lower.contains("ping") || lower.contains("loading") {
        return false;
    }
    if text.contains("PONG") {
        return true;
    }
    // A bare `redis-cli … ping`: redis-cli exits 1 on an error reply such as -LOADING.
    let words: Vec<&str> = command
        .iter()
        .flat_map(|a| a.split_whitespace())
        .collect();
    let cli = words.iter().position(|w| w.ends_with("redis-cli") || w.ends_with("valkey-cli"));
    cli.is_some_and(|i| {
        words[i..].last().is_some_and(|w| w.eq_ignore_ascii_case("ping"))
            && !lower.contains("||")
            && !lower.contains(';')
    })
}

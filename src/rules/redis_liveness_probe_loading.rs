//! ## redis-liveness-probe-loading
//!
//! **What it does.** Finds liveness probes that run `PING` and fail on an error reply
//! without letting `LOADING` pass: a comparison with `PONG` (`grep PONG`, `[ "$r" = PONG ]`,
//! in the command or in the script it runs when the input holds the script), or
//! `redis-cli -e ping`. A bare `redis-cli ping` is not one: without `-e`, redis-cli exits 0
//! on an error reply (redis-cli.c sets an error exit code on error replies only with `-e`).
//!
//! **Why it matters.** While Redis loads its RDB or AOF at start-up, `PING` answers
//! `-LOADING Redis is loading the dataset in memory`; a replica with
//! `replica-serve-stale-data no` answers `-MASTERDOWN`. Loading a large dataset takes
//! minutes, so a liveness probe that wants `PONG` kills Redis in the middle of it, forever:
//! the restart starts loading again. Liveness should ask "is the process alive", readiness
//! "can it serve".
//!
//! **Fix.** None automatic (the command may carry auth): accept `PONG`, `LOADING` and
//! `MASTERDOWN` in the liveness script, or drop the `PONG` comparison (a bare `redis-cli
//! ping` still fails when Redis does not answer), and keep PONG for readiness. A
//! startupProbe covers the load at start-up, but not a replica loading the RDB of a full
//! resync, which answers `-LOADING` too.
use crate::model::{Deployment, Handler};

use super::facts;
use super::{Context, NoParams, Rule, Severity, Violation};

pub struct Check;

impl Rule for Check {
    type Params = NoParams;

    fn deployment(&self, _cx: &Context, d: &Deployment, out: &mut Vec<Violation>) {
        let Some(c) = facts::data_container(d) else { return };
        let Some(probe) = &c.probes.liveness else { return };
        if facts::probe_check(probe)
            != (facts::ProbeCheck::PingWantsPong {
                accepts_loading: false,
            })
        {
            return;
        }
        let command = match &probe.handler {
            Handler::Exec(command) => command.join(" "),
            _ => return,
        };
        let at = probe.at.clone().unwrap_or_else(|| c.at.clone());
        match facts::probe_owner(&probe.origin) {
            Some(owner) => out.push(
                Violation::new(
                    at,
                    format!(
                        "the liveness probe fails while {} answers -LOADING; it is set by \
                         {owner}, so change it there",
                        d.engine
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
                    c.name, command
                ),
            )),
        }
    }
}

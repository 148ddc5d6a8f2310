//! ## redis-startup-probe-missing
//!
//! **What it does.** Finds Redis containers with no startupProbe whose livenessProbe fails
//! while Redis answers `-LOADING` (it wants `PONG`: see `redis-liveness-probe-loading`),
//! where start-up is slow: persistence on (RDB save points or AOF, so the dataset loads
//! from disk) or cluster mode. A tcpSocket liveness probe, or a bare `redis-cli ping`
//! (exit 0 on an error reply), passes while Redis loads and needs no startupProbe.
//!
//! **Why it matters.** Until a startupProbe succeeds, liveness and readiness are not run.
//! Without one, the liveness probe's `initialDelaySeconds + failureThreshold ×
//! periodSeconds` is all the time Redis gets to load its data, and a dataset that grew
//! past that budget turns every restart into a kill loop. Sharded clusters crashed after
//! stop/start in exactly this way.
//!
//! **Fix.** Adds a startupProbe waiting for PONG every 10 s for `budget_seconds` (300 s by
//! default: `failureThreshold` = budget / 10). Raise the budget to the load time of your
//! largest dataset. For operator-written pods it is an info naming the operator.
use serde_json::json;

use crate::model::Deployment;

use super::facts;
use super::fixes::{add_probe, ping_handler};
use serde::{Deserialize, Serialize};

use super::{Context, Rule, Severity, Violation};

/// `rules/redis-startup-probe-missing.yaml` describes it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Params {
    pub budget_seconds: i64,
}

pub struct Check;

impl Rule for Check {
    type Params = Params;

    fn deployment(&self, cx: &Context<Params>, d: &Deployment, out: &mut Vec<Violation>) {
        let Some(c) = facts::data_container(d) else { return };
        if c.probes.startup.is_some() {
            return;
        }
        // Only a liveness probe that fails on `-LOADING` kills Redis while it loads.
        let Some(liveness) = &c.probes.liveness else { return };
        if facts::probe_check(liveness)
            != (facts::ProbeCheck::PingWantsPong {
                accepts_loading: false,
            })
        {
            return;
        }
        let cluster = d.config.redis.cluster_enabled();
        if !(cluster || (d.config.is_known("save") && facts::persistent(d))) {
            return;
        }
        let why = if cluster {
            "cluster mode"
        } else if d.config.redis.appendonly() {
            "AOF on"
        } else {
            "RDB save points"
        };
        let budget = cx.params.budget_seconds.max(10);
        let period = 10;
        if !facts::user_owns_pods(d) {
            out.push(
                Violation::new(
                    c.at.clone(),
                    format!(
                        "no startup probe while {} loads its data ({why}); {} writes the \
                         probes, so change it there",
                        d.engine,
                        facts::pod_owner(d)
                    ),
                )
                .severity(Severity::Info),
            );
            return;
        }
        let mut probe = ping_handler(d, c);
        if let Some(map) = probe.as_mut().and_then(|p| p.as_object_mut()) {
            map.insert("periodSeconds".into(), json!(period));
            map.insert("timeoutSeconds".into(), json!(5));
            map.insert("failureThreshold".into(), json!((budget + period - 1) / period));
        }
        out.push(
            Violation::new(
                c.at.clone(),
                format!(
                    "container `{}` has no startupProbe, its liveness probe fails while {} \
                     answers -LOADING, and start-up is slow ({why}): a dataset that takes \
                     longer to load than the liveness budget is killed on every restart",
                    c.name,
                    d.engine
                ),
            )
            .fix(probe.and_then(|p| add_probe(cx.inventory, c, "startupProbe", p))),
        );
    }
}

//! ## redis-liveness-probe-timeout
//!
//! **What it does.** Checks a Redis container's livenessProbe that waits for Redis' reply
//! to `PING`: `timeoutSeconds` below `min_timeout_seconds` (5) or `failureThreshold` below
//! `min_failure_threshold` (3). A tcpSocket probe is left alone (the kernel answers it while
//! Redis is stalled), as is an exporter's httpGet and a script the input does not hold.
//!
//! **Why it matters.** Kubernetes' default timeout is 1 s. A fork for BGSAVE or an AOF
//! rewrite can stall Redis "even for one second" on a large dataset (redis-doc
//! persistence.md), and a slow `KEYS` or a big `DEL` blocks it longer; one failed check
//! too many and the kubelet kills a healthy primary, which triggers a failover and a full
//! resync — more forks. The kill is what the probe was meant to prevent.
//!
//! **Fix.** Raises `timeoutSeconds` and `failureThreshold` to the minimums. For probes an
//! operator writes it is an info naming the operator.
use crate::patch::set_path;
use serde_json::json;

use crate::model::{Deployment, Setting};

use super::facts;
use serde::{Deserialize, Serialize};

use super::{Context, Fix, FixEdit, Rule, Severity, Violation};

/// `rules/redis-liveness-probe-timeout.yaml` describes each.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Params {
    pub min_timeout_seconds: i64,
    pub min_failure_threshold: i64,
}

pub struct Check;

impl Rule for Check {
    type Params = Params;

    fn deployment(&self, cx: &Context<Params>, d: &Deployment, out: &mut Vec<Violation>) {
        let Some(c) = facts::data_container(d) else { return };
        let Some(probe) = &c.probes.liveness else { return };
        // Only a probe that waits for Redis' reply is stalled with it: a tcpSocket check is
        // answered by the kernel, an exporter's httpGet by the exporter.
        if !matches!(
            facts::probe_check(probe),
            facts::ProbeCheck::PingWantsPong { .. } | facts::ProbeCheck::PingAnyReply
        ) {
            return;
        }
        let probe_at = probe.at.clone().unwrap_or_else(|| c.at.clone());
        let min_timeout = cx.params.min_timeout_seconds;
        let min_failures = cx.params.min_failure_threshold;
        let checks: [(&str, &Setting, i64, &str); 2] = [
            ("timeoutSeconds", &probe.timeout_seconds, min_timeout, "s"),
            ("failureThreshold", &probe.failure_threshold, min_failures, ""),
        ];
        let low: Vec<_> = checks.iter().filter(|(_, s, min, _)| s.value < *min).collect();
        if low.is_empty() {
            return;
        }
        let what = low
            .iter()
            .map(|(name, s, min, unit)| {
                let default = if s.at.is_none() { " (the default)" } else { "" };
                format!("{name} {}{unit}{default} < {min}{unit}", s.value)
            })
            .collect::<Vec<_>>()
            .join(", ");
        let at = low[0].1.at.clone().unwrap_or(probe_at.clone());
        // An operator's probe whose block the user wrote (OT's `livenessProbe` field) takes
        // the user's timings: those are changed in the object.
        if let (Some(owner), None) = (facts::probe_owner(&probe.origin), &probe.at) {
            out.push(
                Violation::new(
                    at,
                    format!("liveness probe {what}; it is set by {owner}, so change it there"),
                )
                .severity(Severity::Info),
            );
            return;
        }
        let mut ops = Vec::new();
        for (name, _, min, _) in &low {
            let pointer = format!("{}/{name}", probe_at.pointer);
            match set_path(cx.inventory, probe_at.object, &pointer, json!(min)) {
                Some(o) => ops.extend(o),
                None => break,
            }
        }
        let fix = (ops.len() == low.len()).then(|| Fix {
            description: format!(
                "raise the liveness probe's {}",
                low.iter().map(|(n, _, m, _)| format!("{n} to {m}")).collect::<Vec<_>>().join(" and ")
            ),
            edit: FixEdit::Patch {
                object: probe_at.object,
                ops,
            },
        });
        out.push(
            Violation::new(
                at,
                format!(
                    "container `{}`: liveness probe {what}: a fork or a slow command can stall \
                     {} past it, and the kubelet kills a healthy server",
                    c.name,
                    d.engine
                ),
            )
            .fix(fix),
        );
    }
}

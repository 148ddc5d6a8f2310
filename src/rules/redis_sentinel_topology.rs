//! ## redis-sentinel-topology
//!
//! **What it does.** Judges every group of Sentinels the input defines — a workload whose
//! containers run `redis-sentinel` / `redis-server --sentinel` with a sentinel.conf the input
//! holds, an OT `RedisSentinel`, a Spotahome `RedisFailover`'s Sentinels, a KubeBlocks
//! sentinel component — on four things:
//! - fewer Sentinels than `min_sentinels` (3): a warning; an even count: an info;
//! - a quorum above the number of Sentinels: an error (the primary is never agreed to be
//!   down, so they never fail over); above a majority: a warning;
//! - `sentinel monitor` naming a host while `sentinel resolve-hostnames` is not `yes`: an
//!   error from Redis 6.2 on (Sentinel exits at start-up), a warning before 6.2 (resolved
//!   once, then the IP is kept); `announce-hostnames` not `yes`: a warning (Sentinel hands
//!   out and rewrites pod IPs); 6.2.0–6.2.6 with hostnames: a warning (resolved once);
//! - an OT `RedisSentinel` with `resolveHostnames` or `announceHostnames` not `"yes"`: a
//!   warning (the operator monitors the primary's pod IP and does not follow a restart).
//!
//! **Why it matters.** A failover needs the votes of a majority of the Sentinels (or of
//! `quorum`, if larger); Sentinels that cannot vote or that follow a dead pod IP leave the
//! primary's failure unhandled, or hand clients an address nobody answers
//! (`rules/redis-sentinel-topology.yaml` lists the sources).
//!
//! **Fix.** For OT, sets `resolveHostnames` and `announceHostnames` to `"yes"`, and a quorum
//! above the Sentinels to their majority. Elsewhere none automatic: the count is a capacity
//! choice, and sentinel.conf lines are often written by a start script.
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::model::{Deployment, Loc, Located, Role, SentinelAddressing, SentinelQuorum};
use crate::patch::set_path;

use super::facts;
use super::{Context, Fix, FixEdit, Rule, Severity, Violation};

const DOCS: &str = "the Sentinel documentation";

/// `rules/redis-sentinel-topology.yaml` describes each.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Params {
    pub min_sentinels: i64,
}

pub struct Check;

impl Rule for Check {
    type Params = Params;

    fn deployment(&self, cx: &Context<Params>, d: &Deployment, out: &mut Vec<Violation>) {
        if d.role != Role::Sentinel {
            return;
        }
        let Some(s) = &d.sentinels else { return };
        // An operation's projection is judged only where it changes the count (a
        // HorizontalScaling); otherwise its Cluster is.
        if d.operation.is_some()
            && d
                .replicas
                .as_ref()
                .is_none_or(|r| r.at.object != d.object)
        {
            return;
        }
        if let Some(count) = &d.replicas {
            out.extend(count_finding(cx, count));
            if let Some(q) = &s.quorum {
                out.extend(quorum_finding(cx, count.value, q));
            }
        }
        out.extend(addressing_finding(cx, d, &s.addressing));
    }
}

fn count_finding(cx: &Context<Params>, count: &Located<i64>) -> Option<Violation> {
    let n = count.value;
    if n <= 0 {
        return None; // scaled to zero: nothing runs to judge
    }
    let majority = n / 2 + 1;
    if n < cx.params.min_sentinels {
        let loss = if n - majority < 1 {
            "losing one of them — a node drain, a restart — leaves no majority to authorise a \
             failover"
                .to_string()
        } else {
            format!("only {} of them may be down", n - majority)
        };
        return Some(
            Violation::new(
                count.at.clone(),
                format!(
                    "{n} Sentinel{}: a failover needs the votes of a majority ({majority}), so \
                     {loss}; run at least {} Sentinels, an odd number (\"You need at least three \
                     Sentinel instances for a robust deployment\", {DOCS})",
                    if n == 1 { "" } else { "s" },
                    cx.params.min_sentinels | 1,
                ),
            )
            .severity(Severity::Warning),
        );
    }
    (n % 2 == 0).then(|| {
        Violation::new(
            count.at.clone(),
            format!(
                "{n} Sentinels, an even count: a majority is {majority}, so they survive no more \
                 failures than {} would, and a split into two halves elects no leader; run {}",
                n - 1,
                n + 1
            ),
        )
        .severity(Severity::Info)
    })
}

fn quorum_finding(cx: &Context<Params>, n: i64, q: &SentinelQuorum) -> Option<Violation> {
    if n <= 0 {
        return None;
    }
    let majority = n / 2 + 1;
    let by = q
        .set_by
        .as_ref()
        .map_or(String::new(), |by| format!(" (set by {by})"));
    if q.value > n {
        let fix = quorum_fix(cx, q, majority);
        return Some(
            Violation::new(
                q.at.clone(),
                format!(
                    "quorum {}{by} is more than the {n} Sentinel{}: they never agree that the \
                     primary is down (ODOWN), so they never fail over; keep the quorum at most \
                     the majority ({majority}), or run more Sentinels",
                    q.value,
                    if n == 1 { "" } else { "s" },
                ),
            )
            .severity(Severity::Error)
            .fix(fix),
        );
    }
    (q.value > majority).then(|| {
        Violation::new(
            q.at.clone(),
            format!(
                "quorum {}{by} of {n} Sentinels is more than their majority ({majority}): a \
                 failover needs {} of them up, so losing {} already stops it; keep the quorum at \
                 most {majority}",
                q.value,
                q.value,
                n - q.value + 1,
            ),
        )
        .severity(Severity::Warning)
        .fix(quorum_fix(cx, q, majority))
    })
}

/// A quorum written in a custom resource's field (OT's string `quorum`) set to the majority.
fn quorum_fix(cx: &Context<Params>, q: &SentinelQuorum, majority: i64) -> Option<Fix> {
    let written = cx.inventory.str_at(q.at.object, &q.at.pointer)?;
    // Only a field that holds just the number: not a sentinel.conf line in a ConfigMap.
    if written.trim() != q.value.to_string() || q.set_by.is_some() {
        return None;
    }
    let ops = set_path(
        cx.inventory,
        q.at.object,
        &q.at.pointer,
        json!(majority.to_string()),
    )?;
    Some(Fix {
        description: format!("set quorum to {majority}"),
        edit: FixEdit::Patch {
            object: q.at.object,
            ops,
        },
    })
}

fn addressing_finding(
    cx: &Context<Params>,
    d: &Deployment,
    addressing: &SentinelAddressing,
) -> Option<Violation> {
    match addressing {
        SentinelAddressing::Config {
            host,
            resolve_hostnames,
            announce_hostnames,
        } => config_addressing(d, host, resolve_hostnames, announce_hostnames),
        SentinelAddressing::Fields {
            resolve_hostnames,
            announce_hostnames,
        } => {
            if resolve_hostnames.value && announce_hostnames.value {
                return None;
            }
            let at = if resolve_hostnames.value {
                &announce_hostnames.at
            } else {
                &resolve_hostnames.at
            };
            Some(
                Violation::new(
                    at.clone(),
                    format!(
                        "resolveHostnames {} and announceHostnames {}: the operator monitors \
                         the primary by its pod IP, which changes on every restart, and does \
                         not re-point the Sentinels when a pod restarts without a failover \
                         (OT-CONTAINER-KIT/redis-operator#1781); set both to \"yes\"",
                        yes_no(resolve_hostnames.value),
                        yes_no(announce_hostnames.value)
                    ),
                )
                .fix(hostnames_fix(cx, resolve_hostnames, announce_hostnames)),
            )
        }
        SentinelAddressing::Operator(_) | SentinelAddressing::Unknown => None,
    }
}

fn yes_no(b: bool) -> &'static str {
    if b { "\"yes\"" } else { "\"no\"" }
}

/// Both OT fields set to "yes", in one patch where their parent is missing (two `add`s of
/// `redisSentinelConfig` would replace each other).
fn hostnames_fix(
    cx: &Context<Params>,
    resolve: &Located<bool>,
    announce: &Located<bool>,
) -> Option<Fix> {
    let object = resolve.at.object;
    let mut ops = Vec::new();
    for f in [resolve, announce].into_iter().filter(|f| !f.value) {
        ops.extend(set_path(cx.inventory, object, &f.at.pointer, json!("yes"))?);
    }
    let parent = |at: &Loc| at.pointer.rsplit_once('/').map(|(p, _)| p.to_string());
    if ops.len() == 2 && ops[0].path() == ops[1].path() {
        ops = set_path(
            cx.inventory,
            object,
            &parent(&resolve.at)?,
            json!({"resolveHostnames": "yes", "announceHostnames": "yes"}),
        )?;
    }
    Some(Fix {
        description: "set resolveHostnames and announceHostnames to \"yes\"".to_string(),
        edit: FixEdit::Patch { object, ops },
    })
}

fn config_addressing(
    d: &Deployment,
    host: &Located<String>,
    resolve: &Option<Located<bool>>,
    announce: &Option<Located<bool>>,
) -> Option<Violation> {
    // A literal IP may be a Service's stable ClusterIP: not judged.
    if host.value.parse::<std::net::IpAddr>().is_ok() {
        return None;
    }
    let on = |f: &Option<Located<bool>>| f.as_ref().is_some_and(|f| f.value);
    let name = &host.value;
    if !on(resolve) {
        let line = resolve
            .as_ref()
            .map_or("not written (no by default)", |_| "`no`");
        return Some(if facts::version_below(d, (6, 2), (0, 0)) == Some(true) {
            Violation::new(
                host.at.clone(),
                format!(
                    "`sentinel monitor` names `{name}`: before 6.2 Sentinel resolves it once at \
                     start-up and writes the IP back into sentinel.conf, so it follows a pod IP \
                     that changes on the next restart (redis#8300); use 6.2 or later with \
                     `sentinel resolve-hostnames yes` and `sentinel announce-hostnames yes`"
                ),
            )
            .severity(Severity::Warning)
        } else {
            Violation::new(
                host.at.clone(),
                format!(
                    "`sentinel monitor` names `{name}` while `sentinel resolve-hostnames` is \
                     {line}: Sentinel exits at start-up with \"Can't resolve \
                     instance hostname.\"; add `sentinel resolve-hostnames yes` and `sentinel \
                     announce-hostnames yes`"
                ),
            )
            .severity(Severity::Error)
        });
    }
    if !on(announce) {
        let at = announce.as_ref().map_or(&host.at, |a| &a.at);
        return Some(
            Violation::new(
                at.clone(),
                format!(
                    "`sentinel announce-hostnames` is {}: Sentinel resolves `{name}` but hands \
                     out and writes back its pod IP, which changes on every restart (redis#8300); \
                     add `sentinel announce-hostnames yes`",
                    announce.as_ref().map_or("not written (no)", |_| "no")
                ),
            )
            .severity(Severity::Warning),
        );
    }
    let v = d.version.as_ref()?;
    let early_62 = v.product == crate::model::Product::Redis
        && v.major == 6
        && v.minor == Some(2)
        && v.patch.is_some_and(|p| p < 7);
    early_62.then(|| {
        Violation::new(
            host.at.clone(),
            format!(
                "Redis {}: Sentinel resolves `{name}` once and does not follow a new pod IP until \
                 6.2.7 (redis#10146); use 6.2.7 or later",
                v.text
            ),
        )
        .severity(Severity::Warning)
    })
}

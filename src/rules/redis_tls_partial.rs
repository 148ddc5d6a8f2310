//! ## redis-tls-partial
//!
//! **What it does.** For a Redis with `tls-port` set, reports what TLS leaves open: no
//! `tls-ca-cert-file`/`tls-ca-cert-dir` (error: redis-server refuses to configure TLS
//! without a CA), the plaintext `port` still listening, replication without
//! `tls-replication yes`, cluster bus without `tls-cluster yes` (warnings).
//!
//! **Why it matters.** Turning TLS on for clients while the plaintext port stays open, or
//! while replicas and cluster nodes talk in clear text, gives the appearance of encryption
//! without its protection: the dataset crosses the network unencrypted on every full
//! resync.
//!
//! **Fix.** None automatic (clients may still use the plaintext port): set `port 0`,
//! `tls-replication yes`, `tls-cluster yes`, and a CA.
use crate::model::{Deployment, Role};

use super::facts;
use super::{Context, NoParams, Rule, Severity, Violation};

pub struct Check;

impl Rule for Check {
    type Params = NoParams;

    fn deployment(&self, _cx: &Context, d: &Deployment, out: &mut Vec<Violation>) {
        let r = &d.config.redis;
        let Some(tls_line) = r.line_of("tls-port") else { return };
        if r.int_value("tls-port") == 0 || !d.config.complete {
            return;
        }
        let Some(at) = facts::arg_loc(d, tls_line, 0) else { return };
        let set = |name: &str| {
            r.get(name)
                .is_some_and(|(v, _)| matches!(v, crate::redisconf::Value::Str(Some(_))))
        };
        if !set("tls-ca-cert-file") && !set("tls-ca-cert-dir") {
            out.push(
                Violation::new(
                    at.clone(),
                    format!(
                        "tls-port is set without tls-ca-cert-file or tls-ca-cert-dir: {} fails \
                         to configure TLS and exits",
                        facts::server(d)
                    ),
                )
                .severity(Severity::Error),
            );
        }
        let mut open = Vec::new();
        if r.int_value("port") != 0 {
            open.push(format!("the plaintext port {} still listens", r.int_value("port")));
        }
        let replicated = matches!(d.role, Role::Replication | Role::ClusterShard)
            || r.replicaof().is_some();
        if replicated && !r.bool_value("tls-replication") {
            open.push("replication is not encrypted (tls-replication no)".into());
        }
        if r.cluster_enabled() && !r.bool_value("tls-cluster") {
            open.push("the cluster bus is not encrypted (tls-cluster no)".into());
        }
        if !open.is_empty() {
            out.push(
                Violation::new(
                    at,
                    format!("TLS is only partly on: {}", open.join("; ")),
                )
                .severity(Severity::Warning),
            );
        }
    }
}

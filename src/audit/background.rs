//! `serve --audit-interval`: the audit of `redline audit --all-namespaces`, run in the
//! webhook's process every interval, its findings on `/metrics`
//! (`redline_audit_findings{rule,severity,namespace}`) and, with `--write-reports`, in
//! PolicyReports.
//!
//! Each run lists the kinds afresh, a page at a time, rather than keeping watch caches of
//! every kind between runs: Gatekeeper's audit does the same by default (`--audit-from-cache`
//! off, `--audit-chunk-size` 500), and the process then holds one audit's objects only while
//! it runs, not every Redis-related object of the cluster all the time.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use kube::Client;
use serde_json::Value;

use super::list::{self, Scope};
use crate::engine::Settings;
use crate::extract::Options;
use crate::report::{Report, policyreport};
use crate::rules::Severity;
use crate::webhook::metrics::{Metrics, ResultLabels};

/// What the background audit does.
pub struct Background {
    pub client: Client,
    pub interval: Duration,
    pub options: Options,
    pub settings: Settings,
    pub write_reports: bool,
    pub metrics: Arc<Metrics>,
}

/// The metric label of a severity.
fn severity_label(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "info",
    }
}

/// Findings per (rule, severity, namespace) of one audit, and its reports when asked for.
type Judged = (BTreeMap<(String, &'static str, String), i64>, Vec<Value>);

fn judged(listed: super::Listed, b: &Background) -> Judged {
    let linted = super::judge(listed.objects, &b.options, &b.settings);
    let report = Report::new(&linted);
    let mut counts = BTreeMap::new();
    for item in &report.items {
        let namespace = item
            .object
            .and_then(|o| o.namespace.clone())
            .unwrap_or_default();
        *counts
            .entry((
                item.rule.to_string(),
                severity_label(item.severity),
                namespace,
            ))
            .or_insert(0) += 1;
    }
    let reports = if b.write_reports {
        policyreport::reports(&report, &listed.namespaces, crate::webhook::tls::now_unix())
    } else {
        Vec::new()
    };
    (counts, reports)
}

/// One audit: list, judge, publish. The result label of `redline_audit_runs_total`.
pub async fn once(b: &Arc<Background>) -> &'static str {
    let started = Instant::now();
    let scope = Scope {
        namespaces: None,
        selector: None,
        page_size: list::PAGE_SIZE,
    };
    let listed = match list::collect(&b.client, &scope, &mut |_| {}).await {
        Ok(l) => l,
        Err(e) => {
            tracing::warn!(error = %e, "audit failed");
            return "error";
        }
    };
    for p in &listed.problems {
        if p.incomplete() {
            tracing::warn!(problem = %p, "audit: a kind was not read");
        } else {
            tracing::debug!(problem = %p, "audit");
        }
    }
    let incomplete = listed.incomplete();
    let objects = listed.objects.len();
    let background = b.clone();
    // Judging is CPU work: off the async workers that answer reviews.
    let Ok((counts, reports)) =
        tokio::task::spawn_blocking(move || judged(listed, &background)).await
    else {
        tracing::warn!("audit: judging panicked");
        return "error";
    };
    let findings: i64 = counts.values().sum();
    b.metrics.set_audit_findings(
        counts
            .iter()
            .map(|((rule, severity, ns), n)| ((rule.as_str(), *severity, ns.as_str()), *n)),
    );
    if b.write_reports && incomplete {
        tracing::warn!("audit: policy reports not written: the audit is incomplete");
    } else if b.write_reports
        && let Err(e) = list::write_reports(&b.client, &reports, &scope).await
    {
        tracing::warn!(error = %e, "audit: policy reports not written");
        return "error";
    }
    tracing::info!(
        objects,
        findings,
        incomplete,
        elapsed_ms = started.elapsed().as_millis() as u64,
        "audit done"
    );
    if incomplete { "incomplete" } else { "ok" }
}

/// Audit every `interval`, the first time at once, until the process ends.
pub async fn run(b: Background) {
    let b = Arc::new(b);
    loop {
        let result = once(&b).await;
        b.metrics
            .audit_runs
            .get_or_create(&ResultLabels { result })
            .inc();
        tokio::time::sleep(b.interval).await;
    }
}

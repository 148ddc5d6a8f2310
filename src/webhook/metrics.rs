//! `GET /metrics`: what an SRE watches on the webhook, in the Prometheus text format.
//!
//! - `redline_admission_reviews_total{hook,kind,operation,decision}`: every answered review
//!   (`kind` is an admitted kind or `other`)
//!   (`decision`: allowed, warned, denied, patched; or, not judged within the review budget,
//!   busy, deadline, over_budget) and every refused body (`decision`: bad_request, too_large,
//!   timeout, busy, internal_error; kind and operation `unknown`).
//! - `redline_admission_review_duration_seconds{hook}`: body read to answer, a histogram with
//!   buckets from 50 µs (the webhook's own work is sub-millisecond; the API server's timeout
//!   is seconds, so the top buckets show trouble, not normal service).
//! - `redline_lookup_errors_total{kind}`: reviews judged without their related objects.
//! - `redline_tls_certificate_expiry_seconds`: seconds until the serving certificate's
//!   notAfter (negative once expired): alert well before zero.
//! - `redline_tls_reloads_total{result}`: certificate reloads, `ok` or `error`.
//! - `redline_audit_findings{rule,severity,namespace}` (`serve --audit-interval`): the
//!   findings of the last complete audit (exempted ones not counted); a series whose
//!   findings are gone disappears.
//! - `redline_audit_runs_total{result}`: background audits, `ok`, `incomplete` (a kind
//!   could not be listed) or `error` (the API server could not be reached).

use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ReviewLabels {
    pub hook: &'static str,
    /// One of the admitted kinds, else `other` ([`kind_label`]).
    pub kind: &'static str,
    pub operation: String,
    pub decision: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct HookLabels {
    pub hook: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct KindLabels {
    pub kind: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct AuditLabels {
    pub rule: String,
    pub severity: &'static str,
    pub namespace: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ResultLabels {
    pub result: &'static str,
}

pub struct Metrics {
    registry: Registry,
    pub reviews: Family<ReviewLabels, Counter>,
    pub latency_seconds: Family<HookLabels, Histogram>,
    pub lookup_errors: Family<KindLabels, Counter>,
    /// Set from `not_after_unix` at each scrape.
    certificate_expiry_seconds: Gauge<f64, AtomicU64>,
    pub tls_reloads: Family<ResultLabels, Counter>,
    audit_findings: Family<AuditLabels, Gauge>,
    pub audit_runs: Family<ResultLabels, Counter>,
    /// The serving certificate's notAfter (Unix seconds); the gauge is computed from it at
    /// each scrape, so it counts down between reloads.
    not_after_unix: AtomicI64,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("redline");
        let reviews = Family::<ReviewLabels, Counter>::default();
        registry.register(
            "admission_reviews",
            "Admission reviews answered, by hook, kind, operation and decision",
            reviews.clone(),
        );
        // 50 µs · 2^k up to ~1.6 s.
        let latency_seconds = Family::<HookLabels, Histogram>::new_with_constructor(|| {
            Histogram::new(exponential_buckets(0.000_05, 2.0, 16))
        });
        registry.register(
            "admission_review_duration_seconds",
            "Time from the request to the answer",
            latency_seconds.clone(),
        );
        let lookup_errors = Family::<KindLabels, Counter>::default();
        registry.register(
            "lookup_errors",
            "Reviews judged without their related objects because a lookup failed",
            lookup_errors.clone(),
        );
        let certificate_expiry_seconds = Gauge::<f64, AtomicU64>::default();
        registry.register(
            "tls_certificate_expiry_seconds",
            "Seconds until the serving certificate expires",
            certificate_expiry_seconds.clone(),
        );
        let tls_reloads = Family::<ResultLabels, Counter>::default();
        registry.register(
            "tls_reloads",
            "Serving certificate reloads, by result",
            tls_reloads.clone(),
        );
        let audit_findings = Family::<AuditLabels, Gauge>::default();
        registry.register(
            "audit_findings",
            "Findings of the last background audit, by rule, severity and namespace",
            audit_findings.clone(),
        );
        let audit_runs = Family::<ResultLabels, Counter>::default();
        registry.register(
            "audit_runs",
            "Background audits, by result",
            audit_runs.clone(),
        );
        Metrics {
            registry,
            audit_findings,
            audit_runs,
            reviews,
            latency_seconds,
            lookup_errors,
            certificate_expiry_seconds,
            tls_reloads,
            not_after_unix: AtomicI64::new(0),
        }
    }
}

impl Metrics {
    pub fn set_not_after(&self, unix_seconds: i64) {
        self.not_after_unix.store(unix_seconds, Ordering::Relaxed);
    }

    /// Replace the audit's findings with these counts (rule, severity, namespace).
    pub fn set_audit_findings<'a>(
        &self,
        counts: impl IntoIterator<Item = ((&'a str, &'static str, &'a str), i64)>,
    ) {
        self.audit_findings.clear();
        for ((rule, severity, namespace), n) in counts {
            self.audit_findings
                .get_or_create(&AuditLabels {
                    rule: rule.to_string(),
                    severity,
                    namespace: namespace.to_string(),
                })
                .set(n);
        }
    }

    /// The text exposition format.
    pub fn render(&self) -> String {
        let not_after = self.not_after_unix.load(Ordering::Relaxed);
        self.certificate_expiry_seconds
            .set((not_after - super::tls::now_unix()) as f64);
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }
}

/// The `kind` label of a review: an admitted kind, else `other`. The request's own string
/// would let any client create series without bound (2,000 random kinds, 2,000 series; a
/// 1 MB kind, 1 MB per scrape).
pub fn kind_label(kind: &str) -> &'static str {
    if kind == "unknown" {
        // A request refused before its kind was read.
        return "unknown";
    }
    super::ADMITTED
        .iter()
        .find(|a| a.kind == kind)
        .map_or("other", |a| a.kind)
}

#[cfg(test)]
mod label_tests {
    use super::kind_label;

    #[test]
    fn an_audit_replaces_the_findings_of_the_one_before() {
        let m = super::Metrics::default();
        m.set_audit_findings([
            (("redis-maxmemory-headroom", "error", "cache"), 2),
            (("redis-repl-backlog-small", "info", "kb"), 1),
        ]);
        let text = m.render();
        assert!(text.contains(
            r#"redline_audit_findings{rule="redis-maxmemory-headroom",severity="error",namespace="cache"} 2"#
        ), "{text}");
        m.set_audit_findings([(("redis-repl-backlog-small", "info", "kb"), 1)]);
        let text = m.render();
        assert!(
            !text.contains("redis-maxmemory-headroom"),
            "fixed findings leave: {text}"
        );
        assert!(text.contains(
            r#"redline_audit_findings{rule="redis-repl-backlog-small",severity="info",namespace="kb"} 1"#
        ));
    }

    #[test]
    fn kind_labels_are_the_admitted_kinds_or_other() {
        assert_eq!(kind_label("StatefulSet"), "StatefulSet");
        assert_eq!(kind_label("ValkeyCluster"), "ValkeyCluster");
        assert_eq!(kind_label("Kind-0001"), "other");
        assert_eq!(kind_label(&"x".repeat(1 << 20)), "other");
    }
}

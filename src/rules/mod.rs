//! The rule catalogue: one module per rule, one registry.
//!
//! A rule reads the [model](crate::model) and reports [`Violation`]s; it never does I/O and
//! never sees YAML, HTTP or files. Its metadata (severity, summary, rationale with sources,
//! parameters with defaults, whether the mutating webhook applies its fix) lives in
//! `rules/<id>.yaml`, embedded at build time; its module's `//!` doc comment is what
//! `redline explain <id>` prints. The [engine](crate::engine) applies configuration,
//! namespace scopes and exemptions, and orders the findings.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::LazyLock;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::model::{Deployment, Inventory, Loc};

pub mod facts;
pub mod fixes;
pub mod memory;
pub mod plan;

/// How bad a finding is. Ordered: `Info < Warning < Error`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    Error,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        })
    }
}

pub use crate::patch::{Fix, FixEdit, PatchOp};

/// What a rule reports: the engine adds the rule ID, resolves the severity and orders it.
#[derive(Debug, Clone, PartialEq)]
pub struct Violation {
    /// `None`: the rule's configured severity. Rules with two levels (an error beyond one
    /// threshold, a warning beyond another) name the level; a configured severity overrides
    /// both.
    pub severity: Option<Severity>,
    pub message: String,
    /// The field to change (or, for a missing field, where it would be added).
    pub at: Loc,
    pub fix: Option<Fix>,
}

impl Violation {
    pub fn new(at: Loc, message: impl Into<String>) -> Self {
        Violation {
            severity: None,
            message: message.into(),
            at,
            fix: None,
        }
    }

    pub fn severity(mut self, severity: Severity) -> Self {
        self.severity = Some(severity);
        self
    }

    pub fn fix(mut self, fix: Option<Fix>) -> Self {
        self.fix = fix;
        self
    }
}

/// What a rule is given. Facts from the live cluster (a Cluster's `status.phase`, the
/// ConfigMap a StatefulSet mounts) arrive as objects of the inventory: the webhook adds the
/// related objects its lookups found, so rules read one kind of input and never do I/O.
pub struct Context<'a, P = NoParams> {
    pub inventory: &'a Inventory,
    /// This rule's parameters.
    pub params: &'a P,
    /// The parameters of every rule, `None` for a disabled one: rules whose fixes touch the
    /// same values (maxmemory, the memory limit) plan them together ([`plan`]).
    pub enabled: &'a Enabled<'a>,
}

pub trait Rule: Sync + Send + 'static {
    /// The rule's parameters, named and typed as `rules/<id>.yaml` declares them
    /// (`#[serde(deny_unknown_fields)]`, no serde defaults: a test deserializes the YAML's
    /// defaults into it, so a name the YAML and the struct do not share fails). Rules without
    /// parameters use [`NoParams`].
    type Params: Serialize + DeserializeOwned + Clone + fmt::Debug + Send + Sync + 'static;

    /// Called once per deployment of the model.
    fn deployment(
        &self,
        _cx: &Context<Self::Params>,
        _deployment: &Deployment,
        _out: &mut Vec<Violation>,
    ) {
    }

    /// Called once per input, for rules about objects rather than deployments.
    fn inventory(&self, _cx: &Context<Self::Params>, _out: &mut Vec<Violation>) {}
}

/// The parameters of a rule that has none.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoParams {}

/// A parameter value: numbers, strings or booleans, as YAML writes them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ParamValue {
    Bool(bool),
    Number(f64),
    Text(String),
}

impl fmt::Display for ParamValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParamValue::Bool(b) => write!(f, "{b}"),
            ParamValue::Number(n) => write!(f, "{n}"),
            ParamValue::Text(s) => write!(f, "{s}"),
        }
    }
}

impl ParamValue {
    /// As JSON, whole numbers as integers (so that they deserialize into integer fields).
    fn to_json(&self) -> serde_json::Value {
        match self {
            ParamValue::Bool(b) => serde_json::Value::Bool(*b),
            ParamValue::Number(n) if n.fract() == 0.0 && n.abs() < 9.0e15 => (*n as i64).into(),
            ParamValue::Number(n) => serde_json::json!(n),
            ParamValue::Text(s) => serde_json::Value::String(s.clone()),
        }
    }

    fn type_name(&self) -> &'static str {
        match self {
            ParamValue::Bool(_) => "a boolean",
            ParamValue::Number(_) => "a number",
            ParamValue::Text(_) => "a string",
        }
    }
}

/// A rule parameter as `rules/<id>.yaml` declares it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ParamSpec {
    pub description: String,
    pub default: ParamValue,
    /// Inclusive bounds for numbers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<f64>,
    /// The allowed values of a string parameter.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub values: Option<Vec<String>>,
}

impl ParamSpec {
    /// Checks a configured value against this declaration.
    pub fn check(&self, value: &ParamValue) -> Result<(), String> {
        if std::mem::discriminant(value) != std::mem::discriminant(&self.default) {
            return Err(format!(
                "expected {}, found {}",
                self.default.type_name(),
                value.type_name()
            ));
        }
        if let ParamValue::Number(n) = value {
            if !n.is_finite() {
                return Err(format!("{n} is not a finite number"));
            }
            if let Some(min) = self.min.filter(|m| n < m) {
                return Err(format!("{n} is below the minimum {min}"));
            }
            if let Some(max) = self.max.filter(|m| n > m) {
                return Err(format!("{n} is above the maximum {max}"));
            }
        }
        if let (ParamValue::Text(s), Some(values)) = (value, &self.values)
            && !values.contains(s)
        {
            return Err(format!("`{s}` is not one of {}", values.join(", ")));
        }
        Ok(())
    }
}

/// `rules/<id>.yaml`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleMeta {
    pub id: String,
    /// The highest severity the rule reports (and the one it reports by default).
    pub severity: Severity,
    pub summary: String,
    pub rationale: String,
    /// Links backing the rationale and its thresholds.
    pub sources: Vec<String>,
    #[serde(default)]
    pub parameters: BTreeMap<String, ParamSpec>,
    /// Whether the mutating webhook applies this rule's fix unless configured otherwise.
    #[serde(default)]
    pub mutate: bool,
    /// Whether the admission webhook runs this rule unless configured otherwise (`false`: a
    /// finding for the CI report and the audit, not for every admission).
    #[serde(default = "yes")]
    pub webhook: bool,
    /// Whether `redline.dev/ignore` can exempt an object from it (not the rule that reports
    /// the annotation's own mistakes).
    #[serde(default = "yes")]
    pub exemptable: bool,
}

fn yes() -> bool {
    true
}

/// A rule's parameters with `name` set to `value`: the declared ones round-trip through JSON,
/// so the struct's own serde checks the name and the type.
fn with_value<P: Serialize + DeserializeOwned>(
    current: &P,
    name: &str,
    value: &ParamValue,
) -> Result<P, String> {
    let mut json = serde_json::to_value(current).map_err(|e| e.to_string())?;
    let Some(fields) = json.as_object_mut() else {
        return Err("the rule's parameters are not a struct".into());
    };
    fields.insert(name.to_string(), value.to_json());
    serde_json::from_value(json).map_err(|e| e.to_string())
}

/// A rule's parameters from the defaults its YAML declares.
fn declared_defaults<P: DeserializeOwned>(meta: &RuleMeta) -> Result<P, String> {
    let fields: serde_json::Map<String, serde_json::Value> = meta
        .parameters
        .iter()
        .map(|(name, spec)| (name.clone(), spec.default.to_json()))
        .collect();
    serde_json::from_value(serde_json::Value::Object(fields)).map_err(|e| e.to_string())
}

/// Runs one rule: the registry's typed call of its module, as a plain function.
type RunDeployment = fn(&Inventory, &Parameters, &Enabled, &Deployment, &mut Vec<Violation>);
type RunInventory = fn(&Inventory, &Parameters, &Enabled, &mut Vec<Violation>);

/// One entry of the registry.
pub struct RuleInfo {
    pub meta: RuleMeta,
    /// The rule module's doc comment: what `explain` prints.
    pub doc: String,
    run_deployment: RunDeployment,
    run_inventory: RunInventory,
}

impl RuleInfo {
    pub fn id(&self) -> &str {
        &self.meta.id
    }

    /// Runs the rule on one deployment with `parameters` (every rule's, this one's among them).
    pub fn deployment(
        &self,
        inventory: &Inventory,
        parameters: &Parameters,
        enabled: &Enabled,
        deployment: &Deployment,
        out: &mut Vec<Violation>,
    ) {
        (self.run_deployment)(inventory, parameters, enabled, deployment, out)
    }

    /// Runs the rule's check of the whole input.
    pub fn inventory(
        &self,
        inventory: &Inventory,
        parameters: &Parameters,
        enabled: &Enabled,
        out: &mut Vec<Violation>,
    ) {
        (self.run_inventory)(inventory, parameters, enabled, out)
    }

    fn load(
        id: &str,
        yaml: &str,
        source: &str,
        run_deployment: RunDeployment,
        run_inventory: RunInventory,
    ) -> RuleInfo {
        // The YAML is ours and embedded at build time; `registry_is_consistent` parses every
        // one in the test suite, so this cannot fail in a released binary.
        let meta: RuleMeta = yaml_serde::from_str(yaml)
            .unwrap_or_else(|e| panic!("rules/{id}.yaml does not parse: {e}"));
        assert_eq!(meta.id, id, "rules/{id}.yaml has the wrong id");
        RuleInfo {
            meta,
            doc: module_doc(source),
            run_deployment,
            run_inventory,
        }
    }
}

/// The leading `//!` lines of a module's source.
fn module_doc(source: &str) -> String {
    let mut doc = String::new();
    for line in source.lines() {
        let Some(text) = line.strip_prefix("//!") else {
            break;
        };
        doc.push_str(text.strip_prefix(' ').unwrap_or(text));
        doc.push('\n');
    }
    doc.trim_end().to_string()
}

macro_rules! registry {
    ($($module:ident => $id:literal,)*) => {
        $(pub mod $module;)*

        static REGISTRY: LazyLock<Vec<RuleInfo>> = LazyLock::new(|| {
            vec![$(RuleInfo::load(
                $id,
                include_str!(concat!("../../rules/", $id, ".yaml")),
                include_str!(concat!(stringify!($module), ".rs")),
                |inventory, parameters, enabled, d, out| {
                    let cx = Context { inventory, params: &parameters.$module, enabled };
                    Rule::deployment(&$module::Check, &cx, d, out)
                },
                |inventory, parameters, enabled, out| {
                    let cx = Context { inventory, params: &parameters.$module, enabled };
                    Rule::inventory(&$module::Check, &cx, out)
                },
            ),)*]
        });

        /// Every rule's parameters, typed: a field per rule module.
        #[derive(Debug, Clone)]
        pub struct Parameters {
            $(pub $module: <$module::Check as Rule>::Params,)*
        }

        /// The parameters of each rule that runs, `None` for a disabled one.
        #[derive(Debug, Clone, Copy)]
        pub struct Enabled<'a> {
            $(pub $module: Option<&'a <$module::Check as Rule>::Params>,)*
        }

        static DEFAULTS: LazyLock<Parameters> = LazyLock::new(|| Parameters {
            $($module: declared_defaults(&get($id).expect("registered").meta)
                // `typed_parameters_match_their_yaml` reads every rule's defaults in the
                // test suite, so this cannot fail in a released binary.
                .unwrap_or_else(|e| panic!("rules/{}.yaml's defaults: {e}", $id)),)*
        });

        impl Parameters {
            /// Sets parameter `name` of rule `id`; `Err` says why the value does not fit.
            pub fn set(&mut self, id: &str, name: &str, value: &ParamValue) -> Result<(), String> {
                match id {
                    $($id => self.$module = with_value(&self.$module, name, value)?,)*
                    _ => return Err(format!("unknown rule `{id}`")),
                }
                Ok(())
            }

            /// Rule `id`'s parameters as JSON (an object of its fields).
            pub fn of(&self, id: &str) -> Option<serde_json::Value> {
                match id {
                    $($id => serde_json::to_value(&self.$module).ok(),)*
                    _ => None,
                }
            }

            /// The parameters of the rules `runs` says run.
            pub fn enabled(&self, runs: impl Fn(&str) -> bool) -> Enabled<'_> {
                Enabled { $($module: runs($id).then_some(&self.$module),)* }
            }
        }

        /// The module name of each rule, for the consistency test.
        #[cfg(test)]
        pub(crate) const MODULES: &[(&str, &str)] = &[$((stringify!($module), $id),)*];
    };
}

impl Default for Parameters {
    /// What every rule's YAML declares.
    fn default() -> Self {
        DEFAULTS.clone()
    }
}

registry! {
    redis_maxmemory_headroom => "redis-maxmemory-headroom",
    redis_maxmemory_unset => "redis-maxmemory-unset",
    redis_memory_limit_missing => "redis-memory-limit-missing",
    redis_memory_request_ratio => "redis-memory-request-ratio",
    k8s_memory_milli => "k8s-memory-milli",
    redis_memory_unit => "redis-memory-unit",
    redis_conf_unparseable => "redis-conf-unparseable",
    redis_readiness_probe_missing => "redis-readiness-probe-missing",
    redis_liveness_probe_timeout => "redis-liveness-probe-timeout",
    redis_liveness_probe_loading => "redis-liveness-probe-loading",
    redis_startup_probe_missing => "redis-startup-probe-missing",
    redis_cluster_replicas => "redis-cluster-replicas",
    redis_cluster_shards => "redis-cluster-shards",
    redis_cluster_pod_management => "redis-cluster-pod-management",
    redis_cluster_no_stable_endpoint => "redis-cluster-no-stable-endpoint",
    redis_cluster_nodes_conf_volatile => "redis-cluster-nodes-conf-volatile",
    redis_cluster_failover_bug => "redis-cluster-failover-bug",
    redis_cluster_full_coverage_cache => "redis-cluster-full-coverage-cache",
    redis_pdb_missing => "redis-pdb-missing",
    redis_pdb_blocks_drain => "redis-pdb-blocks-drain",
    redis_pdb_quorum => "redis-pdb-quorum",
    redis_anti_affinity_missing => "redis-anti-affinity-missing",
    redis_no_auth_exposed => "redis-no-auth-exposed",
    redis_tls_partial => "redis-tls-partial",
    kubeblocks_ops_while_unstable => "kubeblocks-ops-while-unstable",
    redis_data_memory_medium => "redis-data-memory-medium",
    redis_node_tuning_from_pod => "redis-node-tuning-from-pod",
    redis_shutdown_grace => "redis-shutdown-grace",
    redis_repl_backlog_small => "redis-repl-backlog-small",
    redis_io_threads_cpu => "redis-io-threads-cpu",
    redis_sentinel_topology => "redis-sentinel-topology",
    redis_engine_lifecycle => "redis-engine-lifecycle",
    redline_not_judged => "redline-not-judged",
    dragonfly_threads_memory => "dragonfly-threads-memory",
    redis_enterprise_nodes => "redis-enterprise-nodes",
    redis_enterprise_capacity => "redis-enterprise-capacity",
    redis_data_claim_shared => "redis-data-claim-shared",
    // tools/new_rule.py adds new rules above this line.
    k8s_object_invalid => "k8s-object-invalid",
    redline_ignore_unknown => "redline-ignore-unknown",
    redline_ambiguous_reference => "redline-ambiguous-reference",
    yaml_invalid => "yaml-invalid",
}

/// Every rule, in catalogue order.
pub fn all() -> &'static [RuleInfo] {
    &REGISTRY
}

pub fn get(id: &str) -> Option<&'static RuleInfo> {
    all().iter().find(|r| r.id() == id)
}

/// The known rule ID closest to `id`, for "did you mean" messages.
pub fn closest(id: &str) -> Option<&'static str> {
    all()
        .iter()
        .filter_map(|r| Some((crate::hint::edit_distance_within(id, r.id(), 4)?, r.id())))
        .min()
        .map(|(_, id)| id)
}

/// What `redline explain ID` prints: the rule module's doc comment, then its metadata.
pub fn explain_text(rule: &RuleInfo) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{}
",
        rule.doc
    );
    let _ = writeln!(out, "Default severity: {}", rule.meta.severity);
    let _ = writeln!(
        out,
        "Mutating webhook applies the fix by default: {}",
        if rule.meta.mutate { "yes" } else { "no" }
    );
    let _ = writeln!(
        out,
        "Admission webhook runs it by default: {}",
        if rule.meta.webhook { "yes" } else { "no" }
    );
    if !rule.meta.parameters.is_empty() {
        let _ = writeln!(out, "Parameters:");
        for (name, p) in &rule.meta.parameters {
            let _ = writeln!(out, "  {name} (default {}): {}", p.default, p.description);
        }
    }
    let _ = writeln!(out, "Sources:");
    for s in &rule.meta.sources {
        let _ = writeln!(out, "  {s}");
    }
    out
}

#[cfg(test)]
mod tests;

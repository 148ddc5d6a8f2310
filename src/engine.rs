//! Run the enabled rules over a model and return ordered findings.
//!
//! The engine is what `lint`, `fix` and the webhook share: it resolves each rule's
//! configured severity and parameters, keeps findings inside the rule's namespace scope,
//! applies `redline.dev/ignore` exemptions, drops what an OpsRequest's projection merely
//! repeats of its Cluster, removes duplicates and sorts by file position.

use std::collections::BTreeMap;

use crate::budget::{Budget, Exceeded};
use crate::exemptions::{ignore_annotation, parse_ignore};
use crate::model::{Deployment, Inventory, ObjectId};
use crate::patch::Fix;
use crate::rules::{self, Parameters, RuleInfo, Severity, Violation};
use crate::source::Pos;

/// How one rule runs.
#[derive(Debug, Clone)]
pub struct RuleSettings {
    pub enabled: bool,
    /// `None`: the levels the rule reports itself (its default).
    pub severity: Option<Severity>,
    /// Namespace globs the rule is limited to (empty: all).
    pub namespaces: Vec<glob::Pattern>,
    pub exclude_namespaces: Vec<glob::Pattern>,
    /// Whether the mutating webhook applies its fix.
    pub mutate: bool,
    /// Whether the admission webhook runs it (`RuleMeta::webhook`, or the configuration).
    pub webhook: bool,
}

impl RuleSettings {
    /// Whether it runs under `settings`: enabled, and in the webhook only where it runs there.
    pub fn runs(&self, settings: &Settings) -> bool {
        self.enabled && (!settings.in_webhook || self.webhook)
    }
}

#[derive(Debug, Clone)]
pub struct Settings {
    /// By rule ID, for every rule of the registry.
    pub rules: BTreeMap<String, RuleSettings>,
    /// Every rule's parameters (the defaults, overridden by configuration).
    pub parameters: Parameters,
    /// Honour `redline.dev/ignore` annotations (`--no-annotation-exemptions` turns it off).
    pub annotation_exemptions: bool,
    /// These settings judge admission reviews: rules whose `webhook` setting is off do not run.
    pub in_webhook: bool,
}

impl Settings {
    /// The same settings for the admission webhook.
    pub fn for_webhook(mut self) -> Self {
        self.in_webhook = true;
        self
    }
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            rules: rules::all()
                .iter()
                .map(|r| {
                    (
                        r.id().to_string(),
                        RuleSettings {
                            enabled: true,
                            severity: None,
                            namespaces: Vec::new(),
                            exclude_namespaces: Vec::new(),
                            mutate: r.meta.mutate,
                            webhook: r.meta.webhook,
                        },
                    )
                })
                .collect(),
            parameters: Parameters::default(),
            annotation_exemptions: true,
            in_webhook: false,
        }
    }
}

impl RuleSettings {
    fn in_scope(&self, namespace: &str) -> bool {
        (self.namespaces.is_empty() || self.namespaces.iter().any(|p| p.matches(namespace)))
            && !self.exclude_namespaces.iter().any(|p| p.matches(namespace))
    }
}

/// One finding, ready for a report, the fixer or an admission response.
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    pub rule: &'static str,
    pub severity: Severity,
    pub message: String,
    /// The object the pointer is in.
    pub object: ObjectId,
    pub pointer: String,
    pub pos: Option<Pos>,
    pub fix: Option<Fix>,
    /// The object whose deployment was judged (a StatefulSet whose ConfigMap holds the
    /// line), when it differs from `object`.
    pub subject: ObjectId,
    /// Whether the mutating webhook applies this finding's fix.
    pub mutate: bool,
    /// The index in `Inventory::deployments` of the deployment judged (`None`: a finding of
    /// a rule's per-input hook).
    pub deployment: Option<usize>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Suppressed {
    pub finding: Finding,
    /// The reason written in the annotation, if any.
    pub reason: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct Outcome {
    pub findings: Vec<Finding>,
    /// Exempted by annotation: kept for reports (SARIF suppressions, counts).
    pub suppressed: Vec<Suppressed>,
}

/// A server's memory budget ([`rules::memory`]) and which deployment it is.
#[derive(Debug, Clone, PartialEq)]
pub struct ServerBudget {
    /// The index in `Inventory::deployments`.
    pub deployment: usize,
    /// The deployment's object (the OpsRequest, for a projection).
    pub object: ObjectId,
    /// The KubeBlocks component, OT part, … where the object holds several servers.
    pub component: Option<String>,
    pub memory: rules::memory::MemoryBudget,
}

impl Outcome {
    pub fn count(&self, severity: Severity) -> usize {
        self.findings
            .iter()
            .filter(|f| f.severity == severity)
            .count()
    }
}

/// Run every enabled rule.
pub fn run(inventory: &Inventory, settings: &Settings) -> Outcome {
    match run_within(inventory, settings, &Budget::unlimited()) {
        Ok(outcome) => outcome,
        Err(Exceeded) => unreachable!("an unlimited budget never trips"),
    }
}

/// [`run`] within `budget`, checked per rule and per deployment: `Err` as soon as a check
/// finds it exceeded.
pub fn run_within(
    inventory: &Inventory,
    settings: &Settings,
    budget: &Budget,
) -> Result<Outcome, Exceeded> {
    let mut raw: Vec<(
        &'static RuleInfo,
        &RuleSettings,
        ObjectId,
        Option<usize>,
        Violation,
    )> = Vec::new();
    let runs = |id: &str| settings.rules.get(id).is_some_and(|s| s.runs(settings));
    let enabled = settings.parameters.enabled(runs);
    for info in rules::all() {
        let Some(rs) = settings.rules.get(info.id()).filter(|s| s.runs(settings)) else {
            continue;
        };
        let mut out = Vec::new();
        budget.check()?;
        info.inventory(inventory, &settings.parameters, &enabled, &mut out);
        raw.extend(out.drain(..).map(|v| (info, rs, v.at.object, None, v)));
        for (i, d) in inventory.deployments.iter().enumerate() {
            budget.check()?;
            info.deployment(inventory, &settings.parameters, &enabled, d, &mut out);
            raw.extend(
                out.drain(..)
                    .filter(|v| !repeats_cluster(d, v))
                    .map(|v| (info, rs, d.object, Some(i), v)),
            );
        }
    }
    let mut outcome = Outcome::default();
    for (info, rs, subject, deployment, v) in raw {
        let object = inventory.object(v.at.object);
        if !rs.in_scope(object.namespace_or_default()) {
            continue;
        }
        let finding = Finding {
            rule: info.meta.id.as_str(),
            severity: rs.severity.or(v.severity).unwrap_or(info.meta.severity),
            message: v.message,
            object: v.at.object,
            pointer: v.at.pointer,
            pos: v.at.pos,
            fix: v.fix,
            subject,
            mutate: rs.mutate,
            deployment,
        };
        match exemption(inventory, settings, info.meta.exemptable, &finding) {
            Some(reason) => outcome.suppressed.push(Suppressed { finding, reason }),
            None => outcome.findings.push(finding),
        }
    }
    sort_dedup(inventory, &mut outcome.findings, |f| f);
    sort_dedup(inventory, &mut outcome.suppressed, |s| &s.finding);
    Ok(outcome)
}

/// The memory budget of every server that holds data, in the order of the deployments.
/// Only reports show it: the engine's run (an admission review, each pass of `fix`) does
/// not compute it.
pub fn budgets(inventory: &Inventory) -> Vec<ServerBudget> {
    inventory
        .deployments
        .iter()
        .enumerate()
        .filter_map(|(i, d)| {
            Some(ServerBudget {
                deployment: i,
                object: d.object,
                component: d.component.clone(),
                memory: rules::memory::budget(d)?,
            })
        })
        .collect()
}

/// A projection (the Cluster as an OpsRequest would leave it) reports only what lies in the
/// operation object; the rest is the Cluster's own finding, reported once on the Cluster.
fn repeats_cluster(d: &Deployment, v: &Violation) -> bool {
    d.operation
        .as_ref()
        .is_some_and(|op| op.cluster_found && v.at.object != op.object)
}

/// `Some(reason)` when an annotation on the finding's object, or on the object judged,
/// exempts it.
fn exemption(
    inv: &Inventory,
    settings: &Settings,
    exemptable: bool,
    f: &Finding,
) -> Option<Option<String>> {
    if !settings.annotation_exemptions || !exemptable {
        return None;
    }
    [f.object, f.subject].iter().find_map(|id| {
        let (ids, reason) = parse_ignore(ignore_annotation(inv.object(*id))?);
        ids.contains(&f.rule).then(|| reason.map(str::to_string))
    })
}

/// Sort by file, position, rule and message; drop exact repeats (a ConfigMap mounted by two
/// StatefulSets reports its line once per rule and message).
fn sort_dedup<T>(inv: &Inventory, items: &mut Vec<T>, finding: impl Fn(&T) -> &Finding) {
    let key = |f: &Finding| {
        let o = inv.object(f.object);
        (
            o.file.clone(),
            o.document,
            f.pos.map(|p| (p.line, p.column)),
            f.object,
            f.rule,
            f.message.clone(),
            f.pointer.clone(),
        )
    };
    items.sort_by_cached_key(|t| key(finding(t)));
    items.dedup_by(|a, b| {
        let (a, b) = (finding(a), finding(b));
        a.rule == b.rule && a.object == b.object && a.pointer == b.pointer && a.message == b.message
    });
}

#[cfg(test)]
mod tests {
    use super::Settings;

    /// `redline.dev/ignore` exempts objects from the rules it names, except a rule whose YAML
    /// says `exemptable: false`: the one that reports the annotation's unknown names.
    #[test]
    fn the_annotation_cannot_exempt_the_rule_that_checks_it() {
        let text = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n  annotations:\n    \
                    redline.dev/ignore: \"redline-ignore-unknown, no-such-rule\"\ndata: {}\n";
        let source = crate::source::load_yaml("c.yaml", text.into(), &Default::default());
        let linted = crate::lint::lint(vec![source], &Default::default(), &Settings::default());
        let rules: Vec<&str> = linted.outcome.findings.iter().map(|f| f.rule).collect();
        assert_eq!(rules, ["redline-ignore-unknown"], "{:?}", linted.outcome);
        assert!(linted.outcome.suppressed.is_empty());
        let exemptable: Vec<&str> = crate::rules::all()
            .iter()
            .filter(|r| !r.meta.exemptable)
            .map(|r| r.id())
            .collect();
        assert_eq!(exemptable, ["redline-ignore-unknown"]);
    }
}

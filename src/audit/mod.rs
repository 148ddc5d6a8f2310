//! `redline audit`: the objects a cluster runs, judged together as `lint` judges a directory
//! (same engine, settings, exemptions and reports), and published as Policy Reports.
//!
//! - [`kinds`]: what is read — every kind the webhook admits, plus what they refer to that it
//!   does not admit (PodDisruptionBudgets, Services for their names — Dragonfly's service
//!   links —, and the PersistentVolumeClaims they name).
//! - `list.rs` (feature `live`): reads them through kube's client, a page at a time
//!   (`limit`/`continue`, a list restarted on `410 Gone`), keeping only what the model reads:
//!   a ConfigMap only when a listed object mounts or names it or a key holds a redis.conf,
//!   managedFields and `last-applied-configuration` never. A kind whose CRD is not installed
//!   is a note; a forbidden one names the RBAC rule it needs.
//! - [`judge`]: the listed objects (JSON, no positions) → the model → the engine, as a
//!   [`Linted`] the report formats render; findings are named `namespace/Kind/name` and a
//!   JSON pointer.
//! - `report::policyreport` renders `wgpolicyk8s.io/v1alpha2` reports; `list.rs` writes them
//!   (server-side apply, field manager `redline`), and `serve --audit-interval` runs the same
//!   audit in the background.

#[cfg(feature = "live")]
pub mod background;
#[cfg(feature = "live")]
pub mod list;

use serde_json::Value;

use crate::engine::{self, Settings};
use crate::extract::{self, Options};
use crate::lint::Linted;

/// A kind `audit` lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Audited {
    pub group: &'static str,
    /// The versions redline reads, preferred first.
    pub versions: &'static [&'static str],
    pub resource: &'static str,
    pub kind: &'static str,
    /// Read for what the judged objects refer to: listed whatever the label selector says
    /// (a workload's ConfigMap or budget need not carry its labels).
    pub related: bool,
}

impl Audited {
    /// `statefulsets.apps` (`configmaps` for the core group), as RBAC and errors name it.
    pub fn qualified(&self) -> String {
        if self.group.is_empty() {
            self.resource.to_string()
        } else {
            format!("{}.{}", self.resource, self.group)
        }
    }

    /// The RBAC rule that lets redline read this kind.
    pub fn rbac_rule(&self) -> String {
        format!(
            "apiGroups: [\"{}\"], resources: [\"{}\"], verbs: [\"get\", \"list\", \"watch\"]",
            self.group, self.resource
        )
    }

    pub fn is_config_map(&self) -> bool {
        self.group.is_empty() && self.kind == "ConfigMap"
    }
}

/// What `audit` lists, in order: the admitted kinds but ConfigMaps, then the related kinds
/// (PersistentVolumeClaims kept only when an object listed before names them), then
/// ConfigMaps (kept only when an object listed before refers to them, or they hold a
/// redis.conf).
pub fn kinds() -> Vec<Audited> {
    let admitted = crate::webhook::ADMITTED.iter().map(|a| Audited {
        group: a.group,
        versions: a.versions,
        resource: a.resource,
        kind: a.kind,
        related: false,
    });
    let (config_maps, mut out): (Vec<Audited>, Vec<Audited>) =
        admitted.partition(Audited::is_config_map);
    out.push(Audited {
        group: "policy",
        versions: &["v1"],
        resource: "poddisruptionbudgets",
        kind: "PodDisruptionBudget",
        related: true,
    });
    out.push(Audited {
        group: "",
        versions: &["v1"],
        resource: "services",
        kind: "Service",
        related: true,
    });
    out.push(Audited {
        group: "",
        versions: &["v1"],
        resource: "persistentvolumeclaims",
        kind: "PersistentVolumeClaim",
        related: true,
    });
    out.extend(config_maps);
    out
}

/// The PersistentVolumeClaims (namespace, name) the objects name — a pod template's
/// `persistentVolumeClaim.claimName`, dragonfly-operator's
/// `existingPersistentVolumeClaimName` — wherever they are written: the model reads a
/// shared claim's access modes from it (`redis-data-claim-shared`).
pub fn claims_wanted(objects: &[Value]) -> std::collections::HashSet<(String, String)> {
    fn walk(v: &Value, namespace: &str, out: &mut std::collections::HashSet<(String, String)>) {
        match v {
            Value::Object(m) => {
                for (k, child) in m {
                    let name = match (k.as_str(), child) {
                        ("persistentVolumeClaim", c) => c.get("claimName").and_then(Value::as_str),
                        ("existingPersistentVolumeClaimName", Value::String(n)) => Some(n.as_str()),
                        _ => None,
                    };
                    if let Some(n) = name {
                        out.insert((namespace.to_string(), n.to_string()));
                    }
                    walk(child, namespace, out);
                }
            }
            Value::Array(a) => a.iter().for_each(|c| walk(c, namespace, out)),
            _ => {}
        }
    }
    let mut out = std::collections::HashSet::new();
    for o in objects {
        walk(o, &identity(o).0, &mut out);
    }
    out
}

/// A kind that was not read completely.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// Its API group or resource is not served (the CRD is not installed): nothing of it
    /// can exist, a note.
    NotInstalled { resource: String },
    /// 403: the RBAC rule it needs.
    Forbidden {
        resource: String,
        message: String,
        rule: String,
    },
    /// Anything else (after the retries a `410 Gone` gets).
    Failed { resource: String, message: String },
}

impl Problem {
    /// Whether objects may be missing from the audit because of it (the run fails).
    pub fn incomplete(&self) -> bool {
        !matches!(self, Problem::NotInstalled { .. })
    }
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Problem::NotInstalled { resource } => {
                write!(
                    f,
                    "note: {resource} is not served (CRD not installed): skipped"
                )
            }
            Problem::Forbidden {
                resource,
                message,
                rule,
            } => write!(
                f,
                "error: cannot list {resource}: {message}; its objects were not judged. \
                 The RBAC rule it needs: {{{rule}}}"
            ),
            Problem::Failed { resource, message } => write!(
                f,
                "error: cannot list {resource}: {message}; its objects were not judged"
            ),
        }
    }
}

/// What a listing brought back.
#[derive(Debug, Default)]
pub struct Listed {
    /// The objects, each with `apiVersion` and `kind` set (list items lack them).
    pub objects: Vec<Value>,
    pub problems: Vec<Problem>,
    /// The namespaces audited: those named, or (all namespaces) those that hold a listed
    /// object — each gets a report, empty when nothing was found there.
    pub namespaces: Vec<String>,
}

impl Listed {
    pub fn incomplete(&self) -> bool {
        self.problems.iter().any(Problem::incomplete)
    }
}

/// Drop what no rule reads and what makes a listing large: managedFields and
/// `last-applied-configuration` (a copy of the object), a ConfigMap's binaryData, and of a
/// related kind read for its name only (Service) everything but its metadata.
pub fn slim(audited: &Audited, object: &mut Value) {
    if let Some(meta) = object.get_mut("metadata").and_then(Value::as_object_mut) {
        meta.remove("managedFields");
        if let Some(a) = meta.get_mut("annotations").and_then(Value::as_object_mut) {
            a.remove("kubectl.kubernetes.io/last-applied-configuration");
        }
    }
    if let Some(o) = object.as_object_mut() {
        if audited.is_config_map() {
            o.remove("binaryData");
        }
        if audited.kind == "Service" && audited.group.is_empty() {
            o.retain(|k, _| matches!(k.as_str(), "apiVersion" | "kind" | "metadata"));
        }
    }
}

/// The ConfigMaps (namespace, name) the objects refer to: the webhook's lookups say which
/// (mounts, `additionalRedisConfig`, …), so audit and review read the same relatives.
pub fn config_maps_wanted(objects: &[Value]) -> std::collections::HashSet<(String, String)> {
    use crate::webhook::lookups::{Kind, Want, wanted};
    let mut out = std::collections::HashSet::new();
    for o in objects {
        let (namespace, _) = identity(o);
        for w in wanted(o) {
            if let Want::Named {
                kind: Kind::ConfigMap,
                name,
            } = w
            {
                out.insert((namespace.clone(), name));
            }
        }
    }
    out
}

/// (namespace, name) of a listed object; `default` for an object that names no namespace,
/// as `lint` reads one (the API server always fills it in for namespaced kinds).
pub fn identity(object: &Value) -> (String, String) {
    let at = |p: &str| object.pointer(p).and_then(Value::as_str);
    (
        at("/metadata/namespace").unwrap_or("default").to_string(),
        at("/metadata/name").unwrap_or("").to_string(),
    )
}

/// Whether a ConfigMap is kept: an object refers to it, or a key holds a redis.conf (an
/// orphan ConfigMap is judged on its own, as `lint` judges one).
pub fn keeps_config_map(
    object: &Value,
    wanted: &std::collections::HashSet<(String, String)>,
) -> bool {
    wanted.contains(&identity(object))
        || object
            .get("data")
            .and_then(Value::as_object)
            .is_some_and(|m| {
                m.iter().any(|(k, v)| {
                    v.as_str()
                        .is_some_and(|text| extract::looks_like_redis_conf(k, text))
                })
            })
}

/// Judge listed objects together, as `lint` judges the documents of a directory. The
/// objects have no file: reports name them `namespace/Kind/name`.
pub fn judge(objects: Vec<Value>, opts: &Options, settings: &Settings) -> Linted {
    let mut objects = objects;
    // Reports list findings in object order: by namespace, kind and name, whatever order
    // the API server listed them in.
    let key = |v: &Value| {
        let at = |p: &str| {
            v.pointer(p)
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string()
        };
        (at("/metadata/namespace"), at("/kind"), at("/metadata/name"))
    };
    objects.sort_by_cached_key(key);
    // Each JSON object is dropped once its tree is built: the listing is not held twice.
    let objects: Vec<_> = objects
        .into_iter()
        .filter_map(|v| extract::object_from_json(&v, None))
        .collect();
    let inventory = extract::extract(objects, opts);
    let outcome = engine::run(&inventory, settings);
    Linted {
        sources: Vec::new(),
        skipped: Vec::new(),
        load_findings: Vec::new(),
        inventory,
        outcome,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_admitted_kind_is_listed_and_config_maps_come_last() {
        let kinds = kinds();
        for a in crate::webhook::ADMITTED {
            assert!(
                kinds
                    .iter()
                    .any(|k| k.group == a.group && k.kind == a.kind && !k.related),
                "{a:?}"
            );
        }
        assert!(kinds.last().unwrap().is_config_map());
        assert_eq!(kinds.iter().filter(|k| k.is_config_map()).count(), 1);
        assert!(
            kinds
                .iter()
                .any(|k| k.kind == "PodDisruptionBudget" && k.related)
        );
    }

    #[test]
    fn claims_named_by_pod_templates_and_dragonfly_are_wanted() {
        let deploy = json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "d", "namespace": "ns"},
            "spec": {"template": {"spec": {"volumes": [
                {"name": "data", "persistentVolumeClaim": {"claimName": "data-pvc"}}]}}}});
        let dragonfly = json!({"apiVersion": "dragonflydb.io/v1alpha1", "kind": "Dragonfly",
            "metadata": {"name": "df"},
            "spec": {"snapshot": {"existingPersistentVolumeClaimName": "snap"}}});
        let wanted = claims_wanted(&[deploy, dragonfly]);
        assert!(wanted.contains(&("ns".into(), "data-pvc".into())));
        assert!(wanted.contains(&("default".into(), "snap".into())));
        assert_eq!(wanted.len(), 2);
    }

    #[test]
    fn config_maps_are_kept_when_referred_to_or_holding_a_redis_conf() {
        let sts = json!({"apiVersion": "apps/v1", "kind": "StatefulSet",
            "metadata": {"name": "r", "namespace": "ns"},
            "spec": {"template": {"spec": {"volumes": [{"name": "c", "configMap": {"name": "scripts"}}]}}}});
        let wanted = config_maps_wanted(&[sts]);
        let cm = |ns: &str, name: &str, data: Value| {
            json!({"apiVersion": "v1", "kind": "ConfigMap",
                   "metadata": {"name": name, "namespace": ns}, "data": data})
        };
        assert!(keeps_config_map(
            &cm("ns", "scripts", json!({"start.sh": "redis-server"})),
            &wanted
        ));
        assert!(!keeps_config_map(
            &cm("other", "scripts", json!({"start.sh": "redis-server"})),
            &wanted
        ));
        assert!(keeps_config_map(
            &cm("x", "y", json!({"redis.conf": "maxmemory 1gb\n"})),
            &wanted
        ));
        assert!(!keeps_config_map(
            &cm("x", "y", json!({"app.properties": "a=b"})),
            &wanted
        ));
    }

    #[test]
    fn slimming_drops_copies_and_services_keep_their_metadata() {
        let kinds = kinds();
        let service = kinds.iter().find(|k| k.kind == "Service").unwrap();
        let mut s = json!({"apiVersion": "v1", "kind": "Service",
            "metadata": {"name": "dfly", "managedFields": [{}],
                         "annotations": {"kubectl.kubernetes.io/last-applied-configuration": "{}", "a": "b"}},
            "spec": {"ports": [{"port": 6379}]}});
        slim(service, &mut s);
        assert_eq!(
            s,
            json!({"apiVersion": "v1", "kind": "Service",
                   "metadata": {"name": "dfly", "annotations": {"a": "b"}}})
        );
    }

    #[test]
    fn forbidden_names_the_rbac_rule_and_fails_the_run() {
        let kinds = kinds();
        let sts = kinds.iter().find(|k| k.kind == "StatefulSet").unwrap();
        assert_eq!(sts.qualified(), "statefulsets.apps");
        let p = Problem::Forbidden {
            resource: sts.qualified(),
            message: "forbidden".into(),
            rule: sts.rbac_rule(),
        };
        assert!(p.incomplete());
        assert!(
            p.to_string().contains(
                r#"{apiGroups: ["apps"], resources: ["statefulsets"], verbs: ["get", "list", "watch"]}"#
            ),
            "{p}"
        );
        assert!(
            !Problem::NotInstalled {
                resource: "x".into()
            }
            .incomplete()
        );
    }
}

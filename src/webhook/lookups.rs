//! What a reviewed object is judged with: the objects of the cluster it refers to, or that
//! refer to it. An OpsRequest, ComponentParameter or Parameter with its KubeBlocks Cluster
//! (its resources, its `status.phase`) and the Cluster's ComponentParameters; a workload with
//! the ConfigMaps it mounts and the PodDisruptionBudgets of its namespace; a ConfigMap with
//! the StatefulSets and Deployments that mount it; an OT-Container-Kit resource with its
//! `additionalRedisConfig` ConfigMap; a KubeDB RedisOpsRequest with its Redis; a Redis
//! Enterprise database with its cluster and the cluster's other databases, a cluster with its
//! databases.
//!
//! [`wanted`] says which objects, from the reviewed object alone; a [`Related`] finds them
//! (the live implementation reads watch-backed caches, `live.rs`). Rules never see any of
//! this: the review hands the engine the reviewed object plus what was found, as `lint` gets
//! several documents of one input.

use serde_json::Value;

/// A kind the lookups read. `Kind as usize` indexes [`Kind::ALL`] (same order).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    ConfigMap,
    StatefulSet,
    Deployment,
    PodDisruptionBudget,
    /// apps.kubeblocks.io Cluster (v1 or v1alpha1, whichever the API server prefers).
    KubeBlocksCluster,
    /// parameters.kubeblocks.io ComponentParameter.
    ComponentParameter,
    /// kubedb.com Redis (a RedisOpsRequest's database).
    KubeDbRedis,
    /// app.redislabs.com RedisEnterpriseCluster (a database's cluster).
    EnterpriseCluster,
    /// app.redislabs.com RedisEnterpriseDatabase (a cluster's databases).
    EnterpriseDatabase,
}

impl Kind {
    pub const ALL: [Kind; 9] = [
        Kind::ConfigMap,
        Kind::StatefulSet,
        Kind::Deployment,
        Kind::PodDisruptionBudget,
        Kind::KubeBlocksCluster,
        Kind::ComponentParameter,
        Kind::KubeDbRedis,
        Kind::EnterpriseCluster,
        Kind::EnterpriseDatabase,
    ];

    /// The `kind` label of metrics and messages.
    pub fn name(self) -> &'static str {
        match self {
            Kind::ConfigMap => "ConfigMap",
            Kind::StatefulSet => "StatefulSet",
            Kind::Deployment => "Deployment",
            Kind::PodDisruptionBudget => "PodDisruptionBudget",
            Kind::KubeBlocksCluster => "Cluster",
            Kind::ComponentParameter => "ComponentParameter",
            Kind::KubeDbRedis => "Redis",
            Kind::EnterpriseCluster => "RedisEnterpriseCluster",
            Kind::EnterpriseDatabase => "RedisEnterpriseDatabase",
        }
    }
}

/// Objects a review needs, all in the reviewed object's namespace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Want {
    /// One object by name.
    Named { kind: Kind, name: String },
    /// The ComponentParameters whose `spec.clusterName` is `cluster`.
    ParametersOf { cluster: String },
    /// The StatefulSets and Deployments that mount the ConfigMap `name`.
    Mounting { name: String },
    /// Every PodDisruptionBudget (the engine matches their selectors).
    Budgets,
    /// Every object of a kind (a namespace's Redis Enterprise cluster and databases).
    Every { kind: Kind },
}

impl Want {
    /// The kinds a lookup of this reads (for error metrics).
    pub fn kinds(&self) -> &'static [Kind] {
        match self {
            Want::Named {
                kind: Kind::ConfigMap,
                ..
            } => &[Kind::ConfigMap],
            Want::Named {
                kind: Kind::KubeBlocksCluster,
                ..
            } => &[Kind::KubeBlocksCluster],
            Want::Named {
                kind: Kind::KubeDbRedis,
                ..
            } => &[Kind::KubeDbRedis],
            Want::Named {
                kind: Kind::EnterpriseCluster,
                ..
            }
            | Want::Every {
                kind: Kind::EnterpriseCluster,
            } => &[Kind::EnterpriseCluster],
            Want::Every {
                kind: Kind::EnterpriseDatabase,
            } => &[Kind::EnterpriseDatabase],
            Want::Named { .. } | Want::Every { .. } => &[],
            Want::ParametersOf { .. } => &[Kind::ComponentParameter],
            Want::Mounting { .. } => &[Kind::StatefulSet, Kind::Deployment],
            Want::Budgets => &[Kind::PodDisruptionBudget],
        }
    }
}

/// A lookup that could not be answered: the cache has not synced, the kind is not served.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{kind} lookups are not available: {reason}")]
pub struct LookupError {
    pub kind: &'static str,
    pub reason: String,
}

/// Finds the objects a review wants. Implementations must answer from memory: a review
/// never waits on the API server.
pub trait Related: Send + Sync {
    /// The objects (as JSON, with apiVersion and kind) matching `want` in `namespace`.
    fn find(&self, namespace: &str, want: &Want) -> Result<Vec<Value>, LookupError>;

    /// Whether every cache has synced once (readiness waits for it, for a while).
    fn synced(&self) -> bool {
        true
    }
}

/// `--lookups off`, and `lint`-like reviews in tests: every object judged alone.
pub struct NoLookups;

impl Related for NoLookups {
    fn find(&self, _: &str, _: &Want) -> Result<Vec<Value>, LookupError> {
        Ok(Vec::new())
    }
}

fn str_at<'a>(v: &'a Value, pointer: &str) -> Option<&'a str> {
    v.pointer(pointer).and_then(Value::as_str)
}

fn group_of(object: &Value) -> &str {
    let api_version = str_at(object, "/apiVersion").unwrap_or("");
    api_version
        .rsplit_once('/')
        .map(|(g, _)| g)
        .unwrap_or_default()
}

/// The pod spec of a workload or Pod.
fn pod_spec(object: &Value) -> Option<&Value> {
    object
        .pointer("/spec/template/spec")
        .or_else(|| (str_at(object, "/kind") == Some("Pod")).then(|| object.get("spec"))?)
}

/// The names of the ConfigMaps a workload's pods mount (plain and projected volumes).
pub fn config_maps_mounted(object: &Value) -> Vec<&str> {
    let mut out = Vec::new();
    let volumes = pod_spec(object)
        .and_then(|s| s.get("volumes"))
        .and_then(Value::as_array);
    for v in volumes.into_iter().flatten() {
        if let Some(n) = str_at(v, "/configMap/name") {
            out.push(n);
        }
        let sources = v.pointer("/projected/sources").and_then(Value::as_array);
        out.extend(
            sources
                .into_iter()
                .flatten()
                .filter_map(|s| str_at(s, "/configMap/name")),
        );
    }
    out.sort_unstable();
    out.dedup();
    out
}

/// What `object` is judged with.
pub fn wanted(object: &Value) -> Vec<Want> {
    let kind = str_at(object, "/kind").unwrap_or("");
    let group = group_of(object);
    let cluster = |pointers: &[&str]| {
        pointers
            .iter()
            .find_map(|p| str_at(object, p))
            .map(|name| {
                vec![
                    Want::Named {
                        kind: Kind::KubeBlocksCluster,
                        name: name.to_string(),
                    },
                    Want::ParametersOf {
                        cluster: name.to_string(),
                    },
                ]
            })
            .unwrap_or_default()
    };
    match (group, kind) {
        ("apps.kubeblocks.io" | "operations.kubeblocks.io", "OpsRequest") => {
            cluster(&["/spec/clusterName", "/spec/clusterRef"])
        }
        ("parameters.kubeblocks.io", "ComponentParameter" | "Parameter") => {
            cluster(&["/spec/clusterName"])
        }
        ("apps.kubeblocks.io", "Cluster") => str_at(object, "/metadata/name")
            .map(|n| {
                vec![Want::ParametersOf {
                    cluster: n.to_string(),
                }]
            })
            .unwrap_or_default(),
        ("", "ConfigMap") => str_at(object, "/metadata/name")
            .map(|n| {
                vec![Want::Mounting {
                    name: n.to_string(),
                }]
            })
            .unwrap_or_default(),
        ("apps", "StatefulSet" | "Deployment")
        | ("", "Pod")
        | ("workloads.kubeblocks.io", "InstanceSet") => {
            let mut out: Vec<Want> = config_maps_mounted(object)
                .into_iter()
                .map(|n| Want::Named {
                    kind: Kind::ConfigMap,
                    name: n.to_string(),
                })
                .collect();
            out.push(Want::Budgets);
            out
        }
        ("ops.kubedb.com", "RedisOpsRequest") => str_at(object, "/spec/databaseRef/name")
            .map(|n| {
                vec![Want::Named {
                    kind: Kind::KubeDbRedis,
                    name: n.to_string(),
                }]
            })
            .unwrap_or_default(),
        // A database is judged with its cluster (named, else its namespace's only one) and
        // the other databases the cluster holds; a cluster with its databases.
        ("app.redislabs.com", "RedisEnterpriseDatabase") => {
            let cluster = match str_at(object, "/spec/redisEnterpriseCluster/name") {
                Some(n) => Want::Named {
                    kind: Kind::EnterpriseCluster,
                    name: n.to_string(),
                },
                None => Want::Every {
                    kind: Kind::EnterpriseCluster,
                },
            };
            vec![
                cluster,
                Want::Every {
                    kind: Kind::EnterpriseDatabase,
                },
            ]
        }
        ("app.redislabs.com", "RedisEnterpriseCluster") => vec![Want::Every {
            kind: Kind::EnterpriseDatabase,
        }],
        // A RedisCluster's leader and follower parts each name theirs (the model reads the
        // part's `redisConfig` before the resource's).
        ("redis.redis.opstreelabs.in", _) => {
            let mut names: Vec<&str> = ["", "/redisLeader", "/redisFollower"]
                .iter()
                .filter_map(|part| {
                    str_at(
                        object,
                        &format!("/spec{part}/redisConfig/additionalRedisConfig"),
                    )
                })
                .collect();
            names.sort_unstable();
            names.dedup();
            names
                .into_iter()
                .map(|n| Want::Named {
                    kind: Kind::ConfigMap,
                    name: n.to_string(),
                })
                .collect()
        }
        _ => Vec::new(),
    }
}

/// The related objects of `object` in `namespace`, and the lookups that failed. The cluster's
/// copy of the reviewed object itself (its old version, on UPDATE) is left out.
pub fn related(
    lookups: &dyn Related,
    object: &Value,
    namespace: &str,
) -> (Vec<Value>, Vec<LookupError>) {
    // Kind, group and name: all in one namespace. Compared instead of whole objects (a
    // deep comparison per pair on the admission path).
    let identity = |v: &Value| {
        (
            str_at(v, "/kind").map(str::to_string),
            group_of(v).to_string(),
            str_at(v, "/metadata/name").map(str::to_string),
        )
    };
    let mut seen = std::collections::HashSet::from([identity(object)]);
    let mut found: Vec<Value> = Vec::new();
    let mut failed = Vec::new();
    for want in wanted(object) {
        match lookups.find(namespace, &want) {
            Ok(objects) => found.extend(objects.into_iter().filter(|o| seen.insert(identity(o)))),
            Err(e) => failed.push(e),
        }
    }
    (found, failed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn kind_discriminants_index_all() {
        for (i, k) in Kind::ALL.iter().enumerate() {
            assert_eq!(*k as usize, i);
        }
    }

    #[test]
    fn kubedb_and_redis_enterprise_objects_want_their_relatives() {
        let ops = json!({"apiVersion": "ops.kubedb.com/v1alpha1", "kind": "RedisOpsRequest",
            "spec": {"databaseRef": {"name": "rd"}}});
        assert_eq!(
            wanted(&ops),
            vec![Want::Named {
                kind: Kind::KubeDbRedis,
                name: "rd".into()
            }]
        );
        let named = json!({"apiVersion": "app.redislabs.com/v1alpha1",
            "kind": "RedisEnterpriseDatabase",
            "spec": {"redisEnterpriseCluster": {"name": "rec"}}});
        let every_db = Want::Every {
            kind: Kind::EnterpriseDatabase,
        };
        assert_eq!(
            wanted(&named),
            vec![
                Want::Named {
                    kind: Kind::EnterpriseCluster,
                    name: "rec".into()
                },
                every_db.clone()
            ]
        );
        let by_namespace = json!({"apiVersion": "app.redislabs.com/v1alpha1",
            "kind": "RedisEnterpriseDatabase", "spec": {}});
        assert_eq!(
            wanted(&by_namespace)[0],
            Want::Every {
                kind: Kind::EnterpriseCluster
            }
        );
        let rec = json!({"apiVersion": "app.redislabs.com/v1", "kind": "RedisEnterpriseCluster"});
        assert_eq!(wanted(&rec), vec![every_db]);
    }

    #[test]
    fn workloads_want_their_config_maps_and_budgets() {
        let sts = json!({"apiVersion": "apps/v1", "kind": "StatefulSet",
            "metadata": {"name": "r"},
            "spec": {"template": {"spec": {"volumes": [
                {"name": "c", "configMap": {"name": "redis-conf"}},
                {"name": "p", "projected": {"sources": [{"configMap": {"name": "extra"}},
                                                        {"secret": {"name": "s"}}]}},
                {"name": "d", "emptyDir": {}}]}}}});
        assert_eq!(
            wanted(&sts),
            vec![
                Want::Named {
                    kind: Kind::ConfigMap,
                    name: "extra".into()
                },
                Want::Named {
                    kind: Kind::ConfigMap,
                    name: "redis-conf".into()
                },
                Want::Budgets,
            ]
        );
        let pod = json!({"apiVersion": "v1", "kind": "Pod",
            "spec": {"volumes": [{"configMap": {"name": "c"}}]}});
        assert_eq!(config_maps_mounted(&pod), vec!["c"]);
    }

    #[test]
    fn an_ot_redis_cluster_wants_the_config_maps_of_its_parts() {
        let rc = json!({"apiVersion": "redis.redis.opstreelabs.in/v1beta2", "kind": "RedisCluster",
            "spec": {"redisLeader": {"redisConfig": {"additionalRedisConfig": "leader-conf"}},
                     "redisFollower": {"redisConfig": {"additionalRedisConfig": "leader-conf"}}}});
        assert_eq!(
            wanted(&rc),
            vec![Want::Named {
                kind: Kind::ConfigMap,
                name: "leader-conf".into()
            }]
        );
        let standalone = json!({"apiVersion": "redis.redis.opstreelabs.in/v1beta2", "kind": "Redis",
            "spec": {"redisConfig": {"additionalRedisConfig": "conf"}}});
        assert_eq!(wanted(&standalone).len(), 1);
    }

    #[test]
    fn kubeblocks_objects_want_their_cluster() {
        for ops in [
            json!({"apiVersion": "apps.kubeblocks.io/v1alpha1", "kind": "OpsRequest",
                   "spec": {"clusterRef": "c1", "type": "Restart"}}),
            json!({"apiVersion": "operations.kubeblocks.io/v1alpha1", "kind": "OpsRequest",
                   "spec": {"clusterName": "c1", "type": "Restart"}}),
            json!({"apiVersion": "parameters.kubeblocks.io/v1alpha1", "kind": "Parameter",
                   "spec": {"clusterName": "c1"}}),
        ] {
            assert_eq!(
                wanted(&ops)[0],
                Want::Named {
                    kind: Kind::KubeBlocksCluster,
                    name: "c1".into()
                }
            );
        }
        let cm = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}});
        assert_eq!(wanted(&cm), vec![Want::Mounting { name: "x".into() }]);
        let other = json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "x"}});
        assert!(wanted(&other).is_empty());
    }

    struct Fixed(Vec<Value>, bool);
    impl Related for Fixed {
        fn find(&self, _: &str, want: &Want) -> Result<Vec<Value>, LookupError> {
            if self.1 && matches!(want, Want::Budgets) {
                return Err(LookupError {
                    kind: "PodDisruptionBudget",
                    reason: "not synced".into(),
                });
            }
            Ok(self.0.clone())
        }
    }

    #[test]
    fn the_reviewed_object_is_not_its_own_relative_and_failures_are_kept() {
        let sts = json!({"apiVersion": "apps/v1", "kind": "StatefulSet",
            "metadata": {"name": "r"},
            "spec": {"template": {"spec": {"volumes": [{"configMap": {"name": "c"}}]}}}});
        let old =
            json!({"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "r"}});
        let cm = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}});
        let (found, failed) = related(&Fixed(vec![old, cm.clone()], true), &sts, "ns");
        assert_eq!(found, vec![cm]);
        assert_eq!(failed.len(), 1);
        assert!(failed[0].to_string().contains("PodDisruptionBudget"));
    }
}

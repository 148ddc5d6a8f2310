//! Live lookups: watch-backed caches of the kinds [`lookups`](super::lookups) reads, one
//! kube reflector per kind, so a review reads memory and never waits on the API server.
//!
//! - Configuration: in-cluster, else kubeconfig (`KUBECONFIG`, `~/.kube/config`), as kubectl.
//! - The KubeBlocks kinds are found by discovery (Cluster in v1 or v1alpha1, whichever the
//!   API server prefers); a group that is not installed is looked for again every 30 s.
//! - What is cached is slimmed: managedFields and `last-applied-configuration` go, and a
//!   ConfigMap keeps its data only when a key holds a redis.conf. The caches of a large
//!   cluster would otherwise hold every ConfigMap's bytes.
//! - A cache that has not synced, or whose kind is not served, answers with a
//!   [`LookupError`]: the review goes on without it, with a warning and a metric.

use std::sync::Arc;

use super::lookups::{NoLookups, Related};

/// Start the lookups. `required` (`--lookups on`): no cluster configuration is an error;
/// otherwise (`auto`) it means lookups off.
#[cfg(feature = "live")]
pub async fn start(required: bool) -> Result<Arc<dyn Related>, String> {
    let config = match kube::Config::infer().await {
        Ok(c) => c,
        Err(e) if required => {
            return Err(format!(
                "--lookups on, but no cluster configuration was found (in-cluster or \
                 kubeconfig): {e}"
            ));
        }
        Err(e) => {
            tracing::info!(reason = %e, "no cluster configuration: lookups off, each object is judged alone");
            return Ok(Arc::new(NoLookups));
        }
    };
    let server = config.cluster_url.to_string();
    let client = kube::Client::try_from(config)
        .map_err(|e| format!("cannot build the Kubernetes client: {e}"))?;
    let live = Arc::new(imp::Live::default());
    for kind in Kind::ALL {
        tokio::spawn(imp::watch(client.clone(), kind, live.cache(kind)));
    }
    tracing::info!(server, "lookups on: watching related kinds");
    Ok(live)
}

/// This build has no kube client (built without the `live` feature).
#[cfg(not(feature = "live"))]
pub async fn start(required: bool) -> Result<Arc<dyn Related>, String> {
    if required {
        return Err("--lookups on needs a build with the `live` feature".into());
    }
    tracing::info!("built without the `live` feature: lookups off");
    Ok(Arc::new(NoLookups))
}

#[cfg(feature = "live")]
use super::lookups::{Kind, LookupError, Want};

/// Whether a ConfigMap's data is worth caching (a key holds a redis.conf).
#[cfg(any(feature = "live", test))]
fn keeps_data(data: &serde_json::Value) -> bool {
    data.as_object().is_some_and(|m| {
        m.iter().any(|(k, v)| {
            v.as_str()
                .is_some_and(|text| crate::extract::looks_like_redis_conf(k, text))
        })
    })
}

#[cfg(feature = "live")]
mod imp {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::{Arc, Mutex, OnceLock};
    use std::time::Duration;

    use futures::StreamExt as _;
    use k8s_openapi::api::apps::v1::{Deployment, StatefulSet};
    use k8s_openapi::api::core::v1::ConfigMap;
    use k8s_openapi::api::policy::v1::PodDisruptionBudget;
    use kube::api::{Api, ApiResource, DynamicObject};
    use kube::runtime::reflector::{ObjectRef, Store, store::Writer};
    use kube::runtime::{WatchStreamExt as _, watcher};
    use serde_json::Value;

    use super::*;
    use crate::webhook::lookups;

    const REDISCOVER: Duration = Duration::from_secs(30);

    /// One kind's cache.
    #[derive(Default)]
    pub struct Cache {
        store: OnceLock<(ApiResource, Store<DynamicObject>)>,
        synced: AtomicBool,
        /// Why it is not available, for the warning.
        problem: Mutex<Option<String>>,
    }

    impl Cache {
        fn set_problem(&self, p: Option<String>) {
            if let Ok(mut g) = self.problem.lock() {
                *g = p;
            }
        }

        fn ready(&self, kind: Kind) -> Result<&(ApiResource, Store<DynamicObject>), LookupError> {
            let unavailable = |default: &str| LookupError {
                kind: kind.name(),
                reason: self
                    .problem
                    .lock()
                    .ok()
                    .and_then(|p| p.clone())
                    .unwrap_or_else(|| default.to_string()),
            };
            match self.store.get() {
                Some(s) if self.synced.load(Ordering::Acquire) => Ok(s),
                Some(_) => Err(unavailable("the cache has not synced yet")),
                None => Err(unavailable("the kind has not been discovered yet")),
            }
        }

        fn named(
            &self,
            kind: Kind,
            namespace: &str,
            name: &str,
        ) -> Result<Vec<Value>, LookupError> {
            let (ar, store) = self.ready(kind)?;
            let key = ObjectRef::<DynamicObject>::new_with(name, ar.clone()).within(namespace);
            Ok(store
                .get(&key)
                .map(|o| to_json(ar, &o))
                .into_iter()
                .collect())
        }

        /// The objects of `namespace` whose body (everything but apiVersion, kind and
        /// metadata: `spec`, `data`…) `keep` accepts; converted to JSON only when kept.
        fn filtered(
            &self,
            kind: Kind,
            namespace: &str,
            keep: impl Fn(&Value) -> bool,
        ) -> Result<Vec<Value>, LookupError> {
            let (ar, store) = self.ready(kind)?;
            Ok(store
                .state()
                .iter()
                .filter(|o| o.metadata.namespace.as_deref() == Some(namespace) && keep(&o.data))
                .map(|o| to_json(ar, o))
                .collect())
        }
    }

    /// The object as the review reads it: apiVersion and kind set (list items lack them).
    fn to_json(ar: &ApiResource, o: &DynamicObject) -> Value {
        let mut v = serde_json::to_value(o).unwrap_or(Value::Null);
        if let Some(m) = v.as_object_mut() {
            m.insert("apiVersion".into(), Value::String(ar.api_version.clone()));
            m.insert("kind".into(), Value::String(ar.kind.clone()));
        }
        v
    }

    #[derive(Default)]
    pub struct Live {
        caches: [Arc<Cache>; Kind::ALL.len()],
    }

    impl Live {
        pub fn cache(&self, kind: Kind) -> Arc<Cache> {
            self.caches[index(kind)].clone()
        }
    }

    fn index(kind: Kind) -> usize {
        kind as usize
    }

    impl Related for Live {
        fn find(&self, namespace: &str, want: &Want) -> Result<Vec<Value>, LookupError> {
            let cache = |k: Kind| &self.caches[index(k)];
            match want {
                Want::Named { kind, name } => cache(*kind).named(*kind, namespace, name),
                Want::ParametersOf { cluster } => cache(Kind::ComponentParameter).filtered(
                    Kind::ComponentParameter,
                    namespace,
                    |v| v.pointer("/spec/clusterName").and_then(Value::as_str) == Some(cluster),
                ),
                Want::Mounting { name } => {
                    let mounts =
                        |v: &Value| lookups::config_maps_mounted(v).contains(&name.as_str());
                    let mut out =
                        cache(Kind::StatefulSet).filtered(Kind::StatefulSet, namespace, mounts)?;
                    out.extend(cache(Kind::Deployment).filtered(
                        Kind::Deployment,
                        namespace,
                        mounts,
                    )?);
                    Ok(out)
                }
                Want::Budgets => cache(Kind::PodDisruptionBudget).filtered(
                    Kind::PodDisruptionBudget,
                    namespace,
                    |_| true,
                ),
                Want::Every { kind } => cache(*kind).filtered(*kind, namespace, |_| true),
            }
        }

        fn synced(&self) -> bool {
            self.caches.iter().all(|c| c.synced.load(Ordering::Acquire))
        }
    }

    /// The API resource of `kind`: built in for core kinds, discovered for KubeBlocks'.
    async fn resource(client: &kube::Client, kind: Kind) -> Result<ApiResource, String> {
        let crd = |group: &'static str, name: &'static str| async move {
            let g = kube::discovery::group(client, group)
                .await
                .map_err(|e| format!("API group {group} not served: {e}"))?;
            g.recommended_kind(name)
                .map(|(ar, _)| ar)
                .ok_or_else(|| format!("{group} serves no {name}"))
        };
        Ok(match kind {
            Kind::ConfigMap => ApiResource::erase::<ConfigMap>(&()),
            Kind::StatefulSet => ApiResource::erase::<StatefulSet>(&()),
            Kind::Deployment => ApiResource::erase::<Deployment>(&()),
            Kind::PodDisruptionBudget => ApiResource::erase::<PodDisruptionBudget>(&()),
            Kind::KubeBlocksCluster => crd("apps.kubeblocks.io", "Cluster").await?,
            Kind::ComponentParameter => {
                crd("parameters.kubeblocks.io", "ComponentParameter").await?
            }
            Kind::KubeDbRedis => crd("kubedb.com", "Redis").await?,
            Kind::EnterpriseCluster => crd("app.redislabs.com", "RedisEnterpriseCluster").await?,
            Kind::EnterpriseDatabase => crd("app.redislabs.com", "RedisEnterpriseDatabase").await?,
        })
    }

    /// Drop what the rules never read and what makes caches large.
    fn slim(kind: Kind, o: &mut DynamicObject) {
        o.metadata.managed_fields = None;
        if let Some(a) = o.metadata.annotations.as_mut() {
            a.remove("kubectl.kubernetes.io/last-applied-configuration");
        }
        if kind == Kind::ConfigMap
            && let Some(m) = o.data.as_object_mut()
        {
            m.remove("binaryData");
            if !m.get("data").is_some_and(keeps_data) {
                m.remove("data");
            }
        }
    }

    /// Discover `kind`, then keep its cache in step with the API server until the process
    /// ends (the watcher relists and rewatches on its own, with backoff).
    pub async fn watch(client: kube::Client, kind: Kind, cache: Arc<Cache>) {
        let ar = loop {
            match resource(&client, kind).await {
                Ok(ar) => break ar,
                Err(e) => {
                    tracing::warn!(kind = kind.name(), error = %e, "lookups: kind not available; retrying in 30 s");
                    cache.set_problem(Some(e));
                    tokio::time::sleep(REDISCOVER).await;
                }
            }
        };
        let writer = Writer::new(ar.clone());
        let _ = cache.store.set((ar.clone(), writer.as_reader()));
        let api = Api::<DynamicObject>::all_with(client, &ar);
        let stream = watcher(api, watcher::Config::default())
            .default_backoff()
            .modify(move |o| slim(kind, o))
            .reflect(writer);
        futures::pin_mut!(stream);
        let mut failing = false;
        while let Some(event) = stream.next().await {
            match event {
                Ok(watcher::Event::InitDone) => {
                    if !cache.synced.swap(true, Ordering::AcqRel) || failing {
                        tracing::info!(kind = kind.name(), "lookups: cache synced");
                    }
                    cache.set_problem(None);
                    failing = false;
                }
                Ok(_) => {}
                Err(e) => {
                    // The cache keeps what it had (a stale cache judges better than none);
                    // only the first error of a run is logged, the backoff retries.
                    if !failing {
                        tracing::warn!(kind = kind.name(), error = %e, "lookups: watch failed; retrying");
                    }
                    failing = true;
                    if !cache.synced.load(Ordering::Acquire) {
                        cache.set_problem(Some(format!("watch failed: {e}")));
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn only_redis_conf_data_is_kept() {
        assert!(keeps_data(&json!({"redis.conf": "maxmemory 1gb\n"})));
        assert!(!keeps_data(&json!({"app.properties": "a=b"})));
        assert!(!keeps_data(&json!({"redis.conf": "# empty"})));
    }
}

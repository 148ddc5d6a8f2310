//! A fake Kubernetes API server for the tests of `serve`'s lookups and of `audit`: an axum app
//! on a loopback port that answers as the real one does, no more.
//!
//! - Discovery (`/apis`, `/apis/{group}/{version}`) for the groups it is given.
//! - Lists of a collection (`/api/v1/configmaps`) or of one namespace's part of it
//!   (`/api/v1/namespaces/ns/configmaps`), with `labelSelector` (`k=v` terms),
//!   `limit` and `continue`, shaped as the API reference's chunked list
//!   (<https://kubernetes.io/docs/reference/using-api/api-concepts/#retrieving-large-results-sets-in-chunks>):
//!   `kind: ConfigMapList`, the collection's `apiVersion`, `metadata.resourceVersion`, an
//!   opaque `continue` token and `remainingItemCount` while more remain; the items of a
//!   built-in kind without `apiVersion` and `kind`, as the API server serializes a typed
//!   list (a custom resource's items keep theirs).
//! - Watches (`watch=true`): the collection's `watch_events` as newline-delimited
//!   `WatchEvent`s, then held open.
//! - Server-side apply (`PATCH`, `application/apply-patch+yaml`, `fieldManager` required):
//!   creates (201, with uid, resourceVersion, creationTimestamp) or updates in place (200,
//!   same uid, next resourceVersion); what is applied is listed afterwards.
//! - Errors with the bodies the API server sends (apimachinery's `Status`; the messages are
//!   the apiserver's): `403` for a forbidden collection (`forbidden`), `410 Gone` for the
//!   first `expire_continue` requests that carry a continue token (etcd3's
//!   `compactedContinue`), `404` for anything not served (the mux's `404 page not found`
//!   for an unknown path), `500` for `failing` paths.
//!
//! Every request is recorded in `seen` (`METHOD path?query`).

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

/// A version of a group and its (plural, kind) resources.
pub type ServedVersion = (String, Vec<(String, String)>);

#[derive(Default)]
pub struct Fake {
    /// Collection path of every namespace (`/api/v1/configmaps`) → items.
    pub lists: BTreeMap<String, Vec<Value>>,
    /// Discovery: group → its versions, the preferred first, each with [(plural, kind)].
    pub groups: BTreeMap<String, Vec<ServedVersion>>,
    /// Collection paths answered 403.
    pub forbidden: Vec<String>,
    /// Paths answered 500.
    pub failing: Vec<String>,
    /// How many continued list requests get `410 Gone`.
    pub expire_continue: AtomicUsize,
    /// Collection path → events a watch sends before it is held open.
    pub watch_events: BTreeMap<String, Vec<Value>>,
    /// Objects created by apply: collection path → items.
    pub applied: Mutex<BTreeMap<String, Vec<Value>>>,
    pub seen: Mutex<Vec<String>>,
    pub resource_version: AtomicUsize,
}

impl Fake {
    /// The discovery of `group` at `version` serving these (plural, kind) pairs (the first
    /// version served of a group is its preferred one).
    pub fn serve_group(&mut self, group: &str, version: &str, kinds: &[(&str, &str)]) {
        let versions = self.groups.entry(group.to_string()).or_default();
        let kinds = kinds.iter().map(|(p, k)| (p.to_string(), k.to_string()));
        match versions.iter_mut().find(|(v, _)| v == version) {
            Some((_, served)) => {
                for kind in kinds {
                    if !served.contains(&kind) {
                        served.push(kind);
                    }
                }
            }
            None => versions.push((version.to_string(), kinds.collect())),
        }
    }

    /// Every request seen so far.
    pub fn requests(&self) -> Vec<String> {
        self.seen.lock().unwrap().clone()
    }

    /// The objects applied to a collection (every namespace).
    pub fn applied_to(&self, collection: &str) -> Vec<Value> {
        self.applied
            .lock()
            .unwrap()
            .get(collection)
            .cloned()
            .unwrap_or_default()
    }
}

/// The bundled examples' objects (`examples/statefulset-configmap.yaml`,
/// `examples/kubeblocks-seed-incident.yaml`) as a cluster holds them — each with a uid and a
/// resourceVersion — beside empty Deployment, PodDisruptionBudget and Service collections;
/// KubeBlocks is served, no other operator.
pub fn examples(root: &std::path::Path) -> Fake {
    let mut fake = Fake::default();
    let files = [
        "examples/statefulset-configmap.yaml",
        "examples/kubeblocks-seed-incident.yaml",
    ];
    let mut n = 0;
    for file in files {
        let text = std::fs::read_to_string(root.join(file)).unwrap();
        // Each document keeps its last line break (a literal block's value ends with it).
        for doc in text.split("\n---\n") {
            let mut o: Value = yaml_serde::from_str(&format!("{doc}\n")).unwrap();
            if o.is_null() {
                continue;
            }
            let collection = match o["kind"].as_str().unwrap() {
                "ConfigMap" => "/api/v1/configmaps",
                "StatefulSet" => "/apis/apps/v1/statefulsets",
                "Cluster" => "/apis/apps.kubeblocks.io/v1/clusters",
                "OpsRequest" => "/apis/operations.kubeblocks.io/v1alpha1/opsrequests",
                other => panic!("{other}"),
            };
            o["metadata"]["uid"] = json!(format!("0000-{n}"));
            o["metadata"]["resourceVersion"] = json!(format!("{}", 1000 + n));
            n += 1;
            fake.lists.entry(collection.into()).or_default().push(o);
        }
    }
    for empty in [
        "/apis/apps/v1/deployments",
        "/apis/policy/v1/poddisruptionbudgets",
        "/api/v1/services",
    ] {
        fake.lists.insert(empty.into(), Vec::new());
    }
    fake.serve_group("apps.kubeblocks.io", "v1", &[("clusters", "Cluster")]);
    fake.serve_group(
        "operations.kubeblocks.io",
        "v1alpha1",
        &[("opsrequests", "OpsRequest")],
    );
    fake
}

pub async fn start(fake: Fake) -> (std::net::SocketAddr, Arc<Fake>) {
    let fake = Arc::new(fake);
    let app = axum::Router::new()
        .fallback(answer)
        .with_state(fake.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (addr, fake)
}

/// A kubeconfig for the fake at `addr`, written into `dir`; `namespace` is its context's.
pub fn kubeconfig(
    dir: &std::path::Path,
    addr: std::net::SocketAddr,
    namespace: &str,
) -> std::path::PathBuf {
    let path = dir.join("kubeconfig");
    std::fs::write(
        &path,
        format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: fake\n  cluster:\n    server: http://{addr}\n\
             users:\n- name: test\n  user:\n    token: fake-token\ncontexts:\n- name: fake\n  context:\n    \
             cluster: fake\n    user: test\n    namespace: {namespace}\ncurrent-context: fake\n"
        ),
    )
    .unwrap();
    path
}

fn json_body(code: StatusCode, v: &Value) -> Response {
    (code, [("content-type", "application/json")], v.to_string()).into_response()
}

/// apimachinery's `Status` for a failed request.
fn status(code: StatusCode, reason: &str, message: &str, details: Value) -> Response {
    json_body(
        code,
        &json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                "message": message, "reason": reason, "details": details, "code": code.as_u16()}),
    )
}

/// What the mux answers for a path nothing is registered at.
fn page_not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        [("content-type", "text/plain; charset=utf-8")],
        "404 page not found\n",
    )
        .into_response()
}

impl Fake {
    fn discovery(&self, path: &str) -> Option<Value> {
        if path == "/apis" {
            let groups: Vec<Value> = self
                .groups
                .iter()
                .map(|(name, versions)| {
                    let gv = |v: &str| json!({"groupVersion": format!("{name}/{v}"), "version": v});
                    json!({"name": name,
                           "versions": versions.iter().map(|(v, _)| gv(v)).collect::<Vec<_>>(),
                           "preferredVersion": gv(&versions[0].0)})
                })
                .collect();
            return Some(json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}));
        }
        let rest = path.strip_prefix("/apis/")?;
        let (group, version) = rest.split_once('/')?;
        let (_, kinds) = self.groups.get(group)?.iter().find(|(v, _)| v == version)?;
        let resources: Vec<Value> = kinds
            .iter()
            .map(|(plural, kind)| {
                json!({"name": plural, "singularName": kind.to_lowercase(), "namespaced": true,
                       "kind": kind, "verbs": ["get", "list", "watch", "create", "patch"]})
            })
            .collect();
        Some(json!({"kind": "APIResourceList", "apiVersion": "v1",
                    "groupVersion": format!("{group}/{version}"), "resources": resources}))
    }

    fn next_version(&self) -> String {
        (self.resource_version.fetch_add(1, Ordering::SeqCst) + 100).to_string()
    }
}

/// A request path as (collection of every namespace, namespace, name):
/// `/api/v1/namespaces/ns/configmaps/x` → (`/api/v1/configmaps`, ns, x).
fn split(path: &str) -> (String, Option<String>, Option<String>) {
    let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let base = if parts.first() == Some(&"api") { 2 } else { 3 };
    if parts.len() < base {
        return (path.to_string(), None, None);
    }
    let (prefix, rest) = parts.split_at(base);
    let prefix = format!("/{}", prefix.join("/"));
    match rest {
        ["namespaces", ns, resource] => {
            (format!("{prefix}/{resource}"), Some(ns.to_string()), None)
        }
        ["namespaces", ns, resource, name] => (
            format!("{prefix}/{resource}"),
            Some(ns.to_string()),
            Some(name.to_string()),
        ),
        [resource] => (format!("{prefix}/{resource}"), None, None),
        [resource, name] => (format!("{prefix}/{resource}"), None, Some(name.to_string())),
        _ => (path.to_string(), None, None),
    }
}

fn query_value(query: &str, key: &str) -> Option<String> {
    query.split('&').find_map(|kv| {
        let (k, v) = kv.split_once('=')?;
        (k == key).then(|| {
            // The tests' values need only these escapes undone.
            v.replace("%3D", "=")
                .replace("%2C", ",")
                .replace("%2F", "/")
                .replace('+', " ")
        })
    })
}

/// `k=v,k2=v2` (equality terms only: what the tests send).
fn selects(selector: &str, object: &Value) -> bool {
    selector.split(',').filter(|t| !t.is_empty()).all(|term| {
        let (k, v) = term.split_once('=').unwrap_or((term, ""));
        object
            .pointer("/metadata/labels")
            .and_then(|l| l.get(k))
            .and_then(Value::as_str)
            == Some(v)
    })
}

async fn answer(State(fake): State<Arc<Fake>>, request: Request) -> Response {
    let method = request.method().clone();
    let path = request.uri().path().to_string();
    let query = request.uri().query().unwrap_or("").to_string();
    let content_type = request
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    fake.seen
        .lock()
        .unwrap()
        .push(format!("{method} {path}?{query}"));
    if fake.failing.contains(&path) {
        return status(
            StatusCode::INTERNAL_SERVER_ERROR,
            "InternalError",
            "Internal error occurred: fake failure",
            json!({}),
        );
    }
    if let Some(d) = fake.discovery(&path) {
        return json_body(StatusCode::OK, &d);
    }
    let (collection, namespace, name) = split(&path);
    if fake.forbidden.contains(&collection) {
        // apiserver's forbiddenMessage for a list at cluster or namespace scope.
        let (group, resource) = {
            let parts: Vec<&str> = collection.trim_start_matches('/').split('/').collect();
            if parts[0] == "api" {
                ("", parts[2])
            } else {
                (parts[1], parts[3])
            }
        };
        let qualified = if group.is_empty() {
            resource.to_string()
        } else {
            format!("{resource}.{group}")
        };
        let scope = match &namespace {
            Some(ns) => format!("in the namespace \"{ns}\""),
            None => "at the cluster scope".to_string(),
        };
        return status(
            StatusCode::FORBIDDEN,
            "Forbidden",
            &format!(
                "{qualified} is forbidden: User \"system:serviceaccount:redline-system:redline\" \
                 cannot list resource \"{resource}\" in API group \"{group}\" {scope}"
            ),
            json!({"group": group, "kind": resource}),
        );
    }
    if method == axum::http::Method::PATCH {
        return apply(
            &fake,
            request,
            &collection,
            namespace,
            name,
            &query,
            &content_type,
        )
        .await;
    }
    let stored = fake.applied.lock().unwrap().get(&collection).cloned();
    let given = fake.lists.get(&collection);
    if given.is_none() && stored.is_none() {
        return page_not_found();
    }
    // By reference: only the page is copied (a list of 40,000 objects is paged 80 times).
    let selector = query_value(&query, "labelSelector");
    let items: Vec<&Value> = given
        .into_iter()
        .flatten()
        .chain(stored.iter().flatten())
        .filter(|o| {
            namespace.is_none()
                || o.pointer("/metadata/namespace").and_then(Value::as_str) == namespace.as_deref()
        })
        .filter(|o| selector.as_ref().is_none_or(|s| selects(s, o)))
        .collect();
    if let Some(name) = name {
        return match items
            .iter()
            .find(|o| o.pointer("/metadata/name").and_then(Value::as_str) == Some(&name))
        {
            Some(o) => json_body(StatusCode::OK, o),
            None => status(
                StatusCode::NOT_FOUND,
                "NotFound",
                &format!("\"{name}\" not found"),
                json!({"name": name}),
            ),
        };
    }
    if query_value(&query, "watch").is_some_and(|w| w == "true" || w == "1") {
        let events: Vec<Result<Vec<u8>, std::io::Error>> = fake
            .watch_events
            .get(&collection)
            .into_iter()
            .flatten()
            .map(|e| Ok(format!("{e}\n").into_bytes()))
            .collect();
        let stream =
            futures::StreamExt::chain(futures::stream::iter(events), futures::stream::pending());
        return axum::body::Body::from_stream(stream).into_response();
    }
    let offset = match query_value(&query, "continue") {
        Some(token) => {
            let expire = fake
                .expire_continue
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                .is_ok();
            if expire {
                // etcd3 store's compactedContinue: 410 with a token for the inconsistent rest.
                let body = json!({"kind": "Status", "apiVersion": "v1",
                    "metadata": {"continue": format!("inconsistent-{token}")}, "status": "Failure",
                    "message": "The provided continue parameter is too old to display a consistent \
                        list result. You can start a new list without the continue parameter, or use \
                        the continue token in this response to retrieve the remainder of the results. \
                        Continuing with the provided token results in an inconsistent list - objects \
                        that were created, modified, or deleted between the time the first chunk was \
                        returned and now may show up in the list.",
                    "reason": "Expired", "code": 410});
                return json_body(StatusCode::GONE, &body);
            }
            match token
                .strip_prefix("offset-")
                .and_then(|n| n.parse::<usize>().ok())
            {
                Some(n) => n,
                None => {
                    return status(
                        StatusCode::BAD_REQUEST,
                        "BadRequest",
                        "continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)",
                        json!({}),
                    );
                }
            }
        }
        None => 0,
    };
    let limit = query_value(&query, "limit")
        .and_then(|l| l.parse::<usize>().ok())
        .filter(|l| *l > 0);
    let end = limit.map_or(items.len(), |l| (offset + l).min(items.len()));
    let typed = collection.starts_with("/api/")
        || ["/apis/apps/", "/apis/policy/"]
            .iter()
            .any(|p| collection.starts_with(p));
    let page: Vec<Value> = items[offset.min(items.len())..end]
        .iter()
        .map(|o| {
            let mut o = (*o).clone();
            if typed && let Some(m) = o.as_object_mut() {
                m.remove("apiVersion");
                m.remove("kind");
            }
            o
        })
        .collect();
    let mut metadata = json!({"resourceVersion": "7"});
    if end < items.len() {
        metadata["continue"] = json!(format!("offset-{end}"));
        metadata["remainingItemCount"] = json!(items.len() - end);
    }
    let api_version = {
        let parts: Vec<&str> = collection.trim_start_matches('/').split('/').collect();
        if parts[0] == "api" {
            parts[1].to_string()
        } else {
            format!("{}/{}", parts[1], parts[2])
        }
    };
    let kind = items
        .first()
        .and_then(|o| o["kind"].as_str())
        .map_or_else(|| "List".to_string(), |k| format!("{k}List"));
    json_body(
        StatusCode::OK,
        &json!({"kind": kind, "apiVersion": api_version, "metadata": metadata, "items": page}),
    )
}

async fn apply(
    fake: &Fake,
    request: Request,
    collection: &str,
    namespace: Option<String>,
    name: Option<String>,
    query: &str,
    content_type: &str,
) -> Response {
    let Some(name) = name else {
        return status(
            StatusCode::METHOD_NOT_ALLOWED,
            "MethodNotAllowed",
            "the server does not allow this method on the requested resource",
            json!({}),
        );
    };
    if content_type != "application/apply-patch+yaml" {
        return status(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "UnsupportedMediaType",
            &format!(
                "the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml; got {content_type}"
            ),
            json!({}),
        );
    }
    if query_value(query, "fieldManager").is_none() {
        return status(
            StatusCode::BAD_REQUEST,
            "BadRequest",
            "PatchOptions.meta.k8s.io \"\" is invalid: fieldManager: Required value: is required for apply patch",
            json!({}),
        );
    }
    let body = axum::body::to_bytes(request.into_body(), 8 << 20)
        .await
        .unwrap();
    // YAML is a superset of JSON; kube sends JSON.
    let mut object: Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(e) => {
            return status(
                StatusCode::BAD_REQUEST,
                "BadRequest",
                &e.to_string(),
                json!({}),
            );
        }
    };
    let mut applied = fake.applied.lock().unwrap();
    let items = applied.entry(collection.to_string()).or_default();
    let same = |o: &Value| {
        o.pointer("/metadata/name").and_then(Value::as_str) == Some(&name)
            && o.pointer("/metadata/namespace").and_then(Value::as_str) == namespace.as_deref()
    };
    let version = fake.next_version();
    let (code, kept) = match items.iter().position(same) {
        Some(i) => {
            let old = items.remove(i);
            (StatusCode::OK, old["metadata"].clone())
        }
        None => (
            StatusCode::CREATED,
            json!({"uid": format!("uid-{collection}-{name}-{version}"),
                   "creationTimestamp": "2026-11-30T00:00:00Z"}),
        ),
    };
    object["metadata"]["uid"] = kept["uid"].clone();
    object["metadata"]["creationTimestamp"] = kept["creationTimestamp"].clone();
    object["metadata"]["resourceVersion"] = json!(version);
    if let Some(ns) = &namespace {
        object["metadata"]["namespace"] = json!(ns);
    }
    object["metadata"]["managedFields"] = json!([{
        "manager": query_value(query, "fieldManager"), "operation": "Apply",
        "apiVersion": object["apiVersion"].clone()}]);
    items.push(object.clone());
    json_body(code, &object)
}

//! Reading a live cluster with kube's client: the kinds of [`kinds`](super::kinds), a page at
//! a time, and writing Policy Reports back.
//!
//! - Pages of `page_size` objects (`limit`/`continue`, as `kubectl get --chunk-size` and
//!   Gatekeeper's audit, `--audit-chunk-size` 500, read). A kind's objects are kept only
//!   once its list completed: a `410 Gone` (the continue token expired while paging, after
//!   etcd compaction) restarts that list, at most [`RESTARTS`] times, for a consistent list
//!   rather than the inconsistent remainder the 410 offers.
//! - Memory: what is held is the kept objects, slimmed, plus one page.
//! - Custom kinds are found by discovery, in a version redline reads; a group or resource
//!   that is not served is a note, a `404` on the list too (the CRD went away), a `403`
//!   names the RBAC rule.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::path::Path;

use kube::api::{Api, ApiResource, DynamicObject, ListParams, Patch, PatchParams};
use kube::discovery::ApiGroup;
use kube::{Client, Config};
use serde_json::Value;

use super::{Audited, Listed, Problem, config_maps_wanted, identity, keeps_config_map, slim};

/// Restarts of one list after `410 Gone`.
pub const RESTARTS: usize = 3;

/// Objects per page (Gatekeeper's audit chunk size).
pub const PAGE_SIZE: u32 = 500;

/// The field manager of the reports redline applies.
pub const FIELD_MANAGER: &str = "redline";

/// The label on every report redline writes (and looks for to empty stale ones).
pub const MANAGED_BY: (&str, &str) = ("app.kubernetes.io/managed-by", "redline");

/// What to read.
#[derive(Debug, Clone)]
pub struct Scope {
    /// `None`: every namespace.
    pub namespaces: Option<Vec<String>>,
    /// A label selector for the judged kinds (not for what they refer to).
    pub selector: Option<String>,
    pub page_size: u32,
}

/// How far a listing is, for a progress display.
#[derive(Debug, Clone, Copy)]
pub struct Progress<'a> {
    pub resource: &'a str,
    pub kinds_done: usize,
    pub kinds_total: usize,
    /// Objects read so far (kept or not).
    pub objects_read: usize,
}

/// A client for `--kubeconfig`/`--context`, else the way kubectl finds one (`KUBECONFIG`,
/// `~/.kube/config`, else the in-cluster service account); and the namespace its context
/// names (what `--namespace` defaults to).
pub async fn connect(
    kubeconfig: Option<&Path>,
    context: Option<&str>,
) -> Result<(Client, String), String> {
    let options = kube::config::KubeConfigOptions {
        context: context.map(str::to_string),
        ..Default::default()
    };
    let config = match (kubeconfig, context) {
        (Some(path), _) => {
            let file = kube::config::Kubeconfig::read_from(path)
                .map_err(|e| format!("cannot read the kubeconfig {}: {e}", path.display()))?;
            Config::from_custom_kubeconfig(file, &options)
                .await
                .map_err(|e| format!("kubeconfig {}: {e}", path.display()))?
        }
        (None, Some(_)) => Config::from_kubeconfig(&options)
            .await
            .map_err(|e| format!("kubeconfig: {e}"))?,
        (None, None) => Config::infer().await.map_err(|e| {
            format!("no cluster configuration found (kubeconfig or in-cluster): {e}")
        })?,
    };
    let namespace = config.default_namespace.clone();
    let client =
        Client::try_from(config).map_err(|e| format!("cannot build the Kubernetes client: {e}"))?;
    Ok((client, namespace))
}

/// The groups the API server serves (one `/apis` request), and each group's discovery once.
struct Discovery {
    served: Option<HashSet<String>>,
    groups: HashMap<&'static str, Option<ApiGroup>>,
}

enum Resolved {
    Served(ApiResource),
    NotInstalled,
}

/// Core groups every API server serves: no discovery request for them.
fn built_in(audited: &Audited) -> Option<ApiResource> {
    matches!(audited.group, "" | "apps" | "policy").then(|| {
        let version = audited.versions[0];
        ApiResource {
            group: audited.group.to_string(),
            version: version.to_string(),
            api_version: if audited.group.is_empty() {
                version.to_string()
            } else {
                format!("{}/{version}", audited.group)
            },
            kind: audited.kind.to_string(),
            plural: audited.resource.to_string(),
        }
    })
}

impl Discovery {
    async fn resolve(
        &mut self,
        client: &Client,
        audited: &Audited,
    ) -> Result<Resolved, kube::Error> {
        if let Some(ar) = built_in(audited) {
            return Ok(Resolved::Served(ar));
        }
        if self.served.is_none() {
            let groups = client.list_api_groups().await?;
            self.served = Some(groups.groups.into_iter().map(|g| g.name).collect());
        }
        if !self
            .served
            .as_ref()
            .is_some_and(|s| s.contains(audited.group))
        {
            return Ok(Resolved::NotInstalled);
        }
        if !self.groups.contains_key(audited.group) {
            let group = kube::discovery::group(client, audited.group).await?;
            self.groups.insert(audited.group, Some(group));
        }
        let Some(Some(group)) = self.groups.get(audited.group) else {
            return Ok(Resolved::NotInstalled);
        };
        // The API server's preferred version when redline reads it, else redline's order.
        let preferred = group
            .preferred_version()
            .filter(|v| audited.versions.contains(v));
        let found = preferred
            .into_iter()
            .chain(audited.versions.iter().copied())
            .find_map(|v| {
                group
                    .versioned_resources(v)
                    .into_iter()
                    .find(|(ar, _)| ar.kind == audited.kind && ar.plural == audited.resource)
            });
        Ok(found.map_or(Resolved::NotInstalled, |(ar, _)| Resolved::Served(ar)))
    }
}

/// The object as the model reads it: `apiVersion` and `kind` set (list items may lack them).
fn to_json(ar: &ApiResource, o: DynamicObject) -> Value {
    let mut v = serde_json::to_value(o).unwrap_or(Value::Null);
    if let Some(m) = v.as_object_mut() {
        m.insert("apiVersion".into(), Value::String(ar.api_version.clone()));
        m.insert("kind".into(), Value::String(ar.kind.clone()));
    }
    v
}

/// Why a list stopped.
enum Stop {
    Problem(Problem),
    /// Not an answer of the API server (connection refused, TLS): the audit cannot go on.
    Unreachable(String),
}

fn problem(audited: &Audited, e: kube::Error) -> Stop {
    let resource = audited.qualified();
    match e {
        kube::Error::Api(status) => match status.code {
            403 => Stop::Problem(Problem::Forbidden {
                resource,
                message: status.message,
                rule: audited.rbac_rule(),
            }),
            404 => Stop::Problem(Problem::NotInstalled { resource }),
            _ => Stop::Problem(Problem::Failed {
                resource,
                message: format!("{} ({})", status.message, status.code),
            }),
        },
        kube::Error::HyperError(_) | kube::Error::Service(_) | kube::Error::Auth(_) => {
            Stop::Unreachable(e.to_string())
        }
        other => Stop::Problem(Problem::Failed {
            resource,
            message: other.to_string(),
        }),
    }
}

/// One kind in one namespace (or all), every page, restarted on `410 Gone`; `keep` decides
/// per object (after slimming). Returns the kept objects of a complete list.
async fn list_kind(
    api: &Api<DynamicObject>,
    ar: &ApiResource,
    audited: &Audited,
    params: &ListParams,
    read: &mut usize,
    keep: &mut (dyn FnMut(&Value) -> bool + Send),
    page_done: &mut (dyn FnMut(usize) + Send),
) -> Result<Vec<Value>, Stop> {
    let mut restarts = 0;
    'list: loop {
        let mut kept = Vec::new();
        let mut params = params.clone();
        params.continue_token = None;
        loop {
            let page = match api.list(&params).await {
                Ok(page) => page,
                Err(kube::Error::Api(s)) if s.code == 410 && restarts < RESTARTS => {
                    restarts += 1;
                    tracing::info!(
                        resource = audited.qualified(),
                        "the continue token expired (410 Gone): listing again from the start"
                    );
                    continue 'list;
                }
                Err(e) => return Err(problem(audited, e)),
            };
            *read += page.items.len();
            for o in page.items {
                let mut v = to_json(ar, o);
                slim(audited, &mut v);
                if keep(&v) {
                    kept.push(v);
                }
            }
            page_done(*read);
            match page.metadata.continue_.filter(|c| !c.is_empty()) {
                Some(token) => params.continue_token = Some(token),
                None => return Ok(kept),
            }
        }
    }
}

/// Read every kind of [`kinds`](super::kinds) in `scope`. `Err` only when the API server
/// cannot be reached; a kind that cannot be read is a [`Problem`] of the result.
pub async fn collect(
    client: &Client,
    scope: &Scope,
    progress: &mut (dyn FnMut(Progress) + Send),
) -> Result<Listed, String> {
    let kinds = super::kinds();
    let mut discovery = Discovery {
        served: None,
        groups: HashMap::new(),
    };
    let mut listed = Listed::default();
    let mut read = 0;
    let mut subject_namespaces = BTreeSet::new();
    let namespaces: Vec<Option<&str>> = match &scope.namespaces {
        Some(list) => list.iter().map(|n| Some(n.as_str())).collect(),
        None => vec![None],
    };
    for (i, audited) in kinds.iter().enumerate() {
        let resource = audited.qualified();
        progress(Progress {
            resource: &resource,
            kinds_done: i,
            kinds_total: kinds.len(),
            objects_read: read,
        });
        let ar = match discovery.resolve(client, audited).await {
            Ok(Resolved::Served(ar)) => ar,
            Ok(Resolved::NotInstalled) => {
                listed.problems.push(Problem::NotInstalled { resource });
                continue;
            }
            Err(e) => match problem(audited, e) {
                Stop::Unreachable(e) => return Err(format!("cannot reach the API server: {e}")),
                Stop::Problem(p) => {
                    listed.problems.push(p);
                    continue;
                }
            },
        };
        // Every object that could refer to a ConfigMap or a claim has been listed by now.
        let wanted = audited
            .is_config_map()
            .then(|| config_maps_wanted(&listed.objects));
        let claims = (audited.kind == "PersistentVolumeClaim")
            .then(|| super::claims_wanted(&listed.objects));
        // (label selector, keep) passes: a ConfigMap under a selector is read twice — the
        // selected ones judged alone if they hold a redis.conf, then any the selected
        // objects refer to.
        let selected = ListParams {
            label_selector: scope.selector.clone().filter(|_| !audited.related),
            limit: Some(scope.page_size),
            ..Default::default()
        };
        let everything = ListParams {
            label_selector: None,
            ..selected.clone()
        };
        let mut seen: HashSet<(String, String)> = HashSet::new();
        // The bar moves with every page, not only with every kind.
        let mut tick = |objects_read| {
            progress(Progress {
                resource: &resource,
                kinds_done: i,
                kinds_total: kinds.len(),
                objects_read,
            })
        };
        for ns in &namespaces {
            let api = match ns {
                Some(n) => Api::<DynamicObject>::namespaced_with(client.clone(), n, &ar),
                None => Api::<DynamicObject>::all_with(client.clone(), &ar),
            };
            let result = match (&wanted, &scope.selector) {
                (Some(wanted), Some(_)) => {
                    let mut first = list_kind(
                        &api,
                        &ar,
                        audited,
                        &selected,
                        &mut read,
                        &mut |v| keeps_config_map(v, &HashSet::new()),
                        &mut tick,
                    )
                    .await;
                    if let Ok(kept) = &first {
                        seen.extend(kept.iter().map(identity));
                    }
                    if let Ok(kept) = &mut first {
                        match list_kind(
                            &api,
                            &ar,
                            audited,
                            &everything,
                            &mut read,
                            &mut |v| wanted.contains(&identity(v)) && !seen.contains(&identity(v)),
                            &mut tick,
                        )
                        .await
                        {
                            Ok(more) => kept.extend(more),
                            Err(e) => first = Err(e),
                        }
                    }
                    first
                }
                (Some(wanted), None) => {
                    list_kind(
                        &api,
                        &ar,
                        audited,
                        &selected,
                        &mut read,
                        &mut |v| keeps_config_map(v, wanted),
                        &mut tick,
                    )
                    .await
                }
                _ => {
                    list_kind(
                        &api,
                        &ar,
                        audited,
                        &selected,
                        &mut read,
                        &mut |v| claims.as_ref().is_none_or(|c| c.contains(&identity(v))),
                        &mut tick,
                    )
                    .await
                }
            };
            match result {
                Ok(kept) => {
                    if !audited.related {
                        subject_namespaces.extend(kept.iter().map(|v| identity(v).0));
                    }
                    listed.objects.extend(kept);
                }
                Err(Stop::Problem(p)) => {
                    listed.problems.push(p);
                    break;
                }
                Err(Stop::Unreachable(e)) => {
                    return Err(format!("cannot reach the API server: {e}"));
                }
            }
        }
    }
    progress(Progress {
        resource: "",
        kinds_done: kinds.len(),
        kinds_total: kinds.len(),
        objects_read: read,
    });
    listed.namespaces = match &scope.namespaces {
        Some(list) => list.clone(),
        None => subject_namespaces.into_iter().collect(),
    };
    listed.namespaces.sort();
    listed.namespaces.dedup();
    Ok(listed)
}

fn report_resource(kind: &str) -> ApiResource {
    let plural = if kind == "PolicyReport" {
        "policyreports"
    } else {
        "clusterpolicyreports"
    };
    ApiResource {
        group: "wgpolicyk8s.io".into(),
        version: "v1alpha2".into(),
        api_version: "wgpolicyk8s.io/v1alpha2".into(),
        kind: kind.into(),
        plural: plural.into(),
    }
}

/// Create or update each report in place (server-side apply, field manager `redline`,
/// forced: the reports are redline's), and empty the reports redline wrote before in the
/// audited namespaces (all namespaces: everywhere) that this audit has no report for.
/// Returns how many were applied.
pub async fn write_reports(
    client: &Client,
    reports: &[Value],
    scope: &Scope,
) -> Result<usize, String> {
    let params = PatchParams::apply(FIELD_MANAGER).force();
    let forbidden = |kind: &str, e: &kube::Error| {
        let plural = report_resource(kind).plural;
        match e {
            kube::Error::Api(s) if s.code == 403 => format!(
                "cannot write {plural}.wgpolicyk8s.io: {}. The RBAC rule it needs: \
                 {{apiGroups: [\"wgpolicyk8s.io\"], resources: [\"{plural}\"], \
                 verbs: [\"get\", \"list\", \"create\", \"patch\"]}}",
                s.message
            ),
            kube::Error::Api(s) if s.code == 404 => format!(
                "cannot write {plural}.wgpolicyk8s.io: the Policy Report CRDs are not \
                 installed (wgpolicyk8s.io/v1alpha2; Kyverno and Policy Reporter install them)"
            ),
            _ => format!("cannot write {plural}.wgpolicyk8s.io: {e}"),
        }
    };
    let mut written: HashSet<(String, String)> = HashSet::new();
    for report in reports {
        let kind = report["kind"].as_str().unwrap_or("PolicyReport");
        let name = report["metadata"]["name"].as_str().unwrap_or("redline");
        let ar = report_resource(kind);
        let api = match report["metadata"]["namespace"].as_str() {
            Some(ns) => Api::<DynamicObject>::namespaced_with(client.clone(), ns, &ar),
            None => Api::<DynamicObject>::all_with(client.clone(), &ar),
        };
        api.patch(name, &params, &Patch::Apply(report))
            .await
            .map_err(|e| forbidden(kind, &e))?;
        written.insert(identity(report));
    }
    // Reports of an earlier audit where this one found nothing to report on (the Redis
    // objects are gone): emptied, not left showing old failures.
    let ar = report_resource("PolicyReport");
    let selector = format!("{}={}", MANAGED_BY.0, MANAGED_BY.1);
    let namespaces: Vec<Option<&str>> = match &scope.namespaces {
        Some(list) => list.iter().map(|n| Some(n.as_str())).collect(),
        None => vec![None],
    };
    let mut stale = Vec::new();
    for ns in namespaces {
        let api = match ns {
            Some(n) => Api::<DynamicObject>::namespaced_with(client.clone(), n, &ar),
            None => Api::<DynamicObject>::all_with(client.clone(), &ar),
        };
        let list = api
            .list(&ListParams::default().labels(&selector))
            .await
            .map_err(|e| forbidden("PolicyReport", &e))?;
        for o in list.items {
            let v = to_json(&ar, o);
            if !written.contains(&identity(&v)) {
                stale.push(identity(&v));
            }
        }
    }
    for (ns, name) in &stale {
        let empty = crate::report::policyreport::empty(Some(ns), name);
        Api::<DynamicObject>::namespaced_with(client.clone(), ns, &ar)
            .patch(name, &params, &Patch::Apply(&empty))
            .await
            .map_err(|e| forbidden("PolicyReport", &e))?;
    }
    Ok(written.len() + stale.len())
}

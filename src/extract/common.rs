//! Pieces every extractor needs: Kubernetes resources, probes, containers, affinity, image
//! versions.

use crate::model::{
    AntiAffinity, Container, Handler, Loc, Located, Memory, ObjectId, Probe, ProbeOrigin, Probes,
    Product, Setting, Version,
};
use crate::redisconf::{Dialect, Release};
use crate::source::Cursor;
use crate::units::quantity::Quantity;

use super::image::ImageRef;

use super::Ctx;

pub fn loc(object: ObjectId, c: &Cursor) -> Loc {
    Loc {
        object,
        pointer: c.pointer.clone(),
        pos: c.pos(),
    }
}

/// The place of a field that is absent: its would-be pointer, at its parent's key.
pub fn absent(object: ObjectId, parent: &Cursor, key: &str) -> Loc {
    Loc {
        object,
        pointer: parent.child_pointer(key),
        pos: parent.key_pos(),
    }
}

pub fn located_str(object: ObjectId, c: &Cursor) -> Option<Located<String>> {
    Some(Located {
        value: c.str()?.to_string(),
        at: loc(object, c),
    })
}

/// A `${VAR}` (or `${VAR:-default}`) that Flux's post-build substitution or envsubst replaces
/// before the object reaches the API server: the value is not known here. Named as not
/// judged, not reported as invalid.
fn substituted(ctx: &mut Ctx, object: ObjectId, c: &Cursor) -> bool {
    let Some(text) = c.str() else { return false };
    let variable = is_variable(text);
    if variable {
        let o = ctx.object(object).to_string();
        ctx.unjudged.push(crate::model::Problem {
            at: loc(object, c),
            message: format!(
                "{o} holds `{text}` at {}, a variable Flux (postBuild substitution) or envsubst \
                 replaces before it is applied: its value is not known here, and what depends \
                 on it is not judged",
                c.pointer
            ),
        });
    }
    variable
}

/// `${NAME}`, `${NAME:-default}`, `${NAME:=default}` (and without the colon) as a whole value.
fn is_variable(text: &str) -> bool {
    let Some(inner) = text.strip_prefix("${").and_then(|t| t.strip_suffix('}')) else {
        return false;
    };
    let name_end = inner
        .find(|ch: char| !(ch.is_ascii_alphanumeric() || ch == '_'))
        .unwrap_or(inner.len());
    let (name, rest) = inner.split_at(name_end);
    !name.is_empty()
        && !name.starts_with(|ch: char| ch.is_ascii_digit())
        && (rest.is_empty() || [":-", ":=", "-", "="].iter().any(|p| rest.starts_with(p)))
}

pub fn located_i64(ctx: &mut Ctx, object: ObjectId, c: Option<Cursor>) -> Option<Located<i64>> {
    let c = c?;
    if substituted(ctx, object, &c) {
        return None;
    }
    match c.i64() {
        Some(value) => Some(Located {
            value,
            at: loc(object, &c),
        }),
        None => {
            ctx.problem(
                loc(object, &c),
                format!(
                    "expected an integer, found `{}`",
                    c.str().unwrap_or("a collection")
                ),
            );
            None
        }
    }
}

/// A memory quantity; invalid ones become problems (the API server rejects the object).
pub fn memory(ctx: &mut Ctx, object: ObjectId, c: Option<Cursor>) -> Option<Memory> {
    let c = c?;
    if substituted(ctx, object, &c) {
        return None;
    }
    let text = c.str()?.to_string();
    match Quantity::parse(&text) {
        Ok(q) => match q.bytes() {
            Some(bytes) => Some(Memory {
                bytes,
                text,
                at: loc(object, &c),
            }),
            None => {
                ctx.problem(
                    loc(object, &c),
                    format!("memory quantity `{text}` is negative or too large"),
                );
                None
            }
        },
        Err(e) => {
            ctx.problem(
                loc(object, &c),
                format!("invalid memory quantity: {}", e.message),
            );
            None
        }
    }
}

/// Memory request and limit of a `ResourceRequirements` at `resources` (a child of `parent`).
pub fn resources(
    ctx: &mut Ctx,
    object: ObjectId,
    parent: &Cursor,
    key: &str,
    container: &mut Container,
) {
    container.resources_at = match parent.get(key) {
        Some(r) => loc(object, &r),
        None => absent(object, parent, key),
    };
    let r = parent.get(key);
    let before = ctx.problems.len();
    container.memory_request = memory(
        ctx,
        object,
        r.as_ref().and_then(|r| r.at(&["requests", "memory"])),
    );
    let limit = r.as_ref().and_then(|r| r.at(&["limits", "memory"]));
    if let Some(l) = &limit
        && l.str().is_some_and(is_variable)
    {
        container.memory_limit_unknown = Some(loc(object, l));
    }
    container.memory_limit = memory(ctx, object, limit);
    container.memory_errors.extend(
        ctx.problems[before..]
            .iter()
            .map(|p| (p.at.clone(), p.message.clone())),
    );
    container.request_from_limit =
        container.memory_request.is_none() && container.memory_limit.is_some();
    container.cpu_limit_millis = cpu(
        ctx,
        object,
        r.as_ref().and_then(|r| r.at(&["limits", "cpu"])),
    );
}

/// A CPU quantity in millicores; an invalid one is a problem (the API server rejects it).
fn cpu(ctx: &mut Ctx, object: ObjectId, c: Option<Cursor>) -> Option<Located<u64>> {
    let c = c?;
    if substituted(ctx, object, &c) {
        return None;
    }
    let text = c.str()?;
    match Quantity::parse(text).map(|q| q.milli_value().and_then(|m| u64::try_from(m).ok())) {
        Ok(Some(millis)) => Some(Located {
            value: millis,
            at: loc(object, &c),
        }),
        Ok(None) => {
            ctx.problem(
                loc(object, &c),
                format!("CPU quantity `{text}` is negative or too large"),
            );
            None
        }
        Err(e) => {
            ctx.problem(
                loc(object, &c),
                format!("invalid CPU quantity: {}", e.message),
            );
            None
        }
    }
}

/// Kubernetes' probe defaults (`SetDefaults_Probe`).
pub const PROBE_DEFAULTS: [(&str, i64); 5] = [
    ("initialDelaySeconds", 0),
    ("periodSeconds", 10),
    ("timeoutSeconds", 1),
    ("successThreshold", 1),
    ("failureThreshold", 3),
];

pub fn probe(
    ctx: &mut Ctx,
    object: ObjectId,
    c: Option<Cursor>,
    origin: ProbeOrigin,
) -> Option<Probe> {
    let c = c?;
    if !c.node.is_map() {
        return None;
    }
    let handler = if let Some(e) = c.at(&["exec", "command"]) {
        Handler::Exec(
            e.items()
                .iter()
                .filter_map(|i| i.str().map(str::to_string))
                .collect(),
        )
    } else if let Some(t) = c.get("tcpSocket") {
        Handler::TcpSocket(t.str_at(&["port"]).unwrap_or_default().to_string())
    } else if let Some(h) = c.get("httpGet") {
        Handler::HttpGet {
            path: h.str_at(&["path"]).unwrap_or("/").to_string(),
            port: h.str_at(&["port"]).unwrap_or_default().to_string(),
        }
    } else if let Some(g) = c.get("grpc") {
        Handler::Grpc(g.str_at(&["port"]).unwrap_or_default().to_string())
    } else {
        Handler::Missing
    };
    let mut setting = |key: &str, default: i64| match located_i64(ctx, object, c.get(key)) {
        Some(l) => Setting {
            value: l.value,
            at: Some(l.at),
        },
        None => Setting {
            value: default,
            at: None,
        },
    };
    let [d, p, t, s, f] = PROBE_DEFAULTS.map(|(k, v)| setting(k, v));
    Some(Probe {
        script: None,
        handler,
        origin,
        at: Some(loc(object, &c)),
        initial_delay_seconds: d,
        period_seconds: p,
        timeout_seconds: t,
        success_threshold: s,
        failure_threshold: f,
    })
}

/// A probe an operator defines: `(initial delay, period, timeout, success, failure)`.
pub fn operator_probe(handler: Handler, who: &str, timings: [i64; 5]) -> Probe {
    let [d, p, t, s, f] = timings.map(|value| Setting { value, at: None });
    Probe {
        script: None,
        handler,
        origin: ProbeOrigin::Operator(who.to_string()),
        at: None,
        initial_delay_seconds: d,
        period_seconds: p,
        timeout_seconds: t,
        success_threshold: s,
        failure_threshold: f,
    }
}

pub fn probes(ctx: &mut Ctx, object: ObjectId, c: &Cursor, keys: [&str; 3]) -> Probes {
    Probes {
        liveness: probe(ctx, object, c.get(keys[0]), ProbeOrigin::User),
        readiness: probe(ctx, object, c.get(keys[1]), ProbeOrigin::User),
        startup: probe(ctx, object, c.get(keys[2]), ProbeOrigin::User),
    }
}

/// An empty container record at `at`, to be filled.
pub fn container_at(name: &str, at: Loc) -> Container {
    Container {
        name: name.to_string(),
        resources_at: at.clone(),
        at,
        image: None,
        cpu_limit_millis: None,
        memory_request: None,
        memory_limit: None,
        request_from_limit: false,
        memory_errors: Vec::new(),
        memory_limit_unknown: None,
        probes: Probes::default(),
        env: Vec::new(),
    }
}

/// A container of a pod spec: image, resources, probes, env names.
pub fn pod_container(ctx: &mut Ctx, object: ObjectId, c: &Cursor) -> Container {
    let mut out = container_at(c.str_at(&["name"]).unwrap_or(""), loc(object, c));
    out.image = c.get("image").and_then(|i| located_str(object, &i));
    resources(ctx, object, c, "resources", &mut out);
    out.probes = probes(
        ctx,
        object,
        c,
        ["livenessProbe", "readinessProbe", "startupProbe"],
    );
    out.env = c
        .get("env")
        .map(|e| e.items())
        .unwrap_or_default()
        .iter()
        .filter_map(|e| {
            let name = e.str_at(&["name"])?.to_string();
            let secret = e.at(&["valueFrom", "secretKeyRef"]).is_some();
            Some((name, secret))
        })
        .collect();
    out
}

/// Redis or Valkey version from an image reference (`redis:7.2.4-alpine`,
/// `bitnami/redis:7.4.2-debian-12-r6`, `valkey/valkey:8.0`); `None` where the tag does not
/// say (`latest`, `v1`, digests) or the name is not an engine's.
pub fn version_from_image(image: &Located<String>) -> Option<Version> {
    let engine = ImageRef::parse(&image.value).engine()?;
    super::image::version_of(image, engine)
}

/// An image's repository and tag: `registry:5000/library/redis:7.2@sha256:…` →
/// (`registry:5000/library/redis`, `7.2`).
pub fn split_image(image: &str) -> (&str, Option<&str>) {
    let reference = image.split('@').next().unwrap_or(image);
    match reference.rsplit_once(':') {
        // A colon before the last `/` is a registry port, not a tag.
        Some((r, t)) if !t.contains('/') => (r, Some(t)),
        _ => (reference, None),
    }
}

/// The table a server's configuration is judged with: its release line's, else unknown.
pub fn dialect(engine: Product, version: Option<&Version>) -> Dialect {
    version
        .and_then(|v| Release::for_version(engine, v.major, v.minor?))
        .map_or(Dialect::Unknown(engine), Dialect::Release)
}

/// Pod anti-affinity of a pod spec (a `corev1.Affinity` under `affinity`). A topology
/// spread constraint on `kubernetes.io/hostname` with `maxSkew: 1` and `whenUnsatisfiable:
/// DoNotSchedule` keeps the pods on separate nodes as a required hostname term does (while
/// nodes are as many as pods; then both leave pods Pending): it counts as one.
pub fn anti_affinity(object: ObjectId, pod_spec: &Cursor) -> AntiAffinity {
    let from_affinity = affinity_terms(object, pod_spec);
    if matches!(
        from_affinity,
        AntiAffinity::None | AntiAffinity::Preferred { .. }
    ) && let Some(spread) = pod_spec
        .get("topologySpreadConstraints")
        .map(|t| t.items())
        .unwrap_or_default()
        .into_iter()
        .find(|c| {
            c.str_at(&["topologyKey"]) == Some("kubernetes.io/hostname")
                && c.str_at(&["whenUnsatisfiable"]) == Some("DoNotSchedule")
                && c.get("maxSkew").and_then(|m| m.node.as_i64()) == Some(1)
                && c.get("labelSelector").is_some()
        })
    {
        return AntiAffinity::RequiredHostname {
            at: loc(object, &spread),
        };
    }
    from_affinity
}

fn affinity_terms(object: ObjectId, pod_spec: &Cursor) -> AntiAffinity {
    let Some(anti) = pod_spec.at(&["affinity", "podAntiAffinity"]) else {
        return AntiAffinity::None;
    };
    let required = anti
        .get("requiredDuringSchedulingIgnoredDuringExecution")
        .map(|r| r.items())
        .unwrap_or_default();
    if let Some(term) = required
        .iter()
        .find(|t| t.str_at(&["topologyKey"]) == Some("kubernetes.io/hostname"))
    {
        return AntiAffinity::RequiredHostname {
            at: loc(object, term),
        };
    }
    if let Some(term) = required.first() {
        return AntiAffinity::RequiredOther {
            at: loc(object, term),
            topology_key: term.str_at(&["topologyKey"]).unwrap_or("").to_string(),
        };
    }
    match anti.get("preferredDuringSchedulingIgnoredDuringExecution") {
        Some(p) => AntiAffinity::Preferred {
            at: loc(object, &p),
        },
        None => AntiAffinity::None,
    }
}

/// A map of strings (labels, `matchLabels`, annotations).
pub fn string_map(c: Option<Cursor>) -> Vec<(String, String)> {
    c.map(|m| {
        m.entries()
            .into_iter()
            .filter_map(|(k, v)| Some((k.to_string(), v.str()?.to_string())))
            .collect()
    })
    .unwrap_or_default()
}

/// Where an `emptyDir` volume source says `medium: Memory` (a tmpfs), if it does.
pub fn memory_medium(object: ObjectId, empty_dir: Option<Cursor>) -> Option<Loc> {
    let medium = empty_dir?.get("medium")?;
    (medium.str() == Some("Memory")).then(|| loc(object, &medium))
}

/// A `PersistentVolumeClaimSpec` written in a resource (not a claim template): its size and
/// access modes.
pub fn claim_spec(object: ObjectId, spec: &Cursor) -> crate::model::DataVolume {
    crate::model::DataVolume::Claim {
        size_bytes: spec
            .str_at(&["resources", "requests", "storage"])
            .and_then(|s| Quantity::parse(s).ok()?.bytes()),
        access_modes: strings(spec.get("accessModes")),
        at: loc(object, spec),
    }
}

/// A list of strings (`accessModes`); other items are left out.
pub fn strings(c: Option<Cursor>) -> Vec<String> {
    c.map(|a| a.items())
        .unwrap_or_default()
        .iter()
        .filter_map(|m| m.str().map(str::to_string))
        .collect()
}

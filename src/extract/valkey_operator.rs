//! valkey-io/valkey-operator `ValkeyCluster` (valkey.io/v1alpha1): a Valkey Cluster of
//! `spec.shards` shards, each one primary and `spec.replicas` replicas, one single-pod
//! StatefulSet (or Deployment) per node. What the operator writes, from
//! valkey-io/valkey-operator@c33988f (`internal/controller/config.go`,
//! `internal/controller/valkeynode_resources.go`, `internal/controller/users.go`,
//! `internal/controller/scheduling.go`, `api/v1alpha1/valkeycluster_types.go`):
//!
//! - `valkey.conf` is `spec.config` (sorted) followed by the operator's base directives, so
//!   a user line for a base directive loses (the last value wins);
//! - the server runs `valkey-server /config/valkey.conf --cluster-announce-ip $(POD_IP)
//!   --primaryuser _replication --primaryauth $(PRIMARY_AUTH)` in a container named `server`,
//!   default image `valkey/valkey:9.0.0`;
//! - `/data` is a PVC when `spec.persistence` is set, an emptyDir otherwise;
//! - probes run the operator's scripts, which accept PONG (and LOADING/MASTERDOWN for liveness).

use crate::model::{
    AntiAffinity, Container, DataVolume, Deployment, Handler, Loc, Located, ObjectId, Origin,
    Platform, Probe, ProbeOrigin, Probes, Product, Role,
};
use crate::source::Cursor;

use super::Ctx;
use super::assembly::{Assembly, SYNTHETIC_DIR, SynthLine};
use super::common::{
    absent, anti_affinity, container_at, dialect, loc, located_i64, located_str, operator_probe,
    probe, resources, version_from_image,
};

const OPERATOR: &str = "valkey-operator";
const DEFAULT_IMAGE: &str = "valkey/valkey:9.0.0";
/// Where the operator's ACL file is (`buildManagedConfig`).
pub const ACL_FILE: &str = "/config/users/users.acl";

/// The lines of the operator's probe scripts that decide (`liveness-check.sh`,
/// `readiness-check.sh`).
const PING_REPLY: &str =
    "response=$(timeout_cmd $timeout valkey-cli -h localhost -p $port $tls_args $auth_args PING)";
const LIVENESS_CHECK: &str = r#"responseFirstWord=$(echo "$response" | head -n1 | awk '{print $1;}')
if [ "$response" != "PONG" ] && [ "$responseFirstWord" != "LOADING" ] && [ "$responseFirstWord" != "MASTERDOWN" ]; then"#;
const READINESS_CHECK: &str = r#"if [ "$response" != "PONG" ]; then"#;

/// `getBaseConfig` without TLS, written after the user's lines.
const BASE: &[&str] = &[
    "aclfile /config/users/users.acl",
    "cluster-allow-replica-migration no",
    "cluster-config-file /data/nodes.conf",
    "cluster-enabled yes",
    "cluster-node-timeout 2000",
    "cluster-replica-validity-factor 0",
    "dir /data",
    "protected-mode no",
    "shutdown-on-sigterm failover",
];

/// Added to the base when `spec.networking.tls` is set (the TLS port replaces 6379).
const BASE_TLS: &[&str] = &[
    "port 0",
    "tls-auth-clients optional",
    "tls-ca-cert-file /tls/ca.crt",
    "tls-cert-file /tls/tls.crt",
    "tls-cluster yes",
    "tls-key-file /tls/tls.key",
    "tls-port 6379",
    "tls-replication yes",
];

pub fn cluster(ctx: &mut Ctx, id: ObjectId) -> Vec<Deployment> {
    let root = ctx.root(id);
    let Some(spec) = root.get("spec") else {
        return Vec::new();
    };
    let name = ctx.object(id).name.clone();
    let mut container = server_container(ctx, id, &spec);
    let version = container.image.as_ref().and_then(version_from_image);
    let engine = version.as_ref().map_or(Product::Valkey, |v| v.product);

    let mut asm = Assembly::new();
    let mut lines = Vec::new();
    for (key, value) in spec.get("config").map(|c| c.entries()).unwrap_or_default() {
        // A number or boolean is not a string to the API server either: `maxclients: 20000`
        // fails the CRD's map[string]string and the object is refused.
        let written = value.str().filter(|_| value.node.to_json().is_string());
        let Some(text) = written else {
            ctx.problem(
                loc(id, &value),
                format!(
                    "spec.config.{key}: expected a string (the CRD types it map[string]string)"
                ),
            );
            continue;
        };
        lines.push(SynthLine {
            text: format!("{key} {text}"),
            origin: Origin::ResourceConfig {
                field: "spec.config".into(),
            },
            at: Some(loc(id, &value)),
        });
    }
    // Go sorts the keys (`slices.Sorted(maps.Keys(...))`); YAML order may differ.
    lines.sort_by(|a, b| a.text.split(' ').next().cmp(&b.text.split(' ').next()));
    // Base lines point where the user can act: auth at `spec.users`, the rest at the image
    // (whose release must accept them).
    let users_at = match spec.get("users") {
        Some(u) => loc(id, &u),
        None => absent(id, &spec, "users"),
    };
    let image_at = container.image.as_ref().map(|i| i.at.clone());
    let tls = spec.at(&["networking", "tls"]).is_some();
    let mut base: Vec<&str> = BASE.to_vec();
    if tls {
        base.extend_from_slice(BASE_TLS);
        base.sort_unstable();
    }
    for text in base {
        lines.push(SynthLine {
            text: text.to_string(),
            origin: Origin::OperatorDefault {
                operator: OPERATOR.into(),
                rule: "base config, written after spec.config".into(),
            },
            at: if text.starts_with("protected-mode") || text.starts_with("aclfile") {
                Some(users_at.clone())
            } else {
                image_at.clone()
            },
        });
    }
    let path = format!("{SYNTHETIC_DIR}/{name}-valkey.conf");
    asm.synthetic_file(&path, lines);
    asm.push_arg(path, None);
    // `--cluster-announce-ip $(POD_IP) --primaryuser _replication --primaryauth $(PRIMARY_AUTH)`
    asm.push_arg("--primaryuser".into(), None);
    asm.push_arg("_replication".into(), None);
    asm.unknown(
        "cluster-announce-ip",
        "cluster-announce-ip is the pod IP (downward API)".into(),
    );
    asm.unknown(
        "primaryauth",
        "primaryauth comes from the operator's system-password Secret".into(),
    );
    if default_user_open(&spec) {
        asm.open_acl_file(
            ACL_FILE,
            "the operator's ACL file leaves the `default` user without a password: \
             spec.users has no enabled `default` user with a password",
        );
    }
    container.env = vec![("POD_IP".into(), false), ("PRIMARY_AUTH".into(), true)];

    let shards = located_i64(ctx, id, spec.get("shards"));
    // Pods per shard: the primary and `spec.replicas` replicas (default 0).
    let replicas = match located_i64(ctx, id, spec.get("replicas")) {
        Some(r) => Located {
            value: r.value.saturating_add(1),
            at: r.at,
        },
        None => Located {
            value: 1,
            at: absent(id, &spec, "replicas"),
        },
    };
    let data = match spec.get("persistence") {
        Some(p) => DataVolume::Claim {
            size_bytes: p
                .str_at(&["size"])
                .and_then(|s| crate::units::quantity::Quantity::parse(s).ok()?.bytes()),
            access_modes: vec!["ReadWriteOnce".into()],
            at: loc(id, &p),
        },
        None => DataVolume::EmptyDir {
            at: absent(id, &spec, "persistence"),
            memory_medium: None,
        },
    };
    vec![Deployment {
        object: id,
        component: None,
        platform: Platform::ValkeyOperator,
        role: Role::ClusterShard,
        engine,
        replicas: Some(replicas),
        shards,
        containers: vec![container],
        config: asm.finish(dialect(engine, version.as_ref())),
        data,
        version,
        // One single-pod StatefulSet per node: ordering between pods is the operator's.
        pod_management_policy: None,
        pod_spec: None,
        node_tuning: Vec::new(),
        termination_grace_seconds: None,
        sentinels: None,
        anti_affinity: spread(id, &spec),
        topology_spread: spec
            .at(&["scheduling", "topologySpreadConstraints"])
            .is_some()
            || spec.at(&["scheduling", "zone", "spread"]).is_some(),
        pdb: None,
        selector: Vec::new(),
        pod_labels: vec![("valkey.io/cluster".into(), name)],
        related: Vec::new(),
        operation: None,
        notes: Vec::new(),
    }]
}

/// The `server` container: image, resources and probes, with a `spec.containers` entry of
/// the same name merged over them (strategic merge by name).
fn server_container(ctx: &mut Ctx, id: ObjectId, spec: &Cursor) -> Container {
    let mut container = container_at("server", loc(id, spec));
    resources(ctx, id, spec, "resources", &mut container);
    container.image = Some(
        spec.get("image")
            .and_then(|i| located_str(id, &i))
            .unwrap_or_else(|| Located {
                value: DEFAULT_IMAGE.into(),
                at: absent(id, spec, "image"),
            }),
    );
    // (initial delay, period, timeout, success, failure) of valkeynode_resources.go; the
    // scripts' checks from internal/controller/scripts/.
    let scripted = |name: &str, check: &str, timings: [i64; 5]| {
        let handler = Handler::Exec(vec!["sh".into(), "-c".into(), format!("/scripts/{name}")]);
        let mut p = operator_probe(handler, OPERATOR, timings);
        p.script = Some(format!("{PING_REPLY}\n{check}"));
        p
    };
    container.probes = Probes {
        startup: Some(scripted(
            "liveness-check.sh",
            LIVENESS_CHECK,
            [5, 5, 5, 1, 20],
        )),
        liveness: Some(scripted(
            "liveness-check.sh",
            LIVENESS_CHECK,
            [5, 5, 5, 1, 5],
        )),
        readiness: Some(scripted(
            "readiness-check.sh",
            READINESS_CHECK,
            [5, 5, 2, 1, 5],
        )),
    };
    let overlay = spec
        .get("containers")
        .map(|c| c.items())
        .unwrap_or_default()
        .into_iter()
        .find(|c| c.str_at(&["name"]) == Some("server"));
    if let Some(o) = overlay {
        if o.get("resources").is_some() {
            resources(ctx, id, &o, "resources", &mut container);
        }
        if let Some(i) = o.get("image").and_then(|i| located_str(id, &i)) {
            container.image = Some(i);
        }
        let user = |ctx: &mut Ctx, key: &str, current: &mut Option<Probe>| {
            if let Some(p) = probe(ctx, id, o.get(key), ProbeOrigin::User) {
                *current = Some(p);
            }
        };
        user(ctx, "livenessProbe", &mut container.probes.liveness);
        user(ctx, "readinessProbe", &mut container.probes.readiness);
        user(ctx, "startupProbe", &mut container.probes.startup);
    }
    container
}

/// Whether the ACL file the operator writes leaves `default` open: it lists the users of
/// `spec.users` (and system users), and Valkey creates a missing `default` user as
/// `on nopass ~* &* +@all` when it loads an ACL file without one.
fn default_user_open(spec: &Cursor) -> bool {
    let users = spec.get("users").map(|u| u.items()).unwrap_or_default();
    match users
        .iter()
        .find(|u| u.str_at(&["name"]) == Some("default"))
    {
        None => true,
        Some(u) => {
            // `enabled` and `nopass` default to true and false (`+kubebuilder:default`).
            let enabled = u.get("enabled").and_then(|e| e.bool()).unwrap_or(true);
            let nopass = u.get("nopass").and_then(|e| e.bool()).unwrap_or(false);
            // Disabled: nobody logs in as default. Else passwords come from a Secret
            // (`passwordSecret`, or the operator's default Secret keyed by the user name).
            enabled && nopass
        }
    }
}

/// Anti-affinity the operator renders from `scheduling.node.spread.shard` (a hostname term
/// per shard), else the user's `scheduling.affinity`.
fn spread(id: ObjectId, spec: &Cursor) -> AntiAffinity {
    let Some(scheduling) = spec.get("scheduling") else {
        return AntiAffinity::None;
    };
    if let Some(mode) = scheduling.at(&["node", "spread", "shard", "mode"]) {
        let at: Loc = loc(id, &mode);
        match mode.str() {
            Some("Required") => return AntiAffinity::RequiredHostname { at },
            Some("Preferred") => return AntiAffinity::Preferred { at },
            _ => {}
        }
    }
    anti_affinity(id, &scheduling)
}

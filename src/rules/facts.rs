//! Facts about a deployment that several rules share, each with the words a message uses.

use crate::model::{
    Container, Deployment, Inventory, Origin, Platform, ProbeOrigin, Product, Role,
};
use crate::redisconf::{Line, Value};
use crate::units::human;

/// Why an instance forks (BGSAVE, AOF rewrite, full resync): the copy-on-write copies of a
/// fork are charged to the container's cgroup (Linux `Documentation/admin-guide/cgroup-v2.rst`,
/// "Memory Ownership": "A memory area is charged to the cgroup which instantiated it";
/// https://www.kernel.org/doc/Documentation/admin-guide/cgroup-v2.rst). `None`: it never forks.
pub fn fork_reason(d: &Deployment) -> Option<&'static str> {
    let config = &d.config;
    if d.role == Role::ClusterShard || config.redis.cluster_enabled() {
        return Some("cluster mode: replicas resync with a fork");
    }
    if d.replicas.as_ref().is_some_and(|r| r.value > 1) && d.role == Role::Replication {
        return Some("replicas: a full resync forks");
    }
    if config.redis.replicaof().is_some() {
        return Some("replicaof: the primary forks to resync it");
    }
    if config.redis.appendonly() {
        return Some("appendonly yes: AOF rewrites fork");
    }
    if !config.is_known("save") {
        return Some("save points not visible here, and Redis' defaults fork");
    }
    if config.redis.save_is_default() {
        return Some("no `save` line: Redis' default save points fork");
    }
    if !config.redis.save_points().is_empty() {
        return Some("RDB save points: BGSAVE forks");
    }
    None
}

/// The deployment keeps data on disk (RDB or AOF), so start-up loads it.
pub fn persistent(d: &Deployment) -> bool {
    let r = &d.config.redis;
    r.appendonly() || !r.save_points().is_empty()
}

/// A cache: it evicts any key rather than refusing writes (`allkeys-*`). `volatile-*`
/// policies evict only keys with a TTL and behave like noeviction without them.
pub fn is_cache(d: &Deployment) -> bool {
    d.config.is_known("maxmemory-policy")
        && d.config.redis.maxmemory_policy().starts_with("allkeys-")
}

/// `bytes` with a human size: `34359738368 B (32.0 GiB)`.
pub fn bytes(b: u64) -> String {
    format!("{b} B ({})", human::size(b))
}

/// A ratio as a percentage with one decimal where it matters: `100%`, `80.1%`.
pub fn percent(part: u64, whole: u64) -> String {
    let p = part as f64 * 100.0 / whole.max(1) as f64;
    if (p - p.round()).abs() < 0.05 {
        format!("{}%", p.round())
    } else {
        format!("{p:.1}%")
    }
}

/// The effective maxmemory line, and whether it is derived from the memory limit by an
/// operator (KubeBlocks' `0.8 × limit`, OT's `maxMemoryPercentOfLimit`): raising the limit
/// then raises maxmemory with it.
pub fn maxmemory_from_limit(d: &Deployment) -> bool {
    let Some((_, src)) = d.config.source_of("maxmemory") else {
        return false;
    };
    let Origin::OperatorDefault { .. } = src.origin else {
        return false;
    };
    let Some(at) = &src.at else { return false };
    d.redis_container()
        .and_then(|c| c.memory_limit.as_ref())
        .is_some_and(|l| l.at.pointer == at.pointer && l.at.object == at.object)
        || at.pointer.ends_with("/maxMemoryPercentOfLimit")
}

/// The maxmemory line, when one sets it.
pub fn maxmemory_line(d: &Deployment) -> Option<&Line> {
    d.config.redis.line_of("maxmemory")
}

/// Where a setting of the pods lives when the user cannot change it in the object: the
/// operator or KubeBlocks ComponentDefinition that injects it.
pub fn probe_owner(origin: &ProbeOrigin) -> Option<&str> {
    match origin {
        ProbeOrigin::User => None,
        ProbeOrigin::Operator(who) => Some(who),
    }
}

/// The user writes the pod template (a workload); operators write their pods' probes.
pub fn user_owns_pods(d: &Deployment) -> bool {
    d.platform == Platform::Workload
}

/// Who writes the probes of an operator-managed deployment, for messages.
pub fn pod_owner(d: &Deployment) -> &'static str {
    match d.platform {
        Platform::KubeBlocks => "the KubeBlocks addon's ComponentDefinition",
        Platform::Spotahome => "the Spotahome redis-operator",
        Platform::OpsTree => "the OT redis-operator",
        Platform::ValkeyOperator => "the valkey-operator",
        Platform::Workload | Platform::ConfigMap => "the pod template",
    }
}

/// A container is judged only when it really runs Redis data (not sentinel, not a proxy).
pub fn data_role(d: &Deployment) -> bool {
    matches!(
        d.role,
        Role::Standalone | Role::Replication | Role::ClusterShard
    )
}

/// The Redis container of a deployment that holds data (what most rules judge).
pub fn data_container(d: &Deployment) -> Option<&Container> {
    if data_role(d) {
        d.redis_container()
    } else {
        None
    }
}

/// Auth is configured: `requirepass`, a default user with a password, an ACL file, or a
/// password from the environment (whose value we cannot see). `None`: not visible here.
pub fn auth(d: &Deployment) -> Option<bool> {
    let r = &d.config.redis;
    if r.has_requirepass() || d.config.unknown.iter().any(|u| u == "requirepass") {
        return Some(true);
    }
    if r.get("aclfile").is_some_and(|(v, _)| match v {
        Value::Str(Some(path)) => !d.config.open_acl_files.iter().any(|o| o == path),
        _ => false,
    }) {
        return Some(true);
    }
    let default_user_locked = r.lines_named("user").any(|l| {
        l.args.first().is_some_and(|u| u == "default")
            && l.args[1..]
                .iter()
                .any(|a| a.starts_with('>') || a.starts_with('#') || a == "off")
    });
    if default_user_locked {
        return Some(true);
    }
    if !matches!(
        d.platform,
        Platform::Workload | Platform::ConfigMap | Platform::ValkeyOperator
    ) {
        // Operators wire passwords from Secrets outside redis.conf (valkey-operator's go
        // into the ACL file, which the model knows).
        return None;
    }
    if !d.config.complete {
        return None;
    }
    Some(false)
}

/// The Redis (or Valkey) version, when the image or serviceVersion says it.
pub fn version_below(d: &Deployment, redis: (u32, u32), valkey: (u32, u32)) -> Option<bool> {
    let v = d.version.as_ref()?;
    let (major, minor) = match v.product {
        Product::Redis => redis,
        Product::Valkey => valkey,
    };
    if v.major != major {
        return Some(v.major < major);
    }
    Some(v.minor? < minor)
}

const MIB: u64 = 1 << 20;

/// `ratio × bytes`, rounded down to whole MiB (a size a person would write).
pub fn floor_mib(bytes: u64, ratio: f64) -> u64 {
    let b = (bytes as f64 * ratio) as u64;
    if b >= MIB { b / MIB * MIB } else { b }
}

/// `ratio × bytes`, rounded up to whole MiB.
pub fn ceil_mib(bytes: u64, ratio: f64) -> u64 {
    let b = (bytes as f64 * ratio).ceil() as u64;
    b.div_ceil(MIB) * MIB
}

/// Where a configuration line's argument `i` is written (the line, when the argument's own
/// place is not known).
pub fn arg_loc(d: &Deployment, line: &Line, i: usize) -> Option<crate::model::Loc> {
    source_arg_loc(d.config.source_of_line(line)?, i)
}

/// The same, from the line's source (for callers that walk lines and sources together).
pub fn source_arg_loc(src: &crate::model::LineSource, i: usize) -> Option<crate::model::Loc> {
    src.args
        .get(i)
        .cloned()
        .flatten()
        .or_else(|| src.at.clone())
}

/// The origin of the line that sets `name`, for messages: ` (set by config file /etc/redis.conf)`.
pub fn set_by(d: &Deployment, name: &str) -> String {
    d.config
        .source_of(name)
        .map(|(_, s)| format!(" (set by {})", s.origin))
        .unwrap_or_default()
}

/// The place of a field of an object (the object's start when the field is absent).
pub fn loc_of(inv: &Inventory, object: crate::model::ObjectId, pointer: &str) -> crate::model::Loc {
    let o = inv.object(object);
    crate::model::Loc {
        object,
        pointer: pointer.to_string(),
        pos: o.root.pointer(pointer).and_then(|n| n.start()).or(o.pos),
    }
}

/// A Cluster component whose `name` directive a Reconfiguring OpsRequest (or a Parameter) of
/// the same input sets: once applied, that operation's value is the one that counts, and
/// the projection of the operation is judged instead. (A ComponentParameter is already
/// folded into its Cluster's deployment.)
pub fn superseded(inv: &Inventory, d: &Deployment, name: &str) -> bool {
    d.operation.is_none()
        && inv.operations_on(d.object).any(|p| {
            p.operation.as_ref().is_some_and(|op| {
                op.cluster_found
                    && matches!(op.kind.as_str(), "Reconfiguring" | "Parameter")
                    && p.component == d.component
                    && p.config
                        .source_of(name)
                        .and_then(|(_, s)| s.at.as_ref())
                        .is_some_and(|at| at.object == op.object)
            })
        })
}

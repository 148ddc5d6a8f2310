//! Facts about a deployment that several rules share, each with the words a message uses.

use crate::model::{
    Container, Deployment, Inventory, Origin, Platform, ProbeOrigin, Product, Role,
};
use crate::redisconf::{ClientClass, Line, Value};
use crate::units::human;

/// Why an instance forks (BGSAVE, AOF rewrite, full resync): the copy-on-write copies of a
/// fork are charged to the container's cgroup (Linux `Documentation/admin-guide/cgroup-v2.rst`,
/// "Memory Ownership": "A memory area is charged to the cgroup which instantiated it";
/// https://www.kernel.org/doc/Documentation/admin-guide/cgroup-v2.rst). `None`: it never forks.
pub fn fork_reason(d: &Deployment) -> Option<&'static str> {
    let config = &d.config;
    if d.engine == Product::Dragonfly {
        // Dragonfly snapshots and syncs replicas without fork(): no copy-on-write doubling.
        return None;
    }
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
    if d.engine == Product::Dragonfly {
        // A snapshot file name (the default `dump-{timestamp}`): dragonfly saves on shutdown
        // and loads the newest snapshot at start-up; `--dbfilename=""` turns both off.
        return r.config_get("dbfilename").is_some_and(|f| !f.is_empty());
    }
    r.appendonly() || !r.save_points().is_empty()
}

/// A cache: it evicts any key rather than refusing writes (`allkeys-*`). `volatile-*`
/// policies evict only keys with a TTL and behave like noeviction without them.
pub fn is_cache(d: &Deployment) -> bool {
    if d.engine == Product::Dragonfly {
        return d.config.is_known("cache_mode") && d.config.redis.bool_value("cache_mode");
    }
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
        Platform::DragonflyOperator => "the dragonfly-operator",
        Platform::KubeDb => "KubeDB",
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
        let args: Vec<&str> = l.args.iter().map(String::as_str).collect();
        matches!(args.as_slice(), ["default", rules @ ..] if !crate::redisconf::opens_default_user(rules))
    });
    if default_user_locked {
        return Some(true);
    }
    if !matches!(
        d.platform,
        Platform::Workload
            | Platform::ConfigMap
            | Platform::ValkeyOperator
            | Platform::DragonflyOperator
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

/// The Redis (or Valkey) version, when the image or serviceVersion says it; `None` for an
/// engine the question is not about (Dragonfly).
pub fn version_below(d: &Deployment, redis: (u32, u32), valkey: (u32, u32)) -> Option<bool> {
    let v = d.version.as_ref()?;
    let (major, minor) = match v.product {
        Product::Redis => redis,
        Product::Valkey => valkey,
        // KeyDB 6.2 and 6.3 are Redis 6.2.6 underneath, 6.0 is Redis 6.0, 5.x Redis 5.0
        // (KeyDB's 00-RELEASENOTES): judged as the Redis they carry.
        Product::KeyDb => {
            let base = match (v.major, v.minor) {
                (6, Some(m)) if m >= 2 => (6, 2),
                (6, _) => (6, 0),
                _ => (5, 0),
            };
            return Some(base < redis);
        }
        Product::Dragonfly => return None,
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
        .map(|(_, s)| match s.origin {
            Origin::Args => format!(" (set by {} argument)", server(d)),
            _ => format!(" (set by {})", s.origin),
        })
        .unwrap_or_default()
}

/// Only TLS is served (`port 0`): a plain `PING` cannot reach the server.
pub fn tls_only(d: &Deployment) -> bool {
    d.config.redis.int_value("port") == 0
}

/// The server program, for messages: `redis-server`, `valkey-server`, `dragonfly`.
pub fn server(d: &Deployment) -> &'static str {
    d.engine.server()
}

/// Labels that keep selecting the workload's pods across upgrades: its own
/// `spec.selector.matchLabels`, else its pod labels without the ones a chart or controller
/// changes per release (`chart`, `helm.sh/chart`, `app.kubernetes.io/version`, hashes).
pub fn stable_selector(d: &Deployment) -> Vec<(String, String)> {
    if !d.selector.is_empty() {
        return d.selector.clone();
    }
    const VOLATILE: [&str; 6] = [
        "chart",
        "helm.sh/chart",
        "app.kubernetes.io/version",
        "version",
        "pod-template-hash",
        "controller-revision-hash",
    ];
    d.pod_labels
        .iter()
        .filter(|(k, _)| !VOLATILE.contains(&k.as_str()))
        .cloned()
        .collect()
}

/// Which pods of the workload are at risk together, for messages: a primary and its
/// replica, or — where every pod replicates from a primary elsewhere — several replicas.
pub fn pods_at_risk(d: &Deployment) -> &'static str {
    match d.role {
        Role::ClusterShard => "a primary and its replica",
        _ if d.config.redis.replicaof().is_some() => {
            "several of its replicas (each replicates from a primary elsewhere)"
        }
        // Several pods, and who replicates from whom is decided at run time (Sentinel,
        // start scripts) or not at all.
        _ => "several of its pods (a primary and its replica, where they replicate)",
    }
}

/// An operation of the input (a VerticalScaling) sets this Cluster component's memory
/// limit: the component's memory plan is made on the operation's projection, which carries
/// the fix, so that one component never gets two maxmemory manifests for two limits.
pub fn limit_changed_by_operation(inv: &Inventory, d: &Deployment) -> bool {
    d.operation.is_none()
        && inv.operations_on(d.object).any(|p| {
            p.component == d.component
                && p.operation.as_ref().is_some_and(|op| {
                    p.redis_container()
                        .and_then(|c| c.memory_limit.as_ref())
                        .is_some_and(|l| l.at.object == op.object)
                })
        })
}

/// An operation whose Cluster is not in the input (or not one copy of it): its pods'
/// resources and probes are unknown, not absent, unless the operation itself sets them.
pub fn cluster_unknown(d: &Deployment) -> bool {
    d.operation.as_ref().is_some_and(|op| !op.cluster_found)
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

/// What a probe's check can see of a Redis server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProbeCheck {
    /// `tcpSocket`: the kernel completes the handshake while Redis is stalled in a fork or
    /// a slow command, and Redis listens before it loads its dataset: it passes whenever the
    /// process listens, loading or stalled.
    Connect,
    /// `PING` whose error reply (`-LOADING`, `-MASTERDOWN`, `-NOAUTH`) fails the probe: a
    /// comparison with `PONG`, or `redis-cli -e`; `accepts_loading` when it lets
    /// `LOADING` pass anyway.
    PingWantsPong { accepts_loading: bool },
    /// `PING` that passes on any reply: `redis-cli` without `-e` exits 0 on an error reply
    /// (redis-cli.c: only `-e` sets `set_errcode`). It fails only when Redis does not answer
    /// within the timeout, or does not listen.
    PingAnyReply,
    /// Another process (an exporter's `httpGet`, gRPC) or a command that does not ping.
    Other,
    /// A script the input does not hold.
    Unknown,
}

/// What `probe` checks, from its handler and, for an exec handler, the script it runs.
pub fn probe_check(probe: &crate::model::Probe) -> ProbeCheck {
    use crate::model::Handler;
    let command = match &probe.handler {
        Handler::TcpSocket(_) => return ProbeCheck::Connect,
        Handler::HttpGet { .. } | Handler::Grpc(_) => return ProbeCheck::Other,
        Handler::Missing => return ProbeCheck::Unknown,
        Handler::Exec(command) => command,
    };
    let words: Vec<&str> = command
        .iter()
        .chain(probe.script.iter())
        .flat_map(|a| a.split_whitespace())
        .map(|w| w.trim_matches(|c| c == '"' || c == '\'' || c == '(' || c == ')' || c == ';'))
        .collect();
    let pings = words.iter().any(|w| w.eq_ignore_ascii_case("ping"));
    if !pings {
        // `sh -c /scripts/check.sh` whose text we do not have.
        let runs_file = command
            .iter()
            .flat_map(|a| a.split_whitespace())
            .any(|w| w.contains('/') && !w.ends_with("/sh") && !w.ends_with("/bash"));
        return if runs_file && probe.script.is_none() {
            ProbeCheck::Unknown
        } else {
            ProbeCheck::Other
        };
    }
    let text = words.join(" ");
    let wants_pong = text.contains("PONG")
        || words
            .iter()
            .position(|w| w.ends_with("redis-cli") || w.ends_with("valkey-cli"))
            .is_some_and(|i| {
                words[i + 1..]
                    .iter()
                    .take_while(|w| !w.eq_ignore_ascii_case("ping"))
                    .any(|w| *w == "-e")
            });
    if wants_pong {
        ProbeCheck::PingWantsPong {
            accepts_loading: text.to_ascii_uppercase().contains("LOADING"),
        }
    } else {
        ProbeCheck::PingAnyReply
    }
}

/// A PodDisruptionBudget value (`2`, `50%`) as a number of `pods`: a percentage rounded up,
/// as the disruption controller does (`GetScaledValueFromIntOrPercent(…, true)`).
pub fn pdb_scaled(value: &str, pods: i64) -> Option<i64> {
    let v = value.trim();
    match v.strip_suffix('%') {
        Some(p) => Some(
            p.parse::<i64>()
                .ok()?
                .saturating_mul(pods)
                .saturating_add(99)
                / 100,
        ),
        None => v.parse().ok(),
    }
}

/// What a primary holds for its replicas outside maxmemory, as Redis' eviction counts it
/// (evict.c `freeMemoryGetNotCountedMemory`): since 7.0 the replicas share one replication
/// buffer and only what exceeds `repl-backlog-size` is not counted (the backlog itself is
/// counted, so it is inside maxmemory); before 7.0 every replica has its own output buffer.
/// Each is bounded by the `client-output-buffer-limit replica` hard limit (0: no bound).
pub struct ReplicaBuffers {
    /// `None`: the hard limit is 0, nothing bounds them.
    pub bytes: Option<u64>,
    pub hard_bytes: u64,
    pub replicas: i64,
    pub shared: bool,
    /// The replica count is a lower bound (a Redis Cluster of a workload: its shards are
    /// formed at run time).
    pub at_least: bool,
}

/// The replicas one primary of `d` serves, where the input says.
fn replicas_per_primary(d: &Deployment) -> Option<(i64, bool)> {
    let replicas = d.replicas.as_ref()?.value;
    match d.role {
        Role::Replication => Some((replicas - 1, false)),
        // `replicas` counts pods per shard for these.
        Role::ClusterShard
            if matches!(d.platform, Platform::KubeBlocks | Platform::ValkeyOperator)
                && d.shards.is_some() =>
        {
            Some((replicas - 1, false))
        }
        // A workload's pods form shards at run time; with several pods, at least one of
        // them is a replica.
        Role::ClusterShard => Some((i64::from(replicas > 1), true)),
        _ => None,
    }
    .filter(|(n, _)| *n > 0)
}

pub fn replica_buffers(d: &Deployment) -> Option<ReplicaBuffers> {
    if d.engine == Product::Dragonfly {
        // Dragonfly has no client-output-buffer-limit: its replication is its own.
        return None;
    }
    let (replicas, at_least) = replicas_per_primary(d)?;
    let hard_bytes = d
        .config
        .redis
        .output_buffer_limit(ClientClass::Replica)
        .hard_bytes;
    // An unknown release is judged with the shared buffer: the smaller sum.
    let shared = version_below(d, (7, 0), (0, 0)) != Some(true);
    let bytes = (hard_bytes > 0).then(|| {
        if shared {
            hard_bytes
        } else {
            hard_bytes.saturating_mul(replicas as u64)
        }
    });
    Some(ReplicaBuffers {
        bytes,
        hard_bytes,
        replicas,
        shared,
        at_least,
    })
}

#[cfg(test)]
mod tests {
    use super::{ProbeCheck, probe_check};
    use crate::extract::common::operator_probe;
    use crate::model::Handler;

    fn exec(words: &[&str], script: Option<&str>) -> ProbeCheck {
        let mut p = operator_probe(
            Handler::Exec(words.iter().map(|w| w.to_string()).collect()),
            "t",
            [0, 10, 1, 1, 3],
        );
        p.script = script.map(str::to_string);
        probe_check(&p)
    }

    #[test]
    fn probes_are_judged_by_what_they_check() {
        let pong = ProbeCheck::PingWantsPong {
            accepts_loading: false,
        };
        let tolerant = ProbeCheck::PingWantsPong {
            accepts_loading: true,
        };
        let cases: &[(&[&str], Option<&str>, ProbeCheck)] = &[
            (&["redis-cli", "ping"], None, ProbeCheck::PingAnyReply),
            (&["redis-cli", "-e", "ping"], None, pong),
            (
                &["sh", "-e", "-c", "redis-cli ping"],
                None,
                ProbeCheck::PingAnyReply,
            ),
            (&["sh", "-c", "redis-cli ping | grep PONG"], None, pong),
            (
                &["sh", "-c", "redis-cli ping | grep -E 'PONG|LOADING'"],
                None,
                tolerant,
            ),
            (
                &["valkey-cli", "-h", "localhost", "PING"],
                None,
                ProbeCheck::PingAnyReply,
            ),
            (
                &["sh", "-c", "/health/ping_liveness_local.sh 5"],
                None,
                ProbeCheck::Unknown,
            ),
            (
                &["sh", "-c", "/health/ping_liveness_local.sh 5"],
                Some(
                    "response=$(redis-cli -h localhost ping)\n\
                     if [ \"$response\" != \"PONG\" ] && [ \"$responseFirstWord\" != \"LOADING\" ]",
                ),
                tolerant,
            ),
            (
                &["sh", "-c", "/health/ping_readiness_local.sh 1"],
                Some("response=$(redis-cli ping)\nif [ \"$response\" != \"PONG\" ]; then"),
                pong,
            ),
            (&["test", "-f", "/data/ready"], None, ProbeCheck::Unknown),
            (&["true"], None, ProbeCheck::Other),
        ];
        for (words, script, want) in cases {
            assert_eq!(exec(words, *script), *want, "{words:?} {script:?}");
        }
        let tcp = operator_probe(Handler::TcpSocket("6379".into()), "t", [0, 10, 1, 1, 3]);
        assert_eq!(probe_check(&tcp), ProbeCheck::Connect);
        let http = operator_probe(
            Handler::HttpGet {
                path: "/health".into(),
                port: "9121".into(),
            },
            "t",
            [0, 10, 1, 1, 3],
        );
        assert_eq!(probe_check(&http), ProbeCheck::Other);
    }

    /// Percentages of a PDB round up; a huge one saturates instead of overflowing.
    #[test]
    fn pdb_values_scale_as_the_disruption_controller_does() {
        use super::pdb_scaled;
        assert_eq!(pdb_scaled("2", 6), Some(2));
        assert_eq!(pdb_scaled("90%", 6), Some(6));
        assert_eq!(pdb_scaled("80%", 6), Some(5));
        assert_eq!(pdb_scaled(" 50% ", 3), Some(2));
        assert_eq!(pdb_scaled("half", 3), None);
        assert!(pdb_scaled("9223372036854775807%", 6).is_some_and(|n| n > 6));
    }
}

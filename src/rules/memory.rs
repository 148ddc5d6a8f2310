//! The memory budget of a Redis/Valkey server: the numbers that decide an OOM kill, in one
//! place, computed from the model exactly as `redis-maxmemory-headroom` reads them
//! (`facts::fork_reason`, `facts::replica_buffers`, `maxmemory_bytes()`, the data
//! container's memory limit and request). It decides nothing: rules report, the reports show
//! this picture beside their findings.
//!
//! What counts against the container's memory limit (the cgroup):
//! - `maxmemory`, the dataset's bound. The replication backlog (`repl-backlog-size`) is
//!   counted by eviction, so it is **inside** maxmemory (evict.c
//!   `freeMemoryGetNotCountedMemory`), not added on top.
//! - the fork's copy-on-write pages: a BGSAVE, an AOF rewrite or a full resync forks, and
//!   the pages the parent writes meanwhile are copied and charged to the cgroup that
//!   instantiated them (Linux `Documentation/admin-guide/cgroup-v2.rst`, "Memory
//!   Ownership"). The worst case is the whole dataset, ≈ maxmemory ("Redis can use up to 2
//!   times the memory normally used", redis-doc admin.md). A server that never forks
//!   (Dragonfly snapshots and syncs without fork(); a Redis without persistence or
//!   replicas) copies nothing.
//! - the replica output buffers a primary holds outside maxmemory (evict.c, as above):
//!   before 7.0 one per replica, since 7.0 one shared replication buffer, each up to the
//!   `client-output-buffer-limit replica` hard limit (0: no bound).
//!
//! An amount the input does not show, or that nothing bounds, is `None`: never a guess.

use crate::model::{Deployment, Product, Role};

use super::facts;

/// One server's memory budget, in bytes. `None` is "not known here or unbounded"; the doc
/// of each field says which.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemoryBudget {
    /// The data container's `resources.requests.memory` (Kubernetes defaulting: the limit
    /// when only a limit is written). `None`: no request.
    pub request_bytes: Option<u64>,
    /// `resources.limits.memory`. `None`: no limit (or one of a value not known here, a
    /// `${VAR}`).
    pub limit_bytes: Option<u64>,
    /// The effective maxmemory. `None`: 0 (no bound: the dataset grows until the kernel
    /// kills it) or not visible in the input ([`MemoryBudget::maxmemory_visible`] says
    /// which).
    pub maxmemory_bytes: Option<u64>,
    /// Whether the input shows the effective maxmemory (`false`: a part of the
    /// configuration is not in the input).
    pub maxmemory_visible: bool,
    /// `repl-backlog-size`, counted inside maxmemory. `None`: not visible, or an engine
    /// without one (Dragonfly).
    pub backlog_bytes: Option<u64>,
    /// Why the server forks (`facts::fork_reason`); `None`: it never does.
    pub fork_reason: Option<&'static str>,
    /// The fork's worst-case copy-on-write: maxmemory when it forks, 0 when it never does.
    /// `None`: it forks and maxmemory is unbounded or not visible.
    pub fork_copy_bytes: Option<u64>,
    /// The replica output buffers outside maxmemory: 0 without replicas. `None`: the hard
    /// limit is 0 (nothing bounds them), the configuration is not visible, the number of
    /// replicas is not known, or the engine's replication is not modelled (Dragonfly).
    pub replica_buffers_bytes: Option<u64>,
    /// The limit minus maxmemory, the fork's copy and the replica buffers: what is left
    /// when all peak at once (negative: over the limit by that much). `None` when any of
    /// them is.
    pub headroom_bytes: Option<i64>,
}

impl MemoryBudget {
    /// The worst case the limit must hold: maxmemory + fork copy + replica buffers.
    pub fn worst_case_bytes(&self) -> Option<u64> {
        self.maxmemory_bytes?
            .checked_add(self.fork_copy_bytes?)?
            .checked_add(self.replica_buffers_bytes?)
    }
}

/// The budget of a server that holds data (`facts::data_role`); `None` for Sentinels,
/// proxies and deployments without a container.
pub fn budget(d: &Deployment) -> Option<MemoryBudget> {
    let c = facts::data_container(d)?;
    let config = &d.config;
    let redis = &config.redis;
    let limit_bytes = c.memory_limit.as_ref().map(|m| m.bytes);
    let request_bytes = c.request_bytes();
    let maxmemory_visible = config.is_known("maxmemory");
    let maxmemory_bytes = maxmemory_visible
        .then(|| redis.maxmemory_bytes())
        .filter(|&m| m > 0);
    let backlog_bytes = config
        .is_known("repl-backlog-size")
        .then(|| redis.repl_backlog_bytes());
    let fork_reason = facts::fork_reason(d);
    let fork_copy_bytes = match fork_reason {
        None => Some(0),
        Some(_) => maxmemory_bytes,
    };
    let replica_buffers_bytes = replica_buffers(d);
    let headroom_bytes = (|| {
        let limit = i128::from(limit_bytes?);
        let used = i128::from(maxmemory_bytes?)
            + i128::from(fork_copy_bytes?)
            + i128::from(replica_buffers_bytes?);
        i64::try_from(limit - used).ok()
    })();
    Some(MemoryBudget {
        request_bytes,
        limit_bytes,
        maxmemory_bytes,
        maxmemory_visible,
        backlog_bytes,
        fork_reason,
        fork_copy_bytes,
        replica_buffers_bytes,
        headroom_bytes,
    })
}

/// `facts::replica_buffers` with what it leaves out made explicit: no replicas is 0, an
/// unknown count or configuration is `None`.
fn replica_buffers(d: &Deployment) -> Option<u64> {
    if d.engine == Product::Dragonfly || !d.config.is_known("client-output-buffer-limit") {
        return None;
    }
    match facts::replica_buffers(d) {
        Some(b) => b.bytes,
        // A replicated role whose pod count the input does not give.
        None if d.replicas.is_none()
            && matches!(d.role, Role::Replication | Role::ClusterShard) =>
        {
            None
        }
        None => Some(0),
    }
}

#[cfg(test)]
mod tests {
    use super::{MemoryBudget, budget};
    use crate::extract::Options;
    use crate::model::Deployment;

    const MI: u64 = 1 << 20;

    fn deployments(yaml: &str) -> Vec<Deployment> {
        let mut sources = vec![crate::source::load_yaml(
            "t.yaml",
            yaml.to_string(),
            &Default::default(),
        )];
        let (objects, _) = crate::extract::objects_of(&mut sources);
        crate::extract::extract(objects, &Options::default()).deployments
    }

    fn statefulset(replicas: u32, args: &str, resources: &str) -> String {
        format!(
            "apiVersion: apps/v1\nkind: StatefulSet\nmetadata:\n  name: r\nspec:\n  \
             replicas: {replicas}\n  selector:\n    matchLabels: {{app: r}}\n  template:\n    \
             metadata:\n      labels: {{app: r}}\n    spec:\n      containers:\n      - name: \
             redis\n        image: redis:7.2.4\n        args: [{args}]\n        resources: \
             {resources}\n"
        )
    }

    fn one(yaml: &str) -> MemoryBudget {
        let ds = deployments(yaml);
        assert_eq!(ds.len(), 1, "{ds:?}");
        budget(&ds[0]).expect("a data server")
    }

    #[test]
    fn a_forking_server_counts_the_dataset_twice_and_its_replica_buffer() {
        let b = one(&statefulset(
            3,
            "redis-server, --maxmemory, 600mb, --appendonly, 'yes'",
            "{limits: {memory: 1Gi}, requests: {memory: 512Mi}}",
        ));
        assert_eq!(b.limit_bytes, Some(1024 * MI));
        assert_eq!(b.request_bytes, Some(512 * MI));
        assert_eq!(b.maxmemory_bytes, Some(600 * MI));
        assert!(b.fork_reason.is_some());
        assert_eq!(b.fork_copy_bytes, Some(600 * MI));
        // Redis 7.2: one shared replication buffer, the 256mb default hard limit.
        assert_eq!(b.replica_buffers_bytes, Some(256 * MI));
        // The default backlog (1mb) is inside maxmemory.
        assert_eq!(b.backlog_bytes, Some(MI));
        assert_eq!(b.headroom_bytes, Some(-(432 * MI as i64)));
        assert_eq!(b.worst_case_bytes(), Some(1456 * MI));
    }

    #[test]
    fn a_server_that_never_forks_copies_nothing() {
        let b = one(&statefulset(
            1,
            "redis-server, --maxmemory, 100mb, --save, \"''\", --appendonly, 'no'",
            "{limits: {memory: 1Gi}}",
        ));
        assert_eq!(b.fork_reason, None);
        assert_eq!(b.fork_copy_bytes, Some(0));
        assert_eq!(b.replica_buffers_bytes, Some(0), "no replicas");
        assert_eq!(
            b.request_bytes,
            Some(1024 * MI),
            "request defaults to the limit"
        );
        assert_eq!(b.headroom_bytes, Some(924 * MI as i64));
    }

    #[test]
    fn unknowns_are_none_not_numbers() {
        // No limit, maxmemory 0, the replica hard limit 0: nothing bounds them.
        let b = one(&statefulset(
            2,
            "redis-server, --client-output-buffer-limit, 'replica 0 0 0'",
            "{}",
        ));
        assert_eq!(b.limit_bytes, None);
        assert_eq!(b.request_bytes, None);
        assert!(b.maxmemory_visible);
        assert_eq!(b.maxmemory_bytes, None, "0 is unbounded");
        assert_eq!(b.fork_copy_bytes, None, "it forks a dataset of no bound");
        assert_eq!(b.replica_buffers_bytes, None, "hard limit 0");
        assert_eq!(b.headroom_bytes, None);
        assert_eq!(b.worst_case_bytes(), None);
    }

    #[test]
    fn dragonfly_never_forks_and_its_buffers_are_not_modelled() {
        let ds = deployments(
            "apiVersion: apps/v1\nkind: StatefulSet\nmetadata:\n  name: d\nspec:\n  \
             replicas: 1\n  selector:\n    matchLabels: {app: d}\n  template:\n    metadata:\n      \
             labels: {app: d}\n    spec:\n      containers:\n      - name: dragonfly\n        \
             image: docker.dragonflydb.io/dragonflydb/dragonfly:v1.40.0\n        args: \
             [--maxmemory=800mi]\n        resources: {limits: {memory: 1Gi}}\n",
        );
        let b = budget(&ds[0]).expect("a data server");
        assert_eq!(b.fork_reason, None);
        assert_eq!(b.fork_copy_bytes, Some(0));
        assert_eq!(b.maxmemory_bytes, Some(800 * MI));
        assert_eq!(b.replica_buffers_bytes, None);
        assert_eq!(b.backlog_bytes, None);
        assert_eq!(b.headroom_bytes, None);
    }
}

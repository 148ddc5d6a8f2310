//! ## redis-data-memory-medium
//!
//! **What it does.** Finds a Redis server with persistence on (RDB save points, Redis'
//! default ones included, or AOF) whose data directory is an `emptyDir` with
//! `medium: Memory` — in a workload's pod spec or a RedisFailover's `storage.emptyDir`. An
//! error when maxmemory plus the files (`dump_ratio` × maxmemory) exceed the memory limit,
//! or when nothing bounds them (no limit, no maxmemory); a warning when they fit. KubeBlocks,
//! OT and valkey-operator put the data on a claim or a disk-backed emptyDir: they cannot
//! express it.
//!
//! **Why it matters.** A memory-backed emptyDir is a tmpfs: the RDB dump and the AOF are
//! written into memory that is charged to the pod. The dataset is held twice — in Redis and
//! as a file — and maxmemory bounds only the first, so the first BGSAVE or AOF rewrite of a
//! full instance ends in an OOMKill. The files also vanish with the pod: this persistence
//! survives container restarts, not rescheduling.
//!
//! **Fix.** None automatic (where data lives is a storage decision): keep the data directory
//! on a PersistentVolumeClaim, or on a disk-backed emptyDir (remove `medium: Memory`), or turn
//! persistence off (`save ""`, `appendonly no`) for a pure cache.
use serde::{Deserialize, Serialize};

use crate::model::{DataVolume, Deployment};

use super::facts::{self, bytes};
use super::{Context, Rule, Severity, Violation};

/// `rules/redis-data-memory-medium.yaml` describes it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Params {
    pub dump_ratio: f64,
}

pub struct Check;

impl Rule for Check {
    type Params = Params;

    fn deployment(&self, cx: &Context<Params>, d: &Deployment, out: &mut Vec<Violation>) {
        let DataVolume::EmptyDir {
            memory_medium: Some(medium),
            ..
        } = &d.data
        else {
            return;
        };
        let writes_files = d.config.is_known("save")
            && d.config.is_known("appendonly")
            && facts::persistent(d);
        if !(facts::data_role(d) && writes_files) {
            return;
        }
        let what = match (d.config.redis.appendonly(), d.config.redis.save_points().is_empty()) {
            (true, true) => "the AOF",
            (true, false) => "the RDB dump and the AOF",
            (false, _) => "the RDB dump",
        };
        let maxmemory = d.config.redis.maxmemory_bytes();
        let limit = facts::data_container(d).and_then(|c| c.limit_bytes());
        let head = format!(
            "the data directory is a memory-backed emptyDir (tmpfs): {what} {} writes there \
             counts against the pod's memory",
            d.engine
        );
        let (severity, message) = match limit {
            Some(limit) if maxmemory > 0 && d.config.is_known("maxmemory") => {
                let files = (maxmemory as f64 * cx.params.dump_ratio) as u64;
                let need = maxmemory.saturating_add(files);
                if need > limit {
                    (
                        Severity::Error,
                        format!(
                            "{head}: maxmemory {} and files of about {} need {}, more than the \
                             limit {}, so the first save of a full instance is OOM-killed",
                            bytes(maxmemory),
                            bytes(files),
                            bytes(need),
                            bytes(limit)
                        ),
                    )
                } else {
                    (
                        Severity::Warning,
                        format!(
                            "{head}: maxmemory {} and files of about {} fit the limit {}, but \
                             leave only {} for forks and buffers, and the files are lost with \
                             the pod",
                            bytes(maxmemory),
                            bytes(files),
                            bytes(limit),
                            bytes(limit - need)
                        ),
                    )
                }
            }
            Some(_) if d.config.is_known("maxmemory") => (
                Severity::Error,
                format!(
                    "{head}, and no maxmemory bounds the dataset: dataset and files grow \
                     together into the limit"
                ),
            ),
            None => (
                Severity::Error,
                format!("{head}, and no memory limit bounds them: they take the node's memory"),
            ),
            Some(_) => return,
        };
        out.push(
            Violation::new(
                medium.clone(),
                format!(
                    "{message}; keep the data on a PersistentVolumeClaim or a disk-backed \
                     emptyDir, or turn persistence off for a cache"
                ),
            )
            .severity(severity),
        );
    }
}

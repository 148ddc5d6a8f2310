//! ## dragonfly-threads-memory
//!
//! **What it does.** Compares a Dragonfly's effective `maxmemory` (its `--maxmemory` flag or
//! `DFLY_maxmemory`, else the 80% of the memory limit Dragonfly takes itself) with what its
//! threads need: 256 MiB for each of `--proactor_threads`, or, without that flag, one thread
//! per core of the container's CPU limit (cgroup v2's quota, rounded up), or, without a CPU
//! limit either, one per CPU of whatever node the pod lands on.
//!
//! **Why it matters.** `dragonfly` refuses to start when maxmemory is below threads × 256 MiB
//! ("There are N threads, so X are required. Exiting...", `src/server/dfly_main.cc`
//! `RunEngine`). Without `--proactor_threads` the count follows the CPU quota (dragonfly#1109)
//! or, without a CPU limit, the node: a small Dragonfly that starts on a 4-CPU node
//! crash-loops on a 32-core one. Before v1.38 a CPU limit's count even overrides an explicit
//! `--proactor_threads` (dragonfly#4251, fixed by #7030).
//!
//! **Levels.** error when the thread count is known and too large; warning when it is the
//! node's CPU count and maxmemory covers fewer than `node_cpus` (64) threads.
//!
//! **Fix.** Sets `--proactor_threads` to maxmemory ÷ 256 MiB (rounded down) where the
//! threads are known to be too many; none when maxmemory is below 256 MiB (raise it) or the
//! node decides (set a CPU limit or `--proactor_threads`: how many cores the server gets is
//! the user's choice).
use serde::{Deserialize, Serialize};

use crate::model::{Deployment, Loc, Product};

use super::facts::{self, bytes};
use super::fixes::set_directive;
use super::{Context, Rule, Severity, Violation};

/// What each thread needs (dfly_main.cc `RunEngine`: `pool->size() * 256_MB`).
const PER_THREAD_BYTES: u64 = 256 << 20;

/// `rules/dragonfly-threads-memory.yaml` describes it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Params {
    pub node_cpus: u64,
}

pub struct Check;

impl Rule for Check {
    type Params = Params;

    fn deployment(&self, cx: &Context<Params>, d: &Deployment, out: &mut Vec<Violation>) {
        if d.engine != Product::Dragonfly
            || !facts::data_role(d)
            || !d.config.is_known("maxmemory")
            || !d.config.is_known("proactor_threads")
        {
            return;
        }
        let Some(c) = facts::data_container(d) else { return };
        let maxmemory = d.config.redis.maxmemory_bytes();
        let Some(line) = facts::maxmemory_line(d) else { return };
        if maxmemory == 0 {
            return;
        }
        let memory_at = facts::arg_loc(d, line, 0).unwrap_or_else(|| c.at.clone());
        let fits = maxmemory / PER_THREAD_BYTES;
        let flag = u64::try_from(d.config.redis.int_value("proactor_threads")).unwrap_or(0);
        // Before v1.38 a CPU limit's thread count overrode --proactor_threads
        // (dragonfly#4251, fixed by #7030).
        let limit_wins = c.cpu_limit_millis.is_some()
            && d
                .version
                .as_ref()
                .is_some_and(|v| !v.at_least(1, 38));
        let (threads, why, at): (u64, String, Loc) = if flag > 0 && !limit_wins {
            let line = d.config.redis.line_of("proactor_threads");
            let at = line
                .and_then(|l| facts::arg_loc(d, l, 0))
                .unwrap_or_else(|| memory_at.clone());
            (flag, format!("--proactor_threads {flag}"), at)
        } else if let Some(cpu) = &c.cpu_limit_millis {
            let threads = cpu.value.div_ceil(1000).max(1);
            let over_flag = if flag > 0 {
                format!(
                    "; before v1.38 the limit overrides --proactor_threads {flag} \
                     (dragonfly#4251)"
                )
            } else {
                String::new()
            };
            (
                threads,
                format!(
                    "one thread per core of the CPU limit ({} CPU, rounded up as cgroup v2's \
                     quota is){over_flag}",
                    cpu.value as f64 / 1000.0
                ),
                cpu.at.clone(),
            )
        } else {
            if fits >= cx.params.node_cpus {
                return;
            }
            out.push(
                Violation::new(
                    memory_at,
                    format!(
                        "maxmemory {}{} covers {fits} of Dragonfly's threads at 256 MiB each, and \
                         with neither --proactor_threads nor a CPU limit it starts one per CPU of \
                         the node: on a node with more than {fits} CPUs dragonfly exits at \
                         start-up (\"There are N threads, so X are required\"); set \
                         --proactor_threads to at most {fits}, or a CPU limit",
                        bytes(maxmemory),
                        facts::set_by(d, "maxmemory"),
                    ),
                )
                .severity(Severity::Warning),
            );
            return;
        };
        let needed = threads.saturating_mul(PER_THREAD_BYTES);
        if maxmemory >= needed {
            return;
        }
        let (advice, fix) = if limit_wins {
            (
                format!(
                    "lower the CPU limit to {fits} CPU, upgrade to v1.38 or later (where \
                     --proactor_threads wins), or raise maxmemory"
                ),
                None,
            )
        } else if fits == 0 {
            (
                "raise maxmemory (and the memory limit) to at least 256 MiB".to_string(),
                None,
            )
        } else {
            (
                format!("set --proactor_threads to {fits}, or raise maxmemory"),
                set_directive(cx.inventory, d, "proactor_threads", &fits.to_string()),
            )
        };
        out.push(
            Violation::new(
                at,
                format!(
                    "Dragonfly runs {threads} threads ({why}), which need {} at 256 MiB each, \
                     but maxmemory is {}{}: dragonfly exits at start-up (\"There are {threads} \
                     threads, so {} are required. Exiting...\"); {advice}",
                    bytes(needed),
                    bytes(maxmemory),
                    facts::set_by(d, "maxmemory"),
                    crate::units::human::size(needed),
                ),
            )
            .fix(fix),
        );
    }
}

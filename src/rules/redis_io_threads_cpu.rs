//! ## redis-io-threads-cpu
//!
//! **What it does.** Warns when `io-threads` (above 1) is more than the container's CPU
//! limit leaves after `spare_cores` (1): 4 threads under a 2-CPU limit, or any threading under
//! a limit below 2 CPUs. Containers without a CPU limit are not judged.
//!
//! **Why it matters.** `io-threads` counts the main thread, and I/O threads spin while they
//! wait for work. A container's cores are its CPU limit's quota: threads beyond it exhaust the
//! quota early in each period and the kernel throttles the whole process until the next one
//! — latency spikes that look like a slow network — and a BGSAVE or AOF rewrite fork finds no
//! CPU left. redis.conf's own advice is 2 or 3 threads on 4 cores; the KubeBlocks Redis
//! addon writes `io-threads 4` whatever the limit.
//!
//! **Fix.** Sets `io-threads` to the limit's whole cores less `spare_cores` (at least 1, which
//! turns I/O threading off), wherever the deployment sets its configuration; or raise the CPU
//! limit.
use serde::{Deserialize, Serialize};

use crate::model::Deployment;

use super::facts;
use super::fixes::set_directive;
use super::{Context, Rule, Violation};

/// `rules/redis-io-threads-cpu.yaml` describes it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Params {
    pub spare_cores: i64,
}

pub struct Check;

impl Rule for Check {
    type Params = Params;

    fn deployment(&self, cx: &Context<Params>, d: &Deployment, out: &mut Vec<Violation>) {
        if !facts::data_role(d) || !d.config.is_known("io-threads") {
            return;
        }
        let Some(c) = facts::data_container(d) else { return };
        let Some(cpu) = &c.cpu_limit_millis else { return };
        let threads = i64::try_from(d.config.redis.int_value("io-threads")).unwrap_or(i64::MAX);
        if threads <= 1 {
            return;
        }
        // KeyDB's `server-threads` (`io-threads` is its alias) are worker threads that each
        // serve clients on spinlocks and expect "exclusive use of any cores assigned" (KeyDB
        // README): at most the limit's cores, none spare. Redis' io-threads count the main
        // thread and leave `spare_cores`.
        let keydb = d.engine == crate::model::Product::KeyDb;
        let spare_cores = if keydb { 0 } else { cx.params.spare_cores };
        // Whole cores the quota leaves for io-threads: 2500m less one spare core is 1.
        let allowed = (i64::try_from(cpu.value / 1000).unwrap_or(i64::MAX) - spare_cores).max(1);
        if threads <= allowed {
            return;
        }
        let Some(line) = d.config.redis.line_of("io-threads") else { return };
        let at = facts::arg_loc(d, line, 0).unwrap_or_else(|| c.at.clone());
        let cores = cpu.value as f64 / 1000.0;
        let spare = spare_cores;
        let room = if keydb {
            format!(
                "more worker threads than cores: KeyDB's threads spin on locks and expect a core \
                 each (at most {allowed})"
            )
        } else if allowed <= 1 {
            format!("which leaves no core for I/O threads with {spare} spare (io-threads 1 turns them off)")
        } else {
            format!("which leaves {allowed} threads with {spare} core(s) spare")
        };
        let name = line.name.as_str();
        out.push(
            Violation::new(
                at,
                format!(
                    "{name} {threads}{} under a CPU limit of {cores} CPU, {room}: the threads \
                     spin through the quota, the kernel throttles the whole server, and a fork \
                     finds no CPU left; use {name} {allowed} or raise the limit",
                    if keydb { facts::set_by(d, name) } else { String::new() },
                ),
            )
            .fix(set_directive(cx.inventory, d, name, &allowed.to_string())),
        );
    }
}

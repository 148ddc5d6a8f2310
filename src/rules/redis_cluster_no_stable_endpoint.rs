//! ## redis-cluster-no-stable-endpoint
//!
//! **What it does.** Finds Redis Cluster workloads (StatefulSets and pods you write
//! yourself) that neither announce a stable hostname (`cluster-announce-hostname` with
//! `cluster-preferred-endpoint-type hostname`, Redis ≥ 7.0) nor repair the addresses in
//! `nodes.conf` at start-up (a script that rewrites pod IPs, or runs `CLUSTER MEET`).
//!
//! **Why it matters.** Cluster nodes remember each other by IP in `nodes.conf`. Pods get new
//! IPs when they are re-created; one restarted pod heals because its peers learn its new
//! address from its packets, but when all pods restart at once (a stop/start, a node pool
//! replacement) nobody can reach anybody and the cluster stays `fail`. Hostname
//! announcement fixes what clients see (`MOVED`, `CLUSTER SLOTS`); the bus still dials IPs,
//! so a start-up step that updates `nodes.conf` (Bitnami's `redis_cluster_update_ips`) or an
//! operator that re-meets the nodes is still needed.
//!
//! **Fix.** None automatic: add `--cluster-announce-hostname $(POD_NAME).<headless
//! service>.<namespace>.svc --cluster-preferred-endpoint-type hostname`, give the headless
//! Service `publishNotReadyAddresses: true`, and repair IPs at start-up — or use an operator.
use crate::model::{Deployment, Platform, Role};

use super::facts;
use super::{Context, NoParams, Rule, Violation};

pub struct Check;

impl Rule for Check {
    type Params = NoParams;

    fn deployment(&self, cx: &Context, d: &Deployment, out: &mut Vec<Violation>) {
        if d.role != Role::ClusterShard || d.platform != Platform::Workload {
            return;
        }
        let Some(c) = d.redis_container() else { return };
        let hostname = d.config.redis.line_of("cluster-announce-hostname").is_some()
            || d.config.unknown.iter().any(|u| u == "cluster-announce-hostname");
        if hostname || !d.config.complete {
            return;
        }
        // Start-up scripts: the container's command and args, and the ConfigMaps it uses.
        let mut scripts = String::new();
        cx.inventory
            .strings_under(c.at.object, &c.at.pointer, &mut scripts);
        for id in &d.related {
            cx.inventory.strings_under(*id, "", &mut scripts);
        }
        // What repairs or announces addresses at start-up. The redis.conf lines among the
        // texts name nodes.conf too (`cluster-config-file nodes.conf`), and comments may:
        // those repair nothing.
        let lower = scripts.to_ascii_lowercase();
        let repairs = lower.lines().any(|line| {
            let line = line.trim_start();
            !line.starts_with('#')
                && !line.starts_with("cluster-config-file")
                && ["nodes.conf", "update_ips", "cluster meet", "--cluster-announce-hostname"]
                    .iter()
                    .any(|s| line.contains(s))
        });
        if repairs {
            return;
        }
        let before_7 = facts::version_below(d, (7, 0), (7, 2)) == Some(true);
        let advice = if before_7 {
            "this version has no hostname announcement: rewrite the pod IPs in nodes.conf at \
             start-up"
        } else {
            "announce `cluster-announce-hostname $(POD_NAME).<headless service>` with \
             `cluster-preferred-endpoint-type hostname`, and repair IPs in nodes.conf at start-up"
        };
        out.push(Violation::new(
            c.at.clone(),
            format!(
                "{} Cluster nodes find each other by the pod IPs saved in nodes.conf, and \
                 nothing here updates them: after all pods restart with new IPs the cluster \
                 stays down; {advice}",
                d.engine
            ),
        ));
    }
}

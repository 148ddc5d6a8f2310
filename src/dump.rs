//! `redline lint --dump-model`: the model of an input as text, every value with where it came
//! from. Stable enough for snapshot tests; meant for people debugging a finding.

use std::fmt::Write;

use crate::extract::NotAnObject;
use crate::model::{
    AntiAffinity, DataVolume, Deployment, Handler, Inventory, Loc, Memory, Probe, ProbeOrigin,
    Setting,
};
use crate::source::Diagnostic;
use crate::units::human;

/// The whole inventory; `diagnostics` are the loader's, per file name.
pub fn dump(
    inv: &Inventory,
    diagnostics: &[(String, Diagnostic)],
    skipped: &[NotAnObject],
) -> String {
    let mut out = String::new();
    for (file, d) in diagnostics {
        let kind = if d.error { "error" } else { "warning" };
        let _ = writeln!(out, "{kind}: {file}:{}: {}", d.pos, d.message);
    }
    for s in skipped {
        let _ = writeln!(out, "skipped: {}:{}: {}", s.file, s.line, s.reason);
    }
    for (i, o) in inv.objects.iter().enumerate() {
        let _ = writeln!(
            out,
            "object #{i}: {} ({}) {}",
            o,
            o.api_version,
            place(
                inv,
                &Loc {
                    object: crate::model::ObjectId(i),
                    pointer: String::new(),
                    pos: o.pos
                }
            )
        );
    }
    for p in &inv.problems {
        let _ = writeln!(out, "problem: {} {}", place(inv, &p.at), p.message);
    }
    for d in &inv.deployments {
        deployment(&mut out, inv, d);
    }
    for c in &inv.enterprise {
        enterprise_cluster(&mut out, inv, c);
    }
    for db in &inv.enterprise_orphans {
        let _ = writeln!(
            out,
            "redis enterprise database {} (its cluster is not in the input)",
            inv.object(db.object)
        );
        enterprise_database(&mut out, inv, db);
    }
    out
}

/// A Redis Enterprise cluster: its nodes, their resources, and the databases bound to it.
fn enterprise_cluster(out: &mut String, inv: &Inventory, c: &crate::model::EnterpriseCluster) {
    let _ = writeln!(out, "redis enterprise cluster {}", inv.object(c.object));
    let _ = writeln!(
        out,
        "  nodes: {} {}",
        c.nodes.value,
        place(inv, &c.nodes.at)
    );
    let r = &c.node_resources;
    let _ = writeln!(
        out,
        "  node resources{}: memory request {}, limit {}; CPU request {}, limit {}",
        if r.written {
            ""
        } else {
            " (the operator's default)"
        },
        memory(inv, &r.memory_request),
        memory(inv, &r.memory_limit),
        r.cpu_request_millis
            .as_ref()
            .map_or("none".to_string(), |m| format!("{}m", m.value)),
        r.cpu_limit_millis
            .as_ref()
            .map_or("none".to_string(), |m| format!("{}m", m.value)),
    );
    for db in &c.databases {
        let _ = writeln!(out, "  database {}", inv.object(db.object));
        enterprise_database(out, inv, db);
    }
}

fn enterprise_database(out: &mut String, inv: &Inventory, db: &crate::model::EnterpriseDatabase) {
    let _ = writeln!(
        out,
        "    memorySize {} = {} B ({}) {}; replication {}; shards {}; takes up to {}",
        db.memory_text,
        db.memory.value,
        human::size(db.memory.value),
        place(inv, &db.memory.at),
        db.replication.value,
        db.shards.value,
        human::size(db.footprint_bytes()),
    );
}

/// `file:line:col /pointer`.
fn place(inv: &Inventory, at: &Loc) -> String {
    let o = inv.object(at.object);
    let file = o.file.as_deref().unwrap_or("-");
    match at.pos {
        Some(p) => format!("at {file}:{p} {}", at.pointer)
            .trim_end()
            .to_string(),
        None => format!("in {file} {}", at.pointer).trim_end().to_string(),
    }
}

fn memory(inv: &Inventory, m: &Option<Memory>) -> String {
    match m {
        Some(m) => format!(
            "{} = {} B ({}) {}",
            m.text,
            m.bytes,
            human::size(m.bytes),
            place(inv, &m.at)
        ),
        None => "none".to_string(),
    }
}

fn setting(s: &Setting) -> String {
    match s.at {
        Some(_) => s.value.to_string(),
        None => format!("{}*", s.value),
    }
}

fn probe(inv: &Inventory, name: &str, p: &Option<Probe>) -> String {
    let Some(p) = p else {
        return format!("{name}: none");
    };
    let handler = match &p.handler {
        Handler::Exec(cmd) => format!("exec {cmd:?}"),
        Handler::TcpSocket(port) => format!("tcpSocket {port}"),
        Handler::HttpGet { path, port } => format!("httpGet {path} :{port}"),
        Handler::Grpc(port) => format!("grpc {port}"),
        Handler::Missing => "no handler".to_string(),
    };
    let origin = match &p.origin {
        ProbeOrigin::User => p.at.as_ref().map_or(String::new(), |a| place(inv, a)),
        ProbeOrigin::Operator(who) => format!("from {who}"),
    };
    use crate::rules::facts::{ProbeCheck, probe_check};
    let check = match probe_check(p) {
        ProbeCheck::Connect => "TCP connect (passes while loading or stalled)",
        ProbeCheck::PingWantsPong {
            accepts_loading: false,
        } => "PING, wants PONG (fails on -LOADING)",
        ProbeCheck::PingWantsPong {
            accepts_loading: true,
        } => "PING, wants PONG or LOADING",
        ProbeCheck::PingAnyReply => "PING, any reply passes",
        ProbeCheck::Other => "not Redis",
        ProbeCheck::Unknown => "unknown (script not in the input)",
    };
    let script = if p.script.is_some() {
        ", script read"
    } else {
        ""
    };
    format!(
        "{name}: {handler} delay/period/timeout/success/failure {}/{}/{}/{}/{} {origin} [{check}{script}]",
        setting(&p.initial_delay_seconds),
        setting(&p.period_seconds),
        setting(&p.timeout_seconds),
        setting(&p.success_threshold),
        setting(&p.failure_threshold),
    )
}

fn deployment(out: &mut String, inv: &Inventory, d: &Deployment) {
    let o = inv.object(d.object);
    let _ = writeln!(
        out,
        "deployment {} / {} [{:?}, {}]",
        o,
        d.component.as_deref().unwrap_or("-"),
        d.platform,
        d.role
    );
    if let Some(op) = &d.operation {
        let _ = writeln!(
            out,
            "  operation: {} by {}{}",
            op.kind,
            inv.object(op.object),
            if op.cluster_found {
                ""
            } else {
                " (Cluster not in the input)"
            }
        );
    }
    for (label, v) in [("replicas", &d.replicas), ("shards", &d.shards)] {
        if let Some(v) = v {
            let _ = writeln!(out, "  {label}: {} {}", v.value, place(inv, &v.at));
        }
    }
    for c in &d.containers {
        let _ = writeln!(out, "  container {} {}", c.name, place(inv, &c.at));
        if let Some(i) = &c.image {
            let _ = writeln!(out, "    image: {} {}", i.value, place(inv, &i.at));
        }
        let _ = writeln!(
            out,
            "    memory request: {}",
            memory(inv, &c.memory_request)
        );
        match (&c.memory_limit, &c.memory_limit_unknown) {
            (None, Some(at)) => {
                let _ = writeln!(
                    out,
                    "    memory limit: unknown (a variable substituted before it is applied) {}",
                    place(inv, at)
                );
            }
            _ => {
                let _ = writeln!(out, "    memory limit: {}", memory(inv, &c.memory_limit));
            }
        }
        if c.request_from_limit {
            let _ = writeln!(out, "    (request defaults to the limit)");
        }
        for (at, msg) in &c.memory_errors {
            let _ = writeln!(out, "    memory error: {msg} {}", place(inv, at));
        }
        let _ = writeln!(out, "    {}", probe(inv, "liveness", &c.probes.liveness));
        let _ = writeln!(out, "    {}", probe(inv, "readiness", &c.probes.readiness));
        let _ = writeln!(out, "    {}", probe(inv, "startup", &c.probes.startup));
    }
    let cfg = &d.config;
    let maxmemory = cfg.redis.maxmemory_bytes();
    match cfg.source_of("maxmemory") {
        Some((_, src)) => {
            let _ = writeln!(
                out,
                "  maxmemory: {maxmemory} B ({}) from {} {}",
                human::size(maxmemory),
                origin(d, &src.origin),
                src.at.as_ref().map_or(String::new(), |a| place(inv, a))
            );
        }
        None if cfg.is_known("maxmemory") && d.engine == crate::model::Product::Dragonfly => {
            let _ = writeln!(
                out,
                "  maxmemory: 0 (Dragonfly default: 80% of the memory it finds available)"
            );
        }
        None if cfg.is_known("maxmemory") => {
            let _ = writeln!(out, "  maxmemory: 0 ({} default: no limit)", d.engine);
        }
        None => {
            let _ = writeln!(out, "  maxmemory: unknown");
        }
    }
    let _ = writeln!(
        out,
        "  config ({}):",
        if cfg.complete { "complete" } else { "partial" }
    );
    for (line, src) in cfg.redis.lines().iter().zip(&cfg.sources) {
        let _ = writeln!(
            out,
            "    {} {}{}  [{}{}]",
            line.name,
            line.args.join(" "),
            if line.refused { " (refused)" } else { "" },
            origin(d, &src.origin),
            src.at
                .as_ref()
                .map_or(String::new(), |a| format!(" {}", place(inv, a)))
        );
    }
    for (e, at) in &cfg.errors {
        let _ = writeln!(
            out,
            "    start-up error: {} {}",
            e.message,
            at.as_ref().map_or(String::new(), |a| place(inv, a))
        );
    }
    for u in &cfg.unknown {
        let _ = writeln!(out, "    unknown value: {u}");
    }
    for g in &cfg.gaps {
        let _ = writeln!(out, "    note: {g}");
    }
    let data = match &d.data {
        DataVolume::Claim {
            size_bytes,
            access_modes,
            at,
        } => format!(
            "claim {} {:?} {}",
            size_bytes.map_or("?".to_string(), human::size),
            access_modes,
            place(inv, at)
        ),
        DataVolume::EmptyDir {
            at,
            memory_medium: None,
        } => format!("emptyDir {}", place(inv, at)),
        DataVolume::EmptyDir {
            at,
            memory_medium: Some(m),
        } => format!(
            "emptyDir {} (medium Memory {})",
            place(inv, at),
            place(inv, m)
        ),
        DataVolume::SharedClaim {
            claim,
            access_modes,
            at,
            ..
        } => format!(
            "claim {claim} shared by every pod, {} {}",
            access_modes
                .as_ref()
                .map_or("access modes unknown".to_string(), |m| format!("{m:?}")),
            place(inv, at)
        ),
        DataVolume::None => "none".to_string(),
        DataVolume::Unknown => "unknown".to_string(),
    };
    let _ = writeln!(out, "  data: {data}");
    match &d.version {
        Some(v) => {
            let release = [Some(v.major), v.minor, v.patch]
                .iter()
                .flatten()
                .map(u32::to_string)
                .collect::<Vec<_>>()
                .join(".");
            let _ = writeln!(
                out,
                "  version: {} {release} (`{}`) {}",
                v.product,
                v.text,
                place(inv, &v.at)
            );
        }
        None => {
            let _ = writeln!(out, "  version: {} release unknown", d.engine);
        }
    }
    let _ = writeln!(out, "  judged as: {}", d.config.redis.dialect());
    if let Some(p) = &d.pod_management_policy {
        let _ = writeln!(
            out,
            "  podManagementPolicy: {} {}",
            p.value,
            place(inv, &p.at)
        );
    }
    let aa = match &d.anti_affinity {
        AntiAffinity::None => "none".to_string(),
        AntiAffinity::Preferred { at } => format!("preferred {}", place(inv, at)),
        AntiAffinity::RequiredHostname { at } => format!("required on hostname {}", place(inv, at)),
        AntiAffinity::RequiredOther { at, topology_key } => {
            format!("required on {topology_key} {}", place(inv, at))
        }
        AntiAffinity::Unknown => "not visible (operator default)".to_string(),
    };
    let _ = writeln!(out, "  anti-affinity: {aa}");
    if let Some(sentinels) = &d.sentinels {
        sentinel_lines(out, inv, sentinels);
    }
    for t in &d.node_tuning {
        let how = match &t.how {
            crate::model::NodeTuningHow::PodSysctl => "pod sysctl".to_string(),
            crate::model::NodeTuningHow::PrivilegedInit { container } => {
                format!("privileged init container `{container}`")
            }
        };
        let _ = writeln!(
            out,
            "  node tuning: {} by {how} {}",
            t.what,
            place(inv, &t.at)
        );
    }
    if let Some(pdb) = &d.pdb {
        let _ = writeln!(
            out,
            "  pdb: {} (selects {} pods in all)",
            inv.object(pdb.object),
            pdb.selected_pods
                .map_or("an unknown number of".to_string(), |n| n.to_string())
        );
    }
    for r in &d.related {
        let _ = writeln!(out, "  related: {}", inv.object(*r));
    }
    for n in &d.notes {
        let _ = writeln!(out, "  note: {n}");
    }
}

fn sentinel_lines(out: &mut String, inv: &Inventory, s: &crate::model::Sentinels) {
    use crate::model::SentinelAddressing as A;
    let quorum = match &s.quorum {
        Some(q) => format!(
            "{}{} {}",
            q.value,
            q.set_by
                .as_ref()
                .map_or(String::new(), |by| format!(" (set by {by})")),
            place(inv, &q.at)
        ),
        None => "unknown".to_string(),
    };
    let _ = writeln!(out, "  sentinel quorum: {quorum}");
    let flag = |f: &Option<crate::model::Located<bool>>| match f {
        Some(f) => format!(
            "{} {}",
            if f.value { "yes" } else { "no" },
            place(inv, &f.at)
        ),
        None => "no (not written)".to_string(),
    };
    let addressing = match &s.addressing {
        A::Operator(how) => how.clone(),
        A::Config {
            host,
            resolve_hostnames,
            announce_hostnames,
        } => format!(
            "monitor {} {}; resolve-hostnames {}; announce-hostnames {}",
            host.value,
            place(inv, &host.at),
            flag(resolve_hostnames),
            flag(announce_hostnames)
        ),
        A::Fields {
            resolve_hostnames,
            announce_hostnames,
        } => format!(
            "resolveHostnames {}; announceHostnames {}",
            flag(&Some(resolve_hostnames.clone())),
            flag(&Some(announce_hostnames.clone()))
        ),
        A::Unknown => "not visible (written at run time)".to_string(),
    };
    let _ = writeln!(out, "  sentinel addressing: {addressing}");
}

/// A line's origin as the dump names it: a command-line argument of the deployment's own
/// server program (`valkey-server`, `dragonfly`), not always `redis-server`.
fn origin(d: &crate::model::Deployment, origin: &crate::model::Origin) -> String {
    match origin {
        crate::model::Origin::Args => format!("{} argument", d.engine.server()),
        other => other.to_string(),
    }
}

//! StatefulSets, Deployments, ReplicaSets, DaemonSets, Pods and KubeBlocks InstanceSets whose
//! containers run redis-server, valkey-server or sentinel, with the configuration they read:
//! command/args → volumeMounts → `volumes[].configMap` (with `items`) → ConfigMap data.

use crate::model::{
    DataVolume, Deployment, Loc, Located, NodeTuning, NodeTuningHow, ObjectId, Origin, Platform,
    Problem, Product, Role,
};
use crate::source::Cursor;

use super::Ctx;
use super::assembly::{Assembly, SynthLine};
use super::common::{
    absent, anti_affinity, dialect, loc, located_i64, located_str, memory_medium, pod_container,
    string_map,
};
use super::image::ImageRef;
use super::shell;

mod launch;
mod mounts;

use launch::*;
// The operators' resources that carry `env` and `args` of their own (dragonfly-operator).
pub(crate) use launch::{env_values, expand};
use mounts::*;

/// The official image's WORKDIR, where relative paths and the default `dir` point.
const WORKDIR: &str = "/data";
/// Bitnami's images start in `/` and keep data in `/bitnami/redis/data` (their redis.conf's
/// `dir`, not visible here).
const BITNAMI_WORKDIR: &str = "/";

/// An argument with its file position (its first character).
struct Arg<'a> {
    text: String,
    /// The object it is written in (the workload, or the ConfigMap of a script).
    object: ObjectId,
    cursor: Cursor<'a>,
    /// Byte offset of `text` inside the scalar (for words of a shell script).
    offset: usize,
}

pub fn workload(ctx: &mut Ctx, id: ObjectId) -> Vec<Deployment> {
    let root = ctx.root(id);
    let object = ctx.object(id);
    let is_pod = object.kind == "Pod";
    let (pod_spec, pod_meta) = if is_pod {
        (root.get("spec"), root.get("metadata"))
    } else {
        (
            root.at(&["spec", "template", "spec"]),
            root.at(&["spec", "template", "metadata"]),
        )
    };
    let Some(pod_spec) = pod_spec else {
        return Vec::new();
    };
    let replicas = if is_pod {
        None
    } else {
        located_i64(ctx, id, root.at(&["spec", "replicas"]))
    };
    let pod_labels = string_map(pod_meta.and_then(|m| m.get("labels")));
    let selector = match root.at(&["spec", "selector"]) {
        Some(s) if !is_pod && s.get("matchExpressions").is_none() => {
            string_map(s.get("matchLabels"))
        }
        _ => Vec::new(),
    };
    let containers = pod_spec
        .get("containers")
        .map(|c| c.items())
        .unwrap_or_default();
    // What every container runs, decided before any is modelled: a sentinel beside a server
    // makes the server a replicated one. The mounts are read once; their problems are
    // reported only for servers, after the container's own.
    let launches: Vec<Option<(Launch, Mounted, Vec<Problem>)>> = containers
        .iter()
        .map(|c| {
            // Checked per container: one object may hold thousands.
            if !worth_reading(c) || !ctx.within_budget() {
                return None;
            }
            let before = ctx.problems.len();
            let mounted = mount_files(ctx, id, &pod_spec, c);
            let problems = ctx.problems.split_off(before);
            Some((recognize(id, c, &mounted)?, mounted, problems))
        })
        .collect();
    let has_sentinel = launches
        .iter()
        .flatten()
        .any(|(l, _, _)| l.process == Process::Sentinel);
    // Files the init containers' scripts write (valkey-helm composes valkey.conf so).
    let init = if launches
        .iter()
        .flatten()
        .any(|(l, _, _)| l.process == Process::Server)
    {
        init_writes(ctx, id, &pod_spec)
    } else {
        Vec::new()
    };
    let mut out = Vec::new();
    for (c, launch) in containers.iter().zip(launches) {
        if !ctx.within_budget() {
            break;
        }
        let Some((launch, mounted, problems)) = launch else {
            continue;
        };
        let mut container = pod_container(ctx, id, c);
        read_probe_scripts(&mut container, &mounted);
        ctx.problems.extend(problems);
        let mut asm = Assembly::new();
        asm.sentinel(launch.process == Process::Sentinel);
        mounted.offer(&mut asm);
        let env = env_values(c, &container);
        let engine = launch.engine;
        let version = container
            .image
            .as_ref()
            .and_then(|i| super::image::version_of(i, engine));
        let mut related = mounted.config_maps.clone();
        let dialect = if engine == Product::Dragonfly {
            let limit = container.memory_limit.as_ref();
            read_dragonfly(&launch, &env, id, c, limit, version.as_ref(), &mut asm);
            let links = pod_spec.get("enableServiceLinks").and_then(|e| e.bool()) != Some(false);
            if links {
                related.extend(super::dragonfly::service_links(
                    ctx,
                    id,
                    None,
                    version.as_ref(),
                    &mut asm,
                ));
            }
            super::dragonfly::dialect()
        } else {
            let image_at = container.image.as_ref().map(|i| i.at.clone());
            read_command(&launch, &env, &mounted, &init, image_at, &mut asm);
            dialect(engine, version.as_ref())
        };
        let config = asm.finish(dialect);
        let role = match launch.process {
            Process::Sentinel => Role::Sentinel,
            Process::Server if config.redis.cluster_enabled() => Role::ClusterShard,
            Process::Server
                if has_sentinel
                    || config.redis.replicaof().is_some()
                    || replicas.as_ref().is_some_and(|r| r.value > 1) =>
            {
                Role::Replication
            }
            Process::Server => Role::Standalone,
        };
        let data_dir = config
            .redis
            .config_get("dir")
            .filter(|d| d.starts_with('/'))
            .unwrap_or_else(|| launch.workdir.to_string());
        let sentinels = (role == Role::Sentinel).then(|| super::sentinel::from_config(&config));
        let data = if role == Role::Sentinel {
            DataVolume::None
        } else {
            data_volume(ctx, id, &root, &pod_spec, c, &data_dir)
        };
        out.push(Deployment {
            object: id,
            component: Some(container.name.clone()),
            platform: Platform::Workload,
            role,
            replicas: replicas.clone(),
            shards: None,
            config,
            data,
            engine,
            version,
            pod_management_policy: root
                .at(&["spec", "podManagementPolicy"])
                .and_then(|p| located_str(id, &p)),
            pod_spec: Some(loc(id, &pod_spec)),
            node_tuning: node_tuning(id, &pod_spec),
            termination_grace_seconds: termination_grace(ctx, id, &pod_spec),
            sentinels,
            anti_affinity: anti_affinity(id, &pod_spec),
            topology_spread: pod_spec.get("topologySpreadConstraints").is_some(),
            pdb: None,
            selector: selector.clone(),
            pod_labels: pod_labels.clone(),
            related,
            operation: None,
            notes: launch.notes.clone(),
            containers: vec![container],
        });
    }
    out
}

fn words(c: &Cursor, key: &str) -> Vec<String> {
    c.get(key)
        .map(|v| v.items())
        .unwrap_or_default()
        .iter()
        .filter_map(|i| i.str().map(str::to_string))
        .collect()
}

fn basename(s: &str) -> &str {
    s.rsplit('/').next().unwrap_or(s)
}

/// The server's arguments, as the container (or its script) passes them.
fn read_command(
    launch: &Launch,
    env: &[(String, Option<String>)],
    mounted: &Mounted,
    init: &[InitWrites],
    image_at: Option<Loc>,
    asm: &mut Assembly,
) {
    if let Some(file) = &launch.image_file
        && !asm.has_file(file.path)
    {
        let lines = file
            .lines
            .iter()
            .map(|l| SynthLine {
                text: l.to_string(),
                origin: Origin::OperatorDefault {
                    operator: format!("the {} image", file.image),
                    rule: format!("its {}", file.path),
                },
                at: image_at.clone(),
            })
            .collect();
        asm.synthetic_file(file.path, lines);
        if launch.image_file_first {
            asm.push_arg(file.path.to_string(), image_at.clone());
        }
    }
    for gap in &launch.gaps {
        asm.gap(gap.clone());
    }
    for (source, dest) in &launch.copies {
        let Some((object, cursor)) = mounted.file(source) else {
            continue;
        };
        if let Some(scalar) = cursor.node.scalar() {
            asm.file_from_scalar(dest, scalar, &loc(object, cursor));
            asm.note(format!(
                "{dest} is a copy of {source}, made by the start-up script"
            ));
        }
    }
    let (argv, shell) = (&launch.argv, launch.shell);
    let mut skipping = false;
    for (i, arg) in argv.iter().enumerate() {
        let at = arg_at(arg);
        if arg.text.starts_with("--") {
            skipping = false;
        } else if skipping {
            continue;
        }
        match expand(&arg.text, env, shell) {
            Ok(text) if i == 0 && !text.starts_with('-') => {
                config_file_arg(text, at, launch.workdir, mounted, init, asm);
            }
            Ok(text) => asm.push_arg(text, Some(at)),
            Err(var) => {
                let name = if arg.text.starts_with("--") {
                    arg.text[2..]
                        .split_whitespace()
                        .next()
                        .unwrap_or("")
                        .to_string()
                } else if i > 0 && argv[i - 1].text.starts_with("--") {
                    // The value of the option before it.
                    asm.pop_option()
                } else {
                    // A word of its own (`redis-server /conf/redis.conf $ARGS`): whatever
                    // options it holds are not visible.
                    asm.unknown_words(&arg.text, &var);
                    continue;
                };
                asm.unknown_from(&name, &var);
                skipping = true;
            }
        }
    }
}

/// Where an argument is written (its first character, inside a script).
fn arg_at(arg: &Arg) -> Loc {
    Loc {
        object: arg.object,
        pointer: arg.cursor.pointer.clone(),
        pos: arg
            .cursor
            .node
            .scalar()
            .and_then(|s| s.pos_at(arg.offset))
            .or(arg.cursor.pos()),
    }
}

/// Dragonfly's flags: the words after `dragonfly`, and the container's `DFLY_*` variables.
fn read_dragonfly(
    launch: &Launch,
    env: &[(String, Option<String>)],
    id: ObjectId,
    c: &Cursor,
    limit: Option<&crate::model::Memory>,
    version: Option<&crate::model::Version>,
    asm: &mut Assembly,
) {
    for gap in &launch.gaps {
        asm.gap(gap.clone());
    }
    let argv: Vec<super::dragonfly::Word> = launch
        .argv
        .iter()
        .map(|arg| super::dragonfly::Word {
            raw: arg.text.clone(),
            text: expand(&arg.text, env, launch.shell),
            at: arg_at(arg),
        })
        .collect();
    let env = dragonfly_env(env, id, c, asm);
    super::dragonfly::read(&argv, &env, limit, version, asm);
}

/// The `DFLY_*` variables of a container, each with its value when known offline.
pub fn dragonfly_env(
    env: &[(String, Option<String>)],
    id: ObjectId,
    c: &Cursor,
    asm: &mut Assembly,
) -> Vec<(String, super::dragonfly::Word)> {
    if c.get("envFrom").is_some() {
        asm.gap("`envFrom` may set DFLY_* variables, which dragonfly reads as flags");
    }
    c.get("env")
        .map(|e| e.items())
        .unwrap_or_default()
        .iter()
        .filter_map(|e| {
            let name = e.str_at(&["name"])?;
            if !name.starts_with("DFLY_") {
                return None;
            }
            let value = env.iter().rev().find(|(n, _)| n == name)?.1.clone();
            let at = loc(id, &e.get("value").unwrap_or_else(|| e.clone()));
            Some((
                name.to_string(),
                super::dragonfly::Word {
                    raw: value.clone().unwrap_or_default(),
                    text: value.ok_or_else(|| "a Secret or the downward API".to_string()),
                    at,
                },
            ))
        })
        .collect()
}

/// The configuration file argument: from a mounted ConfigMap, or copied there by an init
/// container from one, or not knowable.
fn config_file_arg(
    path: String,
    at: Loc,
    workdir: &str,
    mounted: &Mounted,
    init: &[InitWrites],
    asm: &mut Assembly,
) {
    let absolute = if path.starts_with('/') {
        path.clone()
    } else {
        format!("{workdir}/{path}")
    };
    if asm.has_file(&absolute) {
        asm.push_arg(path, Some(at));
        return;
    }
    if let Some(lines) = written_by_init(&absolute, init, asm) {
        asm.synthetic_file(&absolute, lines);
        asm.push_arg(path, Some(at));
        return;
    }
    if let Some((dir, cm, why)) = mounted
        .missing
        .iter()
        .find(|(dir, _, _)| absolute.starts_with(&format!("{}/", dir.trim_end_matches('/'))))
    {
        asm.gap(format!(
            "{absolute} comes from ConfigMap {cm} (mounted at {dir}), {why}"
        ));
        return;
    }
    let name = basename(&absolute);
    if let Some((key, loc, scalar)) = mounted.candidates.iter().find(|(k, _, _)| k == name) {
        asm.file_from_scalar(&absolute, scalar, loc);
        asm.note(format!(
            "{absolute} is not mounted from a ConfigMap; read as ConfigMap key `{key}`, which \
             an init container presumably copies there"
        ));
        asm.push_arg(path, Some(at));
        return;
    }
    asm.gap(format!(
        "{absolute} is not provided by any ConfigMap in the input (written at run time?)"
    ));
}

/// The volume behind the data directory.
fn data_volume(
    ctx: &mut Ctx,
    id: ObjectId,
    root: &Cursor,
    pod_spec: &Cursor,
    container: &Cursor,
    data_dir: &str,
) -> DataVolume {
    let mounts = container
        .get("volumeMounts")
        .map(|m| m.items())
        .unwrap_or_default();
    let under = |m: &&Cursor| {
        m.str_at(&["mountPath"]).is_some_and(|p| {
            let p = p.trim_end_matches('/');
            data_dir == p || data_dir.starts_with(&format!("{p}/"))
        })
    };
    let Some(mount) = mounts
        .iter()
        .filter(under)
        .max_by_key(|m| m.str_at(&["mountPath"]).map_or(0, str::len))
    else {
        return DataVolume::None;
    };
    let name = mount.str_at(&["name"]).unwrap_or("");
    let claims = root
        .at(&["spec", "volumeClaimTemplates"])
        .map(|c| c.items())
        .unwrap_or_default();
    if let Some(claim) = claims
        .iter()
        .find(|c| c.str_at(&["metadata", "name"]) == Some(name))
    {
        return claim_volume(id, claim);
    }
    let volumes = pod_spec
        .get("volumes")
        .map(|v| v.items())
        .unwrap_or_default();
    match volumes.iter().find(|v| v.str_at(&["name"]) == Some(name)) {
        // `emptyDir:` with no value is an emptyDir too: look at the key, not the value.
        Some(v) if v.node.get("emptyDir").is_some() => DataVolume::EmptyDir {
            at: loc(id, v),
            memory_medium: memory_medium(id, v.get("emptyDir")),
        },
        Some(v) if v.get("persistentVolumeClaim").is_some() => {
            shared_claim(ctx, id, v.at(&["persistentVolumeClaim", "claimName"]), v)
        }
        _ => DataVolume::Unknown,
    }
}

/// A PersistentVolumeClaim (template): size and access modes.
pub fn claim_volume(id: ObjectId, claim: &Cursor) -> DataVolume {
    match claim.get("spec") {
        Some(spec) => match super::common::claim_spec(id, &spec) {
            DataVolume::Claim {
                size_bytes,
                access_modes,
                ..
            } => DataVolume::Claim {
                size_bytes,
                access_modes,
                at: loc(id, claim),
            },
            other => other,
        },
        None => DataVolume::Claim {
            size_bytes: None,
            access_modes: Vec::new(),
            at: loc(id, claim),
        },
    }
}

/// Sysctls of the pod that are not namespaced, and privileged init containers whose command
/// sets a `vm.` sysctl or transparent huge pages on the node.
fn node_tuning(id: ObjectId, pod_spec: &Cursor) -> Vec<NodeTuning> {
    let mut out = Vec::new();
    for sysctl in pod_spec
        .at(&["securityContext", "sysctls"])
        .map(|s| s.items())
        .unwrap_or_default()
    {
        let Some(name) = sysctl.str_at(&["name"]) else {
            continue;
        };
        if !namespaced_sysctl(name) {
            out.push(NodeTuning {
                at: loc(id, &sysctl),
                what: name.to_string(),
                how: NodeTuningHow::PodSysctl,
            });
        }
    }
    for init in pod_spec
        .get("initContainers")
        .map(|c| c.items())
        .unwrap_or_default()
    {
        if init
            .at(&["securityContext", "privileged"])
            .and_then(|p| p.bool())
            != Some(true)
        {
            continue;
        }
        let text = [words(&init, "command"), words(&init, "args")]
            .concat()
            .join(" ");
        let mut found: Vec<String> = text
            .split(|c: char| c.is_whitespace() || c == ';' || c == '&' || c == '|')
            .filter_map(|w| {
                let w = w.trim_matches(|c| c == '"' || c == '\'');
                let name = w.split('=').next().unwrap_or(w);
                (name.starts_with("vm.") && name.len() > 3).then(|| name.to_string())
            })
            .collect();
        if text.contains("transparent_hugepage") {
            found.push("transparent_hugepage".to_string());
        }
        found.dedup();
        let container = init.str_at(&["name"]).unwrap_or("").to_string();
        out.extend(found.into_iter().map(|what| NodeTuning {
            at: loc(id, &init),
            what,
            how: NodeTuningHow::PrivilegedInit {
                container: container.clone(),
            },
        }));
    }
    out
}

/// The sysctls a pod may set (namespaced: Kubernetes' "Using sysctls" page): `kernel.shm*`,
/// `kernel.msg*`, `kernel.sem`, `fs.mqueue.*`, `net.*`. Every other one is the node's.
fn namespaced_sysctl(name: &str) -> bool {
    ["kernel.shm", "kernel.msg", "fs.mqueue.", "net."]
        .iter()
        .any(|p| name.starts_with(p))
        || name == "kernel.sem"
}

/// `terminationGracePeriodSeconds`, or the API server's default (30) where it would go.
fn termination_grace(ctx: &mut Ctx, id: ObjectId, pod_spec: &Cursor) -> Option<Located<i64>> {
    match pod_spec.get("terminationGracePeriodSeconds") {
        Some(g) => located_i64(ctx, id, Some(g)),
        None => Some(Located {
            value: 30,
            at: absent(id, pod_spec, "terminationGracePeriodSeconds"),
        }),
    }
}

/// A claim the pod template names: every pod of the workload mounts it. Its access modes
/// come from the PersistentVolumeClaim where the input holds it.
pub fn shared_claim(ctx: &mut Ctx, id: ObjectId, name: Option<Cursor>, at: &Cursor) -> DataVolume {
    let claim = name
        .as_ref()
        .and_then(|n| n.str())
        .unwrap_or("")
        .to_string();
    let namespace = ctx.object(id).namespace_or_default().to_string();
    let object = name
        .as_ref()
        .and_then(|n| ctx.find(&loc(id, n), "PersistentVolumeClaim", &namespace, &claim));
    let access_modes =
        object.map(|pvc| super::common::strings(ctx.root(pvc).at(&["spec", "accessModes"])));
    DataVolume::SharedClaim {
        claim,
        object,
        access_modes,
        at: loc(id, at),
    }
}

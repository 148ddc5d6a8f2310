//! StatefulSets, Deployments, ReplicaSets, DaemonSets, Pods and KubeBlocks InstanceSets whose
//! containers run redis-server, valkey-server or sentinel, with the configuration they read:
//! command/args → volumeMounts → `volumes[].configMap` (with `items`) → ConfigMap data.

use crate::model::{DataVolume, Deployment, Loc, ObjectId, Platform, Role};
use crate::source::Cursor;

use super::Ctx;
use super::common::{
    anti_affinity, image_name, loc, located_i64, located_str, pod_container, split_image,
    string_map, version_from_image,
};
use super::config::Assembly;

/// The official image's WORKDIR, where relative paths and the default `dir` point.
const WORKDIR: &str = "/data";

/// What a container runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Server {
    Redis,
    Sentinel,
}

/// An argument with its file position (its first character).
struct Arg<'a> {
    text: String,
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
    let containers = pod_spec
        .get("containers")
        .map(|c| c.items())
        .unwrap_or_default();
    let has_sentinel = containers
        .iter()
        .any(|c| classify(c) == Some(Server::Sentinel));
    let mut out = Vec::new();
    for c in &containers {
        let Some(server) = classify(c) else { continue };
        let container = pod_container(ctx, id, c);
        let mut asm = Assembly::new();
        asm.sentinel(server == Server::Sentinel);
        let mounted = mount_files(ctx, id, &pod_spec, c, &mut asm);
        let env = env_values(c, &container);
        read_command(id, c, &env, &mounted, &mut asm);
        let config = asm.finish();
        let role = match server {
            Server::Sentinel => Role::Sentinel,
            Server::Redis if config.redis.cluster_enabled() => Role::ClusterShard,
            Server::Redis
                if has_sentinel
                    || config.redis.replicaof().is_some()
                    || replicas.as_ref().is_some_and(|r| r.value > 1) =>
            {
                Role::Replication
            }
            Server::Redis => Role::Standalone,
        };
        let data_dir = config
            .redis
            .config_get("dir")
            .filter(|d| d.starts_with('/'))
            .unwrap_or_else(|| WORKDIR.to_string());
        let data = data_volume(id, &root, &pod_spec, c, &data_dir);
        let version = container.image.as_ref().and_then(version_from_image);
        out.push(Deployment {
            object: id,
            component: Some(container.name.clone()),
            platform: Platform::Workload,
            role,
            replicas: replicas.clone(),
            shards: None,
            config,
            data,
            version,
            pod_management_policy: root
                .at(&["spec", "podManagementPolicy"])
                .and_then(|p| located_str(id, &p)),
            anti_affinity: anti_affinity(id, &pod_spec),
            topology_spread: pod_spec.get("topologySpreadConstraints").is_some(),
            pdb: None,
            pod_labels: pod_labels.clone(),
            related: mounted.config_maps.clone(),
            operation: None,
            notes: Vec::new(),
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

/// Is this a Redis container, and which kind? By command first, then by image.
fn classify(c: &Cursor) -> Option<Server> {
    let tokens: Vec<String> = [words(c, "command"), words(c, "args")].concat();
    let script = tokens.join(" ");
    let says = |names: &[&str]| {
        tokens.iter().any(|t| names.contains(&basename(t)))
            || script
                .split(|ch: char| ch.is_whitespace() || ch == ';' || ch == '&')
                .any(|w| names.contains(&basename(w)))
    };
    if says(&["redis-sentinel", "valkey-sentinel"]) || tokens.iter().any(|t| t == "--sentinel") {
        return Some(Server::Sentinel);
    }
    if says(&["redis-server", "valkey-server"]) {
        return Some(Server::Redis);
    }
    let image = c.str_at(&["image"])?;
    let name = image_name(split_image(image).0);
    let not_server = [
        "exporter",
        "operator",
        "insight",
        "commander",
        "proxy",
        "cli",
        "haproxy",
    ];
    if !(name.contains("redis") || name.contains("valkey"))
        || not_server.iter().any(|n| name.contains(n))
    {
        return None;
    }
    if name.contains("sentinel") {
        Some(Server::Sentinel)
    } else {
        Some(Server::Redis)
    }
}

/// Values of environment variables known offline: literal values, and `resourceFieldRef`
/// memory (the classic `--maxmemory $(LIMIT)` that equals the limit).
fn env_values(c: &Cursor, container: &crate::model::Container) -> Vec<(String, Option<String>)> {
    c.get("env")
        .map(|e| e.items())
        .unwrap_or_default()
        .iter()
        .filter_map(|e| {
            let name = e.str_at(&["name"])?.to_string();
            if let Some(v) = e.get("value") {
                return Some((name, Some(v.str().unwrap_or("").to_string())));
            }
            let field = e.at(&["valueFrom", "resourceFieldRef"]);
            let value = field.and_then(|f| {
                let bytes = match f.str_at(&["resource"])? {
                    "limits.memory" => container.limit_bytes()?,
                    "requests.memory" => container.request_bytes()?,
                    _ => return None,
                };
                let divisor = match f.str_at(&["divisor"]) {
                    Some(d) => crate::units::quantity::Quantity::parse(d).ok()?.bytes()?,
                    None => 1,
                }
                .max(1);
                // The kubelet rounds up (`convertResourceMemoryToString`).
                Some(bytes.div_ceil(divisor).to_string())
            });
            Some((name, value))
        })
        .collect()
}

/// Expand Kubernetes' `$(VAR)` (and, in shell scripts, `$VAR`/`${VAR}`). `Err(name)` when a
/// referenced variable's value is not known offline.
fn expand(text: &str, env: &[(String, Option<String>)], shell: bool) -> Result<String, String> {
    let mut out = String::new();
    let mut rest = text;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        let (name, len) = if let Some(inner) = after.strip_prefix("$(") {
            // `$$(VAR)` is a literal `$(VAR)`.
            out.push_str("$(");
            rest = inner;
            continue;
        } else if let Some(inner) = after.strip_prefix('(') {
            match inner.find(')') {
                Some(end) => (&inner[..end], end + 2),
                None => ("", 0),
            }
        } else if shell && let Some(inner) = after.strip_prefix('{') {
            match inner.find('}') {
                Some(end) => (&inner[..end], end + 2),
                None => ("", 0),
            }
        } else if shell {
            let end = after
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(after.len());
            (&after[..end], end)
        } else {
            ("", 0)
        };
        if name.is_empty() {
            out.push('$');
            rest = after;
            continue;
        }
        match env.iter().rev().find(|(n, _)| n == name) {
            Some((_, Some(v))) => out.push_str(v),
            Some((_, None)) => return Err(name.to_string()),
            // Kubernetes leaves unknown `$(VAR)` as written; a shell expands it to nothing.
            None if shell => return Err(name.to_string()),
            None => out.push_str(&rest[i..i + 1 + len]),
        }
        rest = &after[len..];
    }
    out.push_str(rest);
    Ok(out)
}

/// Files provided by the container's ConfigMap mounts.
#[derive(Default)]
struct Mounted {
    config_maps: Vec<ObjectId>,
    /// Mount directories whose ConfigMap is not in the input.
    missing: Vec<(String, String)>,
    /// Every ConfigMap key of the pod, by file name, for configs an init container copies.
    candidates: Vec<(String, Loc, crate::source::Scalar)>,
}

fn mount_files(
    ctx: &mut Ctx,
    id: ObjectId,
    pod_spec: &Cursor,
    container: &Cursor,
    asm: &mut Assembly,
) -> Mounted {
    let namespace = ctx.object(id).namespace_or_default().to_string();
    let volumes = pod_spec
        .get("volumes")
        .map(|v| v.items())
        .unwrap_or_default();
    let mut mounted = Mounted::default();
    // Every ConfigMap volume of the pod, for the init-container copy case.
    for v in &volumes {
        let Some(cm) = v.get("configMap") else {
            continue;
        };
        let Some(cm_id) = cm
            .str_at(&["name"])
            .and_then(|n| ctx.find("ConfigMap", &namespace, n))
        else {
            continue;
        };
        for (key, value) in ctx
            .root(cm_id)
            .get("data")
            .map(|d| d.entries())
            .unwrap_or_default()
        {
            if let Some(s) = value.node.scalar() {
                mounted
                    .candidates
                    .push((key.to_string(), loc(cm_id, &value), s.clone()));
            }
        }
    }
    let mounts = container
        .get("volumeMounts")
        .map(|m| m.items())
        .unwrap_or_default();
    for m in &mounts {
        let (Some(name), Some(mount_path)) = (m.str_at(&["name"]), m.str_at(&["mountPath"])) else {
            continue;
        };
        let claim = ctx
            .root(id)
            .at(&["spec", "volumeClaimTemplates"])
            .map(|c| c.items())
            .unwrap_or_default()
            .iter()
            .any(|c| c.str_at(&["metadata", "name"]) == Some(name));
        let Some(volume) = volumes.iter().find(|v| v.str_at(&["name"]) == Some(name)) else {
            if claim {
                continue;
            }
            ctx.problem(
                loc(id, m),
                format!("volumeMount `{name}` names no volume of the pod"),
            );
            continue;
        };
        let sources: Vec<Cursor> = match (volume.get("configMap"), volume.get("projected")) {
            (Some(cm), _) => vec![cm],
            (None, Some(p)) => p
                .get("sources")
                .map(|s| s.items())
                .unwrap_or_default()
                .iter()
                .filter_map(|s| s.get("configMap"))
                .collect(),
            _ => Vec::new(),
        };
        let sub_path = m.str_at(&["subPath"]);
        for cm in sources {
            let Some(cm_name) = cm.str_at(&["name"]) else {
                continue;
            };
            let Some(cm_id) = ctx.find("ConfigMap", &namespace, cm_name) else {
                mounted
                    .missing
                    .push((mount_path.to_string(), cm_name.to_string()));
                continue;
            };
            mounted.config_maps.push(cm_id);
            if sub_path.is_none() {
                asm.known_dir(mount_path);
            }
            let data = ctx.root(cm_id).get("data");
            // key → file name inside the volume (`items` restricts and renames).
            let files: Vec<(String, String)> = match cm.get("items") {
                Some(items) => items
                    .items()
                    .iter()
                    .filter_map(|i| Some((i.str_at(&["key"])?.into(), i.str_at(&["path"])?.into())))
                    .collect(),
                None => data
                    .as_ref()
                    .map(|d| d.entries())
                    .unwrap_or_default()
                    .iter()
                    .map(|(k, _)| (k.to_string(), k.to_string()))
                    .collect(),
            };
            for (key, file) in files {
                let path = match sub_path {
                    Some(sp) if sp == file => mount_path.to_string(),
                    Some(_) => continue,
                    None => format!("{}/{file}", mount_path.trim_end_matches('/')),
                };
                match data.as_ref().and_then(|d| d.get(&key)) {
                    Some(v) => {
                        if let Some(s) = v.node.scalar() {
                            asm.file_from_scalar(&path, s, &loc(cm_id, &v));
                        }
                    }
                    None => ctx.problem(
                        loc(id, &cm),
                        format!("ConfigMap {cm_name} has no key `{key}` (mounted at {path})"),
                    ),
                }
            }
        }
    }
    mounted
}

/// The redis-server arguments of a container, from command/args (or a shell script).
fn read_command(
    id: ObjectId,
    c: &Cursor,
    env: &[(String, Option<String>)],
    mounted: &Mounted,
    asm: &mut Assembly,
) {
    let mut tokens: Vec<Arg> = Vec::new();
    for key in ["command", "args"] {
        for item in c.get(key).map(|v| v.items()).unwrap_or_default() {
            if let Some(text) = item.str() {
                tokens.push(Arg {
                    text: text.to_string(),
                    cursor: item,
                    offset: 0,
                });
            }
        }
    }
    let has_command = c.get("command").is_some();
    let servers = [
        "redis-server",
        "valkey-server",
        "redis-sentinel",
        "valkey-sentinel",
    ];
    let (argv, shell): (Vec<Arg>, bool) = if let Some(i) = tokens
        .iter()
        .position(|t| servers.contains(&basename(&t.text)))
    {
        (tokens.into_iter().skip(i + 1).collect(), false)
    } else if let Some(script) = tokens.iter().find(|t| {
        t.text
            .split_whitespace()
            .any(|w| servers.contains(&basename(w)))
    }) {
        (script_args(script, &servers), true)
    } else if has_command {
        let shown: Vec<&str> = tokens.iter().map(|t| t.text.as_str()).collect();
        asm.gap(format!(
            "redis-server is started by `{}`: its options are not visible",
            shown.join(" ")
        ));
        return;
    } else if tokens
        .first()
        .is_some_and(|t| t.text.starts_with('-') || t.text.ends_with(".conf"))
    {
        // docker-entrypoint.sh runs `redis-server "$@"` for such arguments.
        (tokens, false)
    } else if tokens.is_empty() {
        // The image's default command: `redis-server` with no configuration file — for the
        // official images. Others (Bitnami's run script, custom builds) configure Redis
        // their own way.
        let image = c.str_at(&["image"]).unwrap_or("");
        if !is_official_image(image) {
            asm.gap(format!(
                "image {image} is not an official Redis/Valkey image: its default command \
                     and configuration are not visible"
            ));
        }
        (Vec::new(), false)
    } else {
        asm.gap(format!(
            "the container runs `{}`, not redis-server directly",
            tokens[0].text
        ));
        return;
    };
    let mut skipping = false;
    for (i, arg) in argv.iter().enumerate() {
        let at = Loc {
            object: id,
            pointer: arg.cursor.pointer.clone(),
            pos: arg
                .cursor
                .node
                .scalar()
                .and_then(|s| s.pos_at(arg.offset))
                .or(arg.cursor.pos()),
        };
        if arg.text.starts_with("--") {
            skipping = false;
        } else if skipping {
            continue;
        }
        match expand(&arg.text, env, shell) {
            Ok(text) if i == 0 && !text.starts_with('-') => {
                config_file_arg(text, at, mounted, asm);
            }
            Ok(text) => asm.push_arg(text, Some(at)),
            Err(var) => {
                let name = if arg.text.starts_with("--") {
                    arg.text[2..]
                        .split_whitespace()
                        .next()
                        .unwrap_or("")
                        .to_string()
                } else {
                    asm.pop_option()
                };
                asm.unknown(
                    &name,
                    format!("`{name}` is set from ${{{var}}}, whose value is not known offline"),
                );
                skipping = true;
            }
        }
    }
}

/// `redis`, `library/redis`, `docker.io/library/redis`, `valkey/valkey` (any tag): images
/// whose default command is a bare `redis-server`/`valkey-server`.
fn is_official_image(image: &str) -> bool {
    let repo = split_image(image).0;
    let repo = repo
        .strip_prefix("docker.io/")
        .or_else(|| repo.strip_prefix("index.docker.io/"))
        .unwrap_or(repo);
    matches!(repo, "redis" | "library/redis" | "valkey/valkey")
}

/// The words after `redis-server` in a shell script, up to the end of that command.
fn script_args<'a>(script: &Arg<'a>, servers: &[&str]) -> Vec<Arg<'a>> {
    let text = &script.text;
    let mut words = Vec::new();
    let mut started = false;
    let mut i = 0;
    let bytes = text.as_bytes();
    while i < bytes.len() {
        let c = bytes[i];
        if c.is_ascii_whitespace() {
            if c == b'\n' && started {
                // A line break ends the command unless escaped.
                if !text[..i].ends_with('\\') {
                    break;
                }
            }
            i += 1;
            continue;
        }
        if matches!(c, b';' | b'&' | b'|' | b')') || text[i..].starts_with("#") {
            if started {
                break;
            }
            i += 1;
            continue;
        }
        // One shell word, with simple quoting.
        let start = i;
        let mut word = String::new();
        while i < bytes.len()
            && !bytes[i].is_ascii_whitespace()
            && !matches!(bytes[i], b';' | b'&' | b'|')
        {
            match bytes[i] {
                q @ (b'"' | b'\'') => {
                    let end = text[i + 1..]
                        .find(q as char)
                        .map_or(text.len(), |e| i + 1 + e);
                    word.push_str(&text[i + 1..end]);
                    i = (end + 1).min(text.len());
                }
                b'\\' if i + 1 < bytes.len() => {
                    if bytes[i + 1] != b'\n' {
                        word.push(text[i + 1..].chars().next().unwrap_or('\\'));
                    }
                    i += 1 + text[i + 1..].chars().next().map_or(1, char::len_utf8);
                }
                _ => {
                    let ch = text[i..].chars().next().unwrap_or(' ');
                    word.push(ch);
                    i += ch.len_utf8();
                }
            }
        }
        if started {
            words.push(Arg {
                text: word,
                cursor: script.cursor.clone(),
                offset: start,
            });
        } else if servers.contains(&basename(&word)) {
            started = true;
        }
    }
    words
}

/// The configuration file argument: from a mounted ConfigMap, or copied there by an init
/// container from one, or not knowable.
fn config_file_arg(path: String, at: Loc, mounted: &Mounted, asm: &mut Assembly) {
    let absolute = if path.starts_with('/') {
        path.clone()
    } else {
        format!("{WORKDIR}/{path}")
    };
    if asm.has_file(&absolute) {
        asm.push_arg(path, Some(at));
        return;
    }
    if let Some((dir, cm)) = mounted
        .missing
        .iter()
        .find(|(dir, _)| absolute.starts_with(&format!("{}/", dir.trim_end_matches('/'))))
    {
        asm.gap(format!(
            "{absolute} comes from ConfigMap {cm} (mounted at {dir}), which is not in the input"
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
        Some(v) if v.node.get("emptyDir").is_some() => DataVolume::EmptyDir { at: loc(id, v) },
        Some(v) if v.get("persistentVolumeClaim").is_some() => DataVolume::Claim {
            size_bytes: None,
            access_modes: Vec::new(),
            at: loc(id, v),
        },
        _ => DataVolume::Unknown,
    }
}

/// A PersistentVolumeClaim (template): size and access modes.
pub fn claim_volume(id: ObjectId, claim: &Cursor) -> DataVolume {
    let size_bytes = claim
        .str_at(&["spec", "resources", "requests", "storage"])
        .and_then(|s| crate::units::quantity::Quantity::parse(s).ok()?.bytes());
    DataVolume::Claim {
        size_bytes,
        access_modes: claim
            .at(&["spec", "accessModes"])
            .map(|a| a.items())
            .unwrap_or_default()
            .iter()
            .filter_map(|m| m.str().map(str::to_string))
            .collect(),
        at: loc(id, claim),
    }
}

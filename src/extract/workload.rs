//! StatefulSets, Deployments, ReplicaSets, DaemonSets, Pods and KubeBlocks InstanceSets whose
//! containers run redis-server, valkey-server or sentinel, with the configuration they read:
//! command/args → volumeMounts → `volumes[].configMap` (with `items`) → ConfigMap data.

use crate::model::{
    DataVolume, Deployment, Loc, ObjectId, Origin, Platform, Problem, Product, Role,
};
use crate::source::Cursor;

use super::Ctx;
use super::common::{
    anti_affinity, dialect, loc, located_i64, located_str, pod_container, string_map,
};
use super::config::{Assembly, SynthLine};
use super::image::ImageRef;
use super::shell;

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
        read_command(&launch, &env, &mounted, &init, &mut asm);
        let config = asm.finish(dialect(engine, version.as_ref()));
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
        let data = if role == Role::Sentinel {
            DataVolume::None
        } else {
            data_volume(id, &root, &pod_spec, c, &data_dir)
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
            anti_affinity: anti_affinity(id, &pod_spec),
            topology_spread: pod_spec.get("topologySpreadConstraints").is_some(),
            pdb: None,
            selector: selector.clone(),
            pod_labels: pod_labels.clone(),
            related: mounted.config_maps.clone(),
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

/// What a container runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Process {
    Server,
    Sentinel,
}

const SERVERS: [&str; 2] = ["redis-server", "valkey-server"];
const SENTINELS: [&str; 2] = ["redis-sentinel", "valkey-sentinel"];
const SHELLS: [&str; 5] = ["sh", "bash", "ash", "dash", "zsh"];

/// How a container starts its server: the process, the words after the program (from
/// command/args or from the script that runs it), and what could not be followed.
struct Launch<'a> {
    process: Process,
    engine: Product,
    argv: Vec<Arg<'a>>,
    /// The words come from a shell script: `$VAR` and `${VAR}` expand.
    shell: bool,
    /// A configuration file a script copies from a mounted file: (destination, source).
    copies: Vec<(String, String)>,
    /// What hides the options (a script not in the input, an image's own start-up).
    gaps: Vec<String>,
    notes: Vec<String>,
    /// Where relative paths and the default `dir` point.
    workdir: &'static str,
}

/// Builds a [`Launch`] from the process, the program name, its arguments and whether they
/// come from a shell script.
type MakeLaunch<'a, 'f> = dyn Fn(Process, &str, Vec<Arg<'a>>, bool) -> Launch<'a> + 'f;

/// Containers worth following: their image or words name an engine, or they run a script.
fn worth_reading(c: &Cursor) -> bool {
    let image = c.str_at(&["image"]).unwrap_or("");
    let mentions = |t: &str| {
        let t = t.to_ascii_lowercase();
        t.contains("redis") || t.contains("valkey") || t.contains("sentinel")
    };
    mentions(image)
        || [words(c, "command"), words(c, "args")]
            .concat()
            .iter()
            .any(|w| mentions(w) || w.ends_with(".sh"))
}

/// Decides what a container runs, from its command and args, the scripts they run (inline
/// or mounted from a ConfigMap), and the image's default start-up. `None`: not a server
/// (an exporter, a shell loop, a `redis-cli` job, an init script).
fn recognize<'a>(id: ObjectId, c: &Cursor<'a>, mounted: &Mounted<'a>) -> Option<Launch<'a>> {
    let mut out = recognize_launch(id, c, mounted)?;
    // A server whose options are not visible, in a container named for a sentinel or told to
    // be one by the environment (kubernetes/examples' `SENTINEL=true`): a sentinel.
    let sentinel_env = c
        .get("env")
        .map(|e| e.items())
        .unwrap_or_default()
        .iter()
        .any(|e| e.str_at(&["name"]) == Some("SENTINEL") && e.str_at(&["value"]) == Some("true"));
    let named = c.str_at(&["name"]).unwrap_or("").contains("sentinel");
    if out.process == Process::Server && out.argv.is_empty() && (sentinel_env || named) {
        out.process = Process::Sentinel;
        out.notes
            .push("a sentinel, by its container name or SENTINEL=true".to_string());
    }
    Some(out)
}

fn recognize_launch<'a>(id: ObjectId, c: &Cursor<'a>, mounted: &Mounted<'a>) -> Option<Launch<'a>> {
    let image_text = c.str_at(&["image"]).unwrap_or("");
    let image = ImageRef::parse(image_text);
    let image_engine = image.engine();
    let name = image.name().to_ascii_lowercase();
    let not_server = [
        "exporter",
        "operator",
        "insight",
        "commander",
        "proxy",
        "cli",
        "haproxy",
        "metrics",
        "envoy",
        "twemproxy",
        "predixy",
    ];
    if not_server.iter().any(|n| name.contains(n)) {
        return None;
    }
    let workdir = if image.is_bitnami() {
        BITNAMI_WORKDIR
    } else {
        WORKDIR
    };
    let mut tokens: Vec<Arg> = Vec::new();
    for key in ["command", "args"] {
        for item in c.get(key).map(|v| v.items()).unwrap_or_default() {
            if let Some(text) = item.str() {
                tokens.push(Arg {
                    text: text.to_string(),
                    object: id,
                    cursor: item,
                    offset: 0,
                });
            }
        }
    }
    let launch = |process, program: &str, argv: Vec<Arg<'a>>, shell: bool| {
        // `valkey-server` is Valkey whatever the image; `redis-server` in a Valkey image is
        // its compatibility link to valkey-server.
        let engine = if program.starts_with("valkey") {
            Product::Valkey
        } else {
            image_engine.unwrap_or(Product::Redis)
        };
        let sentinel_conf = argv
            .iter()
            .take(1)
            .any(|a| !a.text.starts_with('-') && basename(&a.text).contains("sentinel"));
        let process = if process == Process::Server
            && (sentinel_conf
                || argv
                    .iter()
                    .any(|a| a.text.eq_ignore_ascii_case("--sentinel")))
        {
            Process::Sentinel
        } else {
            process
        };
        Launch {
            process,
            engine,
            argv,
            shell,
            copies: Vec::new(),
            gaps: Vec::new(),
            notes: Vec::new(),
            workdir,
        }
    };
    let has_command = c.get("command").is_some();
    // The official images' entrypoint runs `redis-server "$@"` for options and .conf files.
    let options_only = !has_command
        && tokens
            .first()
            .is_some_and(|t| t.text.starts_with('-') || t.text.ends_with(".conf"));
    if tokens.is_empty() || options_only {
        if !image.is_official() && !image.is_bitnami() && !serves_redis_port(c) {
            // A client application whose image name says redis (`hello-app-redis`).
            return None;
        }
        return image_default(&image, image_engine?, tokens, workdir);
    }
    // A server named among the words: the program before it is a wrapper that runs its
    // arguments (`/conf/fix-ip.sh redis-server /conf/redis.conf`, `tini -- redis-server`).
    if let Some(i) = tokens.iter().position(|t| {
        let p = basename(&t.text);
        SERVERS.contains(&p) || SENTINELS.contains(&p)
    }) {
        let program = basename(&tokens[i].text).to_string();
        let process = if SENTINELS.contains(&program.as_str()) {
            Process::Sentinel
        } else {
            Process::Server
        };
        let wrapper = (i > 0).then(|| tokens[0].text.clone());
        let mut out = launch(process, &program, tokens.split_off(i + 1), false);
        if let Some(w) = wrapper {
            out.notes.push(format!(
                "started through `{w}`, which is taken to run its arguments"
            ));
        }
        return Some(out);
    }
    // The program and what follows: skip wrappers (`tini --`, `docker-entrypoint.sh`,
    // `/usr/bin/env`) until a server, a shell or a script.
    let mut i = 0;
    while i < tokens.len() {
        let program = basename(&tokens[i].text).to_string();
        let program = program.as_str();
        if SHELLS.contains(&program) {
            // `sh -c SCRIPT` (flags such as `-e`, `-ec`, `-x` may come first), or `sh FILE`.
            let rest = &tokens[i + 1..];
            let mut j = 0;
            while j < rest.len() && rest[j].text.starts_with('-') && !rest[j].text.contains('c') {
                j += 1;
            }
            if let Some(flag) = rest.get(j)
                && flag.text.starts_with('-')
            {
                let script = rest.get(j + 1)?;
                return from_script(
                    &script.text,
                    script.object,
                    script.cursor.clone(),
                    &image,
                    image_engine,
                    workdir,
                    mounted,
                    &launch,
                );
            }
            let file = rest.get(j)?;
            return from_script_file(&file.text, &image, image_engine, workdir, mounted, &launch);
        }
        let wrapper = matches!(
            program,
            "tini" | "dumb-init" | "env" | "--" | "docker-entrypoint.sh"
        ) || program.starts_with('-');
        if !wrapper {
            return from_script_file(
                &tokens[i].text,
                &image,
                image_engine,
                workdir,
                mounted,
                &launch,
            );
        }
        i += 1;
    }
    None
}

/// The container declares no ports, or a Redis/Sentinel port (6379, 26379, 7000–7010, a
/// port named for the engine).
/// Redis speaks no HTTP: an `httpGet` or `grpc` probe is an application's.
fn serves_redis_port(c: &Cursor) -> bool {
    let http = ["livenessProbe", "readinessProbe", "startupProbe"]
        .iter()
        .any(|p| c.at(&[p, "httpGet"]).is_some() || c.at(&[p, "grpc"]).is_some());
    let ports = c.get("ports").map(|p| p.items()).unwrap_or_default();
    !http && ports.is_empty()
        || ports.iter().any(|p| {
            let number = p.get("containerPort").and_then(|n| n.i64()).unwrap_or(0);
            let name = p.str_at(&["name"]).unwrap_or("").to_ascii_lowercase();
            matches!(number, 6379 | 6380 | 26379 | 7000..=7010)
                || name.contains("redis")
                || name.contains("valkey")
                || name.contains("sentinel")
        })
}

/// A container with no command (or only options): what the image starts by itself.
fn image_default<'a>(
    image: &ImageRef,
    engine: Product,
    tokens: Vec<Arg<'a>>,
    workdir: &'static str,
) -> Option<Launch<'a>> {
    let sentinel = image.name().contains("sentinel");
    let mut gaps = Vec::new();
    if image.is_bitnami() {
        gaps.push(format!(
            "image {} starts {} through its own scripts (configuration from the image and \
             the container's environment): its options are not visible",
            image.path,
            if sentinel { "a sentinel" } else { "the server" }
        ));
    } else if !image.is_official() {
        gaps.push(format!(
            "image {} is not an official Redis/Valkey image: its default command and \
             configuration are not visible",
            image.path
        ));
    }
    Some(Launch {
        process: if sentinel {
            Process::Sentinel
        } else {
            Process::Server
        },
        engine,
        argv: tokens,
        shell: false,
        copies: Vec::new(),
        gaps,
        notes: Vec::new(),
        workdir,
    })
}

/// A program that is a file: a script from a mounted ConfigMap is read; one that is not in
/// the input is a server only where the image is an engine's (its options then unknown).
fn from_script_file<'a>(
    path: &str,
    image: &ImageRef,
    image_engine: Option<Product>,
    workdir: &'static str,
    mounted: &Mounted<'a>,
    launch: &MakeLaunch<'a, '_>,
) -> Option<Launch<'a>> {
    let absolute = if path.starts_with('/') {
        path.to_string()
    } else {
        format!("{workdir}/{path}")
    };
    if let Some((object, cursor)) = mounted.file(&absolute)
        && let Some(scalar) = cursor.node.scalar()
    {
        let mut out = script_launch(read_script(&scalar.text), object, cursor.clone(), launch)?;
        out.notes
            .push(format!("started by {absolute}, read from its ConfigMap"));
        return Some(out);
    }
    // Not in the input: the image decides whether it is a server at all.
    let engine = image_engine?;
    if !path.ends_with(".sh")
        && !basename(path).contains("run")
        && !basename(path).contains("entrypoint")
    {
        return None;
    }
    let mut out = image_default(image, engine, Vec::new(), workdir)?;
    out.gaps = vec![format!(
        "the server is started by {absolute}, which is not in the input: its options are \
         not visible"
    )];
    Some(out)
}

/// A shell script: the line that starts a server, with arrays expanded and files copied;
/// or, when it starts none itself, the first script it runs that does.
#[allow(clippy::too_many_arguments)]
fn from_script<'a>(
    text: &str,
    object: ObjectId,
    cursor: Cursor<'a>,
    image: &ImageRef,
    image_engine: Option<Product>,
    workdir: &'static str,
    mounted: &Mounted<'a>,
    launch: &MakeLaunch<'a, '_>,
) -> Option<Launch<'a>> {
    let script = read_script(text);
    if script.launch.is_some() {
        return script_launch(script, object, cursor, launch);
    }
    // A script that runs another (`bash -c /opt/…/start-master.sh`): follow it, one level
    // only (a script that runs itself must not recurse).
    script
        .runs
        .iter()
        .find_map(|path| from_script_file(path, image, image_engine, workdir, mounted, launch))
}

/// A script, with the programs that start a server or a sentinel.
fn read_script(text: &str) -> shell::Script {
    shell::read(text, |p| SERVERS.contains(&p) || SENTINELS.contains(&p))
}

/// The launch a script's server line makes; `None` when the script starts no server.
fn script_launch<'a>(
    script: shell::Script,
    object: ObjectId,
    cursor: Cursor<'a>,
    launch: &MakeLaunch<'a, '_>,
) -> Option<Launch<'a>> {
    let words = script.launch?;
    let first = words.first()?;
    let program = basename(&first.text).to_string();
    let argv: Vec<Arg> = words[1..]
        .iter()
        .map(|w| Arg {
            text: w.text.clone(),
            object,
            cursor: cursor.clone(),
            offset: w.offset,
        })
        .collect();
    let process = if SENTINELS.contains(&program.as_str()) {
        Process::Sentinel
    } else {
        Process::Server
    };
    let mut out = launch(process, &program, argv, true);
    out.copies = script.copies;
    Some(out)
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

/// For each exec probe that runs a file mounted from a ConfigMap of the input (Bitnami's
/// `/health/ping_liveness_local.sh 5`), the file's text: what the probe accepts is there.
fn read_probe_scripts(container: &mut crate::model::Container, mounted: &Mounted) {
    let probes = &mut container.probes;
    for probe in [
        &mut probes.liveness,
        &mut probes.readiness,
        &mut probes.startup,
    ]
    .into_iter()
    .flatten()
    {
        let crate::model::Handler::Exec(command) = &probe.handler else {
            continue;
        };
        let Some((path, _, cursor)) = mounted.script_in(command.iter().map(String::as_str)) else {
            continue;
        };
        let Some(text) = cursor.str() else { continue };
        // One level of the scripts it runs from its own directory (Bitnami's
        // `"$script_dir/ping_liveness_local.sh" $1` in `ping_liveness_local_and_master.sh`).
        let dir = path.rsplit_once('/').map_or("", |(d, _)| d);
        let mut script = text.to_string();
        for word in text.split_whitespace() {
            let name = basename(word.trim_matches(|c| c == '"' || c == '\''));
            if name.ends_with(".sh")
                && let Some(other) = mounted.file(&format!("{dir}/{name}"))
                && let Some(other) = other.1.str()
                && other != text
            {
                script.push('\n');
                script.push_str(other);
            }
        }
        probe.script = Some(script);
    }
}

/// Files provided by the container's ConfigMap mounts.
#[derive(Default)]
struct Mounted<'a> {
    config_maps: Vec<ObjectId>,
    /// Every mounted file: its path in the container, the ConfigMap and the value.
    files: Vec<(String, ObjectId, Cursor<'a>)>,
    /// Mount directories whose files all come from ConfigMaps of the input.
    known_dirs: Vec<String>,
    /// Mount directories whose ConfigMap is not in the input: mount path, ConfigMap name,
    /// why it was not found.
    missing: Vec<(String, String, &'static str)>,
    /// Every ConfigMap key of the pod, by file name, for configs an init container copies.
    candidates: Vec<(String, Loc, crate::source::Scalar)>,
}

impl<'a> Mounted<'a> {
    /// Hands every mounted file, and the directories whose files all come from the input,
    /// to the reader.
    fn offer(&self, asm: &mut Assembly) {
        for dir in &self.known_dirs {
            asm.known_dir(dir);
        }
        for (path, object, cursor) in &self.files {
            if let Some(scalar) = cursor.node.scalar() {
                asm.file_from_scalar(path, scalar, &loc(*object, cursor));
            }
        }
    }

    /// The first mounted file that words of a command name (`sh -c "/health/ping.sh 5"`):
    /// its path, ConfigMap and value.
    fn script_in<'w>(
        &self,
        words: impl Iterator<Item = &'w str>,
    ) -> Option<(&'w str, ObjectId, &Cursor<'a>)> {
        words
            .flat_map(str::split_whitespace)
            .map(|w| w.trim_matches(|c| c == '"' || c == '\''))
            .filter(|w| w.starts_with('/'))
            .find_map(|path| {
                let (object, cursor) = self.file(path)?;
                Some((path, object, cursor))
            })
    }

    /// The mounted file at `path`.
    fn file(&self, path: &str) -> Option<(ObjectId, &Cursor<'a>)> {
        self.files
            .iter()
            .find(|(p, _, _)| p == path)
            .map(|(_, id, c)| (*id, c))
    }
}

fn mount_files<'a>(
    ctx: &mut Ctx<'a>,
    id: ObjectId,
    pod_spec: &Cursor,
    container: &Cursor,
) -> Mounted<'a> {
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
            .get("name")
            .and_then(|n| ctx.find(&loc(id, &n), "ConfigMap", &namespace, n.str()?))
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
            let at = cm.get("name").map_or_else(|| loc(id, &cm), |n| loc(id, &n));
            let Some(cm_id) = ctx.find(&at, "ConfigMap", &namespace, cm_name) else {
                mounted.missing.push((
                    mount_path.to_string(),
                    cm_name.to_string(),
                    ctx.why_missing("ConfigMap", &namespace, cm_name),
                ));
                continue;
            };
            mounted.config_maps.push(cm_id);
            if sub_path.is_none() {
                mounted.known_dirs.push(mount_path.to_string());
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
                        if v.node.scalar().is_some() {
                            mounted.files.push((path.clone(), cm_id, v.clone()));
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

/// What one init container's script writes into files.
struct InitWrites<'a> {
    container: String,
    /// The script's text and place (a mounted ConfigMap key, or an inline `sh -c` argument).
    object: ObjectId,
    cursor: Cursor<'a>,
    writes: Vec<shell::Write>,
    mounted: Mounted<'a>,
}

/// The writes of every init container that runs a script: inline (`sh -c "…"`) or a file
/// mounted from a ConfigMap of the input. Problems of their mounts are not the server's.
fn init_writes<'a>(ctx: &mut Ctx<'a>, id: ObjectId, pod_spec: &Cursor<'a>) -> Vec<InitWrites<'a>> {
    let mut out = Vec::new();
    for c in pod_spec
        .get("initContainers")
        .map(|v| v.items())
        .unwrap_or_default()
    {
        let before = ctx.problems.len();
        let mounted = mount_files(ctx, id, pod_spec, &c);
        ctx.problems.truncate(before);
        let items: Vec<Cursor> = ["command", "args"]
            .iter()
            .flat_map(|k| c.get(k).map(|v| v.items()).unwrap_or_default())
            .collect();
        let inline = items
            .windows(2)
            .find(|w| {
                w[0].str()
                    .is_some_and(|t| t.starts_with('-') && t.contains('c'))
            })
            .map(|w| (id, w[1].clone()));
        let file = mounted
            .script_in(items.iter().filter_map(Cursor::str))
            .map(|(_, object, cursor)| (object, cursor.clone()));
        let Some((object, cursor)) = file.or(inline) else {
            continue;
        };
        let Some(text) = cursor.str() else { continue };
        let writes = read_script(text).writes;
        if writes.is_empty() {
            continue;
        }
        out.push(InitWrites {
            container: c.str_at(&["name"]).unwrap_or("").to_string(),
            object,
            cursor,
            writes,
            mounted,
        });
    }
    out
}

/// The file at `path` as the init containers' scripts leave it, line by line with where each
/// line comes from; `None` when no init container writes it.
fn written_by_init(path: &str, init: &[InitWrites], asm: &mut Assembly) -> Option<Vec<SynthLine>> {
    let mut lines: Vec<SynthLine> = Vec::new();
    let mut writer = None;
    for w in init {
        let origin = Origin::InitScript {
            container: w.container.clone(),
        };
        let scalar = w.cursor.node.scalar();
        let at = |offset: usize| Loc {
            object: w.object,
            pointer: w.cursor.pointer.clone(),
            pos: scalar.and_then(|s| s.pos_at(offset)).or(w.cursor.pos()),
        };
        for write in w.writes.iter().filter(|x| x.path() == path) {
            writer = Some(w.container.clone());
            match write {
                shell::Write::Truncate { .. } => lines.clear(),
                shell::Write::Line {
                    text,
                    offset,
                    conditional,
                    ..
                } => {
                    if text.contains('$') || *conditional {
                        let name = text.split_whitespace().next().unwrap_or("").to_string();
                        let why = if *conditional {
                            "only under a condition of its script"
                        } else {
                            "from a run-time value"
                        };
                        asm.unknown(
                            &name,
                            format!(
                                "`{name}` is written by init container `{}` {why}",
                                w.container
                            ),
                        );
                        continue;
                    }
                    // Point at the text, inside its quotes.
                    let quoted = scalar.is_some_and(|s| {
                        matches!(s.text.as_bytes().get(*offset), Some(b'"' | b'\''))
                    });
                    lines.push(SynthLine {
                        text: text.clone(),
                        origin: origin.clone(),
                        at: Some(at(offset + usize::from(quoted))),
                    });
                }
                shell::Write::Append { source, offset, .. } => {
                    let files: Vec<(String, ObjectId, &Cursor)> = match source.strip_suffix("/*") {
                        Some(dir) => w
                            .mounted
                            .files
                            .iter()
                            .filter(|(p, _, _)| p.starts_with(&format!("{dir}/")))
                            .map(|(p, o, c)| (p.clone(), *o, c))
                            .collect(),
                        None => w
                            .mounted
                            .file(source)
                            .map(|(o, c)| (source.clone(), o, c))
                            .into_iter()
                            .collect(),
                    };
                    if files.is_empty() {
                        // `if [ -f … ]; then cat … >> …`: nothing is mounted there.
                        asm.note(format!(
                            "{path}: init container `{}` appends {source} where present; \
                             nothing is mounted there",
                            w.container
                        ));
                    }
                    // The appended file is read where it is mounted, as an `include` at
                    // this point: its lines keep their own places (and fixes edit them there).
                    for (file, object, cursor) in files {
                        let Some(file_scalar) = cursor.node.scalar() else {
                            continue;
                        };
                        asm.file_from_scalar(&file, file_scalar, &loc(object, cursor));
                        lines.push(SynthLine {
                            text: format!("include {file}"),
                            origin: origin.clone(),
                            at: Some(at(*offset)),
                        });
                    }
                }
            }
        }
    }
    let writer = writer?;
    asm.note(format!(
        "{path} is written by init container `{writer}`, read from its script"
    ));
    Some(lines)
}

/// The server's arguments, as the container (or its script) passes them.
fn read_command(
    launch: &Launch,
    env: &[(String, Option<String>)],
    mounted: &Mounted,
    init: &[InitWrites],
    asm: &mut Assembly,
) {
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
        let at = Loc {
            object: arg.object,
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

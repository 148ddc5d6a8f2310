//! How a container starts Redis: `redis-server` and its arguments, a shell script that runs
//! it, an image's default command; the environment the arguments expand, the scripts its
//! probes run.

use super::*;

/// What a container runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Process {
    Server,
    Sentinel,
}

/// A server program of an engine redline models (`redis-server`, `keydb-server`, …).
pub(super) fn is_server(program: &str) -> bool {
    Product::of_server(program).is_some()
}
pub(super) const SENTINELS: [&str; 3] = ["redis-sentinel", "valkey-sentinel", "keydb-sentinel"];
pub(super) const SHELLS: [&str; 5] = ["sh", "bash", "ash", "dash", "zsh"];

/// How a container starts its server: the process, the words after the program (from
/// command/args or from the script that runs it), and what could not be followed.
pub(super) struct Launch<'a> {
    pub(super) process: Process,
    pub(super) engine: Product,
    pub(super) argv: Vec<Arg<'a>>,
    /// The words come from a shell script: `$VAR` and `${VAR}` expand.
    pub(super) shell: bool,
    /// A configuration file a script copies from a mounted file: (destination, source).
    pub(super) copies: Vec<(String, String)>,
    /// A configuration file the image ships (KeyDB's /etc/keydb/keydb.conf), available to
    /// the command line unless a mount replaces it.
    pub(super) image_file: Option<ImageFile>,
    /// The image's default command names that file first (`CMD ["keydb-server", FILE]`).
    pub(super) image_file_first: bool,
    /// What hides the options (a script not in the input, an image's own start-up).
    pub(super) gaps: Vec<String>,
    pub(super) notes: Vec<String>,
    /// Where relative paths and the default `dir` point.
    pub(super) workdir: &'static str,
}

/// A file an image ships: its path, who wrote it, and its lines that differ from the server's
/// compiled-in defaults.
pub(super) struct ImageFile {
    pub(super) path: &'static str,
    pub(super) image: &'static str,
    pub(super) lines: &'static [&'static str],
}

/// `eqalpha/keydb`'s /etc/keydb/keydb.conf: KeyDB 6.3.4's keydb.conf with the image's edits
/// (Snapchat/KeyDB `pkg/docker/Dockerfile`: `bind` and `logfile` commented out, `dir /data`,
/// protected mode off), its lines that are not the compiled-in defaults.
pub(super) const KEYDB_CONF: ImageFile = ImageFile {
    path: "/etc/keydb/keydb.conf",
    image: "eqalpha/keydb",
    lines: &[
        "protected-mode no",
        "pidfile /var/run/keydb_6379.pid",
        "always-show-logo yes",
        "save 900 1",
        "save 300 10",
        "save 60 10000",
        "dir /data",
        "server-threads 2",
    ],
};

/// Builds a [`Launch`] from the process, the program name, its arguments and whether they
/// come from a shell script.
type MakeLaunch<'a, 'f> = dyn Fn(Process, &str, Vec<Arg<'a>>, bool) -> Launch<'a> + 'f;

/// Containers worth following: their image or words name an engine, or they run a script.
pub(super) fn worth_reading(c: &Cursor) -> bool {
    let image = c.str_at(&["image"]).unwrap_or("");
    let mentions = |t: &str| {
        let t = t.to_ascii_lowercase();
        ["redis", "valkey", "sentinel", "dragonfly", "keydb"]
            .iter()
            .any(|e| t.contains(e))
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
pub(super) fn recognize<'a>(
    id: ObjectId,
    c: &Cursor<'a>,
    mounted: &Mounted<'a>,
) -> Option<Launch<'a>> {
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

pub(super) fn recognize_launch<'a>(
    id: ObjectId,
    c: &Cursor<'a>,
    mounted: &Mounted<'a>,
) -> Option<Launch<'a>> {
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
        } else if program == "dragonfly" {
            Product::Dragonfly
        } else if program.starts_with("keydb") {
            Product::KeyDb
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
            image_file: image.is_keydb().then_some(KEYDB_CONF),
            image_file_first: false,
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
        if !image.is_official()
            && !image.is_bitnami()
            && !image.is_dragonfly()
            && !image.is_keydb()
            && !serves_redis_port(c)
        {
            // A client application whose image name says redis (`hello-app-redis`).
            return None;
        }
        return image_default(&image, image_engine?, tokens, workdir);
    }
    // A server named among the words: the program before it is a wrapper that runs its
    // arguments (`/conf/fix-ip.sh redis-server /conf/redis.conf`, `tini -- redis-server`).
    if let Some(i) = tokens.iter().position(|t| {
        let p = basename(&t.text);
        is_server(p) || SENTINELS.contains(&p)
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
pub(super) fn serves_redis_port(c: &Cursor) -> bool {
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
pub(super) fn image_default<'a>(
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
    } else if !image.is_official() && !image.is_dragonfly() && !image.is_keydb() {
        gaps.push(format!(
            "image {} is not an official Redis/Valkey image: its default command and \
             configuration are not visible",
            image.path
        ));
    }
    let image_file_first = image.is_keydb() && tokens.is_empty();
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
        image_file: image.is_keydb().then_some(KEYDB_CONF),
        image_file_first,
        gaps,
        notes: Vec::new(),
        workdir,
    })
}

/// A program that is a file: a script from a mounted ConfigMap is read; one that is not in
/// the input is a server only where the image is an engine's (its options then unknown).
pub(super) fn from_script_file<'a>(
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
pub(super) fn from_script<'a>(
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
pub(super) fn read_script(text: &str) -> shell::Script {
    shell::read(text, |p| is_server(p) || SENTINELS.contains(&p))
}

/// The launch a script's server line makes; `None` when the script starts no server.
pub(super) fn script_launch<'a>(
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
pub(crate) fn env_values(
    c: &Cursor,
    container: &crate::model::Container,
) -> Vec<(String, Option<String>)> {
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
pub(crate) fn expand(
    text: &str,
    env: &[(String, Option<String>)],
    shell: bool,
) -> Result<String, String> {
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
pub(super) fn read_probe_scripts(container: &mut crate::model::Container, mounted: &Mounted) {
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

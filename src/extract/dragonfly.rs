//! Dragonfly: absl command-line flags and `DFLY_<flag>` environment variables, read the way
//! `dragonfly` reads them, turned into the lines of its table (tools/engines/dragonfly-*.tsv)
//! so that the rules judge a Dragonfly as they judge a Redis. Facts from dragonflydb/dragonfly
//! v1.40.0 (`src/server/dfly_main.cc` `ParseFlagsFromEnv`, `RunEngine`) and its helio
//! submodule (`strings/human_readable.cc` `ParseHumanReadableBytes`, absl's flag parser).

use crate::model::{
    DataVolume, Deployment, Handler, Loc, Located, Memory, ObjectId, Origin, Platform, Probes,
    Product, Role, Version,
};
use crate::redisconf::directives::Kind;
use crate::redisconf::{Dialect, Engine, Release, StartupError};

use super::Ctx;
use super::assembly::{Assembly, SYNTHETIC_DIR, SynthLine};
use super::common::{
    absent, anti_affinity, container_at, loc, located_i64, located_str, operator_probe, resources,
    version_from_image,
};

/// One word of the command line (after the program), or one `DFLY_*` variable, with where it
/// is written; `Err(var)` when it expands a variable whose value is not known offline.
pub struct Word {
    /// As written (`--maxmemory=$(MAX_MEMORY)Mi`).
    pub raw: String,
    pub text: Result<String, String>,
    pub at: Loc,
}

impl Word {
    /// A word whose text is known: what the operator writes, or a literal.
    fn literal(text: String, at: Loc) -> Word {
        Word {
            raw: text.clone(),
            text: Ok(text),
            at,
        }
    }
}

/// The table Dragonfly's flags are read with: redline has one, its newest (how a size is read
/// follows the image's release: [`SizeSyntax`]).
pub fn dialect() -> Dialect {
    Dialect::Release(Release::newest(Engine::Dragonfly))
}

/// What a release accepts after the unit letter of a size (`--maxmemory`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SizeSyntax {
    /// Up to v1.35: only the first letter after the number is read (`512Mi`, `512MI` and
    /// `1Gigabytes` pass) — `src/facade/facade.cc` `ParseHumanReadableBytes`.
    FirstLetter,
    /// From v1.36 (`facade::MemoryBytesFlag` = helio's `strings::MemoryBytesFlag`): the
    /// letter, an optional `i`, an optional `B`/`b`, nothing else (helio#423, helio#523).
    UnitIB,
}

impl SizeSyntax {
    /// By the image's release (from the helio commit each tag pins); an unknown release is
    /// read as the newest.
    pub fn of(version: Option<&Version>) -> SizeSyntax {
        match version {
            // A bare major (`v1`) says no release line: read as the newest.
            Some(v) if v.major == 0 || v.minor.is_some() && !v.at_least(1, 36) => {
                SizeSyntax::FirstLetter
            }
            _ => SizeSyntax::UnitIB,
        }
    }
}

/// `ParseHumanReadableBytes`: a C `strtod` number, then one unit letter (`k m g t p e`, any
/// case, binary multiples) and what `syntax` allows after it; the result rounded to the
/// nearest byte. Refused: "Use human-readable format, eg.: 500MB, 1G, 1TB".
pub fn parse_bytes(text: &str, syntax: SizeSyntax) -> Option<u64> {
    let number_end = text
        .char_indices()
        .find(|&(i, c)| {
            !(c.is_ascii_digit() || c == '.' || (i == 0 && c == '+') || c == 'e' && i > 0)
        })
        .map_or(text.len(), |(i, _)| i);
    // `1e3` is a number to strtod, but a lone `e` after digits is the exabyte unit: take the
    // longest prefix that parses, as strtod does.
    let (value, rest) = (1..=number_end).rev().find_map(|end| {
        let n: f64 = text[..end].parse().ok()?;
        Some((n, &text[end..]))
    })?;
    if !value.is_finite() || value < 0.0 {
        return None;
    }
    let mut chars = rest.chars();
    let scale: u32 = match chars.next() {
        None => 0,
        Some(c) => match c.to_ascii_lowercase() {
            'b' => 0,
            'k' => 1,
            'm' => 2,
            'g' => 3,
            't' => 4,
            'p' => 5,
            'e' => 6,
            _ => return None,
        },
    };
    let after = chars.as_str();
    let accepted = match syntax {
        SizeSyntax::FirstLetter => true,
        // The letter is skipped, then an optional `i`, then an optional `B`.
        SizeSyntax::UnitIB => matches!(after.strip_prefix('i').unwrap_or(after), "" | "b" | "B"),
    };
    if !accepted {
        return None;
    }
    let bytes = value * f64::from(1u32 << 10).powi(scale as i32);
    (bytes < i64::MAX as f64).then_some((bytes + 0.5) as u64)
}

/// absl's booleans: `true`/`false`, `t`/`f`, `yes`/`no`, `y`/`n`, `1`/`0`, any case.
fn parse_bool(text: &str) -> Option<bool> {
    match text.to_ascii_lowercase().as_str() {
        "true" | "t" | "yes" | "y" | "1" => Some(true),
        "false" | "f" | "no" | "n" | "0" => Some(false),
        _ => None,
    }
}

/// The flags of the command line and the environment, as lines of the table in `asm`.
/// The command line wins over `DFLY_<flag>` (`WasPresentOnCommandLine`); flags the table does
/// not model are read past (their value word included) and not judged.
pub fn read(
    argv: &[Word],
    env: &[(String, Word)],
    limit: Option<&Memory>,
    version: Option<&Version>,
    asm: &mut Assembly,
) {
    let syntax = SizeSyntax::of(version);
    let table = Release::newest(Engine::Dragonfly);
    // Without --maxmemory (or with 0), dragonfly takes 80% of the memory it finds available:
    // inside a container, at most the cgroup limit (dfly_main.cc: `0.8 * available`, after
    // UpdateResourceLimitsIfInsideContainer). That line, then the environment's flags, come
    // before the command line's, which override them.
    let mut file: Vec<SynthLine> = Vec::new();
    if let Some(limit) = limit {
        file.push(SynthLine {
            text: format!("maxmemory {}", (limit.bytes as f64 * 0.8) as u64),
            origin: Origin::OperatorDefault {
                operator: "Dragonfly".to_string(),
                rule: "80% of the memory it finds, at most the memory limit".to_string(),
            },
            at: Some(limit.at.clone()),
        });
    }
    let mut args: Vec<(String, Loc)> = Vec::new();
    let mut on_command_line: Vec<String> = Vec::new();
    let mut i = 0;
    while i < argv.len() {
        let word = &argv[i];
        i += 1;
        let text = match &word.text {
            Ok(t) => t.clone(),
            Err(var) => {
                // `--maxmemory=$(LIMIT)` from a Secret: the flag's value is unknown.
                match word_flag_name(&word.raw) {
                    Some(name) => {
                        asm.unknown_from(&name, var);
                        on_command_line.push(name);
                    }
                    None => asm.unknown_words(&word.raw, var),
                }
                continue;
            }
        };
        if text == "--" {
            break;
        }
        let Some(flag) = text.strip_prefix("--").or_else(|| text.strip_prefix('-')) else {
            continue; // a positional word: dragonfly ignores it
        };
        let (name, inline) = match flag.split_once('=') {
            Some((n, v)) => (n.to_string(), Some(v.to_string())),
            None => (flag.to_string(), None),
        };
        if name == "flagfile" {
            asm.gap("flags read from a --flagfile are not in the input");
            continue;
        }
        let directive = table.lookup(&name);
        let negated = name
            .strip_prefix("no")
            .and_then(|n| table.lookup(n).map(|d| (n, d)))
            .filter(|(_, d)| matches!(d.kind, Kind::Bool { .. }));
        let (name, value, value_at) = match (directive, negated, inline) {
            (Some(d), _, inline) if matches!(d.kind, Kind::Bool { .. }) => {
                match inline.as_deref().map(parse_bool) {
                    None => (name, "yes".to_string(), word.at.clone()),
                    Some(Some(b)) => (name, yes_no(b), word.at.clone()),
                    Some(None) => {
                        let message = format!(
                            "Illegal value '{}' specified for flag '{name}'",
                            inline.as_deref().unwrap_or("")
                        );
                        fail(asm, &text, &message, &word.at);
                        continue;
                    }
                }
            }
            (None, Some((base, _)), None) => (base.to_string(), "no".to_string(), word.at.clone()),
            (Some(_), _, Some(v)) => (name, v, word.at.clone()),
            (Some(_), _, None) => match argv.get(i) {
                Some(next) => {
                    i += 1;
                    match &next.text {
                        Ok(v) => (name, v.clone(), next.at.clone()),
                        Err(var) => {
                            asm.unknown_from(&name, var);
                            on_command_line.push(name);
                            continue;
                        }
                    }
                }
                None => {
                    let message = format!("Missing the value for flag '{name}'");
                    fail(asm, &text, &message, &word.at);
                    continue;
                }
            },
            (None, _, inline) => {
                // Not modelled: a value in the next word belongs to it.
                if inline.is_none() && argv.get(i).is_some_and(|n| !starts_flag(&n.text)) {
                    i += 1;
                }
                continue;
            }
        };
        on_command_line.push(name.clone());
        if let Some(value) = normalize(asm, &name, &value, &text, &value_at, syntax) {
            args.push((format!("--{name}"), value_at.clone()));
            args.push((value, value_at));
        }
    }
    for (var, word) in env {
        let Some(name) = var.strip_prefix("DFLY_") else {
            continue;
        };
        // DFLY_PASSWORD was the password until v1.13; from v1.14 dragonfly refuses to start
        // with it ("DFLY_PASSWORD environment variable was deprecated in favor of
        // DFLY_requirepass"; from v1.37 "unknown environment variable DFLY_PASSWORD").
        let name = if name == "PASSWORD" {
            if version.is_none_or(|v| v.at_least(1, 14)) {
                fail(
                    asm,
                    var,
                    "unknown environment variable DFLY_PASSWORD (v1.14–v1.36: \"DFLY_PASSWORD \
                     environment variable was deprecated in favor of DFLY_requirepass\"); name \
                     the variable DFLY_requirepass",
                    &word.at,
                );
                continue;
            }
            "requirepass"
        } else {
            name
        };
        let Some(directive) = table.lookup(name) else {
            continue;
        };
        if on_command_line.iter().any(|n| n == name) {
            continue;
        }
        match &word.text {
            Ok(v) => {
                let v = match directive.kind {
                    Kind::Bool { .. } => match parse_bool(v) {
                        Some(b) => yes_no(b),
                        None => {
                            fail(
                                asm,
                                v,
                                "could not parse flag from environment variable",
                                &word.at,
                            );
                            continue;
                        }
                    },
                    _ => v.clone(),
                };
                if let Some(v) = normalize(asm, name, &v, &format!("{var}={v}"), &word.at, syntax) {
                    file.push(SynthLine {
                        text: format!("{name} {}", crate::redisconf::tokenizer::repr(&v)),
                        origin: Origin::Environment {
                            variable: var.clone(),
                        },
                        at: Some(word.at.clone()),
                    });
                }
            }
            Err(source) => asm.unknown(
                name,
                format!(
                    "`{name}` comes from {var} (from {source}), whose value is not known offline"
                ),
            ),
        }
    }
    if !file.is_empty() {
        let path = format!("{SYNTHETIC_DIR}/dragonfly-defaults.conf");
        asm.synthetic_file(&path, file);
        asm.push_arg(path, None);
    }
    for (arg, at) in args {
        asm.push_arg(arg, Some(at));
    }
}

fn yes_no(b: bool) -> String {
    if b { "yes" } else { "no" }.to_string()
}

fn starts_flag(text: &Result<String, String>) -> bool {
    matches!(text, Ok(t) if t.starts_with('-'))
}

/// The flag an unexpandable word sets, when its name is written before the variable
/// (`--maxmemory=$(X)`); `None` for a word that is all variable (`$(EXTRA_ARGS)`).
fn word_flag_name(raw: &str) -> Option<String> {
    let flag = raw.strip_prefix("--").or_else(|| raw.strip_prefix('-'))?;
    let (name, _) = flag.split_once('=')?;
    (!name.contains('$')).then(|| name.to_string())
}

/// A flag's value in the units the table reads (maxmemory in bytes); `None` when dragonfly
/// refuses it (then recorded) or it means the default (`--maxmemory=0`).
fn normalize(
    asm: &mut Assembly,
    name: &str,
    value: &str,
    written: &str,
    at: &Loc,
    syntax: SizeSyntax,
) -> Option<String> {
    if name == "maxmemory" {
        match parse_bytes(value, syntax) {
            // 0 is "decide myself", as when the flag is absent.
            Some(0) => None,
            Some(bytes) => Some(bytes.to_string()),
            None => {
                fail(
                    asm,
                    written,
                    &format!(
                        "Illegal value '{value}' specified for flag 'maxmemory'; Use \
                         human-readable format, eg.: 500MB, 1G, 1TB"
                    ),
                    at,
                );
                None
            }
        }
    } else {
        Some(value.to_string())
    }
}

/// A flag dragonfly refuses at start-up (absl exits before the server runs).
fn fail(asm: &mut Assembly, written: &str, message: &str, at: &Loc) {
    asm.fail(
        StartupError {
            location: None,
            line_text: written.to_string(),
            redis_line: None,
            message: message.to_string(),
            hint: None,
            certain: true,
        },
        Some(at.clone()),
    );
}

/// Services whose links the kubelet puts in a pod's environment as `DFLY_…` variables
/// (`{NAME}_SERVICE_HOST`, `{NAME}_PORT…`: the name upper-cased, `-` as `_`), which dragonfly
/// refuses from v1.11 ("unknown environment variable DFLY_…", `ParseFlagsFromEnv`; operator
/// issue #588): the namespace's Services of the input named `dfly` or `dfly-…`, and
/// `own` — the Service an operator creates for the server. Each is a start-up refusal at the
/// Service's name; the Services found are returned, as related objects.
pub fn service_links(
    ctx: &mut Ctx,
    id: ObjectId,
    own: Option<(String, Loc)>,
    version: Option<&Version>,
    asm: &mut Assembly,
) -> Vec<ObjectId> {
    if version.is_some_and(|v| !v.at_least(1, 11)) {
        return Vec::new();
    }
    let linked = |name: &str| name == "dfly" || name.starts_with("dfly-");
    let namespace = ctx.object(id).namespace_or_default().to_string();
    let mut names: Vec<String> = ctx
        .of_kind("Service", &namespace)
        .map(|s| ctx.object(s).name.clone())
        .filter(|n| linked(n))
        .collect();
    names.sort();
    names.dedup();
    let mut found = Vec::new();
    let refuse = |asm: &mut Assembly, name: &str, at: &Loc, by: &str, advice: &str| {
        let variable = format!(
            "{}_SERVICE_HOST",
            name.to_ascii_uppercase().replace('-', "_")
        );
        fail(
            asm,
            &variable,
            &format!(
                "unknown environment variable {variable}: the kubelet gives the pod variables \
                 named after Service `{name}`{by} (service links), and dragonfly refuses a DFLY_ \
                 variable that is no flag; {advice}"
            ),
            at,
        );
    };
    if let Some((name, at)) = &own
        && linked(name)
    {
        refuse(
            asm,
            name,
            at,
            ", which the operator creates for it",
            "name the Service otherwise (spec.serviceSpec.name): the operator sets no \
             enableServiceLinks (dragonfly-operator#588)",
        );
    }
    let at = loc(id, &ctx.root(id));
    for name in names {
        if own.as_ref().is_some_and(|(n, _)| *n == name) {
            continue;
        }
        if let Some(service) = ctx.find(&at, "Service", &namespace, &name) {
            let name_at = ctx
                .root(service)
                .at(&["metadata", "name"])
                .map_or_else(|| loc(service, &ctx.root(service)), |n| loc(service, &n));
            refuse(
                asm,
                &name,
                &name_at,
                "",
                "rename the Service, or set enableServiceLinks: false in the pod spec",
            );
            found.push(service);
        }
    }
    found
}

/// dragonfly-operator's defaults (dragonflydb/dragonfly-operator v1.6.1,
/// `internal/resources/const.go`, `version.go`, `resources.go` `GenerateDragonflyResources`).
const OPERATOR: &str = "dragonfly-operator";
const OPERATOR_IMAGE: &str = "docker.dragonflydb.io/dragonflydb/dragonfly:v1.39.0";
/// `DefaultDragonflyArgs`, before `spec.args`.
const OPERATOR_ARGS: [&str; 5] = [
    "--alsologtostderr",
    "--break_replication_on_master_restart=true",
    "--primary_port_http_enabled=false",
    "--admin_port=9999",
    "--admin_nopass",
];
/// Where `spec.snapshot` volumes are mounted and `--dir` points without `snapshot.dir`.
const SNAPSHOTS_DIR: &str = "/dragonfly/snapshots";

/// A `Dragonfly` (dragonflydb.io/v1alpha1): one StatefulSet of `spec.replicas` pods, one of
/// them the master the operator picks, the rest its replicas.
pub fn resource(ctx: &mut Ctx, id: ObjectId) -> Vec<Deployment> {
    let root = ctx.root(id);
    let name = ctx.object(id).name.clone();
    let Some(spec) = root.get("spec") else {
        return Vec::new();
    };
    let at = loc(id, &spec);
    let mut container = container_at("dragonfly", at.clone());
    resources(ctx, id, &spec, "resources", &mut container);
    container.image = spec
        .get("image")
        .and_then(|i| located_str(id, &i))
        .or(Some(Located {
            value: OPERATOR_IMAGE.to_string(),
            at: absent(id, &spec, "image"),
        }));
    // The image's healthcheck.sh (a PING through `nc`) for both probes; a startup probe only
    // with custom probe ConfigMaps.
    let healthcheck = || {
        operator_probe(
            Handler::Exec(vec![
                "/bin/sh".into(),
                "/usr/local/bin/healthcheck.sh".into(),
            ]),
            OPERATOR,
            [10, 10, 5, 1, 3],
        )
    };
    let custom = [
        "customLivenessProbeConfigMap",
        "customReadinessProbeConfigMap",
        "customStartupProbeConfigMap",
    ]
    .iter()
    .any(|k| spec.get(k).is_some());
    container.probes = Probes {
        liveness: Some(healthcheck()),
        readiness: Some(healthcheck()),
        startup: custom.then(healthcheck),
    };
    // Literal values and the downward API (`resourceFieldRef: limits.memory`), as the kubelet
    // resolves them for the operator's container.
    let env = super::workload::env_values(&spec, &container);
    container.env = env.iter().map(|(n, v)| (n.clone(), v.is_none())).collect();
    if spec.at(&["authentication", "passwordFromSecret"]).is_some() {
        container.env.push(("DFLY_requirepass".to_string(), true));
    }
    let replicas = match spec.get("replicas") {
        Some(r) => located_i64(ctx, id, Some(r)),
        // `replicas,omitempty` without a CRD default: the StatefulSet gets 0 pods.
        None => Some(Located {
            value: 0,
            at: absent(id, &spec, "replicas"),
        }),
    };
    let version = container.image.as_ref().and_then(version_from_image);
    // The words of the container: the operator's, `spec.args`, then what the snapshot
    // settings add.
    let mut argv: Vec<Word> = OPERATOR_ARGS
        .iter()
        .map(|a| Word::literal(a.to_string(), at.clone()))
        .collect();
    for a in spec.get("args").map(|a| a.items()).unwrap_or_default() {
        if let Some(text) = a.str() {
            argv.push(Word {
                raw: text.to_string(),
                text: super::workload::expand(text, &env, false),
                at: loc(id, &a),
            });
        }
    }
    let snapshot = spec.get("snapshot");
    if let Some(snapshot) = &snapshot {
        let dir = snapshot.str_at(&["dir"]).unwrap_or(SNAPSHOTS_DIR);
        argv.push(Word::literal(format!("--dir={dir}"), loc(id, snapshot)));
        if let Some(cron) = snapshot.get("cron") {
            let text = format!("--snapshot_cron={}", cron.str().unwrap_or(""));
            argv.push(Word::literal(text, loc(id, &cron)));
        }
    }
    let mut asm = Assembly::new();
    // dragonfly-operator sets no enableServiceLinks (dragonfly-operator#588), and names its
    // Service after the resource unless spec.serviceSpec.name says otherwise.
    let own_service = match spec.at(&["serviceSpec", "name"]) {
        Some(n) if n.str().is_some_and(|s| !s.is_empty()) => {
            (n.str().unwrap_or("").to_string(), loc(id, &n))
        }
        _ => (
            name.clone(),
            root.at(&["metadata", "name"])
                .map_or_else(|| loc(id, &root), |n| loc(id, &n)),
        ),
    };
    let services = service_links(ctx, id, Some(own_service), version.as_ref(), &mut asm);
    let mut env_words = super::workload::dragonfly_env(&env, id, &spec, &mut asm);
    if let Some(secret) = spec.at(&["authentication", "passwordFromSecret"]) {
        env_words.push((
            "DFLY_requirepass".to_string(),
            Word {
                raw: String::new(),
                text: Err("spec.authentication.passwordFromSecret".to_string()),
                at: loc(id, &secret),
            },
        ));
    }
    read(
        &argv,
        &env_words,
        container.memory_limit.as_ref(),
        version.as_ref(),
        &mut asm,
    );
    let data = match &snapshot {
        Some(s) => match (
            s.get("persistentVolumeClaimSpec"),
            s.get("existingPersistentVolumeClaimName"),
        ) {
            (Some(claim), _) => super::common::claim_spec(id, &claim),
            // resources.go mounts it as a pod-template volume: every replica gets it.
            (None, Some(existing)) => {
                super::workload::shared_claim(ctx, id, Some(existing.clone()), &existing)
            }
            (None, None) => DataVolume::None,
        },
        None => DataVolume::None,
    };
    let role = if replicas.as_ref().is_some_and(|r| r.value > 1) {
        Role::Replication
    } else {
        Role::Standalone
    };
    let labels = vec![
        ("app".to_string(), name.clone()),
        (
            "app.kubernetes.io/name".to_string(),
            "dragonfly".to_string(),
        ),
        (
            "app.kubernetes.io/part-of".to_string(),
            "dragonfly".to_string(),
        ),
    ];
    vec![Deployment {
        object: id,
        component: None,
        platform: Platform::DragonflyOperator,
        role,
        engine: Product::Dragonfly,
        replicas,
        shards: None,
        config: asm.finish(dialect()),
        data,
        version,
        pod_management_policy: None,
        pod_spec: None,
        anti_affinity: anti_affinity(id, &spec),
        topology_spread: spec.get("topologySpreadConstraints").is_some(),
        pdb: None,
        pod_labels: labels.clone(),
        selector: labels,
        related: services,
        operation: None,
        notes: vec![
            "the operator creates a PodDisruptionBudget (maxUnavailable 1, or spec.pdb) when \
             replicas > 1"
                .to_string(),
        ],
        node_tuning: Vec::new(),
        termination_grace_seconds: None,
        sentinels: None,
        containers: vec![container],
    }]
}

#[cfg(test)]
mod tests {
    use super::SizeSyntax::{FirstLetter, UnitIB};
    use super::parse_bytes;

    #[test]
    fn sizes_read_as_each_release_reads_them() {
        const MIB: u64 = 1 << 20;
        // (text, up to v1.35, from v1.36)
        for (text, first, unit_ib) in [
            ("1024", Some(1024), Some(1024)),
            ("512mb", Some(512 * MIB), Some(512 * MIB)),
            ("512MB", Some(512 * MIB), Some(512 * MIB)),
            ("512M", Some(512 * MIB), Some(512 * MIB)),
            ("1g", Some(1 << 30), Some(1 << 30)),
            ("1.5G", Some(3 << 29), Some(3 << 29)),
            ("2T", Some(2 << 40), Some(2 << 40)),
            ("10b", Some(10), Some(10)),
            ("512Mi", Some(512 * MIB), Some(512 * MIB)),
            ("1GiB", Some(1 << 30), Some(1 << 30)),
            ("512MI", Some(512 * MIB), None),
            ("1Gigabytes", Some(1 << 30), None),
            ("1e3", Some(1000), Some(1000)),
            ("", None, None),
            ("G", None, None),
            ("-1G", None, None),
            ("1x", None, None),
        ] {
            assert_eq!(parse_bytes(text, FirstLetter), first, "{text} up to v1.35");
            assert_eq!(parse_bytes(text, UnitIB), unit_ib, "{text} from v1.36");
        }
    }

    use super::{Word, read};
    use crate::extract::assembly::Assembly;
    use crate::model::{Config, Loc, ObjectId, Version};

    fn at() -> Loc {
        Loc {
            object: ObjectId(0),
            pointer: String::new(),
            pos: None,
        }
    }

    fn word(text: &str) -> Word {
        Word {
            raw: text.to_string(),
            text: Ok(text.to_string()),
            at: at(),
        }
    }

    fn config(argv: &[&str], env: &[(&str, &str)], minor: Option<u32>) -> Config {
        let argv: Vec<Word> = argv.iter().map(|a| word(a)).collect();
        let env: Vec<(String, Word)> = env.iter().map(|(k, v)| (k.to_string(), word(v))).collect();
        let version = minor.map(|minor| Version {
            product: crate::model::Product::Dragonfly,
            text: format!("v1.{minor}.0"),
            major: 1,
            minor: Some(minor),
            patch: Some(0),
            at: at(),
        });
        let mut asm = Assembly::new();
        read(&argv, &env, None, version.as_ref(), &mut asm);
        asm.finish(super::dialect())
    }

    #[test]
    fn flags_read_as_absl_reads_them() {
        let c = config(
            &[
                "--maxmemory",
                "1g",
                "--cache_mode",
                "--proactor_threads=3",
                "--unmodelled",
                "x",
            ],
            &[("DFLY_proactor_threads", "8"), ("DFLY_dbfilename", "snap")],
            Some(40),
        );
        assert_eq!(c.redis.maxmemory_bytes(), 1 << 30);
        assert!(c.redis.bool_value("cache_mode"));
        // The command line wins over DFLY_proactor_threads; DFLY_dbfilename applies.
        assert_eq!(c.redis.int_value("proactor_threads"), 3);
        assert_eq!(c.redis.config_get("dbfilename").as_deref(), Some("snap"));
        assert!(c.errors.is_empty(), "{:?}", c.errors);
        let c = config(&["--cache_mode=true", "--nocache_mode"], &[], None);
        assert!(!c.redis.bool_value("cache_mode"));
        let c = config(&["--flagfile=/etc/dragonfly.flags"], &[], None);
        assert!(!c.complete);
        // `--maxmemory=0` is "decide myself": no line.
        let c = config(&["--maxmemory=0"], &[], None);
        assert!(c.redis.line_of("maxmemory").is_none());
    }

    #[test]
    fn dfly_password_is_the_password_until_v1_13_and_a_refusal_after() {
        let old = config(&[], &[("DFLY_PASSWORD", "secret")], Some(12));
        assert!(old.redis.has_requirepass());
        assert!(old.errors.is_empty());
        let new = config(&[], &[("DFLY_PASSWORD", "secret")], Some(14));
        assert!(!new.redis.has_requirepass());
        assert!(new.errors[0].0.message.contains("DFLY_PASSWORD"));
        let unknown = config(&[], &[("DFLY_PASSWORD", "secret")], None);
        assert_eq!(unknown.errors.len(), 1);
        let bad = config(&["--cache_mode=maybe"], &[], None);
        assert!(
            bad.errors[0].0.message.contains("'maybe'"),
            "{:?}",
            bad.errors
        );
    }
}

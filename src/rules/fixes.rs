//! Building fixes: RFC 6902 operations that apply to the object as written (never an `add`
//! under a missing parent), and the one place that knows how to change a redis.conf
//! directive wherever a deployment's configuration sets it.

use crate::patch::set_path;
use serde_json::{Value, json};

use crate::model::access::Shape;
use crate::model::{
    Container, Deployment, Inventory, Loc, Memory, ObjectId, Origin, Platform, Product,
};
use crate::redisconf::Location;
use crate::units::quantity::canonical_bytes;

use super::{Fix, FixEdit, PatchOp};

/// Set a memory quantity (canonical form: `40Gi`).
pub fn set_memory(inv: &Inventory, memory_at: &Loc, bytes_value: u64) -> Option<Fix> {
    // A quantity an operator defaults (KubeDB's 1024Mi) has no field of its own to set.
    if !memory_at.pointer.ends_with("/memory") {
        return None;
    }
    let text = canonical_bytes(bytes_value);
    Some(Fix {
        description: format!("set {} to {text}", short(&memory_at.pointer)),
        edit: FixEdit::Patch {
            object: memory_at.object,
            ops: set_path(
                inv,
                memory_at.object,
                &memory_at.pointer,
                Value::String(text),
            )?,
        },
    })
}

/// Set or add the memory limit of a container.
pub fn set_limit(inv: &Inventory, c: &Container, bytes_value: u64) -> Option<Fix> {
    match &c.memory_limit {
        Some(Memory { at, .. }) => set_memory(inv, at, bytes_value),
        None => {
            let at = Loc {
                pointer: format!("{}/limits/memory", c.resources_at.pointer),
                ..c.resources_at.clone()
            };
            set_memory(inv, &at, bytes_value)
        }
    }
}

/// Where maxmemory is a percentage of the limit (OT's `maxMemoryPercentOfLimit`): one fix
/// that raises the limit to `limit_bytes` and sets the percentage so that maxmemory becomes
/// `maxmemory_bytes` under the new limit. (Two separate fixes would undo each other: the
/// percentage computed against the old limit grows with the new one.) `None` elsewhere.
pub fn pin_percent_and_raise_limit(
    inv: &Inventory,
    d: &Deployment,
    c: &Container,
    maxmemory_bytes: u64,
    limit_bytes: u64,
) -> Option<Fix> {
    let (_, src) = d.config.source_of("maxmemory")?;
    let at = src
        .at
        .as_ref()
        .filter(|at| at.pointer.ends_with("/maxMemoryPercentOfLimit"))?;
    let percent =
        (u128::from(maxmemory_bytes) * 100 / u128::from(limit_bytes.max(1))).clamp(1, 100) as u64;
    let mut fix = set_limit(inv, c, limit_bytes)?;
    let FixEdit::Patch { object, ops } = &mut fix.edit else {
        return None;
    };
    if *object != at.object {
        return None;
    }
    ops.push(PatchOp::Replace {
        path: at.pointer.clone(),
        value: json!(percent),
    });
    fix.description = format!(
        "{} and maxMemoryPercentOfLimit to {percent} (maxmemory {})",
        fix.description,
        super::facts::bytes(maxmemory_bytes)
    );
    Some(fix)
}

/// The last two pointer tokens, for descriptions: `limits/memory`.
pub fn short(pointer: &str) -> String {
    let tokens: Vec<&str> = pointer.rsplitn(3, '/').collect();
    match tokens.as_slice() {
        [last, parent, _] => format!("{parent}.{last}"),
        [last, ..] => (*last).to_string(),
        [] => String::new(),
    }
}

/// Change (or add) a redis.conf directive where the deployment's configuration sets it: the
/// line of a ConfigMap's file, a `redis-server` argument, a KubeBlocks parameter, an
/// operator's custom-config entry or OT's `maxMemoryPercentOfLimit`. Where only KubeBlocks'
/// template sets it, the fix is a Reconfiguring OpsRequest to apply. `None` when the
/// setting cannot be reached from the input (a shell script, an operator default with no
/// field for it).
pub fn set_directive(inv: &Inventory, d: &Deployment, name: &str, text: &str) -> Option<Fix> {
    let description = match text.parse::<u64>() {
        Ok(n) if n >= 1024 => format!("set {name} to {}", super::facts::bytes(n)),
        _ => format!("set {name} to {text}"),
    };
    let Some((line, src)) = d.config.source_of(name) else {
        let text = redis_units(&d.config.redis, name, text);
        return add_directive(inv, d, name, &text, description);
    };
    // Redis reads units; KubeBlocks parameters before addons#2509 take only integers.
    let text = match src.origin {
        Origin::File { .. }
        | Origin::Include { .. }
        | Origin::Args
        | Origin::CustomConfig
        | Origin::ResourceConfig { .. } => redis_units(&d.config.redis, name, text),
        _ => text.to_string(),
    };
    let text = text.as_str();
    if let Origin::OperatorDefault { .. } = src.origin {
        let at = src.at.as_ref()?;
        if at.pointer.ends_with("/maxMemoryPercentOfLimit") {
            let limit = d.redis_container()?.limit_bytes()?;
            let value: u64 = text.parse().ok()?;
            let percent = (u128::from(value) * 100 / u128::from(limit.max(1))).clamp(1, 100);
            return Some(patch(
                at.object,
                vec![PatchOp::Replace {
                    path: at.pointer.clone(),
                    value: json!(percent as u64),
                }],
                format!("{description}: maxMemoryPercentOfLimit {percent}"),
            ));
        }
        if d.platform == Platform::KubeBlocks {
            return kubeblocks_reconfigure(inv, d, name, text, description);
        }
        if d.platform == Platform::Workload {
            // A line of the image's own file: an argument after it wins.
            return add_directive(inv, d, name, text, description);
        }
        return None;
    }
    let at = src.args.first().cloned().flatten().or(src.at.clone())?;
    let current = inv.str_at(at.object, &at.pointer)?;
    let new = if d.engine == Product::Dragonfly {
        // A flag: `--maxmemory=1gb` as one word, or its value alone (a word after
        // `--maxmemory`, a DFLY_maxmemory value); a word holding a variable is not rewritten.
        match current.split_once('=') {
            Some((flag, written))
                if flag.trim_start_matches('-') == line.written_name && !written.contains('$') =>
            {
                format!("{flag}={text}")
            }
            None if !current.starts_with('-') && !current.contains('$') => text.to_string(),
            _ => return None,
        }
    } else if line.args.len() == 1 && current == line.args[0] {
        // The value on its own: an argument list item, a KubeBlocks parameter value.
        text.to_string()
    } else if !current.contains('\n')
        && current.split_whitespace().next().is_some_and(|n| {
            n.trim_start_matches('-')
                .eq_ignore_ascii_case(&line.written_name)
        })
        && current.split_whitespace().count() == 1 + line.args.len()
    {
        // `maxmemory 1gb` as one entry (customConfig, dynamicConfig, a `--maxmemory 1gb`
        // argument item).
        let dashes = if current.trim_start().starts_with("--") {
            "--"
        } else {
            ""
        };
        format!("{dashes}{} {text}", line.written_name)
    } else if let (Origin::File { .. } | Origin::Include { .. }, Location::File { line: n, .. }) =
        (&src.origin, line.location())
    {
        replace_line(
            current,
            *n as usize,
            &format!("{} {text}", line.written_name),
        )?
    } else {
        return None;
    };
    Some(patch(
        at.object,
        vec![PatchOp::Replace {
            path: at.pointer.clone(),
            value: Value::String(new),
        }],
        description,
    ))
}

/// A byte count for a memory directive as a person writes it in redis.conf: `768mb`, `24gb`
/// (Redis' `memtoull`: `kb`/`mb`/`gb` are powers of 1024, `k`/`m`/`g` of 1000), when the unit
/// is exact; any other value as it is.
fn redis_units(config: &crate::redisconf::RedisConfig, name: &str, text: &str) -> String {
    use crate::redisconf::directives::Kind;
    let memory = config
        .directive(name)
        .is_some_and(|d| matches!(d.kind, Kind::Numeric { memory: true, .. }));
    match text.parse::<u64>() {
        Ok(n) if memory && n > 0 => [("gb", 1u64 << 30), ("mb", 1 << 20), ("kb", 1 << 10)]
            .iter()
            .find(|(_, unit)| n % unit == 0)
            .map_or_else(
                || text.to_string(),
                |(suffix, unit)| format!("{}{suffix}", n / unit),
            ),
        _ => text.to_string(),
    }
}

fn patch(object: ObjectId, ops: Vec<PatchOp>, description: String) -> Fix {
    Fix {
        description,
        edit: FixEdit::Patch { object, ops },
    }
}

/// `text` with its 1-based line `n` replaced by `new`, keeping the line's indentation and
/// ending.
fn replace_line(text: &str, n: usize, new: &str) -> Option<String> {
    let mut out = String::with_capacity(text.len() + new.len());
    let mut found = false;
    for (i, l) in text.split_inclusive('\n').enumerate() {
        if i + 1 == n {
            let body = l.trim_end_matches(['\n', '\r']);
            let indent = &body[..body.len() - body.trim_start().len()];
            out.push_str(indent);
            out.push_str(new);
            out.push_str(&l[body.len()..]);
            found = true;
        } else {
            out.push_str(l);
        }
    }
    found.then_some(out)
}

/// Add a directive nobody sets: a line at the end of the mounted redis.conf, arguments of a
/// plain `redis-server` container, or an entry of Spotahome's `customConfig`.
fn add_directive(
    inv: &Inventory,
    d: &Deployment,
    name: &str,
    text: &str,
    description: String,
) -> Option<Fix> {
    // The configuration file the user wrote, if one is mounted from a ConfigMap.
    let file = d
        .config
        .sources
        .iter()
        .find_map(|s| match (&s.origin, &s.at) {
            (Origin::File { .. }, Some(at)) => Some(at.clone()),
            _ => None,
        });
    if let Some(at) = file {
        let current = inv.str_at(at.object, &at.pointer)?;
        let sep = if current.is_empty() || current.ends_with('\n') {
            ""
        } else {
            "\n"
        };
        return Some(patch(
            at.object,
            vec![PatchOp::Replace {
                path: at.pointer.clone(),
                value: Value::String(format!("{current}{sep}{name} {text}\n")),
            }],
            format!("{description} (a line at the end of the config file)"),
        ));
    }
    match d.platform {
        Platform::Workload => {
            let c = d.redis_container()?;
            if inv.shape_at(c.at.object, &c.at.pointer) != Shape::Map {
                return None;
            }
            let command = inv.shape_at(c.at.object, &format!("{}/command", c.at.pointer));
            let args = inv.shape_at(c.at.object, &format!("{}/args", c.at.pointer));
            let runs_server = match &command {
                Shape::Absent => true,
                Shape::Strings(items) => items
                    .first()
                    .is_some_and(|s| crate::redisconf::Engine::of_server(s).is_some()),
                _ => false,
            };
            let plain = |list: &Shape| matches!(list, Shape::Absent | Shape::Strings(_));
            if !runs_server || !plain(&args) {
                return None;
            }
            // With a command and no args, append to the command; else to args (which
            // follows the image's entrypoint).
            let (list, written) = if command != Shape::Absent && args == Shape::Absent {
                ("command", &command)
            } else {
                ("args", &args)
            };
            // Dragonfly takes `--name=value` (absl), redis-server `--name value`.
            let mut words = if d.engine == Product::Dragonfly {
                vec![format!("--{name}={text}")]
            } else {
                vec![format!("--{name}"), text.to_string()]
            };
            // KeyDB's entrypoint runs options alone without the image's keydb.conf, which
            // its default command names: keep the file.
            let keydb_image = c.image_ref().is_some_and(|i| i.is_keydb());
            if keydb_image && command == Shape::Absent && args == Shape::Absent {
                words.splice(
                    0..0,
                    ["keydb-server", "/etc/keydb/keydb.conf"].map(String::from),
                );
            }
            let ops = match written {
                Shape::Strings(_) => words
                    .iter()
                    .map(|v| PatchOp::Add {
                        path: format!("{}/{list}/-", c.at.pointer),
                        value: Value::String(v.clone()),
                    })
                    .collect(),
                _ => vec![PatchOp::Add {
                    path: format!("{}/{list}", c.at.pointer),
                    value: json!(words),
                }],
            };
            Some(patch(
                c.at.object,
                ops,
                format!("{description} ({} arguments)", super::facts::server(d)),
            ))
        }
        Platform::DragonflyOperator => {
            let entry = Value::String(format!("--{name}={text}"));
            let ops = match inv.shape_at(d.object, "/spec/args") {
                Shape::Strings(_) | Shape::List => vec![PatchOp::Add {
                    path: "/spec/args/-".into(),
                    value: entry,
                }],
                _ => set_path(inv, d.object, "/spec/args", json!([entry]))?,
            };
            Some(patch(d.object, ops, format!("{description} (spec.args)")))
        }
        Platform::Spotahome => {
            let entry = Value::String(format!("{name} {text}"));
            let ops = match inv.shape_at(d.object, "/spec/redis/customConfig") {
                Shape::Strings(_) | Shape::List => vec![PatchOp::Add {
                    path: "/spec/redis/customConfig/-".into(),
                    value: entry,
                }],
                _ => set_path(inv, d.object, "/spec/redis/customConfig", json!([entry]))?,
            };
            Some(patch(
                d.object,
                ops,
                format!("{description} (spec.redis.customConfig)"),
            ))
        }
        Platform::ValkeyOperator => {
            let path = format!("/spec/config/{}", crate::pointer::escape(name));
            let ops = match inv.shape_at(d.object, "/spec/config") {
                Shape::Map => vec![PatchOp::Add {
                    path,
                    value: Value::String(text.to_string()),
                }],
                _ => set_path(inv, d.object, "/spec/config", json!({ name: text }))?,
            };
            Some(patch(d.object, ops, format!("{description} (spec.config)")))
        }
        Platform::KubeDb => {
            // `spec.configuration.inline` maps a file name to lines KubeDB adds to the
            // configuration (kubedb/apimachinery `ConfigurationSpec`).
            let key = if d.engine == Product::Valkey {
                "valkey.conf"
            } else {
                "redis.conf"
            };
            let path = format!("/spec/configuration/inline/{key}");
            let line = format!("{name} {text}");
            let ops = match inv.str_at(d.object, &path) {
                Some(current) => {
                    let sep = if current.is_empty() || current.ends_with('\n') {
                        ""
                    } else {
                        "\n"
                    };
                    vec![PatchOp::Replace {
                        path,
                        value: Value::String(format!("{current}{sep}{line}\n")),
                    }]
                }
                None => set_path(inv, d.object, &path, Value::String(format!("{line}\n")))?,
            };
            Some(patch(
                d.object,
                ops,
                format!("{description} (spec.configuration.inline.{key})"),
            ))
        }
        Platform::KubeBlocks => kubeblocks_reconfigure(inv, d, name, text, description),
        Platform::OpsTree | Platform::ConfigMap => None,
    }
}

/// A Reconfiguring OpsRequest that sets one parameter of the deployment's component, in the
/// API generation of its Cluster (apecloud/kubeblocks `apis/apps/v1alpha1/opsrequest_types.go`
/// on release-0.9 @99600760bfda, `apis/operations/v1alpha1/opsrequest_types.go` on release-1.0
/// @549d0c7e4506).
fn kubeblocks_reconfigure(
    inv: &Inventory,
    d: &Deployment,
    name: &str,
    text: &str,
    description: String,
) -> Option<Fix> {
    let cluster = std::iter::once(d.object)
        .chain(d.related.iter().copied())
        .map(|id| inv.object(id))
        .find(|o| o.kind == "Cluster")?;
    let component = d.component.as_deref()?;
    let metadata = json!({
        "generateName": format!("{}-{name}-", cluster.name),
        "namespace": cluster.namespace_or_default(),
    });
    // 0.9 (`apps.kubeblocks.io`) names the config spec and file; 1.0+ takes flat parameters.
    let (api_version, item) = if cluster.version() == "v1alpha1" {
        let config = if d.config.redis.cluster_enabled() {
            "redis-cluster-config"
        } else {
            "redis-replication-config"
        };
        let keys = json!([{"key": "redis.conf", "parameters": [{"key": name, "value": text}]}]);
        (
            "apps.kubeblocks.io/v1alpha1",
            json!({"componentName": component, "configurations": [{"name": config, "keys": keys}]}),
        )
    } else {
        (
            "operations.kubeblocks.io/v1alpha1",
            json!({"componentName": component, "parameters": [{"key": name, "value": text}]}),
        )
    };
    let manifest = json!({
        "apiVersion": api_version,
        "kind": "OpsRequest",
        "metadata": metadata,
        "spec": {"clusterName": cluster.name, "type": "Reconfiguring", "reconfigures": [item]},
    });
    Some(Fix {
        description: format!("{description} with a Reconfiguring OpsRequest (KubeBlocks)"),
        edit: FixEdit::Manifest(manifest),
    })
}

/// A probe handler that succeeds once Redis answers `PONG`: `redis-cli ping` (with
/// `REDISCLI_AUTH` from the container's password variable when auth is on), or a TCP check
/// on the Redis port when auth is on and no password variable is visible.
pub fn ping_handler(d: &Deployment, c: &Container) -> Option<Value> {
    let port = match d.config.redis.int_value("port") {
        0 => d.config.redis.int_value("tls-port"),
        p => p,
    };
    let port = if port > 0 { port } else { 6379 };
    let tls = super::facts::tls_only(d);
    let password_env = password_env(c);
    let auth = super::facts::auth(d);
    let cli = d.engine.cli();
    let auth_prefix = |var: &PasswordEnv| {
        let value = match var {
            PasswordEnv::Value(var) => format!("${var}"),
            PasswordEnv::File(var) => format!("$(cat \"${var}\")"),
        };
        // valkey-cli reads VALKEYCLI_AUTH, older ones REDISCLI_AUTH: set both.
        if d.engine == Product::Valkey {
            format!("VALKEYCLI_AUTH=\"{value}\" REDISCLI_AUTH=\"{value}\" ")
        } else {
            format!("REDISCLI_AUTH=\"{value}\" ")
        }
    };
    // A tcpSocket probe would pass while Redis loads: no probe rather than a blind one.
    match (auth, password_env) {
        (Some(true) | None, Some(var)) if !tls => Some(json!({"exec": {"command": [
            "sh", "-c",
            format!("{}{cli} -p {port} ping | grep -q PONG", auth_prefix(&var)),
        ]}})),
        (Some(false), _) if !tls => Some(json!({"exec": {"command": [
            "sh", "-c", format!("{cli} -p {port} ping | grep -q PONG"),
        ]}})),
        _ => None,
    }
}

/// Where a container's server password is, for `REDISCLI_AUTH`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PasswordEnv<'a> {
    /// A variable holding the password (`REDIS_PASSWORD`).
    Value(&'a str),
    /// A variable holding the path of a file with the password (Bitnami's
    /// `REDIS_PASSWORD_FILE` when `usePasswordFiles` is on).
    File(&'a str),
}

/// The variable with the server's password: a name with `PASS` in it that is not a flag
/// (`ALLOW_EMPTY_PASSWORD` is `yes`/`no`), not another process' password (Sentinel's), and
/// not a file path — one from a Secret first, the primary's (`*MASTER*`, what a replica uses
/// to sync) last; else a `*_PASSWORD_FILE` variable. `None` when no variable holds it: a probe
/// that sends a flag as the password fails forever.
pub fn password_env(c: &Container) -> Option<PasswordEnv<'_>> {
    c.env
        .iter()
        .filter_map(|(name, from_secret)| {
            let n = name.to_ascii_uppercase();
            let flag = ["ALLOW", "EMPTY", "SENTINEL", "ENABLE", "REQUIRE", "_SET"]
                .iter()
                .any(|f| n.contains(f));
            // Dragonfly reads DFLY_requirepass as its --requirepass flag.
            if !n.contains("PASS") || flag && n != "DFLY_REQUIREPASS" {
                return None;
            }
            let file = n.ends_with("_FILE");
            // A value before a file, a Secret's before a literal, the primary's last.
            Some((
                (file, !from_secret, n.contains("MASTER")),
                name.as_str(),
                file,
            ))
        })
        .min_by_key(|(rank, _, _)| *rank)
        .map(|(_, name, file)| {
            if file {
                PasswordEnv::File(name)
            } else {
                PasswordEnv::Value(name)
            }
        })
}

/// Add a probe (`readinessProbe`, `startupProbe`) to a container.
pub fn add_probe(inv: &Inventory, c: &Container, key: &str, probe: Value) -> Option<Fix> {
    Some(Fix {
        description: format!("add a {key} to container `{}`", c.name),
        edit: FixEdit::Patch {
            object: c.at.object,
            ops: set_path(inv, c.at.object, &format!("{}/{key}", c.at.pointer), probe)?,
        },
    })
}

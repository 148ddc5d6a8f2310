//! `loadServerConfigFromString`: lines to directives, includes, the checks redis-server
//! makes once the whole text is read.

use super::*;

pub(super) struct ReadState<'a> {
    pub(super) cwd: String,
    pub(super) sentinel_mode: bool,
    pub(super) files: &'a ConfigFiles,
}

/// Deprecated names redis-server 7.0 ignores when given exactly one argument.
pub(super) const DEPRECATED: [&str; 3] = [
    "list-max-ziplist-entries",
    "list-max-ziplist-value",
    "lua-replicate-commands",
];

/// Includes nested deeper than this are reported rather than followed (redis-server would
/// recurse until it runs out of stack on an include cycle).
pub(super) const MAX_INCLUDE_DEPTH: usize = 16;
/// And at most this many include lines are followed in all, so that a cycle through a glob
/// that matches several files cannot branch into billions of reads.
pub(super) const MAX_INCLUDE_LOADS: usize = 256;
/// And at most this many bytes are read through includes in all: a 1 MiB ConfigMap that
/// includes itself 256 times would otherwise be 256 MiB of parsing on the webhook's time.
/// A ConfigMap holds at most 1 MiB, so real configurations stay far below it.
pub(super) const MAX_INCLUDED_BYTES: usize = 8 << 20;

impl RedisConfig {
    pub(super) fn error(
        &mut self,
        text: &Text,
        i: usize,
        offset: usize,
        message: impl Into<String>,
        hint: Option<String>,
    ) {
        self.errors.push(StartupError {
            location: Some(text.location(i, offset)),
            line_text: text.lines[i]
                .0
                .trim_matches([' ', '\t', '\r', '\n'])
                .to_string(),
            redis_line: Some(i as u32 + 1),
            message: message.into(),
            hint,
            certain: true,
        });
    }

    /// An error redis-server reports without a line number (fatal log lines, checks of the
    /// configuration as a whole); `location` points at the line that causes it, if any.
    pub(super) fn whole_config_error(
        &mut self,
        location: Option<Location>,
        message: impl Into<String>,
        hint: Option<&str>,
    ) {
        self.errors.push(StartupError {
            location,
            line_text: String::new(),
            redis_line: None,
            message: message.into(),
            hint: hint.map(String::from),
            certain: true,
        });
    }

    /// `loadServerConfigFromString`: one pass over the lines of `text`.
    pub(super) fn load(&mut self, text: Text, state: &mut ReadState<'_>, from_include: bool) {
        // `reading_config_file` is 1 while a text is read and reset to 0 when an include
        // finishes: `save` lines after an include replace rather than append.
        let mut reading_config_file = true;
        for i in 0..text.lines.len() {
            let raw = &text.lines[i].0;
            let lead = raw.len() - raw.trim_start_matches([' ', '\t', '\r', '\n']).len();
            let line = raw.trim_matches([' ', '\t', '\r', '\n']);
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let tokens = match split_args(line) {
                Ok(t) => t,
                Err(e) => {
                    self.error(
                        &text,
                        i,
                        lead + e.offset,
                        "Unbalanced quotes in configuration line",
                        Some(e.detail.to_string()),
                    );
                    continue;
                }
            };
            if tokens.is_empty() {
                continue;
            }
            let name_lower = tokens[0].text.to_ascii_lowercase();
            let directive = self.dialect.lookup(&name_lower);
            let locations: Vec<Location> = tokens
                .iter()
                .map(|t| text.location(i, lead + t.offset))
                .collect();
            let line_index = self.lines.len();
            self.lines.push(Line {
                name: directive.map_or(name_lower.clone(), |d| d.name.to_string()),
                written_name: tokens[0].text.clone(),
                args: tokens[1..].iter().map(|t| t.text.clone()).collect(),
                locations,
                from_include,
                refused: false,
            });
            let result = match directive {
                // KeyDB refuses active replication switched on after a replica-of line
                // (KeyDB 6.3.4 src/config.cpp, loadServerConfigFromString).
                Some(d)
                    if self.dialect.engine() == Engine::KeyDb
                        && matches!(d.name, "active-replica" | "multi-master")
                        && tokens.len() == 2
                        && tokens[1].text.eq_ignore_ascii_case("yes")
                        && self.replicaof().is_some() =>
                {
                    Err((
                        format!("must not set replica-of config before {} config", d.name),
                        Some("put the replicaof line after it".to_string()),
                        0,
                    ))
                }
                Some(d) => self.set_standard(d, &tokens, line_index, reading_config_file, state),
                None => self.set_other(
                    &name_lower,
                    &tokens,
                    line_index,
                    &text,
                    i,
                    state,
                    &mut reading_config_file,
                ),
            };
            if let Err((message, hint, arg)) = result {
                self.lines[line_index].refused = true;
                let offset = tokens.get(arg).map_or(0, |t: &Token| t.offset);
                self.error(&text, i, lead + offset, message, hint);
                // Where the release is not known (or not final), a name no table knows may
                // be a newer release's, and so may an enum value (Valkey 9.0 added
                // `shutdown-on-sigterm failover`).
                let newer_may_know = match directive {
                    None => !self.dialect.table().loader.contains(&name_lower.as_str()),
                    Some(d) => matches!(d.kind, Kind::Enum { .. }),
                };
                if newer_may_know
                    && !self.dialect.certain()
                    && let Some(e) = self.errors.last_mut()
                {
                    e.certain = false;
                }
            }
        }
    }

    /// After all lines: the checks `loadServerConfigFromString` and `main` make on the whole.
    pub(super) fn finish(&mut self) {
        // KeyDB's validateConfiguration (src/server.cpp): multi-master needs active-replica.
        if self.dialect.engine() == Engine::KeyDb
            && self.bool_value("multi-master")
            && !self.bool_value("active-replica")
        {
            let location = self.line_of("multi-master").map(|l| l.location().clone());
            self.whole_config_error(
                location,
                "ERROR: Multi Master requires active replication to be enabled.",
                Some("set active-replica yes"),
            );
        }
        if self.cluster_enabled() && self.replicaof().is_some() {
            // redis-server prints no line for this one.
            let location = self.line_of("replicaof").map(|l| l.location().clone());
            self.whole_config_error(
                location,
                "replicaof directive not allowed in cluster mode",
                Some("a cluster node's replication is set up by the cluster itself"),
            );
        }
        // initServer() configures TLS before modules and ACL users are loaded.
        if let Some(reason) = self.tls_misconfiguration() {
            let location = ["tls-port", "tls-replication", "tls-cluster"]
                .iter()
                .find_map(|n| self.line_of(n))
                .map(|l| l.location().clone());
            self.whole_config_error(
                location,
                "Failed to configure TLS. Check logs for more info.",
                Some(reason),
            );
        }
        // main() loads modules (and checks module settings) before the ACL users.
        let module_configs = self
            .lines
            .iter()
            .any(|l| l.name.contains('.') && !l.refused);
        let modules = self.lines.iter().any(|l| l.name == "loadmodule");
        if module_configs && !modules {
            let location = self
                .lines
                .iter()
                .find(|l| l.name.contains('.'))
                .map(|l| l.location().clone());
            self.whole_config_error(
                location,
                "Module Configuration detected without loadmodule directive or no ApplyConfig \
                 call: aborting",
                Some("a name with a dot is a module's setting; no loadmodule line loads one"),
            );
        }
        let has_users = self.lines.iter().any(|l| l.name == "user" && !l.refused);
        if let Some((Value::Str(Some(_)), line)) = self.get("aclfile")
            && has_users
        {
            let location = Some(line.location().clone());
            self.whole_config_error(
                location,
                "Configuring Redis with users defined in redis.conf and at the same setting an \
                 ACL file path is invalid. This setup is very likely to lead to configuration \
                 errors and security holes, please define either an ACL file or declare users \
                 directly in your redis.conf, but not both.",
                None,
            );
        }
        // ACLLoadConfiguredUsers, the last start-up step that reads the configuration.
        if let Some((location, rule, user)) = self.acl_unknown.clone() {
            self.whole_config_error(
                Some(location),
                "Critical error while loading ACLs. Exiting.",
                None,
            );
            if let Some(e) = self.errors.last_mut() {
                e.hint = Some(format!(
                    "Error loading ACL rule '{rule}' for the user named '{user}': Unknown \
                     command or category name in ACL"
                ));
                // Commands and categories are redis 7.0.15's: another release may know it.
                let table = self.dialect.table();
                e.certain = self.dialect.certain() && (table.major, table.minor) == (7, 0);
            }
        }
    }

    /// `tlsConfigure`'s checks of settings (whether the files exist is only known in the pod).
    pub(super) fn tls_misconfiguration(&self) -> Option<&'static str> {
        let tls_replication = self.bool_value("tls-replication");
        let tls_cluster = self.bool_value("tls-cluster");
        if self.int_value("tls-port") == 0 && !tls_replication && !tls_cluster {
            return None;
        }
        let set = |name: &str| matches!(self.get(name), Some((Value::Str(Some(_)), _)));
        if !set("tls-cert-file") {
            return Some("No tls-cert-file configured!");
        }
        if !set("tls-key-file") {
            return Some("No tls-key-file configured!");
        }
        let auth_clients = self.enum_value("tls-auth-clients") != "no";
        if (auth_clients || tls_cluster || tls_replication)
            && !set("tls-ca-cert-file")
            && !set("tls-ca-cert-dir")
        {
            return Some(
                "Either tls-ca-cert-file or tls-ca-cert-dir must be specified when tls-cluster, tls-replication or tls-auth-clients are enabled!",
            );
        }
        None
    }
}

//! Reading a [`RedisConfig`]: constructors and the accessors the model and rules use.

use super::*;

impl RedisConfig {
    /// The configuration of `redis-server <argv…>`: `argv[0]` is the config file when it does
    /// not start with `-`, the rest are `--name value` options. Files come from `files`.
    pub fn from_argv(argv: &[String], files: &ConfigFiles, options: &ReadOptions) -> RedisConfig {
        let mut cfg = RedisConfig {
            dialect: options.dialect,
            ..RedisConfig::default()
        };
        let cmd = build_command_line(argv);
        let mut state = ReadState {
            cwd: options.cwd.clone(),
            sentinel_mode: options.sentinel_mode
                || argv.iter().any(|a| a.eq_ignore_ascii_case("--sentinel")),
            files,
        };
        let mut parts = Vec::new();
        if let Some((index, path)) = &cmd.config_file {
            let resolved = resolve(&state.cwd, path);
            if files.get(&resolved).is_none() {
                cfg.whole_config_error(
                    Some(Location::Arg {
                        index: *index,
                        column: 1,
                    }),
                    format!(
                        "Fatal error, can't open config file '{resolved}': No such file or directory"
                    ),
                    Some("the file is not in the input (no ConfigMap provides it)"),
                );
            } else {
                parts = file_segments(files, &[resolved]);
            }
        }
        // Configuration piped on stdin (`-`) cannot be known offline; it is read as empty.
        // `config = sdscat(config, "\n"); config = sdscat(config, options)`: with any
        // argument at all, the options start on a new line.
        if !argv.is_empty() {
            parts.push(("\n".to_string(), Segment::Separator));
            let text = cmd
                .lines
                .iter()
                .map(|(l, _)| l.as_str())
                .collect::<Vec<_>>()
                .join("\n");
            let pieces = cmd.lines.into_iter().map(|(_, p)| p).collect();
            parts.push((text, Segment::Args(pieces)));
        }
        cfg.load(build_text(parts), &mut state, false);
        cfg.finish();
        cfg
    }

    /// The configuration of a file alone (a ConfigMap's redis.conf), at `path`.
    pub fn from_text(path: &str, content: &str) -> RedisConfig {
        let mut files = ConfigFiles::new();
        files.insert(path, content);
        RedisConfig::from_argv(&[path.to_string()], &files, &ReadOptions::default())
    }

    /// Every directive line, in the order redis-server applies them.
    pub fn lines(&self) -> &[Line] {
        &self.lines
    }

    /// What redis-server would refuse at start-up, in the order it reads; the first is the
    /// one it prints before exiting.
    pub fn errors(&self) -> &[StartupError] {
        &self.errors
    }

    /// True when redis-server would start with this configuration.
    pub fn starts(&self) -> bool {
        self.errors.is_empty()
    }

    /// The typed value of a standard directive and the line that set it (`None`: default).
    /// `save` and `client-output-buffer-limit` accumulate, so they have accessors of their
    /// own ([`save_points`](Self::save_points), [`output_buffer_limit`](Self::output_buffer_limit)).
    pub fn get(&self, name: &str) -> Option<(&Value, &Line)> {
        let d = self.dialect.lookup(name)?;
        self.values.get(d.name).map(|(v, i)| (v, &self.lines[*i]))
    }

    /// The directive `name` is read as, in this configuration's release.
    pub fn directive(&self, name: &str) -> Option<&'static Directive> {
        self.dialect.lookup(name)
    }

    /// The release this configuration was judged for.
    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    /// The line that set a directive last, if any.
    pub fn line_of(&self, name: &str) -> Option<&Line> {
        self.get(name).map(|(_, l)| l)
    }

    /// An integer or memory directive's effective value (its default when unset).
    pub fn int_value(&self, name: &str) -> i128 {
        match self.get(name) {
            Some((Value::Int(v), _)) => *v,
            _ => self
                .dialect
                .lookup(name)
                .and_then(|d| d.default.parse().ok())
                .unwrap_or(0),
        }
    }

    /// A boolean directive's effective value (its default when unset).
    pub fn bool_value(&self, name: &str) -> bool {
        match self.get(name) {
            Some((Value::Bool(b), _)) => *b,
            _ => self
                .dialect
                .lookup(name)
                .is_some_and(|d| d.default == "yes"),
        }
    }

    pub(super) fn enum_value(&self, name: &str) -> &'static str {
        match self.get(name) {
            Some((Value::Enum(v), _)) if !v.is_empty() => v[0],
            _ => self.dialect.lookup(name).map_or("", |d| d.default),
        }
    }

    /// `maxmemory` in bytes; 0 means no limit.
    pub fn maxmemory_bytes(&self) -> u64 {
        self.int_value("maxmemory") as u64
    }

    pub fn maxmemory_policy(&self) -> &'static str {
        self.enum_value("maxmemory-policy")
    }

    pub fn appendonly(&self) -> bool {
        self.bool_value("appendonly")
    }

    pub fn cluster_enabled(&self) -> bool {
        self.bool_value("cluster-enabled")
    }

    /// `repl-backlog-size` in bytes.
    pub fn repl_backlog_bytes(&self) -> u64 {
        self.int_value("repl-backlog-size") as u64
    }

    /// The effective save points: the defaults when no `save` line exists.
    pub fn save_points(&self) -> Vec<SavePoint> {
        self.save
            .clone()
            .unwrap_or_else(|| DEFAULT_SAVE_POINTS.to_vec())
    }

    /// True when no `save` line was read and Redis' implicit defaults apply.
    pub fn save_is_default(&self) -> bool {
        self.save.is_none()
    }

    /// The `save` lines that shaped the save points.
    pub fn save_lines(&self) -> impl Iterator<Item = &Line> {
        self.save_lines.iter().map(|i| &self.lines[*i])
    }

    pub fn output_buffer_limit(&self, class: ClientClass) -> OutputBufferLimit {
        self.obuf.unwrap_or(DEFAULT_OBUF_LIMITS)[class.index()]
    }

    pub fn output_buffer_limit_line(&self, class: ClientClass) -> Option<&Line> {
        self.obuf_lines[class.index()].map(|i| &self.lines[i])
    }

    /// `replicaof host port`, unless unset or `no one`.
    pub fn replicaof(&self) -> Option<(String, u16)> {
        match self.get("replicaof") {
            Some((Value::Args(a), _)) if a.len() == 2 => {
                if a[0].eq_ignore_ascii_case("no") && a[1].eq_ignore_ascii_case("one") {
                    None
                } else {
                    Some((a[0].clone(), a[1].parse().unwrap_or(0)))
                }
            }
            _ => None,
        }
    }

    /// `bind` addresses; `None` when unset (redis-server then binds `* -::*`).
    pub fn bind(&self) -> Option<Vec<String>> {
        match self.get("bind") {
            Some((Value::Args(a), _)) => Some(a.clone()),
            _ => None,
        }
    }

    /// True when `requirepass` is set to a non-empty password.
    pub fn has_requirepass(&self) -> bool {
        matches!(self.get("requirepass"), Some((Value::Str(Some(_)), _)))
    }

    /// `rename-command` pairs in order (new name empty: the command is removed).
    pub fn renamed_commands(&self) -> impl Iterator<Item = (&str, &str, &Line)> {
        self.renamed
            .iter()
            .map(|(a, b, i)| (a.as_str(), b.as_str(), &self.lines[*i]))
    }

    /// Lines of a given (canonical) name: `user`, `loadmodule`, `include`, …
    pub fn lines_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Line> + 'a {
        self.lines.iter().filter(move |l| l.name == name)
    }

    /// The value `CONFIG GET <name>` would answer, for the directives the differential test
    /// compares (and any standard directive).
    pub fn config_get(&self, name: &str) -> Option<String> {
        let d = self.dialect.lookup(name)?;
        Some(match d.name {
            "save" => self
                .save_points()
                .iter()
                .map(|p| format!("{} {}", p.seconds, p.changes))
                .collect::<Vec<_>>()
                .join(" "),
            "client-output-buffer-limit" => [
                ("normal", ClientClass::Normal),
                ("slave", ClientClass::Replica),
                ("pubsub", ClientClass::Pubsub),
            ]
            .iter()
            .map(|(n, c)| {
                let l = self.output_buffer_limit(*c);
                format!("{n} {} {} {}", l.hard_bytes, l.soft_bytes, l.soft_seconds)
            })
            .collect::<Vec<_>>()
            .join(" "),
            _ => match (&d.kind, self.values.get(d.name)) {
                (_, None) => d.default.to_string(),
                (_, Some((Value::Bool(b), _))) => if *b { "yes" } else { "no" }.to_string(),
                (_, Some((Value::Str(s), _))) => s.clone().unwrap_or_default(),
                (_, Some((Value::Enum(v), _))) => v.join(" "),
                (Kind::Numeric { percent: true, .. }, Some((Value::Int(i), _))) if *i < 0 => {
                    format!("{}%", -i)
                }
                (_, Some((Value::Int(i), _))) => i.to_string(),
                (_, Some((Value::Args(a), _))) => a.join(" "),
            },
        })
    }
}

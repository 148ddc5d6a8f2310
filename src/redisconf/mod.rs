//! redis.conf as redis-server reads it: the effective configuration and every start-up error.
//!
//! This is a model of `loadServerConfig` / `loadServerConfigFromString` (src/config.c) and of
//! the command-line handling in `main()` (src/server.c) of Redis 7.0, checked against the real
//! server by `tests/differential_redis.rs`:
//!
//! - The text is split on `\n`; each line is trimmed of ` \t\r\n`; a line is a comment only
//!   when it *starts* with `#` (there are no inline comments: `maxmemory 1gb # note` is four
//!   arguments, and redis-server exits).
//! - Lines are split by `sdssplitargs` ([`tokenizer`]); the name is case-insensitive and
//!   aliases are accepted.
//! - A single-value directive repeated: the last line wins. `save` accumulates (the first line
//!   drops the defaults; after an `include` each line replaces), `client-output-buffer-limit`
//!   updates only the classes it names, `rename-command`, `user` and `loadmodule` accumulate.
//! - `include` reads the file at that point (a missing literal path is fatal; a glob matching
//!   nothing is skipped). Files come from the caller ([`ConfigFiles`]), never from the disk.
//! - Command-line `--name value…` arguments become lines appended after the file, so they win;
//!   `--save` alone (last, or before another `--option`) means `save ""`.
//!
//! redis-server stops at its first error; this reader records it and goes on, so that a linter
//! can report every line redis-server would refuse. `errors()[0]` is the one redis-server
//! prints. Every directive and argument keeps its [`Location`].

mod acl;
pub mod directives;
pub mod release;
mod releases;
// 7.0.15's table from config.c itself: the command list for `rename-command`, and the
// cross-check that the TSV-generated tables read types, bounds and defaults right.
#[allow(dead_code)]
mod table;
pub mod tokenizer;

use std::collections::{BTreeMap, HashMap};
use std::fmt;

use directives::{Directive, Kind, Special, Validator};
pub use release::{Dialect, Engine, Release};
use tokenizer::{Token, repr, split_args};

use crate::units::redis::{c_strtoll_full, c_strtoll_octal_full, parse_memory, string2ll};

/// Where a directive or argument was written.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Location {
    /// 1-based line and column (in characters) of a configuration file.
    File {
        path: String,
        line: u32,
        column: u32,
    },
    /// A command-line argument: its index in the argument list the caller passed (the config
    /// file path, if any, is index 0), and a 1-based column inside it.
    Arg { index: usize, column: u32 },
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::File { path, line, column } => write!(f, "{path}:{line}:{column}"),
            Location::Arg { index, column } => write!(f, "argument {index}, column {column}"),
        }
    }
}

/// The files an `include` (or the command line) can name: absolute path → content.
/// A ConfigMap mounted at `/etc/redis` contributes one entry per key.
#[derive(Debug, Clone, Default)]
pub struct ConfigFiles {
    files: BTreeMap<String, String>,
}

impl ConfigFiles {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn insert(&mut self, path: impl Into<String>, content: impl Into<String>) {
        self.files
            .insert(normalize_path(&path.into()), content.into());
    }

    pub fn get(&self, path: &str) -> Option<&str> {
        self.files.get(path).map(String::as_str)
    }

    /// glob(3) with flags 0: `*` and `?` do not cross `/` or match a leading dot; results in
    /// byte order (the C locale redis-server runs with in containers).
    fn glob(&self, pattern: &str) -> Vec<&str> {
        let Ok(pat) = glob::Pattern::new(pattern) else {
            return Vec::new();
        };
        let options = glob::MatchOptions {
            case_sensitive: true,
            require_literal_separator: true,
            require_literal_leading_dot: true,
        };
        // BTreeMap iterates in byte order already.
        self.files
            .keys()
            .filter(|p| pat.matches_with(p, options))
            .map(String::as_str)
            .collect()
    }
}

/// Lexical normalisation: `/a/./b/../c` → `/a/c`.
pub fn normalize_path(path: &str) -> String {
    let absolute = path.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            p => parts.push(p),
        }
    }
    let joined = parts.join("/");
    if absolute {
        format!("/{joined}")
    } else {
        joined
    }
}

fn resolve(cwd: &str, path: &str) -> String {
    if path.starts_with('/') {
        normalize_path(path)
    } else {
        normalize_path(&format!("{cwd}/{path}"))
    }
}

/// How to read: the working directory relative includes resolve against (redis-server's own,
/// changed by `dir` lines as they are read), and sentinel mode.
#[derive(Debug, Clone)]
pub struct ReadOptions {
    pub cwd: String,
    pub sentinel_mode: bool,
    /// The release whose directive table judges the lines.
    pub dialect: Dialect,
}

impl Default for ReadOptions {
    fn default() -> Self {
        // The official image's WORKDIR.
        ReadOptions {
            cwd: "/data".to_string(),
            sentinel_mode: false,
            dialect: Dialect::default(),
        }
    }
}

/// A line redis-server refuses, which makes it exit at start-up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StartupError {
    /// Where the offending line is; `None` for errors about the configuration as a whole.
    pub location: Option<Location>,
    /// The trimmed line, as redis-server echoes it (`>>> '…'`).
    pub line_text: String,
    /// The line number redis-server prints ("at line N"): counted in the text it parses,
    /// which for command-line arguments continues after the file's lines.
    pub redis_line: Option<u32>,
    /// redis-server's own message, verbatim.
    pub message: String,
    /// Our explanation, when redis-server's message is too terse to act on.
    pub hint: Option<String>,
    /// False when the server may accept the line after all: a directive no table knows,
    /// read for a release we cannot name (or a pre-release table).
    pub certain: bool,
}

impl fmt::Display for StartupError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(loc) = &self.location {
            write!(f, "{loc}: ")?;
        }
        write!(f, "{}", self.message)?;
        if !self.line_text.is_empty() {
            write!(f, " in `{}`", self.line_text)?;
        }
        if let Some(hint) = &self.hint {
            write!(f, " ({hint})")?;
        }
        Ok(())
    }
}

/// One directive line, in the order redis-server applies them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    /// The canonical name for known directives (`replicaof` for `slaveof`), else lower-cased.
    pub name: String,
    /// The name as written.
    pub written_name: String,
    pub args: Vec<String>,
    /// The directive name's location, then each argument's.
    pub locations: Vec<Location>,
    /// Read from an `include`d file.
    pub from_include: bool,
    /// Refused (see the error with the same location).
    pub refused: bool,
}

impl Line {
    pub fn location(&self) -> &Location {
        &self.locations[0]
    }

    pub fn arg_location(&self, i: usize) -> &Location {
        self.locations.get(i + 1).unwrap_or(&self.locations[0])
    }
}

/// A typed value of a standard directive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    Bool(bool),
    /// `None` when an `EMPTY_STRING_IS_NULL` directive is set to `""`.
    Str(Option<String>),
    /// Canonical enum names (several for multi-arg enums).
    Enum(Vec<&'static str>),
    /// Integers; memory values in bytes; `N%` stored as -N, as redis-server does.
    Int(i128),
    /// Special directives (`bind`, `replicaof`, `dir`, …): the arguments.
    Args(Vec<String>),
}

/// `save <seconds> <changes>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SavePoint {
    pub seconds: i64,
    pub changes: i64,
}

/// Redis' default save points when no `save` line exists (server.c): 3600 1 300 100 60 10000.
pub const DEFAULT_SAVE_POINTS: [SavePoint; 3] = [
    SavePoint {
        seconds: 3600,
        changes: 1,
    },
    SavePoint {
        seconds: 300,
        changes: 100,
    },
    SavePoint {
        seconds: 60,
        changes: 10000,
    },
];

/// Client classes of `client-output-buffer-limit`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientClass {
    Normal,
    Replica,
    Pubsub,
}

impl ClientClass {
    fn index(self) -> usize {
        self as usize
    }
}

/// One class' output buffer limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutputBufferLimit {
    pub hard_bytes: u64,
    pub soft_bytes: u64,
    pub soft_seconds: i64,
}

const DEFAULT_OBUF_LIMITS: [OutputBufferLimit; 3] = [
    OutputBufferLimit {
        hard_bytes: 0,
        soft_bytes: 0,
        soft_seconds: 0,
    },
    OutputBufferLimit {
        hard_bytes: 256 << 20,
        soft_bytes: 64 << 20,
        soft_seconds: 60,
    },
    OutputBufferLimit {
        hard_bytes: 32 << 20,
        soft_bytes: 8 << 20,
        soft_seconds: 60,
    },
];

/// The effective configuration of one redis-server invocation.
#[derive(Debug, Clone, Default)]
pub struct RedisConfig {
    lines: Vec<Line>,
    /// Canonical name → (value, index of the line that set it last).
    values: HashMap<&'static str, (Value, usize)>,
    /// `None`: no `save` line, the defaults apply.
    save: Option<Vec<SavePoint>>,
    save_lines: Vec<usize>,
    save_loaded: bool,
    obuf: Option<[OutputBufferLimit; 3]>,
    obuf_lines: [Option<usize>; 3],
    renamed: Vec<(String, String, usize)>,
    errors: Vec<StartupError>,
    /// How deep and how many includes are being followed (cycle guards).
    include_depth: usize,
    include_loads: usize,
    include_bytes: usize,
    dialect: Dialect,
    /// The first ACL rule naming a command or category redis-server does not know: read
    /// past while the file is, fatal when the users are loaded at start-up.
    acl_unknown: Option<(Location, String, String)>,
    /// The users declared by `user` lines read so far (a name twice is refused).
    users: std::collections::HashSet<String>,
}

/// Where each line of the text being parsed came from.
#[derive(Debug, Clone)]
enum LineOrigin {
    File {
        path: String,
        line: u32,
    },
    /// A line built from command-line arguments: (byte offset in the built line, argument
    /// index, offset inside the argument) for each piece.
    Args {
        pieces: ArgPieces,
    },
    /// The empty line between the file and the options.
    Separator,
}

/// A piece of text to parse, line by line, with the origin of every line.
struct Text {
    lines: Vec<(String, LineOrigin)>,
}

impl Text {
    fn location(&self, line_index: usize, byte_offset: usize) -> Location {
        let (text, origin) = &self.lines[line_index];
        match origin {
            LineOrigin::File { path, line } => Location::File {
                path: path.clone(),
                line: *line,
                column: text
                    .get(..byte_offset)
                    .map_or(byte_offset, |s| s.chars().count()) as u32
                    + 1,
            },
            LineOrigin::Args { pieces } => {
                let (start, index, inner) = pieces
                    .iter()
                    .rev()
                    .find(|(start, _, _)| *start <= byte_offset)
                    .copied()
                    .unwrap_or((0, 0, 0));
                Location::Arg {
                    index,
                    column: (inner + byte_offset - start) as u32 + 1,
                }
            }
            // Always an empty line, so nothing on it is ever located; point at the options.
            LineOrigin::Separator => Location::Arg {
                index: 0,
                column: byte_offset as u32 + 1,
            },
        }
    }
}

/// A piece of the text redis-server parses: a file's content, or the command-line options.
enum Segment {
    File(String),
    /// The `\n` redis-server puts between the file and the options.
    Separator,
    /// The option lines; for each, its pieces (see [`LineOrigin::Args`]).
    Args(Vec<ArgPieces>),
}

/// Concatenates the segments and splits the result on `\n` as `sdssplitlen` does (an empty
/// text has no lines; `a\n` has two), remembering where each line starts. Files are
/// concatenated before splitting, so a file without a final newline runs into the next one.
fn build_text(parts: Vec<(String, Segment)>) -> Text {
    let parts: Vec<(String, Segment)> = parts.into_iter().filter(|(c, _)| !c.is_empty()).collect();
    let mut full = String::new();
    let mut starts = Vec::with_capacity(parts.len());
    for (content, _) in &parts {
        starts.push(full.len());
        full.push_str(content);
    }
    let mut lines = Vec::new();
    if full.is_empty() {
        return Text { lines };
    }
    // Newlines seen so far in each segment: the line number of a line starting there.
    let mut newlines = vec![0u32; parts.len()];
    let segment_of = |pos: usize| starts.partition_point(|s| *s <= pos).saturating_sub(1);
    let mut offset = 0;
    for piece in full.split('\n') {
        let k = segment_of(offset.min(full.len().saturating_sub(1)));
        let origin = match &parts[k].1 {
            Segment::File(path) => LineOrigin::File {
                path: path.clone(),
                line: newlines[k] + 1,
            },
            Segment::Separator => LineOrigin::Separator,
            Segment::Args(arg_lines) => LineOrigin::Args {
                pieces: arg_lines
                    .get(newlines[k] as usize)
                    .cloned()
                    .unwrap_or_default(),
            },
        };
        lines.push((piece.to_string(), origin));
        offset += piece.len();
        if offset < full.len() {
            newlines[segment_of(offset)] += 1;
        }
        offset += 1;
    }
    Text { lines }
}

fn file_segments(files: &ConfigFiles, paths: &[String]) -> Vec<(String, Segment)> {
    paths
        .iter()
        .map(|p| {
            (
                files.get(p).unwrap_or_default().to_string(),
                Segment::File(p.clone()),
            )
        })
        .collect()
}

/// The command line redis-server builds from `--name value…` (server.c `main`): one line per
/// option, values quoted with `sdscatrepr`.
struct CommandLine {
    config_file: Option<(usize, String)>,
    /// Each option line and its pieces: (byte offset in the line, argument index, offset in
    /// that argument).
    lines: Vec<(String, ArgPieces)>,
}

type ArgPieces = Vec<(usize, usize, usize)>;

fn build_command_line(argv: &[String]) -> CommandLine {
    let mut j = 0;
    let mut config_file = None;
    if let Some(first) = argv.first().filter(|f| !f.starts_with('-')) {
        config_file = Some((0, first.clone()));
        j = 1;
    }
    let mut options: Vec<(String, ArgPieces)> = Vec::new();
    let mut handled_last_config_arg = true;
    let argc = argv.len();
    while j < argc {
        let arg = &argv[j];
        let next_is_option = j + 1 < argc && argv[j + 1].starts_with("--");
        if arg == "-" && (j == 0 || j == argc - 1) {
            // Configuration from stdin: unknown offline.
        } else if handled_last_config_arg && arg.starts_with("--") {
            let mut line = arg[2..].to_string();
            line.push(' ');
            let pieces = vec![(0, j, 2)];
            let name_only = split_args(arg).map(|t| t.len() == 1).unwrap_or(false);
            if name_only {
                handled_last_config_arg = false;
                if arg.eq_ignore_ascii_case("--save") && (next_is_option || j == argc - 1) {
                    // `--save` with no value means `save ""` (compatibility with Redis < 7.0).
                    line.push_str("\"\"");
                    handled_last_config_arg = next_is_option;
                } else if arg.eq_ignore_ascii_case("--sentinel") && next_is_option {
                    handled_last_config_arg = true;
                }
            } else {
                handled_last_config_arg = true;
            }
            options.push((line, pieces));
        } else {
            // A value before any option name starts a line of its own (redis-server appends it
            // to the empty option list).
            if options.is_empty() {
                options.push((String::new(), Vec::new()));
            }
            if let Some((line, pieces)) = options.last_mut() {
                pieces.push((line.len(), j, 0));
                line.push_str(&repr(arg));
                line.push(' ');
            }
            handled_last_config_arg = true;
        }
        j += 1;
    }
    CommandLine {
        config_file,
        lines: options,
    }
}

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

    fn enum_value(&self, name: &str) -> &'static str {
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

struct ReadState<'a> {
    cwd: String,
    sentinel_mode: bool,
    files: &'a ConfigFiles,
}

/// Deprecated names redis-server 7.0 ignores when given exactly one argument.
const DEPRECATED: [&str; 3] = [
    "list-max-ziplist-entries",
    "list-max-ziplist-value",
    "lua-replicate-commands",
];

/// Includes nested deeper than this are reported rather than followed (redis-server would
/// recurse until it runs out of stack on an include cycle).
const MAX_INCLUDE_DEPTH: usize = 16;
/// And at most this many include lines are followed in all, so that a cycle through a glob
/// that matches several files cannot branch into billions of reads.
const MAX_INCLUDE_LOADS: usize = 256;
/// And at most this many bytes are read through includes in all: a 1 MiB ConfigMap that
/// includes itself 256 times would otherwise be 256 MiB of parsing on the webhook's time.
/// A ConfigMap holds at most 1 MiB, so real configurations stay far below it.
const MAX_INCLUDED_BYTES: usize = 8 << 20;

impl RedisConfig {
    fn error(
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
    fn whole_config_error(
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
    fn load(&mut self, text: Text, state: &mut ReadState<'_>, from_include: bool) {
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
    fn finish(&mut self) {
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
    fn tls_misconfiguration(&self) -> Option<&'static str> {
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

    /// Directives outside the standard table: include, rename-command, user, loadmodule,
    /// module settings, sentinel, deprecated names.
    #[allow(clippy::too_many_arguments)]
    fn set_other(
        &mut self,
        name: &str,
        tokens: &[Token],
        line_index: usize,
        text: &Text,
        i: usize,
        state: &mut ReadState<'_>,
        reading_config_file: &mut bool,
    ) -> SetResult {
        let argc = tokens.len();
        let arg = |k: usize| tokens[k].text.as_str();
        if DEPRECATED.contains(&name) && argc == 2 {
            return Ok(());
        }
        match name {
            "include" if argc == 2 => {
                let path = resolve(&state.cwd, arg(1));
                let wildcard = arg(1).contains(['*', '?', '[']);
                let paths: Vec<String> = if wildcard {
                    state
                        .files
                        .glob(&path)
                        .into_iter()
                        .map(String::from)
                        .collect()
                } else if state.files.get(&path).is_some() {
                    vec![path.clone()]
                } else {
                    // Fatal before anything is parsed; redis-server logs it without a line.
                    self.whole_config_error(
                        Some(text.location(i, tokens[1].offset)),
                        format!(
                            "Fatal error, can't open config file '{path}': No such file or directory"
                        ),
                        Some("included files must be in the input (mounted from a ConfigMap)"),
                    );
                    self.lines[line_index].refused = true;
                    return Ok(());
                };
                self.include_loads += 1;
                if self.include_loads > MAX_INCLUDE_LOADS {
                    return Err((
                        "too many includes".into(),
                        Some(format!(
                            "more than {MAX_INCLUDE_LOADS} include lines were followed (an include cycle?)"
                        )),
                        1,
                    ));
                }
                if self.include_depth >= MAX_INCLUDE_DEPTH {
                    return Err((
                        "include nesting too deep".into(),
                        Some("redis-server would recurse until it crashes (include cycle?)".into()),
                        1,
                    ));
                }
                let included = build_text(file_segments(state.files, &paths));
                self.include_bytes += included.lines.iter().map(|(l, _)| l.len()).sum::<usize>();
                if self.include_bytes > MAX_INCLUDED_BYTES {
                    return Err((
                        "includes too large".into(),
                        Some(format!(
                            "more than {} MiB were read through includes (an include cycle?)",
                            MAX_INCLUDED_BYTES >> 20
                        )),
                        1,
                    ));
                }
                self.include_depth += 1;
                self.load(included, state, true);
                self.include_depth -= 1;
                *reading_config_file = false;
                Ok(())
            }
            "rename-command" if argc == 3 => {
                let from = arg(1).to_ascii_lowercase();
                let to = arg(2).to_string();
                if from.contains('|') {
                    return Err((
                        "No such command in rename-command".into(),
                        Some("subcommands cannot be renamed".into()),
                        1,
                    ));
                }
                let exists = |cfg: &RedisConfig, name: &str| {
                    let renamed_away = cfg.renamed.iter().any(|(f, _, _)| f == name);
                    let renamed_to = cfg
                        .renamed
                        .iter()
                        .any(|(_, t, _)| t.eq_ignore_ascii_case(name));
                    renamed_to || (directives::is_command(name) && !renamed_away)
                };
                // The command list is 7.0.15's: a later release's new command is not known
                // to be absent.
                let commands_known = self.dialect == Dialect::Release(Release::redis_7_0());
                if commands_known && !exists(self, &from) {
                    return Err((
                        "No such command in rename-command".into(),
                        Some(format!(
                            "`{}` is not a command, or was renamed already",
                            arg(1)
                        )),
                        1,
                    ));
                }
                if !to.is_empty() && exists(self, &to.to_ascii_lowercase()) {
                    return Err(("Target command name already exists".into(), None, 2));
                }
                // A command renamed twice is tracked under its current name.
                if let Some(entry) = self
                    .renamed
                    .iter_mut()
                    .find(|(_, t, _)| t.eq_ignore_ascii_case(&from))
                {
                    entry.1 = to;
                    entry.2 = line_index;
                } else {
                    self.renamed.push((from, to, line_index));
                }
                Ok(())
            }
            "user" if argc >= 2 => {
                let words: Vec<&str> = tokens.iter().map(|t| t.text.as_str()).collect();
                let channels = self.enum_value("acl-pubsub-default") == "allchannels";
                let selectors = self.dialect.table().major >= 7;
                match acl::check_user(&words, &self.users, channels, selectors) {
                    acl::Checked::Refused {
                        message,
                        rule,
                        token,
                    } => Err((
                        message,
                        Some(format!("the rule at fault is `{rule}`")),
                        token,
                    )),
                    acl::Checked::Read { unknown } => {
                        self.users.insert(words[1].to_string());
                        if let Some((token, rule)) = unknown
                            && self.acl_unknown.is_none()
                        {
                            let location = self.lines[line_index].locations[token].clone();
                            self.acl_unknown = Some((location, rule, words[1].to_string()));
                        }
                        Ok(())
                    }
                }
            }
            "loadmodule" if argc >= 2 => Ok(()),
            n if n.contains('.') => {
                if argc < 2 {
                    Err(("Module config specified without value".into(), None, 0))
                } else {
                    Ok(())
                }
            }
            "sentinel" => {
                if argc != 1 && !state.sentinel_mode {
                    Err((
                        "sentinel directive while not in sentinel mode".into(),
                        None,
                        0,
                    ))
                } else {
                    Ok(())
                }
            }
            _ => Err((
                "Bad directive or wrong number of arguments".into(),
                Some(unknown_directive_hint(
                    name,
                    argc,
                    &self.dialect,
                    self.errors.len() < MAX_SUGGESTIONS,
                )),
                0,
            )),
        }
    }
}

/// "Did you mean" is searched for the first errors only: redis-server stops at the first,
/// and a tenant's ConfigMap of 50,000 unknown lines would otherwise cost seconds of edit
/// distances on the webhook's time (found by fuzzing, issue 9).
const MAX_SUGGESTIONS: usize = 32;

fn unknown_directive_hint(name: &str, argc: usize, dialect: &Dialect, suggest: bool) -> String {
    match name {
        "include" | "rename-command" | "user" | "loadmodule" => format!(
            "`{name}` with {} argument(s): include takes 1, rename-command 2, user and loadmodule at least 1",
            argc - 1
        ),
        _ => {
            // The distance is at least the difference in length: without that bound, every
            // unknown name costs |name| × |candidate| per directive, and a tenant's 1 MiB
            // token took seconds of the webhook's time (found by fuzzing, issue 9).
            let name_chars = name.chars().count();
            if let Some(history) = release::history(name, dialect) {
                return format!("`{name}` is {history}; this is {dialect}");
            }
            let close = suggest
                .then(|| dialect.table().directives)
                .into_iter()
                .flatten()
                .flat_map(|d| std::iter::once(d.name).chain(d.alias))
                .filter(|candidate| candidate.chars().count().abs_diff(name_chars) <= 2)
                .find(|candidate| edit_distance(candidate, name) <= 2);
            match close {
                Some(c) => format!("unknown directive `{name}`; did you mean `{c}`?"),
                None => match dialect {
                    Dialect::Release(r) => {
                        format!("unknown directive `{name}` ({r} knows none by that name)")
                    }
                    Dialect::Unknown(_) => format!(
                        "unknown directive `{name}`: no release of Redis {} or Valkey {} knows \
                         it, and the release that runs here is not known",
                        release::span(Engine::Redis),
                        release::span(Engine::Valkey)
                    ),
                },
            }
        }
    }
}

/// Levenshtein distance, for "did you mean".
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur.push((prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

fn arity_hint(tokens: &[Token]) -> String {
    if let Some(t) = tokens.iter().skip(1).find(|t| t.text.starts_with('#')) {
        return format!(
            "redis.conf has no inline comments: `{}…` is read as more arguments; put the comment on a line of its own",
            t.text
        );
    }
    if tokens.len() == 1 {
        return "no value given".into();
    }
    format!(
        "`{}` takes exactly one argument, {} given; quote a value that contains spaces",
        tokens[0].text,
        tokens.len() - 1
    )
}

type SetResult = Result<(), (String, Option<String>, usize)>;

fn fail(message: impl Into<String>) -> SetResult {
    Err((message.into(), None, 1))
}

fn numeric_error(memory: bool, percent: bool, octal: bool) -> &'static str {
    if memory && percent {
        "argument must be a memory or percent value"
    } else if memory {
        "argument must be a memory value"
    } else if octal {
        "argument couldn't be parsed as an octal number"
    } else {
        "argument couldn't be parsed into an integer"
    }
}

/// `numericParseString`: memory first, then percent, then octal, then a plain integer.
fn parse_numeric(v: &str, memory: bool, percent: bool, octal: bool) -> Option<i64> {
    if memory && let Ok(m) = parse_memory(v) {
        return Some(m.bytes as i64);
    }
    if percent
        && v.len() > 1
        && v.ends_with('%')
        && let Some(n) = string2ll(&v[..v.len() - 1]).filter(|n| *n >= 0)
    {
        return Some(-n);
    }
    if octal && let Some(n) = c_strtoll_octal_full(v) {
        return Some(n);
    }
    if !memory && !percent && !octal {
        return string2ll(v);
    }
    None
}

/// `string2d`: a C double with no leading blank and nothing after it.
fn string2d(v: &str) -> Option<f64> {
    if v.is_empty() || v.starts_with(|c: char| c.is_ascii_whitespace()) {
        return None;
    }
    v.parse::<f64>().ok().filter(|f| !f.is_nan())
}

impl RedisConfig {
    /// The standard table's setters (`boolConfigSet`, `numericConfigSet`, the specials …).
    fn set_standard(
        &mut self,
        d: &'static Directive,
        tokens: &[Token],
        line_index: usize,
        reading_config_file: bool,
        state: &mut ReadState<'_>,
    ) -> SetResult {
        let argc = tokens.len();
        if !d.multi_arg && argc != 2 {
            return Err((
                "wrong number of arguments".into(),
                Some(arity_hint(tokens)),
                0,
            ));
        }
        // A multi-arg directive given one non-empty argument re-splits it (`--save "60 1"`);
        // when that split fails, the setter sees no arguments at all.
        let args: Vec<String> = if d.multi_arg && argc == 2 && !tokens[1].text.is_empty() {
            split_args(&tokens[1].text)
                .map(|t| t.into_iter().map(|t| t.text).collect())
                .unwrap_or_default()
        } else {
            tokens[1..].iter().map(|t| t.text.clone()).collect()
        };
        let value = match &d.kind {
            Kind::Bool { .. } => match args[0].to_ascii_lowercase().as_str() {
                "yes" => Value::Bool(true),
                "no" => Value::Bool(false),
                _ => return fail("argument must be 'yes' or 'no'"),
            },
            Kind::String {
                empty_is_null,
                validator,
            } => {
                let v = &args[0];
                if let Some(message) = validator.and_then(|val| validate_string(val, v)) {
                    return fail(message);
                }
                Value::Str(if *empty_is_null && v.is_empty() {
                    None
                } else {
                    Some(v.clone())
                })
            }
            Kind::Enum { values, validator } => {
                let mut chosen = Vec::new();
                let valid_count = !args.is_empty() && (d.multi_arg || args.len() == 1);
                for a in &args {
                    match values.iter().find(|v| v.eq_ignore_ascii_case(a)) {
                        Some(v) => chosen.push(*v),
                        None => chosen.clear(),
                    }
                    if chosen.is_empty() {
                        break;
                    }
                }
                if !valid_count || chosen.len() != args.len() {
                    return fail(format!(
                        "argument(s) must be one of the following: {}",
                        values.join(", ")
                    ));
                }
                if *validator == Some(Validator::ShutdownOnSigFlags)
                    && chosen.contains(&"save")
                    && chosen.contains(&"nosave")
                {
                    return fail("shutdown options SAVE and NOSAVE can't be used simultaneously");
                }
                Value::Enum(chosen)
            }
            Kind::Numeric {
                min,
                max,
                unsigned,
                memory,
                percent,
                octal,
            } => {
                let Some(ll) = parse_numeric(&args[0], *memory, *percent, *octal) else {
                    let hint = if *memory {
                        parse_memory(&args[0]).err().map(|e| e.reason)
                    } else {
                        None
                    };
                    return Err((numeric_error(*memory, *percent, *octal).into(), hint, 1));
                };
                if *unsigned {
                    let ull = ll as u64 as i128;
                    if ull < *min || ull > *max {
                        return fail(if *octal {
                            format!("argument must be between {:o} and {:o} inclusive", min, max)
                        } else {
                            format!("argument must be between {min} and {max} inclusive")
                        });
                    }
                    Value::Int(ull)
                } else {
                    let v = ll as i128;
                    if *percent && v < 0 {
                        if v < *min {
                            return fail(format!(
                                "percentage argument must be less or equal to {}",
                                -min
                            ));
                        }
                    } else if v < *min || v > *max {
                        return fail(format!(
                            "argument must be between {min} and {max} inclusive"
                        ));
                    }
                    Value::Int(v)
                }
            }
            Kind::Special(special) => {
                self.set_special(*special, &args, line_index, reading_config_file, state)?;
                if *special == Special::Save || *special == Special::ClientOutputBufferLimit {
                    return Ok(());
                }
                Value::Args(match *special {
                    Special::Bind | Special::LatencyTrackingInfoPercentiles
                        if args.len() == 1 && args[0].is_empty() =>
                    {
                        Vec::new()
                    }
                    _ => args,
                })
            }
        };
        self.values.insert(d.name, (value, line_index));
        Ok(())
    }

    fn set_special(
        &mut self,
        special: Special,
        args: &[String],
        line_index: usize,
        reading_config_file: bool,
        state: &mut ReadState<'_>,
    ) -> SetResult {
        let argc = args.len();
        match special {
            Special::Dir => {
                if argc != 1 {
                    return fail("wrong number of arguments");
                }
                // redis-server chdir()s here, so later relative includes resolve against it.
                // Whether the directory exists is only known in the container.
                state.cwd = resolve(&state.cwd, &args[0]);
            }
            Special::Save => {
                // `save ""` clears the list before anything else.
                let clear = argc == 1 && args[0].is_empty();
                let args: &[String] = if clear { &[] } else { args };
                if args.len() % 2 == 1 {
                    return fail("Invalid save parameters");
                }
                let mut points = Vec::new();
                for pair in args.chunks(2) {
                    let seconds = c_strtoll_full(&pair[0]).filter(|s| *s >= 1);
                    let changes = c_strtoll_full(&pair[1]).filter(|c| *c >= 0);
                    match (seconds, changes) {
                        // `changes` is stored in a C int.
                        (Some(s), Some(c)) => points.push(SavePoint {
                            seconds: s,
                            changes: c as i32 as i64,
                        }),
                        _ => return fail("Invalid save parameters"),
                    }
                }
                // The first `save` line drops the defaults; later ones append, except after an
                // include (or outside file reading), where each one replaces.
                let reset = !reading_config_file || !self.save_loaded;
                if reading_config_file {
                    self.save_loaded = true;
                }
                let mut current = self.save.take().unwrap_or_default();
                if reset || clear {
                    current.clear();
                    self.save_lines.clear();
                }
                current.extend(points);
                self.save = Some(current);
                self.save_lines.push(line_index);
            }
            Special::ClientOutputBufferLimit => {
                if !argc.is_multiple_of(4) {
                    return fail("Wrong number of arguments in buffer limit configuration.");
                }
                let mut limits = self.obuf.unwrap_or(DEFAULT_OBUF_LIMITS);
                let mut touched = [false; 3];
                for chunk in args.chunks(4) {
                    let class = match chunk[0].to_ascii_lowercase().as_str() {
                        "normal" => ClientClass::Normal,
                        "slave" | "replica" => ClientClass::Replica,
                        "pubsub" => ClientClass::Pubsub,
                        _ => {
                            return fail(
                                "Invalid client class specified in buffer limit configuration.",
                            );
                        }
                    };
                    let hard = parse_memory(&chunk[1]);
                    let soft = parse_memory(&chunk[2]);
                    // soft_seconds is strtoll'd into a C int, then checked for < 0.
                    let seconds = c_strtoll_full(&chunk[3]).map(|s| s as i32);
                    match (hard, soft, seconds) {
                        (Ok(h), Ok(s), Some(secs)) if secs >= 0 => {
                            limits[class.index()] = OutputBufferLimit {
                                hard_bytes: h.bytes,
                                soft_bytes: s.bytes,
                                soft_seconds: secs as i64,
                            };
                            touched[class.index()] = true;
                        }
                        _ => {
                            return fail(
                                "Error in hard, soft or soft_seconds setting in buffer limit configuration.",
                            );
                        }
                    }
                }
                self.obuf = Some(limits);
                for (k, t) in touched.iter().enumerate() {
                    if *t {
                        self.obuf_lines[k] = Some(line_index);
                    }
                }
            }
            Special::OomScoreAdjValues => {
                if argc != 3 {
                    return fail("wrong number of arguments");
                }
                if args
                    .iter()
                    .any(|a| c_strtoll_full(a).is_none_or(|v| !(-2000..=2000).contains(&v)))
                {
                    return fail(
                        "Invalid oom-score-adj-values, elements must be between -2000 and 2000.",
                    );
                }
            }
            Special::NotifyKeyspaceEvents => {
                if argc != 1 {
                    return fail("wrong number of arguments");
                }
                if !args[0].chars().all(|c| "Ag$lshzxeKEtmdn".contains(c)) {
                    return fail("Invalid event class character. Use 'Ag$lshzxeKEtmdn'.");
                }
            }
            Special::Bind => {
                if argc > 16 {
                    return fail("Too many bind addresses specified.");
                }
            }
            Special::ReplicaOf => {
                if argc != 2 {
                    return fail("wrong number of arguments");
                }
                let no_one =
                    args[0].eq_ignore_ascii_case("no") && args[1].eq_ignore_ascii_case("one");
                if !no_one && c_strtoll_full(&args[1]).is_none_or(|p| !(0..=65535).contains(&p)) {
                    return fail("Invalid master port");
                }
            }
            Special::LatencyTrackingInfoPercentiles => {
                if !(argc == 1 && args[0].is_empty()) {
                    for a in args {
                        match string2d(a) {
                            None => {
                                return fail(
                                    "Invalid latency-tracking-info-percentiles parameters",
                                );
                            }
                            Some(p) if !(0.0..=100.0).contains(&p) => {
                                return fail(
                                    "latency-tracking-info-percentiles parameters should sit between [0.0,100.0]",
                                );
                            }
                            Some(_) => {}
                        }
                    }
                }
            }
        }
        Ok(())
    }
}

fn validate_string(validator: Validator, v: &str) -> Option<String> {
    let is_path = v.contains(['/', '\\']);
    match validator {
        Validator::Hostname => {
            if v.len() >= 256 {
                Some("Hostnames must be less than 256 characters".into())
            } else if !v
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
            {
                Some("Hostnames may only contain alphanumeric characters, hyphens or dots".into())
            } else {
                None
            }
        }
        Validator::DbFilename if is_path => {
            Some("dbfilename can't be a path, just a filename".into())
        }
        Validator::AofFilename if v.is_empty() => Some("appendfilename can't be empty".into()),
        Validator::AofFilename if is_path => {
            Some("appendfilename can't be a path, just a filename".into())
        }
        Validator::AofDirname if v.is_empty() => Some("appenddirname can't be empty".into()),
        Validator::AofDirname if is_path => {
            Some("appenddirname can't be a path, just a dirname".into())
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests;

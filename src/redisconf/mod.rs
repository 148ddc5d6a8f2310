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
pub use acl::opens_default_user;
pub mod directives;
pub mod release;
mod releases;
// 7.0.15's table from config.c itself: the command list for `rename-command`, and the
// cross-check that the TSV-generated tables read types, bounds and defaults right.
#[allow(dead_code)]
mod table;
pub mod tokenizer;

mod access;
mod hints;
mod load;
mod set;
mod text;

use hints::*;
use load::*;
use text::*;

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

#[cfg(test)]
mod tests;

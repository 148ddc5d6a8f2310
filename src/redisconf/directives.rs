//! The shape of a redis.conf directive (the generated tables fill it); lookup is per release
//! ([`super::release`]).

use super::table::COMMANDS;

/// One entry of redis-server's `static_configs[]`.
#[derive(Debug)]
pub struct Directive {
    /// The canonical (lower-case) name; `CONFIG GET` answers under it.
    pub name: &'static str,
    /// The older spelling redis-server still accepts (`slaveof` for `replicaof`, …).
    pub alias: Option<&'static str>,
    /// Takes several arguments (`save`, `bind`, …); one argument is re-split on blanks.
    pub multi_arg: bool,
    /// The value redis-server uses when no line sets it, as `CONFIG GET` would print it.
    pub default: &'static str,
    pub kind: Kind,
}

#[derive(Debug)]
pub enum Kind {
    /// `yes` / `no`, case-insensitive.
    Bool {
        validator: Option<Validator>,
    },
    /// Free text; `empty_is_null` means `""` unsets it.
    String {
        empty_is_null: bool,
        validator: Option<Validator>,
    },
    /// One of `values` (case-insensitive); several at once for multi-arg enums.
    Enum {
        values: &'static [&'static str],
        validator: Option<Validator>,
    },
    /// An integer, or a size (`memory`), or `N%` (`percent`), or octal, within bounds.
    Numeric {
        min: i128,
        max: i128,
        /// Bounds are compared after a cast to unsigned 64 bits (so -1 is out of range).
        unsigned: bool,
        memory: bool,
        percent: bool,
        octal: bool,
    },
    Special(Special),
}

/// Directives with a setter of their own in config.c.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Special {
    Dir,
    Save,
    ClientOutputBufferLimit,
    OomScoreAdjValues,
    NotifyKeyspaceEvents,
    Bind,
    ReplicaOf,
    LatencyTrackingInfoPercentiles,
}

/// The `is_valid_fn` checks of config.c.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Validator {
    /// Refuses `activedefrag yes` only on builds without Redis' patched jemalloc (Debian's
    /// package); official images have it, so it is accepted here.
    ActiveDefrag,
    Hostname,
    DbFilename,
    AofFilename,
    AofDirname,
    /// `{title} {listen-addr} …` variables; not checked here (rarely set).
    ProcTitleTemplate,
    ShutdownOnSigFlags,
}

/// True when `name` is a top-level command of this Redis version (for `rename-command`).
pub fn is_command(name: &str) -> bool {
    COMMANDS
        .binary_search(&name.to_ascii_lowercase().as_str())
        .is_ok()
}

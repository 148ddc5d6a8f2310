//! Which engine release a configuration is read for, and what each release knows.
//!
//! The tables are generated from the directive facts of every release (tools/engines/*.tsv,
//! tools/gen_engine_tables.py). A configuration is read with the table of its container's
//! release ([`Dialect::Release`]); where the image does not say which release runs
//! ([`Dialect::Unknown`]), a directive any release knows is accepted and one no release knows
//! is reported as uncertain, never as a certain start-up failure.

use std::collections::HashMap;
use std::fmt;
use std::sync::OnceLock;

use super::directives::Directive;
use super::releases::RELEASES;

/// The server a configuration is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Engine {
    Redis,
    Valkey,
    /// KeyDB (Snapchat/KeyDB): Redis 6.2.6 with threads, active replication and its own
    /// directives, read by the same loader.
    KeyDb,
    /// Dragonfly reads absl flags, not redis.conf: its table holds the flags redline models,
    /// which the extractor turns into lines (`--maxmemory=1gb` → `maxmemory 1073741824`).
    Dragonfly,
}

impl Engine {
    pub const ALL: [Engine; 4] = [
        Engine::Redis,
        Engine::Valkey,
        Engine::KeyDb,
        Engine::Dragonfly,
    ];

    /// The engine whose server program is `program` (a path's last component).
    pub fn of_server(program: &str) -> Option<Engine> {
        let base = program.rsplit('/').next().unwrap_or(program);
        Engine::ALL.into_iter().find(|e| e.server() == base)
    }

    /// The command-line client its images ship: `valkey-cli` (which reads `VALKEYCLI_AUTH`,
    /// and `REDISCLI_AUTH` before Valkey 8), KeyDB's `keydb-cli` (`REDISCLI_AUTH`,
    /// src/redis-cli.c), and Debian's `redis-cli` in Dragonfly's images
    /// (tools/packaging/Dockerfile.ubuntu-prod).
    pub fn cli(self) -> &'static str {
        match self {
            Engine::Valkey => "valkey-cli",
            Engine::KeyDb => "keydb-cli",
            Engine::Redis | Engine::Dragonfly => "redis-cli",
        }
    }

    /// The server program: `redis-server`, `valkey-server`, `keydb-server`, `dragonfly`.
    pub fn server(self) -> &'static str {
        match self {
            Engine::Redis => "redis-server",
            Engine::Valkey => "valkey-server",
            Engine::KeyDb => "keydb-server",
            Engine::Dragonfly => "dragonfly",
        }
    }

    /// Reads redis.conf as redis-server does (Redis and its forks): a directive another of
    /// them knows may be what an unknown release of this one knows too. Dragonfly is not one.
    pub fn reads_redis_conf(self) -> bool {
        !matches!(self, Engine::Dragonfly)
    }
}

impl fmt::Display for Engine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Engine::Redis => "Redis",
            Engine::Valkey => "Valkey",
            Engine::KeyDb => "KeyDB",
            Engine::Dragonfly => "Dragonfly",
        })
    }
}

/// One release's directive table.
#[derive(Debug)]
pub struct Release {
    pub engine: Engine,
    /// As the source tree names it (`7.2.6`, `8.0-m01`, `8.1-dev`).
    pub version: &'static str,
    pub major: u32,
    pub minor: u32,
    /// False for milestones and development snapshots: the final release may know more.
    pub exact: bool,
    pub directives: &'static [Directive],
    /// Names the loader handles before the table (`include`, `user`, …).
    pub loader: &'static [&'static str],
}

/// Releases are the generated statics: the same release is the same table.
impl PartialEq for Release {
    fn eq(&self, other: &Self) -> bool {
        std::ptr::eq(self, other)
    }
}

impl Eq for Release {}

impl fmt::Display for Release {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.engine, self.version)
    }
}

impl Release {
    /// The release whose table a server of `engine` `major.minor` is read with: the same
    /// release line (7.2.4 is read with 7.2.6's table). `None` for lines without a table
    /// (Redis 5.0, 7.6, Valkey 9.0).
    pub fn for_version(engine: Engine, major: u32, minor: u32) -> Option<&'static Release> {
        RELEASES
            .iter()
            .find(|r| r.engine == engine && r.major == major && r.minor == minor)
    }

    /// The table `redline check-conf` and the differential test use: Debian bookworm's
    /// redis-server.
    pub fn redis_7_0() -> &'static Release {
        Release::for_version(Engine::Redis, 7, 0).expect("the 7.0.15 table is generated")
    }

    /// The newest table of an engine: what an unknown release of it is parsed with.
    pub fn newest(engine: Engine) -> &'static Release {
        RELEASES
            .iter()
            .rfind(|r| r.engine == engine)
            .expect("every engine has a table")
    }

    pub fn all() -> &'static [Release] {
        RELEASES
    }

    /// `engine-major.minor` as `check-conf --release` takes it (`redis-7.2`, `valkey-8.0`).
    pub fn parse(text: &str) -> Option<&'static Release> {
        let (engine, version) = text.split_once('-')?;
        let engine = match engine.to_ascii_lowercase().as_str() {
            "redis" => Engine::Redis,
            "valkey" => Engine::Valkey,
            "keydb" => Engine::KeyDb,
            _ => return None,
        };
        let mut parts = version.split('.');
        let major = parts.next()?.parse().ok()?;
        let minor = parts.next()?.parse().ok()?;
        Release::for_version(engine, major, minor)
    }

    /// Finds a directive by name or alias, case-insensitively, as `lookupConfig` does.
    pub fn lookup(&'static self, name: &str) -> Option<&'static Directive> {
        static INDEXES: OnceLock<Vec<HashMap<&'static str, &'static Directive>>> = OnceLock::new();
        let indexes = INDEXES.get_or_init(|| {
            RELEASES
                .iter()
                .map(|r| {
                    let mut map = HashMap::new();
                    for d in r.directives {
                        map.insert(d.name, d);
                        if let Some(alias) = d.alias {
                            map.insert(alias, d);
                        }
                    }
                    map
                })
                .collect()
        });
        // A release built outside the generated list (the fields are public) has no index:
        // look it up by scanning.
        let Some(index) = RELEASES
            .iter()
            .position(|r| std::ptr::eq(r, self))
            .map(|i| &indexes[i])
        else {
            return self.directives.iter().find(|d| {
                d.name.eq_ignore_ascii_case(name)
                    || d.alias.is_some_and(|a| a.eq_ignore_ascii_case(name))
            });
        };
        if name.bytes().any(|b| b.is_ascii_uppercase()) {
            index.get(name.to_ascii_lowercase().as_str()).copied()
        } else {
            index.get(name).copied()
        }
    }

    /// The releases that know `name` (lower-case) as a directive or a loader name.
    pub fn knowing(name: &str) -> impl Iterator<Item = &'static Release> + '_ {
        RELEASES
            .iter()
            .filter(move |r| r.lookup(name).is_some() || r.loader.contains(&name))
    }
}

/// How a configuration is judged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// The container's release is known: its table decides.
    Release(&'static Release),
    /// The release is not known (`latest`, a digest, a vendor tag, a line without a table):
    /// values are parsed with the engine's newest table, a name another release knows is
    /// accepted, and one no release knows may or may not be refused.
    Unknown(Engine),
}

impl Default for Dialect {
    fn default() -> Self {
        Dialect::Release(Release::redis_7_0())
    }
}

impl fmt::Display for Dialect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Dialect::Release(r) => write!(f, "{r}"),
            Dialect::Unknown(engine) => write!(f, "{engine} (release unknown)"),
        }
    }
}

impl Dialect {
    /// The release line, as a message names the server: a 7.2.4 server is judged with 7.2.6's
    /// table and is "Redis 7.2", not "Redis 7.2.6".
    pub fn line(&self) -> String {
        match self {
            Dialect::Release(r) => format!("{} {}.{}", r.engine, r.major, r.minor),
            Dialect::Unknown(_) => self.to_string(),
        }
    }

    pub fn engine(&self) -> Engine {
        match self {
            Dialect::Release(r) => r.engine,
            Dialect::Unknown(e) => *e,
        }
    }

    /// The table values are parsed with and defaults come from.
    pub fn table(&self) -> &'static Release {
        match self {
            Dialect::Release(r) => r,
            Dialect::Unknown(e) => Release::newest(*e),
        }
    }

    /// The directive `name` is read as: the release's own, or, for an unknown release, the
    /// first release that knows it (the engine's own releases first, newest first).
    pub fn lookup(&self, name: &str) -> Option<&'static Directive> {
        match self {
            Dialect::Release(r) => r.lookup(name),
            Dialect::Unknown(engine) => Release::newest(*engine).lookup(name).or_else(|| {
                let lower = name.to_ascii_lowercase();
                RELEASES
                    .iter()
                    .rev()
                    .filter(|r| r.engine == *engine)
                    .chain(RELEASES.iter().rev().filter(|r| {
                        r.engine != *engine
                            && engine.reads_redis_conf()
                            && r.engine.reads_redis_conf()
                    }))
                    .find_map(|r| r.lookup(&lower))
            }),
        }
    }

    /// True when a name this dialect does not know is certainly refused: the release is known
    /// and final.
    pub fn certain(&self) -> bool {
        matches!(self, Dialect::Release(r) if r.exact)
    }
}

/// The release lines redline has tables for: `6.2–8.0`.
pub fn span(engine: Engine) -> String {
    let mut lines = RELEASES.iter().filter(|r| r.engine == engine);
    let first = lines.next().expect("every engine has a table");
    let last = lines.next_back().unwrap_or(first);
    format!(
        "{}.{}–{}.{}",
        first.major, first.minor, last.major, last.minor
    )
}

/// Why a release does not know `name` (lower-case), when another one does: "added in Redis
/// 7.2", "Valkey only (from 8.0)", "removed after Redis 6.2".
pub fn history(name: &str, dialect: &Dialect) -> Option<String> {
    let knowing: Vec<&Release> = Release::knowing(name).collect();
    if knowing.is_empty() {
        return None;
    }
    let engine = dialect.engine();
    let own: Vec<&&Release> = knowing.iter().filter(|r| r.engine == engine).collect();
    let line = |r: &Release| format!("{} {}.{}", r.engine, r.major, r.minor);
    if own.is_empty() {
        let other = knowing[0];
        return Some(format!("{} only (from {})", other.engine, line(other)));
    }
    let Dialect::Release(this) = dialect else {
        return None;
    };
    let newer = |r: &Release| (r.major, r.minor) > (this.major, this.minor);
    match own.iter().find(|r| newer(r)) {
        Some(first) if own.iter().all(|r| newer(r)) => Some(format!("added in {}", line(first))),
        _ => own
            .iter()
            .rfind(|r| !newer(r))
            .map(|last| format!("removed after {}", line(last))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The table generated from the TSV facts is the one generated from config.c: the
    /// generator reads types, bounds, defaults and flags right.
    #[test]
    fn tsv_table_of_7_0_15_equals_the_config_c_table() {
        let tsv = Release::redis_7_0();
        assert_eq!(tsv.version, "7.0.15");
        let mut from_tsv: Vec<String> = tsv.directives.iter().map(|d| format!("{d:?}")).collect();
        let mut from_c: Vec<String> = super::super::table::DIRECTIVES
            .iter()
            .map(|d| format!("{d:?}"))
            .collect();
        from_tsv.sort();
        from_c.sort();
        assert_eq!(from_tsv.len(), from_c.len());
        for (a, b) in from_tsv.iter().zip(&from_c) {
            assert_eq!(a, b);
        }
    }

    #[test]
    fn every_release_has_a_table_and_names_resolve() {
        let names: Vec<String> = RELEASES.iter().map(|r| r.to_string()).collect();
        assert_eq!(
            names,
            [
                "Redis 6.2.16",
                "Redis 7.0.15",
                "Redis 7.2.6",
                "Redis 7.4.1",
                "Redis 8.0-m01",
                "Valkey 7.2.7",
                "Valkey 8.0.1",
                "Valkey 8.1-dev",
                "KeyDB 6.3.4",
                "Dragonfly 1.40.0"
            ]
        );
        let v8 = Release::for_version(Engine::Valkey, 8, 0).unwrap();
        assert_eq!(v8.lookup("masterauth").unwrap().name, "primaryauth");
        assert_eq!(v8.lookup("lazyfree-lazy-eviction").unwrap().default, "yes");
        let r72 = Release::parse("redis-7.2").unwrap();
        assert_eq!(r72.lookup("lazyfree-lazy-eviction").unwrap().default, "no");
        assert!(r72.lookup("locale-collate").is_some());
        assert!(Release::redis_7_0().lookup("locale-collate").is_none());
        assert!(Release::parse("redis-5.0").is_none());
        let keydb = Release::parse("keydb-6.3").unwrap();
        // KeyDB's loader parses `server-threads` (alias `io-threads`) itself, 1..16.
        assert_eq!(keydb.lookup("io-threads").unwrap().name, "server-threads");
        assert!(keydb.loader.contains(&"storage-provider"));
        assert!(Release::parse("keydb-5.3").is_none());
        // Dragonfly's table holds its flags; no redis.conf release lends it a name.
        let dragonfly = Release::newest(Engine::Dragonfly);
        assert!(dragonfly.lookup("proactor_threads").is_some());
        assert!(
            Dialect::Unknown(Engine::Dragonfly)
                .lookup("repl-backlog-size")
                .is_none()
        );
        assert!(!Release::parse("valkey-8.1").unwrap().exact);
    }

    #[test]
    fn history_says_when_a_directive_came_or_went() {
        let r70 = Dialect::Release(Release::redis_7_0());
        assert_eq!(
            history("locale-collate", &r70).as_deref(),
            Some("added in Redis 7.2")
        );
        assert_eq!(
            history("availability-zone", &r70).as_deref(),
            Some("Valkey only (from Valkey 8.0)")
        );
        assert_eq!(
            history(
                "hide-user-data-from-log",
                &Dialect::Release(Release::parse("valkey-7.2").unwrap())
            )
            .as_deref(),
            Some("added in Valkey 8.0")
        );
        // 7.4 spells the CPU lists with hyphens (the underscores stay as aliases).
        let r72 = Dialect::Release(Release::parse("redis-7.2").unwrap());
        assert_eq!(
            history("server-cpulist", &r72).as_deref(),
            Some("added in Redis 7.4")
        );
        let r74 = Release::parse("redis-7.4").unwrap();
        assert_eq!(r74.lookup("server_cpulist").unwrap().name, "server-cpulist");
        assert_eq!(
            history("gopher-enabled", &r70).as_deref(),
            Some("removed after Redis 6.2")
        );
        assert_eq!(history("no-such-thing", &r70), None);
        assert_eq!(
            Dialect::Unknown(Engine::Valkey)
                .lookup("locale-collate")
                .unwrap()
                .name,
            "locale-collate"
        );
        assert!(
            Dialect::Unknown(Engine::Redis)
                .lookup("no-such-thing")
                .is_none()
        );
        assert!(!Dialect::Unknown(Engine::Redis).certain());
        assert!(r70.certain());
        // The invariants `newest`, `redis_7_0` and `span` rely on (they `expect` them).
        for engine in [Engine::Redis, Engine::Valkey] {
            assert_eq!(Release::newest(engine).engine, engine);
            assert!(!span(engine).is_empty());
        }
        assert_eq!(
            (Release::redis_7_0().major, Release::redis_7_0().minor),
            (7, 0)
        );
    }

    /// An enum value no table accepts is certainly refused by a known release, and may be a
    /// newer release's value when the release is unknown (Valkey 9.0's
    /// `shutdown-on-sigterm failover`); a value of the wrong shape is refused by all.
    #[test]
    fn enum_values_are_uncertain_only_where_the_release_is_unknown() {
        use crate::redisconf::{ConfigFiles, ReadOptions, RedisConfig};
        let read = |dialect: Dialect, line: &str| {
            let mut files = ConfigFiles::default();
            files.insert("/r.conf", line.to_string());
            let options = ReadOptions {
                dialect,
                ..ReadOptions::default()
            };
            let config = RedisConfig::from_argv(&["/r.conf".to_string()], &files, &options);
            config
                .errors()
                .iter()
                .map(|e| e.certain)
                .collect::<Vec<_>>()
        };
        let v80 = Dialect::Release(Release::parse("valkey-8.0").unwrap());
        let unknown = Dialect::Unknown(Engine::Valkey);
        assert_eq!(read(v80, "shutdown-on-sigterm failover"), [true]);
        assert_eq!(read(unknown, "shutdown-on-sigterm failover"), [false]);
        assert_eq!(read(unknown, "maxmemory 2Gi"), [true]);
        assert_eq!(
            read(unknown, "shutdown-on-sigterm save"),
            Vec::<bool>::new()
        );
    }
}

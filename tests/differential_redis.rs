//! Differential test: our redis.conf reader against the real redis-server.
//!
//! Each generated case (a config file, maybe included files, maybe command-line options) is
//! given to `redis-server` (listening on a Unix socket of its own, TCP off) and to
//! `RedisConfig::from_argv`. When the server starts, `CONFIG GET` answers for maxmemory,
//! save, appendonly, maxmemory-policy and client-output-buffer-limit must equal ours; when it
//! refuses to start, the line number, the echoed line and the message it prints must equal
//! our first error.
//!
//! redis-server must be installed (Debian: `apt-get install -y redis-server`; `.ci/run` does
//! it). Without it this test fails, loudly: a differential test that silently passes proves
//! nothing. Set `REDIS_SERVER` to use another binary.

use std::collections::BTreeMap;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use redline::redisconf::{ConfigFiles, Dialect, ReadOptions, RedisConfig, Release, Value};

const COMPARED: [&str; 5] = [
    "maxmemory",
    "save",
    "appendonly",
    "maxmemory-policy",
    "client-output-buffer-limit",
];

/// One generated configuration. `{DIR}` in any text is replaced by the case's directory.
#[derive(Debug, Clone)]
struct Case {
    name: String,
    /// Relative path → content; `redis.conf` is the main file.
    files: Vec<(String, String)>,
    args: Vec<String>,
}

fn case(name: impl Into<String>, conf: &str, args: &[&str]) -> Case {
    Case {
        name: name.into(),
        files: vec![("redis.conf".into(), conf.into())],
        args: args.iter().map(|s| s.to_string()).collect(),
    }
}

fn with_files(name: impl Into<String>, files: &[(&str, &str)], args: &[&str]) -> Case {
    Case {
        name: name.into(),
        files: files
            .iter()
            .map(|(p, c)| (p.to_string(), c.to_string()))
            .collect(),
        args: args.iter().map(|s| s.to_string()).collect(),
    }
}

/// Memory values: Redis units, Kubernetes units, and the accidents.
const MEMORY_VALUES: &[&str] = &[
    "0",
    "1",
    "1024",
    "100b",
    "1k",
    "1K",
    "1kb",
    "1KB",
    "1Kb",
    "1m",
    "1mb",
    "1MB",
    "1g",
    "1gb",
    "1GB",
    "2G",
    "2GB",
    "32gb",
    "17179869184",
    "34359738368",
    "1.5gb",
    "2Gi",
    "512Mi",
    "-1",
    "+1",
    "1tb",
    "1t",
    "\"\"",
    "gb",
    "GB",
    "b",
    "\"1 gb\"",
    "20000000000gb",
    "99999999999999999999999",
    "1e9",
    "0x10",
    "1_000",
    "'100mb'",
    "\"2gb\"",
    "00012mb",
];

fn generate() -> Vec<Case> {
    let mut cases = Vec::new();

    // Memory values in the file, on the command line, and both (the command line wins).
    for v in MEMORY_VALUES {
        cases.push(case(
            format!("file maxmemory {v}"),
            &format!("maxmemory {v}\n"),
            &[],
        ));
        let arg = v.trim_matches(|c| c == '"' || c == '\'');
        cases.push(case(
            format!("arg maxmemory {arg}"),
            "",
            &["--maxmemory", arg],
        ));
        cases.push(case(
            format!("file 1gb + arg maxmemory {arg}"),
            "maxmemory 1gb\n",
            &["--maxmemory", arg],
        ));
        cases.push(case(
            format!("repl-backlog-size {v}"),
            &format!("repl-backlog-size {v}\nmaxmemory 5mb\n"),
            &[],
        ));
    }
    // Inline comments and arity.
    for (i, line) in [
        "maxmemory 1gb # note",
        "maxmemory 1gb #note",
        "maxmemory #1gb",
        "maxmemory",
        "maxmemory 1gb 2gb",
        "appendonly yes # enable AOF",
        "maxmemory-policy allkeys-lru # cache",
        "  # a comment after blanks",
        "#maxmemory 1gb",
        "\t maxmemory 7mb\t",
        "maxmemory\t3mb",
        "maxmemory 4mb\r",
    ]
    .iter()
    .enumerate()
    {
        cases.push(case(
            format!("arity {i}: {line}"),
            &format!("port 0\n{line}\n"),
            &[],
        ));
    }
    // save.
    for (i, conf) in [
        "",
        "save 900 1",
        "save \"\"",
        "save ''",
        "save 60 1 300 10",
        "save 900 1\nsave 300 10",
        "save 0 1",
        "save 60 -1",
        "save 60",
        "save 60 1 # comment",
        "save \"60 1\"",
        "save \"60 1 30\"",
        "save 60 +5",
        "save 60 \"\"",
        "save 60 1\nsave \"\"\nsave 30 2",
        "SAVE 10 10",
        "save 3600 1 300 100 60 10000",
        "save 1 0",
        "save abc 1",
        "save 60 1x",
        "save 9223372036854775807 1",
        "save 60 4294967297",
        "save \"\" 60 1",
        "save \"'\"",
    ]
    .iter()
    .enumerate()
    {
        cases.push(case(format!("save {i}: {conf}"), &format!("{conf}\n"), &[]));
    }
    for (i, args) in [
        vec!["--save", ""],
        vec!["--save"],
        vec!["--save", "--appendonly", "yes"],
        vec!["--save", "60", "1"],
        vec!["--save", "60 1 30 2"],
        vec!["--save 60 1"],
        vec!["--save", "60"],
        vec!["--save", "60", "1", "--save", "30", "2"],
        vec!["--SAVE"],
        vec!["--save", "0", "1"],
    ]
    .iter()
    .enumerate()
    {
        cases.push(case(
            format!("save args {i}: {args:?}"),
            "save 900 1\n",
            args,
        ));
        cases.push(case(format!("save args on empty {i}: {args:?}"), "", args));
    }
    // Booleans and enums.
    for v in [
        "yes", "no", "YES", "Yes", "true", "1", "on", "\"\"", "\"yes\"", "yes no",
    ] {
        cases.push(case(
            format!("appendonly {v}"),
            &format!("appendonly {v}\n"),
            &[],
        ));
    }
    for v in [
        "noeviction",
        "allkeys-lru",
        "allkeys-lfu",
        "allkeys-random",
        "volatile-lru",
        "volatile-lfu",
        "volatile-random",
        "volatile-ttl",
        "ALLKEYS-LRU",
        "Volatile-TTL",
        "lru",
        "allkeys_lru",
        "\"\"",
        "allkeys-lru volatile-lru",
    ] {
        cases.push(case(
            format!("maxmemory-policy {v}"),
            &format!("maxmemory-policy {v}\n"),
            &[],
        ));
        cases.push(case(
            format!("arg maxmemory-policy {v}"),
            "",
            &["--maxmemory-policy", v.trim_matches('"')],
        ));
    }
    // client-output-buffer-limit.
    for v in [
        "normal 0 0 0",
        "replica 256mb 64mb 60",
        "slave 1gb 512mb 120",
        "REPLICA 1GB 1GB 0",
        "pubsub 32mb 8mb 60",
        "replica 0 0 0",
        "normal 1mb 1mb 10 replica 2mb 2mb 20",
        "master 0 0 0",
        "replica 256mb 64mb",
        "replica 256Mi 64mb 60",
        "replica 256mb 64mb -1",
        "replica 256mb 64mb 1.5",
        "replica 256mb 64mb \"\"",
        "replica 256mb 64mb +60",
        "\"replica 1mb 1mb 1\"",
        "replica 1mb 1mb 1 pubsub 1gb",
        "replica -1 0 0",
        "replica \"\" gb 0",
        "client 1mb 1mb 1",
    ] {
        cases.push(case(
            format!("obuf {v}"),
            &format!("client-output-buffer-limit {v}\n"),
            &[],
        ));
    }
    cases.push(case(
        "obuf accumulates per class",
        "client-output-buffer-limit replica 1mb 1mb 1\nclient-output-buffer-limit pubsub 2mb 2mb 2\nclient-output-buffer-limit replica 3mb 3mb 3\n",
        &[],
    ));
    // Quotes and escapes.
    for (i, line) in [
        "requirepass \"abc",
        "requirepass 'abc",
        "requirepass \"abc\"def",
        "requirepass 'abc'def",
        "requirepass ab\"cd\"",
        "requirepass \"a\\\"b\"",
        "requirepass \"\\x41\\x42\"",
        "requirepass 'it\\'s'",
        "maxmemory \"1\"\"gb\"",
        "maxmemory \"\\x31gb\"",
        "maxmemory \"1gb\\",
        "\"maxmemory\" 2mb",
        "'appendonly' 'yes'",
        "maxmemory-policy \"allkeys-lru\" ",
    ]
    .iter()
    .enumerate()
    {
        cases.push(case(
            format!("quotes {i}: {line}"),
            &format!("{line}\n"),
            &[],
        ));
    }
    // Names, aliases, unknown directives, numeric bounds, other types.
    for (i, line) in [
        "MaxMemory 3mb",
        "slave-read-only yes",
        "slaveof no one",
        "replicaof no one",
        "replicaof 127.0.0.1 99999",
        "replicaof 127.0.0.1 abc",
        "replicaof 127.0.0.1",
        "maxmemroy 1gb",
        "foo bar",
        "list-max-ziplist-entries 512",
        "list-max-ziplist-entries",
        "lua-replicate-commands yes",
        "hash-max-ziplist-entries 64",
        "databases 0",
        "databases 16",
        "hz -1",
        "hz 500",
        "timeout abc",
        "timeout 01",
        "timeout -0",
        "tcp-backlog 1e3",
        "maxclients 0",
        "maxclients -1",
        "maxmemory-clients 10%",
        "maxmemory-clients 200%",
        "maxmemory-clients 1%%",
        "maxmemory-clients 5mb",
        "unixsocketperm 0777",
        "unixsocketperm 999",
        "unixsocketperm 1777",
        "notify-keyspace-events KEA",
        "notify-keyspace-events X",
        "notify-keyspace-events \"\"",
        "loglevel notice",
        "loglevel info",
        "appendfsync sometimes",
        "cluster-announce-hostname redis-0.redis.default.svc",
        "cluster-announce-hostname bad_host",
        "dbfilename dump.rdb",
        "dbfilename /data/dump.rdb",
        "appendfilename \"\"",
        "appenddirname a/b",
        "shutdown-on-sigterm save now",
        "shutdown-on-sigterm save nosave",
        "shutdown-on-sigterm later",
        "oom-score-adj-values 0 200 800",
        "oom-score-adj-values 0 200",
        "oom-score-adj-values 0 200 3000",
        "latency-tracking-info-percentiles 50 99 99.9",
        "latency-tracking-info-percentiles 101",
        "latency-tracking-info-percentiles \"\"",
        "proto-max-bulk-len 1kb",
        "proto-max-bulk-len 1gb",
        "active-defrag-cycle-min 100",
        "slowlog-log-slower-than -1",
        "slowlog-log-slower-than -2",
        "rename-command FLUSHALL \"\"",
        "rename-command flushall x\nrename-command flushall y",
        "rename-command flushall get",
        "rename-command nosuchcmd x",
        "rename-command config",
        "rename-command config cfg\nrename-command cfg config2",
        "include",
        "include a b",
        "sentinel monitor m 127.0.0.1 6379 2",
        "cluster-enabled yes\nreplicaof 127.0.0.1 1",
        "replicaof 127.0.0.1 1\ncluster-enabled yes",
        "cluster-enabled yes\nmaxmemory 10mb",
        "user default on nopass ~* &* +@all\naclfile {DIR}/users.acl",
        // ACL `user` lines: refused while the file is read, or at start-up when the users
        // are loaded (unknown commands and categories).
        "user bad on >pw ~* +@nosuchcategory",
        "user bad on >pw ~* +nosuchcommand",
        "user x badflag",
        "user x on #abc",
        "user x on >a <b",
        "user x on >a <a",
        "user x on (~foo +get",
        "user x on (~a +get) (bad)",
        "user x on ( ~a ) %R~b %W~c %RW~d %R",
        "user x on %X~a",
        "user x on %RR~a",
        "user x on %R~a %~d",
        "user x on ~* ~foo",
        "user x on allkeys %R~foo",
        "user x on %RW~* ~a",
        "user x on &* &foo",
        "acl-pubsub-default allchannels\nuser x on &foo",
        "acl-pubsub-default resetchannels\nuser x on &foo",
        "user x on +config|get|x",
        "user x on +get|",
        "user x on +config|",
        "user x on +select|0 -config|get +client|list +@read -@DANGEROUS",
        "user x on -get|x",
        "user x on +config|nosuch",
        "user x on (+nosuch)",
        "user x\nuser x",
        "user x on\nuser y on +nosuch\nuser z badflag",
        "user x on #5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8 !5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8",
        "user x on !5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8",
        "user x on >a reset <a",
        "user x on ~* resetkeys ~a &* resetchannels &b clearselectors",
        "mymodule.setting 5",
        "mymodule.setting",
        "bind 127.0.0.1 ::1",
        "port 70000",
        "tls-port 0",
        "tls-cluster yes",
    ]
    .iter()
    .enumerate()
    {
        cases.push(case(
            format!("directive {i}: {line}"),
            &format!("appendonly yes\n{line}\nmaxmemory 9mb\n"),
            &[],
        ));
    }
    // Command-line oddities.
    for (i, args) in [
        vec!["--maxmemory", "1gb # x"],
        vec!["--maxmemory 1gb"],
        vec!["--maxmemory"],
        vec!["--maxmemory", "--appendonly", "yes"],
        vec!["--appendonly", "yes", "--appendonly", "no"],
        vec!["--foo", "bar"],
        vec!["--maxmemory", "1", "gb"],
        vec!["--maxmemory-policy", "allkeys-lru", "--maxmemory", "2mb"],
        vec!["--client-output-buffer-limit", "replica 1gb 1gb 0"],
        vec!["--client-output-buffer-limit", "replica", "1gb", "1gb", "0"],
        vec!["--MAXMEMORY", "5mb"],
        vec!["--requirepass", "a\"b\\c"],
        vec!["--requirepass", "tab\there"],
        vec!["--maxmemory", ""],
        vec!["--maxmemory", "'1gb'"],
    ]
    .iter()
    .enumerate()
    {
        cases.push(case(format!("args {i}: {args:?}"), "maxmemory 1mb\n", args));
        cases.push(case(
            format!("args, file without newline {i}: {args:?}"),
            "maxmemory 1mb",
            args,
        ));
    }
    // Includes.
    cases.push(with_files(
        "include then override",
        &[
            ("redis.conf", "include {DIR}/base.conf\nmaxmemory 2mb\n"),
            ("base.conf", "maxmemory 1mb\nappendonly yes\n"),
        ],
        &[],
    ));
    cases.push(with_files(
        "override then include",
        &[
            ("redis.conf", "maxmemory 2mb\ninclude {DIR}/base.conf\n"),
            ("base.conf", "maxmemory 1mb\n"),
        ],
        &[],
    ));
    cases.push(with_files(
        "missing include",
        &[("redis.conf", "maxmemory 2mb\ninclude {DIR}/nope.conf\n")],
        &[],
    ));
    cases.push(with_files(
        "glob include, alphabetical",
        &[
            ("redis.conf", "include {DIR}/conf.d/*.conf\n"),
            (
                "conf.d/b.conf",
                "maxmemory 2mb\nmaxmemory-policy allkeys-lru\n",
            ),
            ("conf.d/a.conf", "maxmemory 1mb\nappendonly yes\n"),
            ("conf.d/c.txt", "maxmemory 3mb\n"),
        ],
        &[],
    ));
    cases.push(with_files(
        "glob include without trailing newline joins files",
        &[
            ("redis.conf", "include {DIR}/conf.d/*.conf\n"),
            ("conf.d/a.conf", "maxmemory 1mb\nappendonly"),
            ("conf.d/b.conf", " yes\n"),
        ],
        &[],
    ));
    cases.push(with_files(
        "glob include matching nothing",
        &[("redis.conf", "include {DIR}/conf.d/*.conf\nmaxmemory 3mb\n")],
        &[],
    ));
    cases.push(with_files(
        "error inside an include",
        &[
            ("redis.conf", "maxmemory 2mb\ninclude {DIR}/base.conf\n"),
            (
                "base.conf",
                "# base\nappendonly yes\nmaxmemory 1gb # oops\n",
            ),
        ],
        &[],
    ));
    cases.push(with_files(
        "nested includes",
        &[
            ("redis.conf", "include {DIR}/a.conf\nsave 10 1\n"),
            ("a.conf", "include {DIR}/b.conf\nsave 20 2\n"),
            ("b.conf", "save 30 3\nmaxmemory 4mb\n"),
        ],
        &[],
    ));
    for (i, tail) in [
        "save 60 1",
        "save 60 1\nsave 30 2",
        "save \"\"\nsave 30 2",
        "",
    ]
    .iter()
    .enumerate()
    {
        cases.push(with_files(
            format!("save around include {i}"),
            &[
                (
                    "redis.conf",
                    &format!("save 100 1\ninclude {{DIR}}/base.conf\n{tail}\n"),
                ),
                ("base.conf", "save 200 2\n"),
            ],
            &[],
        ));
        cases.push(with_files(
            format!("save args after include {i}"),
            &[
                (
                    "redis.conf",
                    &format!("include {{DIR}}/base.conf\n{tail}\n"),
                ),
                ("base.conf", "save 200 2\n"),
            ],
            &["--save", "10", "1"],
        ));
    }
    cases.push(with_files(
        "relative include resolves against dir",
        &[
            ("redis.conf", "dir {DIR}/sub\ninclude extra.conf\n"),
            ("sub/extra.conf", "maxmemory 6mb\n"),
        ],
        &[],
    ));
    cases.push(with_files(
        "relative include against the working directory",
        &[
            ("redis.conf", "include extra.conf\n"),
            ("extra.conf", "maxmemory 6mb\n"),
        ],
        &[],
    ));
    cases.push(with_files(
        "include line in args",
        &[
            ("redis.conf", "maxmemory 1mb\n"),
            ("extra.conf", "maxmemory 8mb\n"),
        ],
        &["--include", "{DIR}/extra.conf"],
    ));
    cases
}

fn redis_binary() -> PathBuf {
    let name = std::env::var("REDIS_SERVER").unwrap_or_else(|_| "redis-server".into());
    let found = Command::new(&name)
        .arg("--version")
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "\n\n*** redis-server not found ({name}: {e}). The differential test needs it:\n\
                 *** apt-get install -y redis-server   (or set REDIS_SERVER)\n\n"
            )
        });
    let version = String::from_utf8_lossy(&found.stdout).to_string();
    let modelled = Release::redis_7_0().version;
    let series = modelled.rsplit_once('.').map_or(modelled, |(s, _)| s);
    assert!(
        version.contains(&format!("v={series}.")),
        "the reader models Redis {modelled}; {name} is {version}. Use a {series}.x server."
    );
    PathBuf::from(name)
}

fn resp_command(parts: &[&str]) -> Vec<u8> {
    let mut out = format!("*{}\r\n", parts.len()).into_bytes();
    for p in parts {
        out.extend(format!("${}\r\n", p.len()).bytes());
        out.extend(p.bytes());
        out.extend(b"\r\n");
    }
    out
}

/// Reads one RESP line (without CRLF).
fn read_line(reader: &mut impl BufRead) -> io::Result<String> {
    let mut line = String::new();
    if reader.read_line(&mut line)? == 0 {
        return Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            "connection closed",
        ));
    }
    Ok(line.trim_end().to_string())
}

/// Sends a command and returns the reply: a simple or error line, or the last bulk string of
/// an array (the value of `CONFIG GET name`).
fn request(stream: &mut UnixStream, parts: &[&str]) -> io::Result<Result<String, String>> {
    stream.write_all(&resp_command(parts))?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let header = read_line(&mut reader)?;
    if header.starts_with('-') {
        return Ok(Err(header));
    }
    if !header.starts_with('*') {
        return Ok(Ok(header));
    }
    let count: usize = header[1..]
        .parse()
        .map_err(|_| io::Error::other(header.clone()))?;
    let mut value = String::new();
    for _ in 0..count {
        let bulk = read_line(&mut reader)?;
        let len: usize = bulk[1..]
            .parse()
            .map_err(|_| io::Error::other(bulk.clone()))?;
        let mut buf = vec![0; len + 2];
        reader.read_exact(&mut buf)?;
        value = String::from_utf8_lossy(&buf[..len]).into_owned();
    }
    Ok(Ok(value))
}

/// The compared settings of a running server. `password` and `config` (the CONFIG command's
/// name after `rename-command`) are what our reader found: a wrong one shows as a failure.
fn query(
    stream: &mut UnixStream,
    password: Option<&str>,
    config: &str,
) -> io::Result<BTreeMap<String, String>> {
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    if let Err(e) = request(stream, &[config, "GET", "port"])? {
        assert!(e.starts_with("-NOAUTH"), "{e}");
        let reply = request(stream, &["AUTH", password.unwrap_or("")])?;
        assert_eq!(
            reply,
            Ok("+OK".into()),
            "{e}; AUTH with the password redline read failed"
        );
    }
    COMPARED
        .iter()
        .map(|n| {
            Ok((
                n.to_string(),
                request(stream, &[config, "GET", n])?.unwrap_or_else(|e| e),
            ))
        })
        .collect()
}

#[derive(Debug, PartialEq)]
enum Outcome {
    Started(BTreeMap<String, String>),
    /// The line number and echoed line when redis-server printed them, and its message.
    Refused {
        line: Option<u32>,
        line_text: Option<String>,
        message: String,
    },
}

fn parse_refusal(output: &str) -> Outcome {
    if let Some(pos) = output.find("*** FATAL CONFIG FILE ERROR") {
        let mut lines = output[pos..].lines().skip(1);
        let mut line = None;
        let mut line_text = None;
        let mut message = String::new();
        for l in lines.by_ref() {
            if let Some(n) = l.strip_prefix("Reading the configuration file, at line ") {
                line = n.trim().parse().ok();
            } else if let Some(t) = l.strip_prefix(">>> '") {
                line_text = Some(t.strip_suffix('\'').unwrap_or(t).to_string());
            } else {
                message = l.to_string();
                break;
            }
        }
        return Outcome::Refused {
            line,
            line_text,
            message,
        };
    }
    // serverLog'd fatal errors: "pid:C date # message".
    let message = output
        .lines()
        .rev()
        .find_map(|l| l.split_once(" # ").map(|(_, m)| m.to_string()))
        .unwrap_or_else(|| output.trim().to_string());
    Outcome::Refused {
        line: None,
        line_text: None,
        message,
    }
}

/// `password` and `config` (the CONFIG command's name after `rename-command`) are what our
/// reader found: a wrong one shows as a failure.
fn run_redis(
    binary: &Path,
    dir: &Path,
    argv: &[String],
    password: Option<&str>,
    config: &str,
) -> (Outcome, Vec<String>) {
    // Each case's server listens on a Unix socket in the case's own directory, with TCP
    // off: with TCP ports, two cases running at once could pick the same free port and one
    // would read the other's server.
    let socket = dir.join("redis.sock");
    let mut full = argv.to_vec();
    full.extend(
        [
            "--port",
            "0",
            "--unixsocket",
            &socket.to_string_lossy(),
            "--unixsocketperm",
            "700",
            "--daemonize",
            "no",
        ]
        .iter()
        .map(|s| s.to_string()),
    );
    let mut child = Command::new(binary)
        .args(&full)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn redis-server");
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if child.try_wait().expect("wait redis-server").is_some() {
            return (parse_refusal(&output_of(&mut child)), full);
        }
        if let Ok(mut stream) = UnixStream::connect(&socket) {
            match query(&mut stream, password, config) {
                Ok(values) => {
                    let _ = child.kill();
                    let _ = child.wait();
                    return (Outcome::Started(values), full);
                }
                // A server can listen and then stop on a later start-up error (the socket
                // is bound before everything is checked): its output says why.
                Err(e) => {
                    let exit_by = Instant::now() + Duration::from_secs(5);
                    while child.try_wait().expect("wait redis-server").is_none() {
                        if Instant::now() > exit_by {
                            let _ = child.kill();
                            let _ = child.wait();
                            panic!("querying redis-server failed ({e}) and it kept running");
                        }
                        std::thread::sleep(Duration::from_millis(5));
                    }
                    return (parse_refusal(&output_of(&mut child)), full);
                }
            }
        }
        assert!(
            Instant::now() < deadline,
            "redis-server neither started nor exited"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Everything an exited redis-server printed.
fn output_of(child: &mut std::process::Child) -> String {
    let mut out = String::new();
    child.stdout.take().map(|mut s| s.read_to_string(&mut out));
    child.stderr.take().map(|mut s| s.read_to_string(&mut out));
    out
}

/// Our reader's outcome for exactly the argv redis-server was started with.
fn predict(dir: &Path, files: &ConfigFiles, full: &[String]) -> (Outcome, RedisConfig) {
    let options = ReadOptions {
        cwd: dir.to_string_lossy().into_owned(),
        sentinel_mode: false,
        dialect: Dialect::Release(Release::redis_7_0()),
    };
    let cfg = RedisConfig::from_argv(full, files, &options);
    let outcome = match cfg.errors().first() {
        None => Outcome::Started(
            COMPARED
                .iter()
                .map(|n| (n.to_string(), cfg.config_get(n).unwrap_or_default()))
                .collect(),
        ),
        Some(e) => Outcome::Refused {
            line: e.redis_line,
            line_text: e.redis_line.map(|_| e.line_text.clone()),
            message: e.message.clone(),
        },
    };
    (outcome, cfg)
}

#[test]
fn reader_agrees_with_redis_server() {
    let binary = redis_binary();
    let cases = generate();
    assert!(cases.len() >= 300, "only {} cases generated", cases.len());
    let root = std::env::temp_dir().join(format!("redline-differential-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);

    let next = AtomicUsize::new(0);
    let disagreements = Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..4 {
            scope.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::SeqCst);
                    let Some(case) = cases.get(i) else { break };
                    let dir = root.join(format!("case-{i}"));
                    std::fs::create_dir_all(dir.join("sub")).expect("case dir");
                    let dir_str = dir.to_string_lossy().into_owned();
                    let mut files = ConfigFiles::new();
                    for (rel, content) in &case.files {
                        let path = dir.join(rel);
                        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
                        let content = content.replace("{DIR}", &dir_str);
                        std::fs::write(&path, &content).expect("write case file");
                        files.insert(path.to_string_lossy(), content);
                    }
                    std::fs::write(dir.join("users.acl"), "").expect("acl file");
                    files.insert(dir.join("users.acl").to_string_lossy(), "");
                    let mut argv = vec![dir.join("redis.conf").to_string_lossy().into_owned()];
                    argv.extend(case.args.iter().map(|a| a.replace("{DIR}", &dir_str)));

                    // A first reading tells the password and the CONFIG command's name.
                    let (_, first) = predict(&dir, &files, &argv);
                    let password = match first.get("requirepass") {
                        Some((Value::Str(Some(p)), _)) => Some(p.as_str()),
                        _ => None,
                    };
                    let config = first
                        .renamed_commands()
                        .find(|(from, _, _)| *from == "config")
                        .map_or("CONFIG", |(_, to, _)| to);
                    let (actual, full) = run_redis(&binary, &dir, &argv, password, config);
                    let (predicted, cfg) = predict(&dir, &files, &full);
                    let agree = match (&actual, &predicted) {
                        (Outcome::Refused { message: a, line: None, .. }, Outcome::Refused { message: p, line: None, .. }) => {
                            a.contains(p.as_str())
                        }
                        (a, p) => a == p,
                    };
                    if !agree {
                        disagreements.lock().expect("lock").push(format!(
                            "case {i} `{}`\n  files: {:?}\n  args: {:?}\n  redis-server: {actual:?}\n  redline:      {predicted:?}\n  errors: {:?}",
                            case.name, case.files, case.args, cfg.errors()
                        ));
                    }
                    let _ = std::fs::remove_dir_all(&dir);
                }
            });
        }
    });
    let _ = std::fs::remove_dir_all(&root);
    let disagreements = disagreements.into_inner().expect("lock");
    let agreed = cases.len() - disagreements.len();
    println!(
        "differential: {agreed} of {} cases agree with redis-server {}",
        cases.len(),
        Release::redis_7_0().version
    );
    assert!(
        disagreements.is_empty(),
        "{} disagreement(s):\n{}",
        disagreements.len(),
        disagreements.join("\n")
    );
}

use super::*;

fn conf(text: &str) -> RedisConfig {
    RedisConfig::from_text("/etc/redis/redis.conf", text)
}

fn with_args(text: &str, args: &[&str]) -> RedisConfig {
    let mut files = ConfigFiles::new();
    files.insert("/etc/redis/redis.conf", text);
    let mut argv = vec!["/etc/redis/redis.conf".to_string()];
    argv.extend(args.iter().map(|s| s.to_string()));
    RedisConfig::from_argv(&argv, &files, &ReadOptions::default())
}

#[test]
fn maxmemory_units_and_last_wins() {
    let c = conf("maxmemory 1gb\nMAXMEMORY 2GB\n");
    assert_eq!(c.maxmemory_bytes(), 2 << 30);
    assert!(c.starts());
    let line = c.line_of("maxmemory").unwrap();
    assert_eq!(
        line.location(),
        &Location::File {
            path: "/etc/redis/redis.conf".into(),
            line: 2,
            column: 1
        }
    );
    assert_eq!(
        line.arg_location(0),
        &Location::File {
            path: "/etc/redis/redis.conf".into(),
            line: 2,
            column: 11
        }
    );
    assert_eq!(conf("maxmemory 2G").maxmemory_bytes(), 2_000_000_000);
    assert_eq!(conf("maxmemory \"\"").maxmemory_bytes(), 0);
}

#[test]
fn inline_comment_is_fatal_with_a_hint() {
    let c = conf("# fine\nmaxmemory 1gb # note\n");
    assert!(!c.starts());
    let e = &c.errors()[0];
    assert_eq!(e.message, "wrong number of arguments");
    assert_eq!(e.redis_line, Some(2));
    assert_eq!(e.line_text, "maxmemory 1gb # note");
    assert!(e.hint.as_deref().unwrap().contains("inline comments"));
}

#[test]
fn refused_memory_values() {
    for bad in ["2Gi", "1.5gb", "-1", "1tb"] {
        let c = conf(&format!("maxmemory {bad}"));
        assert_eq!(
            c.errors()[0].message,
            "argument must be a memory value",
            "{bad}"
        );
        assert!(c.errors()[0].hint.is_some(), "{bad}");
    }
}

#[test]
fn args_win_over_the_file_and_save_appends() {
    let c = with_args(
        "maxmemory 1gb\nsave 900 1\n",
        &["--maxmemory", "3gb", "--save", "60 5"],
    );
    assert!(c.starts(), "{:?}", c.errors());
    assert_eq!(c.maxmemory_bytes(), 3 << 30);
    assert_eq!(c.config_get("save").unwrap(), "900 1 60 5");
    assert_eq!(
        c.line_of("maxmemory").unwrap().location(),
        &Location::Arg {
            index: 1,
            column: 3
        }
    );
    assert_eq!(
        c.line_of("maxmemory").unwrap().arg_location(0),
        &Location::Arg {
            index: 2,
            column: 1
        }
    );
}

#[test]
fn bare_save_argument_disables_snapshots() {
    let c = with_args("save 900 1\n", &["--save"]);
    assert_eq!(c.config_get("save").unwrap(), "");
    let c = with_args("save 900 1\n", &["--save", "--appendonly", "yes"]);
    assert_eq!(c.config_get("save").unwrap(), "");
    assert!(c.appendonly());
}

#[test]
fn save_semantics() {
    assert!(conf("").save_is_default());
    assert_eq!(
        conf("").config_get("save").unwrap(),
        "3600 1 300 100 60 10000"
    );
    assert_eq!(
        conf("save 60 1\nsave 30 2").config_get("save").unwrap(),
        "60 1 30 2"
    );
    assert_eq!(
        conf("save 60 1\nsave \"\"\nsave 30 2")
            .config_get("save")
            .unwrap(),
        "30 2"
    );
    assert_eq!(conf("save \"\"").config_get("save").unwrap(), "");
    assert_eq!(
        conf("save 60 1 # x").errors()[0].message,
        "Invalid save parameters"
    );
    assert_eq!(
        conf("save 0 1").errors()[0].message,
        "Invalid save parameters"
    );
}

#[test]
fn save_after_include_replaces() {
    let mut files = ConfigFiles::new();
    files.insert("/etc/redis/base.conf", "save 100 1\n");
    files.insert(
        "/etc/redis/redis.conf",
        "save 60 1\ninclude /etc/redis/base.conf\nsave 30 2\nsave 20 3\n",
    );
    let c = RedisConfig::from_argv(
        &["/etc/redis/redis.conf".to_string()],
        &files,
        &ReadOptions::default(),
    );
    assert!(c.starts(), "{:?}", c.errors());
    // After the include, reading_config_file is 0: each save line replaces the list.
    assert_eq!(c.config_get("save").unwrap(), "20 3");
}

#[test]
fn includes_missing_and_globs() {
    let c = conf("include /etc/redis/missing.conf\n");
    assert!(c.errors()[0].message.contains("can't open config file"));
    let c = conf("include /etc/redis/conf.d/*.conf\nmaxmemory 1mb\n");
    assert!(c.starts(), "a glob matching nothing is skipped");
    let mut files = ConfigFiles::new();
    files.insert("/etc/redis/conf.d/b.conf", "maxmemory 2mb\n");
    files.insert(
        "/etc/redis/conf.d/a.conf",
        "maxmemory 1mb\nappendonly yes\n",
    );
    files.insert(
        "/etc/redis/redis.conf",
        "include /etc/redis/conf.d/*.conf\n",
    );
    let c = RedisConfig::from_argv(
        &["/etc/redis/redis.conf".to_string()],
        &files,
        &ReadOptions::default(),
    );
    assert_eq!(
        c.maxmemory_bytes(),
        2 << 20,
        "alphabetical: b.conf is read last"
    );
    assert!(c.appendonly());
    let line = c.line_of("maxmemory").unwrap();
    assert!(line.from_include);
    assert_eq!(
        line.location(),
        &Location::File {
            path: "/etc/redis/conf.d/b.conf".into(),
            line: 1,
            column: 1
        }
    );
}

#[test]
fn names_aliases_and_unknowns() {
    let c = conf("SLAVEOF 10.0.0.1 6379\n");
    assert_eq!(c.replicaof(), Some(("10.0.0.1".to_string(), 6379)));
    let c = conf("maxmemroy 1gb\n");
    let e = &c.errors()[0];
    assert_eq!(e.message, "Bad directive or wrong number of arguments");
    assert!(e.hint.as_deref().unwrap().contains("`maxmemory`"), "{e}");
    assert_eq!(
        conf("appendonly maybe").errors()[0].message,
        "argument must be 'yes' or 'no'"
    );
    assert!(
        conf("maxmemory-policy LRU").errors()[0]
            .message
            .starts_with("argument(s) must be one of")
    );
    assert_eq!(
        conf("maxmemory-policy ALLKEYS-LRU").maxmemory_policy(),
        "allkeys-lru"
    );
}

#[test]
fn quotes() {
    let c = conf("requirepass \"abc\"def\n");
    assert_eq!(
        c.errors()[0].message,
        "Unbalanced quotes in configuration line"
    );
    assert_eq!(
        c.errors()[0].location,
        Some(Location::File {
            path: "/etc/redis/redis.conf".into(),
            line: 1,
            column: 17
        })
    );
    assert!(conf("requirepass 'it\\'s'").has_requirepass());
}

#[test]
fn client_output_buffer_limit_per_class() {
    let c = conf("client-output-buffer-limit replica 1gb 512mb 120\n");
    assert_eq!(
        c.config_get("client-output-buffer-limit").unwrap(),
        "normal 0 0 0 slave 1073741824 536870912 120 pubsub 33554432 8388608 60"
    );
    assert_eq!(
        conf("client-output-buffer-limit master 0 0 0").errors()[0].message,
        "Invalid client class specified in buffer limit configuration."
    );
}

#[test]
fn rename_command_accumulates_and_checks() {
    let c = conf("rename-command FLUSHALL \"\"\nrename-command config cfg\n");
    assert!(c.starts());
    assert_eq!(c.renamed_commands().count(), 2);
    let c = conf("rename-command flushall x\nrename-command flushall y\n");
    assert_eq!(c.errors()[0].message, "No such command in rename-command");
    let c = conf("rename-command flushall get\n");
    assert_eq!(c.errors()[0].message, "Target command name already exists");
}

#[test]
fn cluster_with_replicaof_is_refused_without_a_line() {
    let c = conf("cluster-enabled yes\nreplicaof 10.0.0.1 6379\n");
    let e = &c.errors()[0];
    assert_eq!(e.message, "replicaof directive not allowed in cluster mode");
    assert_eq!(e.redis_line, None);
}

#[test]
fn crlf_and_blank_lines() {
    let c = conf("maxmemory 1mb\r\n\r\n   # indented comment\r\nappendonly yes\r\n");
    assert!(c.starts(), "{:?}", c.errors());
    assert_eq!(c.maxmemory_bytes(), 1 << 20);
    assert!(c.appendonly());
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    fn fragment() -> impl Strategy<Value = String> {
        prop_oneof![
            Just("maxmemory".to_string()),
            Just("save".to_string()),
            Just("include /etc/redis/*.conf".to_string()),
            Just("include /etc/redis/redis.conf".to_string()),
            Just("client-output-buffer-limit".to_string()),
            Just("rename-command".to_string()),
            Just("\"".to_string()),
            Just("'".to_string()),
            Just("#".to_string()),
            Just("\\x4".to_string()),
            "[ -~]{0,12}",
            "\\PC{0,6}",
        ]
    }

    proptest! {
        /// Any text and any arguments: no panic, and the first error (if any) has a message.
        /// The main file includes itself through the glob: the depth limit must end it.
        #[test]
        fn never_panics(
            lines in prop::collection::vec(prop::collection::vec(fragment(), 0..5), 0..8),
            args in prop::collection::vec(fragment(), 0..6),
        ) {
            let text: String = lines.iter().map(|l| l.join(" ") + "\n").collect();
            let mut files = ConfigFiles::new();
            files.insert("/etc/redis/redis.conf", text.as_str());
            let mut argv = vec!["/etc/redis/redis.conf".to_string()];
            argv.extend(args.iter().map(|a| format!("--{a}")));
            let cfg = RedisConfig::from_argv(&argv, &files, &ReadOptions::default());
            if let Some(e) = cfg.errors().first() {
                prop_assert!(!e.message.is_empty());
            }
            let _ = cfg.config_get("save");
            let _ = cfg.maxmemory_bytes();
        }
    }
}

#[test]
fn include_cycle_ends_in_an_error() {
    let c = conf("include /etc/redis/redis.conf\n");
    assert!(
        c.errors()
            .iter()
            .any(|e| e.message == "include nesting too deep")
    );
}

#[test]
fn branching_include_cycle_ends_fast() {
    let mut files = ConfigFiles::new();
    let many = "include /etc/redis/*.conf\n".repeat(10);
    files.insert("/etc/redis/a.conf", many.as_str());
    files.insert("/etc/redis/b.conf", many.as_str());
    let c = RedisConfig::from_argv(
        &["/etc/redis/a.conf".to_string()],
        &files,
        &ReadOptions::default(),
    );
    assert!(c.errors().iter().any(|e| e.message == "too many includes"));
}

/// Found by fuzzing (issue 9): a file that includes itself is read again at every level, so
/// a large one multiplied into hundreds of MiB of parsing. Reading stops at 8 MiB.
#[test]
fn a_large_file_including_itself_stops_at_the_byte_budget() {
    let padding = format!("# {}\n", "x".repeat(1 << 20));
    let c = conf(&format!("{padding}include /etc/redis/redis.conf\n"));
    assert!(
        c.errors().iter().any(|e| e.message == "includes too large"),
        "{:?}",
        c.errors()
    );
}

/// Found by fuzzing (issue 9): the "did you mean" search compared every unknown name with
/// every directive at full length; a long name cannot be within 2 edits of a short one.
#[test]
fn a_long_unknown_name_gets_no_suggestion_and_a_near_miss_does() {
    let long = "y".repeat(200_000);
    let c = conf(&format!("{long} 1\nmaxmemry 1gb\n"));
    let hints: Vec<_> = c
        .errors()
        .iter()
        .filter_map(|e| e.hint.as_deref())
        .collect();
    assert!(
        hints
            .iter()
            .any(|h| h.starts_with("unknown directive `yyy") && !h.contains("did you mean")),
        "{hints:?}"
    );
    assert!(
        hints.iter().any(|h| h.contains("did you mean `maxmemory`")),
        "{hints:?}"
    );
}

/// Found by fuzzing (issue 9): each unknown line searched every directive for a near miss;
/// past the first errors (redis-server stops at the first) no search is made.
#[test]
fn suggestions_stop_after_the_first_errors() {
    let text = "maxmemry 1gb\n".repeat(100);
    let c = conf(&text);
    let suggested = c
        .errors()
        .iter()
        .filter(|e| {
            e.hint
                .as_deref()
                .is_some_and(|h| h.contains("did you mean"))
        })
        .count();
    assert_eq!(c.errors().len(), 100);
    assert_eq!(suggested, 32);
}

/// Users already declared are a set, not a scan of the lines read before: a file of tens of
/// thousands of distinct users (a hostile ConfigMap) reads in linear time, and the name
/// declared twice is refused at its line.
#[test]
fn many_users_are_read_once_each_and_a_repeat_is_refused() {
    let mut text: String = (0..20_000)
        .map(|i| format!("user u{i} on >p ~* +@all\n"))
        .collect();
    let cfg = conf(&text);
    assert!(cfg.starts(), "{:?}", cfg.errors().first());
    text.push_str("user u7 on\n");
    let cfg = conf(&text);
    assert_eq!(cfg.errors().len(), 1);
    assert_eq!(cfg.errors()[0].redis_line, Some(20_001));
    assert!(cfg.errors()[0].message.contains("Duplicate user found"));
}

/// The `default` user a `user default …` line leaves: rules apply in order to a user that
/// starts off and without passwords.
#[test]
fn a_default_user_line_is_open_only_on_with_nopass_at_its_end() {
    use super::opens_default_user;
    let cases: [(&[&str], bool); 7] = [
        (&["on", "nopass", "~*", "+@all"], true),
        (&["ON", "NOPASS"], true),
        (&["on", ">s3cret", "nopass"], true), // nopass clears the password
        (&["on", "nopass", ">s3cret"], false),
        (&["on", "nopass", "off"], false),
        (&["~*", "+@all"], false), // never turned on
        (&["on", "nopass", "resetpass"], false),
    ];
    for (rules, open) in cases {
        assert_eq!(opens_default_user(rules), open, "{rules:?}");
    }
}

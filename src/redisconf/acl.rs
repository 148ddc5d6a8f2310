//! `user` lines as redis-server 7.0 reads them: `ACLAppendUserForLoading` applies the rules to
//! a throw-away user while the configuration is read (a rule it cannot apply is a fatal
//! error at that line), except unknown commands and categories, which it lets through to
//! `ACLLoadConfiguredUsers` at start-up, where the first one stops the server ("Critical error
//! while loading ACLs"). From src/acl.c and src/config.c of redis 7.0.15, and checked against
//! it by `tests/differential_redis.rs`.
//!
//! The command table is redis-server 7.0.15's own (`COMMAND`, with subcommands), in
//! `tools/engines/commands-redis-7.0.15.tsv`; another release may know more commands, so
//! there an unknown one is uncertain.

use std::collections::{HashMap, HashSet};
use std::sync::OnceLock;

/// `ACL CAT` of redis 7.0 (the same 21 in 6.2 through 7.4 and Valkey 7.2–8.1).
const CATEGORIES: [&str; 21] = [
    "keyspace",
    "read",
    "write",
    "set",
    "sortedset",
    "list",
    "hash",
    "string",
    "bitmap",
    "hyperloglog",
    "geo",
    "stream",
    "pubsub",
    "admin",
    "fast",
    "slow",
    "blocking",
    "dangerous",
    "connection",
    "transaction",
    "scripting",
];

/// Lower-case command name → its subcommands' names.
fn commands() -> &'static HashMap<String, Vec<String>> {
    static TABLE: OnceLock<HashMap<String, Vec<String>>> = OnceLock::new();
    TABLE.get_or_init(|| {
        include_str!("../../tools/engines/commands-redis-7.0.15.tsv")
            .lines()
            .filter_map(|l| {
                let (name, subs) = l.split_once('\t')?;
                let subs = subs
                    .split(',')
                    .filter(|s| !s.is_empty())
                    .map(str::to_ascii_lowercase)
                    .collect();
                Some((name.to_ascii_lowercase(), subs))
            })
            .collect()
    })
}

/// `ACLLookupCommand`: `name` or `name|sub` (one level only).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Lookup {
    Missing,
    Command { has_subcommands: bool },
    Subcommand,
}

fn lookup(name: &str) -> Lookup {
    let lower = name.to_ascii_lowercase();
    let parts: Vec<&str> = lower.split('|').collect();
    match parts.as_slice() {
        [cmd] => commands()
            .get(*cmd)
            .map_or(Lookup::Missing, |subs| Lookup::Command {
                has_subcommands: !subs.is_empty(),
            }),
        [cmd, sub] => match commands().get(*cmd) {
            Some(subs) if subs.iter().any(|s| s == sub) => Lookup::Subcommand,
            _ => Lookup::Missing,
        },
        _ => Lookup::Missing,
    }
}

/// Why `ACLSetUser` refused a rule (`ACLSetUserStringError`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Refusal {
    Syntax,
    Unknown,
    AfterAllKeys,
    AfterAllChannels,
    NoSuchPassword,
    BadHash,
    FirstArgOfSubcommand,
}

impl Refusal {
    fn message(self) -> &'static str {
        match self {
            Refusal::Syntax => "Syntax error",
            Refusal::Unknown => "Unknown command or category name in ACL",
            Refusal::AfterAllKeys => {
                "Adding a pattern after the * pattern (or the 'allkeys' flag) is not valid and \
                 does not have any effect. Try 'resetkeys' to start with an empty list of patterns"
            }
            Refusal::AfterAllChannels => {
                "Adding a pattern after the * pattern (or the 'allchannels' flag) is not valid \
                 and does not have any effect. Try 'resetchannels' to start with an empty list \
                 of channels"
            }
            Refusal::NoSuchPassword => {
                "The password you are trying to remove from the user does not exist"
            }
            Refusal::BadHash => {
                "The password hash must be exactly 64 characters and contain only lowercase \
                 hexadecimal characters"
            }
            Refusal::FirstArgOfSubcommand => "Allowing first-arg of a subcommand is not supported",
        }
    }
}

/// A user's or selector's state, as far as the refusals depend on it.
#[derive(Debug, Default, Clone)]
struct Selector {
    all_keys: bool,
    all_channels: bool,
}

#[derive(Debug, Default)]
struct User {
    root: Selector,
    /// `>pw` adds the clear text, `#hash` a hash; a removal is refused only when nothing
    /// could match (a clear password and a hash could be the same one: no SHA-256 here).
    clear: Vec<String>,
    hashes: Vec<String>,
    /// `on`/`off` (a user starts off).
    on: bool,
    /// `nopass`: any password is accepted (`>`, `#`, `resetpass` and `reset` end it).
    nopass: bool,
}

/// What reading a `user` line found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Checked {
    /// Applied (maybe with an unknown command or category, left for start-up: the first one,
    /// by token index, and the rule as written).
    Read { unknown: Option<(usize, String)> },
    /// Refused while reading: the message redis-server prints (which may name another
    /// argument than the one at fault), the rule at fault, and its token.
    Refused {
        message: String,
        rule: String,
        token: usize,
    },
}

/// Check `tokens` (`user NAME rule…`) as `ACLAppendUserForLoading` does; `earlier` are the
/// users already declared, `channels_by_default` is `acl-pubsub-default allchannels` at this
/// point of the file, `selectors` whether the release has them (7.0+: `%R~`, `(…)`).
pub(super) fn check_user(
    tokens: &[&str],
    earlier: &HashSet<String>,
    channels_by_default: bool,
    selectors: bool,
) -> Checked {
    // config.c names `argv[argc_err]`: an index into the rules, applied to the whole line
    // (redis-server's own off-by-two, kept so that the message is the one it prints).
    let named = |index: usize| tokens.get(index).copied().unwrap_or_default();
    let refused = |index: usize, why: Refusal, rule: &str, token: usize| Checked::Refused {
        message: format!(
            "Error in user declaration '{}': {}",
            named(index),
            why.message()
        ),
        rule: rule.to_string(),
        token,
    };
    if earlier.contains(tokens[1]) {
        return Checked::Refused {
            message: format!(
                "Error in user declaration '{}': Duplicate user found. A user can only be \
                 defined once in config files",
                tokens[1]
            ),
            rule: tokens[1].to_string(),
            token: 1,
        };
    }
    // ACLMergeSelectorArguments: `(` … `)` across several arguments make one rule: its text
    // and first token; an open one also keeps its index among the rules' arguments.
    let mut rules: Vec<(String, usize)> = Vec::new();
    let mut open: Option<(String, usize, usize)> = None;
    for (j, op) in tokens[2..].iter().enumerate() {
        if let Some((text, first, _)) = open.as_mut() {
            text.push(' ');
            text.push_str(op);
            if op.ends_with(')') {
                rules.push((std::mem::take(text), *first));
                open = None;
            }
            continue;
        }
        if selectors && op.starts_with('(') && !op.ends_with(')') {
            open = Some((op.to_string(), j + 2, j));
            continue;
        }
        rules.push((op.to_string(), j + 2));
    }
    if let Some((text, first, at)) = open {
        // The unclosed selector's index; errno is whatever it was (ENOENT in 7.0.15).
        return refused(at, Refusal::Unknown, &text, first);
    }
    let mut user = User {
        root: Selector {
            all_keys: false,
            all_channels: channels_by_default,
        },
        ..User::default()
    };
    let mut unknown = None;
    for (j, (op, token)) in rules.iter().enumerate() {
        match set_user(&mut user, op, selectors, channels_by_default) {
            Ok(()) => {}
            Err(Refusal::Unknown) => {
                unknown.get_or_insert((*token, op.clone()));
            }
            Err(why) => return refused(j, why, op, *token),
        }
    }
    Checked::Read { unknown }
}

/// `ACLSetUser`.
fn set_user(user: &mut User, op: &str, selectors: bool, channels: bool) -> Result<(), Refusal> {
    let is = |word: &str| op.eq_ignore_ascii_case(word);
    if op.is_empty() {
        return Ok(());
    }
    if is("on") || is("off") {
        user.on = is("on");
        return Ok(());
    }
    if is("skip-sanitize-payload") || is("sanitize-payload") {
        return Ok(());
    }
    if is("nopass") || is("resetpass") {
        user.clear.clear();
        user.hashes.clear();
        user.nopass = is("nopass");
        return Ok(());
    }
    if let Some(pass) = op.strip_prefix('>') {
        user.clear.push(pass.to_string());
        user.nopass = false;
        return Ok(());
    }
    if let Some(hash) = op.strip_prefix('#') {
        check_hash(hash)?;
        user.hashes.push(hash.to_string());
        user.nopass = false;
        return Ok(());
    }
    if let Some(pass) = op.strip_prefix('<') {
        return remove(&mut user.clear, pass, !user.hashes.is_empty());
    }
    if let Some(hash) = op.strip_prefix('!') {
        check_hash(hash)?;
        return remove(&mut user.hashes, hash, !user.clear.is_empty());
    }
    if selectors && op.starts_with('(') && op.ends_with(')') && op.len() >= 2 {
        // aclCreateSelectorFromOpSet: a fresh selector, its rules split like arguments.
        let inner = &op[1..op.len() - 1];
        let Ok(parts) = super::tokenizer::split_args(inner) else {
            return Err(Refusal::Syntax);
        };
        let mut selector = Selector::default();
        for part in parts {
            set_selector_in(&mut selector, &part.text, true)?;
        }
        return Ok(());
    }
    if selectors && is("clearselectors") {
        return Ok(());
    }
    if is("reset") {
        *user = User {
            root: Selector {
                all_keys: false,
                all_channels: channels,
            },
            ..User::default()
        };
        return Ok(());
    }
    set_selector_in(&mut user.root, op, selectors)
}

/// Whether the rules of a `user default …` line leave the `default` user open: on, with
/// `nopass`. They apply in order to a user that starts off and without passwords, as both
/// `ACLLoadFromFile` (a fresh user) and a redis.conf `user default` line (`reset` first, in
/// `ACLLoadConfiguredUsers`) apply them. A rule redis-server refuses is skipped here: that
/// error is reported with the line.
pub fn opens_default_user(rules: &[&str]) -> bool {
    let mut user = User::default();
    for rule in rules {
        let _ = set_user(&mut user, rule, true, false);
    }
    user.on && user.nopass
}

fn check_hash(hash: &str) -> Result<(), Refusal> {
    let ok = hash.len() == 64 && hash.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
    if ok { Ok(()) } else { Err(Refusal::BadHash) }
}

fn remove(list: &mut Vec<String>, item: &str, other_kind: bool) -> Result<(), Refusal> {
    match list.iter().position(|p| p == item) {
        Some(i) => {
            list.remove(i);
            Ok(())
        }
        None if other_kind => Ok(()),
        None => Err(Refusal::NoSuchPassword),
    }
}

/// `ACLSetSelector`.
fn set_selector_in(s: &mut Selector, op: &str, selectors: bool) -> Result<(), Refusal> {
    let is = |word: &str| op.eq_ignore_ascii_case(word);
    if is("allkeys") || is("~*") {
        s.all_keys = true;
        return Ok(());
    }
    if is("resetkeys") {
        s.all_keys = false;
        return Ok(());
    }
    if is("allchannels") || is("&*") {
        s.all_channels = true;
        return Ok(());
    }
    if is("resetchannels") {
        s.all_channels = false;
        return Ok(());
    }
    if is("allcommands") || is("+@all") || is("nocommands") || is("-@all") {
        return Ok(());
    }
    let bytes = op.as_bytes();
    match bytes[0] {
        b'~' | b'%' if bytes[0] == b'~' || selectors => {
            if s.all_keys {
                return Err(Refusal::AfterAllKeys);
            }
            if bytes[0] == b'%' {
                // `%R~`, `%W~`, `%RW~` (each letter once); the `~` may be missing (then the
                // pattern is empty), but some permission must be named. Only `~*` and
                // `allkeys` make a selector's keys all keys (redis-server 7.0.15: `%RW~*`
                // followed by `~a` starts).
                let (mut read, mut write) = (false, false);
                for &b in &bytes[1..] {
                    match b.to_ascii_uppercase() {
                        b'R' if !read => read = true,
                        b'W' if !write => write = true,
                        b'~' => break,
                        _ => return Err(Refusal::Syntax),
                    }
                }
                if !read && !write {
                    return Err(Refusal::Syntax);
                }
            }
            Ok(())
        }
        b'&' => {
            if s.all_channels {
                return Err(Refusal::AfterAllChannels);
            }
            Ok(())
        }
        b'+' if bytes.get(1) != Some(&b'@') => {
            let name = &op[1..];
            let Some((command, sub)) = name.rsplit_once('|') else {
                return match lookup(name) {
                    Lookup::Missing => Err(Refusal::Unknown),
                    _ => Ok(()),
                };
            };
            match lookup(command) {
                Lookup::Missing => Err(Refusal::Unknown),
                Lookup::Subcommand => Err(Refusal::FirstArgOfSubcommand),
                _ if sub.is_empty() => Err(Refusal::Syntax),
                Lookup::Command {
                    has_subcommands: true,
                } => match lookup(name) {
                    Lookup::Missing => Err(Refusal::Unknown),
                    _ => Ok(()),
                },
                // A first argument (`+select|0`): allowed, with a deprecation warning.
                Lookup::Command { .. } => Ok(()),
            }
        }
        b'-' if bytes.get(1) != Some(&b'@') => match lookup(&op[1..]) {
            Lookup::Missing => Err(Refusal::Unknown),
            _ => Ok(()),
        },
        b'+' | b'-' => {
            let category = &op[2..];
            if CATEGORIES.iter().any(|c| c.eq_ignore_ascii_case(category)) {
                Ok(())
            } else {
                Err(Refusal::Unknown)
            }
        }
        _ => Err(Refusal::Syntax),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(line: &str) -> Checked {
        let tokens: Vec<&str> = line.split(' ').collect();
        check_user(&tokens, &HashSet::new(), false, true)
    }

    fn refused(line: &str) -> String {
        match check(line) {
            Checked::Refused { message, .. } => message,
            other => panic!("{line}: {other:?}"),
        }
    }

    /// The messages redis-server 7.0.15 prints for these lines (run by hand; the same cases
    /// are in tests/differential_redis.rs against the binary).
    #[test]
    fn refusals_read_as_redis_server_prints_them() {
        assert_eq!(
            refused("user x badflag"),
            "Error in user declaration 'user': Syntax error"
        );
        assert!(
            refused("user x on #abc")
                .starts_with("Error in user declaration 'x': The password hash")
        );
        assert!(
            refused("user x on >a <b")
                .starts_with("Error in user declaration 'on': The password you")
        );
        assert_eq!(
            refused("user x on (~foo +get"),
            "Error in user declaration 'x': Unknown command or category name in ACL"
        );
        assert_eq!(
            refused("user x on %X~a"),
            "Error in user declaration 'x': Syntax error"
        );
        assert_eq!(
            refused("user x on %RR~a"),
            "Error in user declaration 'x': Syntax error"
        );
        assert_eq!(
            refused("user x on %R~a %W~b %RW~c %~d"),
            "Error in user declaration '%W~b': Syntax error"
        );
        assert!(refused("user x on allkeys %R~foo").contains("(or the 'allkeys' flag)"));
        assert!(
            refused("user x on ~* ~foo").contains("after the * pattern (or the 'allkeys' flag)")
        );
        assert!(refused("user x on &* &foo").contains("(or the 'allchannels' flag)"));
        assert!(
            refused("user x on +config|get|x")
                .ends_with("Allowing first-arg of a subcommand is not supported")
        );
        assert!(refused("user x on +get|").ends_with("Syntax error"));
        assert!(refused("user x on +config|").ends_with("Syntax error"));
        assert_eq!(
            refused("user x on (~a +get) (bad)"),
            "Error in user declaration 'on': Syntax error"
        );
    }

    #[test]
    fn accepted_lines_and_unknown_names_left_for_start_up() {
        for line in [
            "user x on >pw ~* +@all",
            "user x on nopass ~* &* +@all",
            "user x on %R",
            "user x on %RW~* ~a",
            "user x on %R~a %W~b %RW~c",
            "user x on -config|get",
            "user x on +get|x",
            "user x ON Off clearselectors",
            "user x on ()",
            "user x on ( ~a )",
            "user x on >a <a resetpass",
            "user x",
        ] {
            assert_eq!(check(line), Checked::Read { unknown: None }, "{line}");
        }
        for (line, rule) in [
            ("user bad on >pw ~* +@nosuchcategory", "+@nosuchcategory"),
            ("user bad on >pw ~* +nosuchcommand", "+nosuchcommand"),
            ("user x on -get|x", "-get|x"),
            ("user x on +config|nosuch", "+config|nosuch"),
            ("user x on (+nosuch)", "(+nosuch)"),
        ] {
            assert!(
                matches!(check(line), Checked::Read { unknown: Some((_, r)) } if r == rule),
                "{line}: {:?}",
                check(line)
            );
        }
    }

    #[test]
    fn duplicates_and_the_pubsub_default_are_seen() {
        let tokens = ["user", "x", "on"];
        assert!(matches!(
            check_user(&tokens, &HashSet::from(["x".to_string()]), false, true),
            Checked::Refused { token: 1, .. }
        ));
        // With `acl-pubsub-default allchannels` before it, a user starts with all channels.
        let tokens = ["user", "x", "&foo"];
        assert!(matches!(
            check_user(&tokens, &HashSet::new(), true, true),
            Checked::Refused { .. }
        ));
        assert_eq!(
            check_user(&tokens, &HashSet::new(), false, true),
            Checked::Read { unknown: None }
        );
        // Before 7.0 there are no selectors.
        let tokens = ["user", "x", "%R~a"];
        assert!(matches!(
            check_user(&tokens, &HashSet::new(), false, false),
            Checked::Refused { .. }
        ));
    }
}

//! What a group of Sentinels is configured with ([`Sentinels`]): the quorum and how the
//! monitored primary is addressed, from `sentinel` lines of the configuration or from what an
//! operator writes.

use crate::model::{Config, Loc, Located, SentinelAddressing, SentinelQuorum, Sentinels};

/// The Sentinels of a configuration the input holds: the first `sentinel monitor` line and the
/// `resolve-hostnames` / `announce-hostnames` lines. Unknown where a line is written at run
/// time (a start script, a condition of an init script).
pub fn from_config(config: &Config) -> Sentinels {
    let unknown = Sentinels {
        quorum: None,
        addressing: SentinelAddressing::Unknown,
    };
    if config.unknown.iter().any(|u| u == "sentinel") {
        return unknown;
    }
    let mut monitor = None;
    let mut resolve_hostnames = None;
    let mut announce_hostnames = None;
    for (line, source) in config.redis.lines().iter().zip(&config.sources) {
        if line.name != "sentinel" || line.refused || line.args.is_empty() {
            continue;
        }
        let arg = |i: usize| -> Option<Loc> {
            source
                .args
                .get(i)
                .cloned()
                .flatten()
                .or_else(|| source.at.clone())
        };
        let yes = |i: usize| {
            Some(Located {
                value: line.args.get(i)?.eq_ignore_ascii_case("yes"),
                at: arg(i)?,
            })
        };
        match line.args[0].to_ascii_lowercase().as_str() {
            "monitor" if line.args.len() == 5 && monitor.is_none() => {
                let host = Located {
                    value: line.args[2].clone(),
                    at: match arg(2) {
                        Some(at) => at,
                        None => continue,
                    },
                };
                let quorum = line.args[4].parse::<i64>().ok().and_then(|value| {
                    Some(SentinelQuorum {
                        value,
                        at: arg(4)?,
                        set_by: None,
                    })
                });
                monitor = Some((host, quorum));
            }
            "resolve-hostnames" => resolve_hostnames = yes(1),
            "announce-hostnames" => announce_hostnames = yes(1),
            _ => {}
        }
    }
    match monitor {
        Some((host, quorum)) => Sentinels {
            quorum,
            addressing: SentinelAddressing::Config {
                host,
                resolve_hostnames,
                announce_hostnames,
            },
        },
        None => unknown,
    }
}

/// Sentinels an operator configures: the quorum it writes, and who keeps the address current.
pub fn by_operator(quorum: Option<SentinelQuorum>, how: &str) -> Sentinels {
    Sentinels {
        quorum,
        addressing: SentinelAddressing::Operator(how.to_string()),
    }
}

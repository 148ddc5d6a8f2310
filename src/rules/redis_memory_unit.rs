//! ## redis-memory-unit
//!
//! **What it does.** Checks every memory value redis-server accepts (`maxmemory`,
//! `repl-backlog-size`, `client-output-buffer-limit`, …) for values it reads differently
//! from what was written.
//!
//! **Why it matters.** redis-server's `memtoull` reads `""` and a unit without digits (`mb`)
//! as 0 without complaint — and `maxmemory 0` means no limit at all. A number times its unit
//! beyond 2^64 wraps around to a small value. These lines start, so nothing warns until the
//! OOMKill. (Values redis-server refuses — `1.5gb`, `2Gi`, `1tb` — stop it at start-up:
//! `redis-conf-unparseable` reports them.) `k`, `m` and `g` are powers of 1000 — `1g` is 7%
//! less than `1gb` — which is reported as info.
//!
//! **Fix.** None: only the author knows the size meant.
use crate::model::Deployment;
use crate::redisconf::directives::{Kind, Special};
use crate::units::redis::{MemoryAccident, parse_memory};

use super::facts;
use super::{Context, NoParams, Rule, Severity, Violation};

pub struct Check;

impl Rule for Check {
    type Params = NoParams;

    fn deployment(&self, _cx: &Context, d: &Deployment, out: &mut Vec<Violation>) {
        // Lines and their sources are parallel: walk them together rather than looking
        // each line's source up again.
        for (line, src) in d.config.redis.lines().iter().zip(&d.config.sources) {
            if line.refused {
                continue;
            }
            let args: Vec<usize> = match d.config.redis.directive(&line.name).map(|d| &d.kind) {
                Some(Kind::Numeric { memory: true, .. }) => vec![0],
                Some(Kind::Special(Special::ClientOutputBufferLimit)) => {
                    (0..line.args.len()).filter(|i| i % 4 == 1 || i % 4 == 2).collect()
                }
                _ => continue,
            };
            for i in args {
                let Some(arg) = line.args.get(i) else { continue };
                if arg.ends_with('%') {
                    continue;
                }
                let Ok(value) = parse_memory(arg) else { continue };
                let Some(at) = facts::source_arg_loc(src, i) else { continue };
                let written = format!("`{} {}`", line.written_name, line.args.join(" "));
                match value.accident {
                    Some(MemoryAccident::SilentZero) => out.push(Violation::new(
                        at,
                        format!(
                            "{written}: {:?} has no digits, and {} reads it as 0 \
                             without an error{}; write the size, e.g. `1gb`",
                            arg,
                            facts::server(d),
                            match line.name.as_str() {
                                "maxmemory" => " (for maxmemory, 0 is no limit)",
                                "client-output-buffer-limit" => " (0 is no limit)",
                                _ => "",
                            }
                        ),
                    )),
                    Some(MemoryAccident::Wrapped) => out.push(Violation::new(
                        at,
                        format!(
                            "{written}: `{arg}` overflows 64 bits and {} wraps it to {}",
                            facts::server(d),
                            facts::bytes(value.bytes)
                        ),
                    )),
                    Some(MemoryAccident::Saturated) => out.push(Violation::new(
                        at,
                        format!(
                            "{written}: `{arg}` exceeds 64 bits and {} reads it as \
                             the largest value, {}",
                            facts::server(d),
                            facts::bytes(value.bytes)
                        ),
                    )),
                    None if value.decimal_unit => out.push(
                        Violation::new(
                            at,
                            format!(
                                "{written}: `{arg}` uses a power-of-1000 unit ({}); Redis' \
                                 `kb`/`mb`/`gb` are powers of 1024",
                                facts::bytes(value.bytes)
                            ),
                        )
                        .severity(Severity::Info),
                    ),
                    None => {}
                }
            }
        }
    }
}

//! ## k8s-memory-milli
//!
//! **What it does.** Finds memory requests and limits of Redis containers written with the
//! `m` suffix, or below 1Mi.
//!
//! **Why it matters.** In a Kubernetes quantity `m` is *milli*: `512m` is 0.512 bytes, which
//! the API server rounds up to 1 byte. `M` (10^6) and `Mi` (2^20) are the megabyte suffixes.
//! A limit of a few bytes or KiB cannot start redis-server; a request that small tells the
//! scheduler the pod needs nothing, so it lands on a full node.
//!
//! **Fix.** For `<N>m`, writes `<N>Mi` — almost always what was meant; check it.
use crate::model::{Deployment, Memory};

use super::facts::bytes;
use super::fixes::set_memory;
use super::{Context, NoParams, Rule, Violation};

pub struct Check;

const MIB: u64 = 1 << 20;

impl Rule for Check {
    type Params = NoParams;

    fn deployment(&self, cx: &Context, d: &Deployment, out: &mut Vec<Violation>) {
        // The same container appears in a Cluster's deployment and in every projection of
        // it; the engine drops projections' findings that point outside the operation.
        for c in &d.containers {
            for (what, memory) in [("request", &c.memory_request), ("limit", &c.memory_limit)] {
                let Some(memory) = memory else { continue };
                if let Some(v) = check(cx, what, memory) {
                    out.push(v);
                }
            }
        }
    }
}

/// What a milli-byte quantity (`512m`) was meant to be (`512Mi`): the text and its bytes.
pub fn meant(memory: &Memory) -> Option<(String, u64)> {
    let number = memory.text.trim().strip_suffix('m')?;
    if number.is_empty() || !number.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        return None;
    }
    let meant = format!("{number}Mi");
    let bytes = crate::units::quantity::Quantity::parse(&meant).ok()?.bytes()?;
    Some((meant, bytes))
}

fn check(cx: &Context, what: &str, memory: &Memory) -> Option<Violation> {
    let text = memory.text.trim();
    if let Some(number) = text.strip_suffix('m')
        && !number.is_empty()
        && number.bytes().all(|b| b.is_ascii_digit() || b == b'.')
    {
        let meant_text = format!("{number}Mi");
        // The fix writes the canonical form of the meant bytes (`1024m` → `1Gi`): the
        // description names what it writes.
        let fix = meant(memory).and_then(|(_, b)| {
            let mut f = set_memory(cx.inventory, &memory.at, b)?;
            let written = crate::units::quantity::canonical_bytes(b);
            let same = if written == meant_text {
                String::new()
            } else {
                format!(" = `{meant_text}`")
            };
            f.description = format!("write `{written}`{same} instead of `{text}` (m is milli)");
            Some(f)
        });
        return Some(
            Violation::new(
                memory.at.clone(),
                format!(
                    "memory {what} `{text}` is {number} millibytes, rounded up to {}: `m` is \
                     milli, not mega; you probably meant `{meant_text}`",
                    bytes(memory.bytes)
                ),
            )
            .fix(fix),
        );
    }
    (memory.bytes < MIB).then(|| {
        Violation::new(
            memory.at.clone(),
            format!(
                "memory {what} `{text}` is only {}: a quantity without a suffix is bytes; \
                 write a suffix such as `Mi` or `Gi`",
                bytes(memory.bytes)
            ),
        )
    })
}

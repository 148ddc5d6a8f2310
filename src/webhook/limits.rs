//! What reviews may use at once: a deadline each, a number judged together, and a memory
//! budget sized from the container's limit, so that no mix of requests takes the webhook
//! past its limit (an OOM-killed webhook with `failurePolicy: Ignore` admits everything
//! unjudged) or past the API server's timeout.

use std::time::Duration;

/// The API server's timeouts in `manifests/base/webhooks.yaml` are 2 s (mutate) and 3 s
/// (validate); the answer must be on its way back before the shorter one.
pub const DEFAULT_DEADLINE: Duration = Duration::from_millis(1500);

/// Estimated peak heap of one review of `body`: the body, its JSON tree, the source tree built
/// from it, the model, the findings and the answer, from its size and its number of JSON
/// values (a 1.5 MiB body of nested one-element arrays costs three times what the same bytes
/// of containers do). Measured with a counting allocator over adversarial shapes in
/// `tests/review_memory.rs`, which fails if one needs more. A review that takes more anyway
/// is stopped at its next budget check ([`crate::budget::Trip::Memory`]).
pub fn review_cost_bytes(body: &[u8]) -> u64 {
    REVIEW_BASE_BYTES
        + REVIEW_BYTES_PER_BODY_BYTE * body.len() as u64
        + REVIEW_BYTES_PER_VALUE * json_values(body)
}

/// [`review_cost_bytes`] for any body of `len` bytes (every byte a value), without reading
/// it: small bodies are reserved this much rather than scanned first.
pub fn review_cost_bound(len: usize) -> u64 {
    REVIEW_BASE_BYTES + (REVIEW_BYTES_PER_BODY_BYTE + REVIEW_BYTES_PER_VALUE) * len as u64
}

/// Bodies up to this size are reserved [`review_cost_bound`] (at most ~33 MiB) instead of
/// being scanned on the blocking pool first: one hop fewer for the reviews of every day.
pub const UNSCANNED_BODY_BYTES: usize = 64 * 1024;

pub const REVIEW_BASE_BYTES: u64 = 512 * 1024;
pub const REVIEW_BYTES_PER_BODY_BYTE: u64 = 100;
pub const REVIEW_BYTES_PER_VALUE: u64 = 400;

/// Roughly the number of values in a JSON text, in one pass without building anything:
/// each value or key follows a `[`, `{`, `,` or `:` outside a string.
pub fn json_values(body: &[u8]) -> u64 {
    let (mut n, mut in_string, mut escaped) = (0u64, false, false);
    for &b in body {
        if in_string {
            match b {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
        } else {
            match b {
                b'"' => in_string = true,
                b'[' | b'{' | b',' | b':' => n += 1,
                _ => {}
            }
        }
    }
    n
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReviewLimits {
    /// From the request's arrival to the answer, waiting included.
    pub deadline: Duration,
    /// Reviews judged at once (each on a thread of the blocking pool).
    pub concurrency: usize,
    /// Estimated bytes of all reviews at once, bodies waiting to be judged included.
    pub memory_bytes: u64,
}

impl ReviewLimits {
    /// Defaults for this process: one review per CPU the process may use, and a memory
    /// budget from its cgroup's limit ([`memory_budget_for`]).
    pub fn detect() -> ReviewLimits {
        ReviewLimits {
            deadline: DEFAULT_DEADLINE,
            concurrency: std::thread::available_parallelism().map_or(2, |n| n.get()),
            memory_bytes: memory_budget_for(cgroup_memory_limit(), total_memory()),
        }
    }
}

/// The review budget for a process whose memory limit is `limit` (else a quarter of the
/// machine's memory, else 1 GiB): the limit less what the process needs besides reviews
/// (the runtime, TLS, the lookups' caches, which grow with the cluster), a quarter of it and
/// at least 64 MiB, but never less than a quarter of the limit.
pub fn memory_budget_for(limit: Option<u64>, machine: Option<u64>) -> u64 {
    const MIB: u64 = 1 << 20;
    match limit {
        Some(limit) => limit
            .saturating_sub((limit / 4).max(64 * MIB))
            .max(limit / 4),
        None => machine.map_or(1024 * MIB, |m| m / 4),
    }
}

/// The memory limit of this process's cgroup (v2 `memory.max`, v1
/// `memory.limit_in_bytes`), `None` without one.
pub fn cgroup_memory_limit() -> Option<u64> {
    let read = |path: &str| std::fs::read_to_string(path).ok();
    // In a container the cgroup namespace puts our own group at the root; outside one,
    // /proc/self/cgroup names it.
    let v2_group = read("/proc/self/cgroup").and_then(|c| {
        c.lines()
            .find_map(|l| l.strip_prefix("0::").map(str::to_string))
    });
    let mut candidates = vec!["/sys/fs/cgroup/memory.max".to_string()];
    if let Some(group) = v2_group.filter(|g| g != "/") {
        candidates.push(format!("/sys/fs/cgroup{group}/memory.max"));
    }
    candidates.push("/sys/fs/cgroup/memory/memory.limit_in_bytes".to_string());
    candidates
        .iter()
        .filter_map(|p| read(p))
        .find_map(|text| parse_limit(&text))
}

/// A cgroup limit file's value: `max` (v2) and the v1 "unlimited" (a page-rounded 2^63)
/// are no limit.
pub fn parse_limit(text: &str) -> Option<u64> {
    let n: u64 = text.trim().parse().ok()?;
    (n < 1 << 62).then_some(n)
}

/// `MemTotal` of /proc/meminfo, in bytes.
fn total_memory() -> Option<u64> {
    let info = std::fs::read_to_string("/proc/meminfo").ok()?;
    let kib: u64 = info
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))?
        .trim()
        .strip_suffix("kB")?
        .trim()
        .parse()
        .ok()?;
    kib.checked_mul(1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIB: u64 = 1 << 20;

    #[test]
    fn the_bound_holds_for_the_worst_body() {
        let worst = vec![b'['; 1000];
        assert_eq!(review_cost_bytes(&worst), review_cost_bound(1000));
        assert!(review_cost_bytes(br#"{"a":"b"}"#) < review_cost_bound(9));
    }

    #[test]
    fn values_are_counted_outside_strings_only() {
        assert_eq!(json_values(br#"{"a":[1,2,{"b":"x,y:[{"}],"c\"":"\\"}"#), 9);
        assert_eq!(json_values(b""), 0);
    }

    #[test]
    fn limits_files_read_as_cgroups_write_them() {
        assert_eq!(parse_limit("268435456\n"), Some(256 * MIB));
        assert_eq!(parse_limit("max\n"), None);
        // cgroup v1 without a limit.
        assert_eq!(parse_limit("9223372036854771712\n"), None);
        assert_eq!(parse_limit(""), None);
    }

    #[test]
    fn the_budget_leaves_room_for_the_rest_of_the_process() {
        // The manifests' limit: 512 MiB less 128 MiB.
        assert_eq!(memory_budget_for(Some(512 * MIB), None), 384 * MIB);
        // Small limits keep 64 MiB aside, but never go below a quarter.
        assert_eq!(memory_budget_for(Some(128 * MIB), None), 64 * MIB);
        assert_eq!(memory_budget_for(Some(64 * MIB), None), 16 * MIB);
        assert_eq!(memory_budget_for(None, Some(8192 * MIB)), 2048 * MIB);
        assert_eq!(memory_budget_for(None, None), 1024 * MIB);
    }
}

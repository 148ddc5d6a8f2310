//! The memory budget in words and as a text bar, shared by the human and HTML formats
//! (the numbers come from [`crate::rules::memory`]).

use crate::rules::memory::MemoryBudget;
use crate::units::human::size;

/// The rules whose findings the budget explains: each judges maxmemory, the limit, the
/// request, the fork or the backlog of a server.
pub const SHOWN_WITH: &[&str] = &[
    "redis-maxmemory-headroom",
    "redis-memory-request-ratio",
    "redis-maxmemory-unset",
    "redis-memory-limit-missing",
    "dragonfly-threads-memory",
    "redis-repl-backlog-small",
];

/// The characters of the bar's parts.
pub const MAXMEMORY: char = '#';
pub const FORK: char = '=';
pub const BUFFERS: char = '~';
pub const HEADROOM: char = '.';
pub const LIMIT: char = '|';

/// Which part a bar cell shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    Maxmemory,
    Fork,
    Buffers,
    Headroom,
    /// The cell where the limit falls inside a budget over it.
    Limit,
}

impl Part {
    pub fn char(self) -> char {
        match self {
            Part::Maxmemory => MAXMEMORY,
            Part::Fork => FORK,
            Part::Buffers => BUFFERS,
            Part::Headroom => HEADROOM,
            Part::Limit => LIMIT,
        }
    }
}

/// Whether a budget says anything: a limit, a request or a maxmemory to show.
pub fn has_numbers(b: &MemoryBudget) -> bool {
    b.limit_bytes.is_some() || b.request_bytes.is_some() || b.maxmemory_bytes.is_some()
}

/// The bar's cells, `width` of them, scaled to the larger of the limit and the worst case:
/// maxmemory, the fork's copy, the replica buffers, then what is left below the limit; over
/// the limit, the cell where it falls is [`Part::Limit`]. `None` when the limit or a part
/// is unknown (the words say which).
pub fn cells(b: &MemoryBudget, width: usize) -> Option<Vec<Part>> {
    let limit = b.limit_bytes.filter(|&l| l > 0)?;
    let parts = [
        (Part::Maxmemory, b.maxmemory_bytes?),
        (Part::Fork, b.fork_copy_bytes?),
        (Part::Buffers, b.replica_buffers_bytes?),
    ];
    let total = b.worst_case_bytes()?;
    let scale = limit.max(total) as f64;
    let at = |bytes: u64| ((bytes as f64 / scale) * width as f64).round() as usize;
    let mut cells = Vec::with_capacity(width);
    let mut end = 0u64;
    for (part, bytes) in parts {
        end += bytes;
        // A non-zero part gets at least one cell.
        let to = at(end).max(cells.len() + usize::from(bytes > 0)).min(width);
        cells.resize(to, part);
    }
    cells.resize(width, Part::Headroom);
    if total > limit && width > 0 {
        let i = at(limit).min(width.saturating_sub(1));
        cells[i] = Part::Limit;
    }
    Some(cells)
}

/// The bar as text: `[####====~~..]`.
pub fn bar(b: &MemoryBudget, width: usize) -> Option<String> {
    let cells = cells(b, width)?;
    Some(format!(
        "[{}]",
        cells.iter().map(|c| c.char()).collect::<String>()
    ))
}

/// The limit and request in words: `limit 1.0 GiB, request 512.0 MiB`.
pub fn head(b: &MemoryBudget) -> String {
    let limit = match b.limit_bytes {
        Some(l) => format!("limit {}", size(l)),
        None => "no memory limit".to_string(),
    };
    match b.request_bytes {
        Some(r) => format!("{limit}, request {}", size(r)),
        None => limit,
    }
}

/// The parts in words, each with its bar character when `symbols` (`maxmemory 768.0 MiB
/// (#)`), …, and the headroom (`worst case over by …` when negative).
pub fn parts(b: &MemoryBudget, symbols: bool) -> Vec<String> {
    let sym = |c: char| {
        if symbols {
            format!(" ({c})")
        } else {
            String::new()
        }
    };
    let mut out = Vec::new();
    let maxmemory = match (b.maxmemory_bytes, b.maxmemory_visible) {
        (Some(m), _) => format!("maxmemory {}{}", size(m), sym(MAXMEMORY)),
        (None, true) => "maxmemory 0 (unbounded)".to_string(),
        (None, false) => "maxmemory not visible".to_string(),
    };
    out.push(maxmemory);
    if let Some(backlog) = b.backlog_bytes {
        out.push(format!("backlog {} in it", size(backlog)));
    }
    out.push(match (b.fork_reason, b.fork_copy_bytes) {
        (None, _) => "no fork".to_string(),
        (Some(_), Some(f)) => format!("fork \u{2264}{}{}", size(f), sym(FORK)),
        (Some(_), None) => "fork up to the whole dataset".to_string(),
    });
    out.push(match b.replica_buffers_bytes {
        Some(0) => "no replica buffers".to_string(),
        Some(r) => format!("buffers {}{}", size(r), sym(BUFFERS)),
        None => "buffers unbounded or unknown".to_string(),
    });
    out.push(match b.headroom_bytes {
        Some(h) if h < 0 => format!("worst case over by {}", size(h.unsigned_abs())),
        Some(h) => format!("headroom {}{}", size(h as u64), sym(HEADROOM)),
        None => "headroom unknown".to_string(),
    });
    out
}

/// `words` joined with `, `, wrapped into lines of at most `width` characters: the first
/// after `first`, the others after `indent` (a word longer than that gets a line of its
/// own).
pub fn wrap(words: &[String], first: &str, indent: &str, width: usize) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    let mut line = String::new();
    let lead = |lines: &Vec<String>| if lines.is_empty() { first } else { indent }.to_string();
    for (i, w) in words.iter().enumerate() {
        let piece = if i + 1 < words.len() {
            format!("{w},")
        } else {
            w.clone()
        };
        let len = |s: &str| s.chars().count();
        if !line.is_empty() && len(&lead(&lines)) + len(&line) + 1 + len(&piece) > width {
            lines.push(format!("{}{line}", lead(&lines)));
            line.clear();
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(&piece);
    }
    if !line.is_empty() {
        lines.push(format!("{}{line}", lead(&lines)));
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    const MI: u64 = 1 << 20;

    fn budget(limit: u64, maxmemory: u64, fork: u64, buffers: u64) -> MemoryBudget {
        let headroom = limit as i64 - (maxmemory + fork + buffers) as i64;
        MemoryBudget {
            request_bytes: None,
            limit_bytes: Some(limit),
            maxmemory_bytes: Some(maxmemory),
            maxmemory_visible: true,
            backlog_bytes: Some(MI),
            fork_reason: (fork > 0).then_some("test"),
            fork_copy_bytes: Some(fork),
            replica_buffers_bytes: Some(buffers),
            headroom_bytes: Some(headroom),
        }
    }

    #[test]
    fn the_bar_is_scaled_to_the_limit_or_the_worst_case() {
        // 400 + 400 + 100 of 1000: 8 + 8 + 2 cells of 20, 2 left.
        let b = budget(1000 * MI, 400 * MI, 400 * MI, 100 * MI);
        assert_eq!(bar(&b, 20).unwrap(), "[########========~~..]");
        // 768 + 768 + 256 = 1792 of 1024: scaled to 1792, the limit at cell 11 of 20.
        let b = budget(1024 * MI, 768 * MI, 768 * MI, 256 * MI);
        assert_eq!(bar(&b, 20).unwrap(), "[#########==|=====~~~]");
        // No fork, no buffers.
        let b = budget(1000 * MI, 500 * MI, 0, 0);
        assert_eq!(bar(&b, 10).unwrap(), "[#####.....]");
        // A tiny part still shows.
        let b = budget(1000 * MI, 500 * MI, 0, MI);
        assert_eq!(bar(&b, 10).unwrap(), "[#####~....]");
    }

    #[test]
    fn unknowns_draw_no_bar_and_say_so() {
        let mut b = budget(1000 * MI, 500 * MI, 500 * MI, 0);
        b.replica_buffers_bytes = None;
        b.headroom_bytes = None;
        assert_eq!(bar(&b, 10), None);
        let words = parts(&b, true);
        assert!(words[0].ends_with("(#)"));
        assert!(!parts(&b, false)[0].contains('#'));
        assert!(words.contains(&"buffers unbounded or unknown".to_string()));
        assert!(words.contains(&"headroom unknown".to_string()));
        b.limit_bytes = None;
        assert_eq!(head(&b), "no memory limit");
        // A server that forks with no maxmemory: its fork has no bound either.
        b.maxmemory_bytes = None;
        b.fork_copy_bytes = None;
        let words = parts(&b, false);
        assert!(
            words.contains(&"maxmemory 0 (unbounded)".to_string()),
            "{words:?}"
        );
        assert!(
            words.contains(&"fork up to the whole dataset".to_string()),
            "{words:?}"
        );
    }

    #[test]
    fn words_wrap_within_the_width() {
        let b = budget(1000 * MI, 999 * MI, 999 * MI, 999 * MI);
        let lines = wrap(&parts(&b, true), "  = memory ", "      ", 40);
        assert!(lines[0].starts_with("  = memory maxmemory"));
        assert!(lines.len() > 1);
        assert!(lines.iter().all(|l| l.chars().count() <= 40), "{lines:?}");
        assert_eq!(
            lines
                .join(" ")
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" "),
            format!("= memory {}", parts(&b, true).join(", "))
        );
    }
}

//! Markdown, for a GitHub Actions job summary (`$GITHUB_STEP_SUMMARY`) or a pull-request
//! comment: a heading, the counts by severity, and a table of findings
//! (`| Severity | Rule | Location | Message |`). GitHub renders GitHub Flavored Markdown
//! there, so everything taken from the input (messages, file names) is escaped: a `|` would
//! end a cell, a newline the row, and backticks, `<`, `[`, `*`, `_`… would start markup.
//! A step summary is limited to 1 MiB, so the table stops after [`MAX_ROWS`] rows and says
//! how many more there are.

use std::fmt::Write;

use super::Report;
use crate::rules::Severity;

/// Rows of the findings table at most; the rest are counted in one line.
pub const MAX_ROWS: usize = 500;
/// Bytes of the whole summary at most (rows that would go past it are counted instead):
/// below the 1 MiB GitHub accepts per step summary, whatever the messages hold.
pub const MAX_BYTES: usize = 800 * 1024;

pub fn render(report: &Report) -> String {
    render_with(report, MAX_ROWS, MAX_BYTES)
}

/// [`render`] with the table cut after `max_rows` rows or before `max_bytes` bytes.
pub fn render_with(report: &Report, max_rows: usize, max_bytes: usize) -> String {
    let s = &report.summary;
    let mut out = String::from("## redline\n\n");
    // An audit reads objects, not files (as the human format says it).
    let files = if s.files == 0 && s.objects > 0 {
        String::new()
    } else {
        format!("{} file(s), ", s.files)
    };
    let _ = writeln!(
        out,
        "{files}{} object(s) checked: **{} error(s)**, {} warning(s), {} info(s){}.\n",
        s.objects,
        s.errors,
        s.warnings,
        s.infos,
        match s.exempted {
            0 => String::new(),
            n => format!("; {n} exempted by annotations"),
        }
    );
    if report.items.is_empty() {
        out.push_str("No findings.\n");
        return out;
    }
    out.push_str("| Severity | Count |\n|---|---:|\n");
    for (severity, count) in [
        (Severity::Error, s.errors),
        (Severity::Warning, s.warnings),
        (Severity::Info, s.infos),
    ] {
        let _ = writeln!(out, "| {severity} | {count} |");
    }
    out.push_str("\n| Severity | Rule | Location | Message |\n|---|---|---|---|\n");
    let mut shown = 0;
    for i in report.items.iter().take(max_rows) {
        let location = match i.line {
            Some(line) => format!("{}:{line}", i.file),
            None => i.file.clone(),
        };
        let mut message = i.message.to_string();
        if let Some(fix) = i.fix {
            let _ = write!(message, "\nfix: {}", fix.description);
        }
        let row = format!(
            "| {} | {} | {} | {} |\n",
            i.severity,
            rule(i.rule),
            cell(&location),
            cell(&message)
        );
        // Room is kept for the closing line.
        if out.len() + row.len() + 200 > max_bytes {
            break;
        }
        out.push_str(&row);
        shown += 1;
    }
    if let Some(more) = report.items.len().checked_sub(shown).filter(|n| *n > 0) {
        let _ = writeln!(
            out,
            "\n…and {more} more finding(s) not shown here (the annotations and the SARIF \
             report list them all)."
        );
    }
    out
}

/// A rule ID as code; IDs are `[a-z0-9-]`, so anything else is escaped as text instead.
fn rule(id: &str) -> String {
    if !id.is_empty()
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.')
    {
        format!("`{id}`")
    } else {
        cell(id)
    }
}

/// Text for one table cell: ASCII punctuation that starts GitHub Flavored Markdown (or ends
/// a cell: `|`) is backslash-escaped, which CommonMark allows for any ASCII punctuation;
/// line breaks become `<br>`, tabs spaces, other control characters U+FFFD.
fn cell(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\r' => {
                chars.next_if_eq(&'\n');
                out.push_str("<br>");
            }
            '\n' => out.push_str("<br>"),
            '\t' => out.push(' '),
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '|' | '~' | '&' | '!' | '#' => {
                out.push('\\');
                out.push(c);
            }
            c if c.is_control() => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::{cell, rule};

    #[test]
    fn cells_escape_markup_and_line_breaks() {
        assert_eq!(cell("a|b"), "a\\|b");
        assert_eq!(cell("`x`"), "\\`x\\`");
        assert_eq!(cell("1\n2\r\n3\r4"), "1<br>2<br>3<br>4");
        assert_eq!(cell("<b>&amp;"), "\\<b\\>\\&amp;");
        assert_eq!(cell("tab\there\u{1b}"), "tab here\u{FFFD}");
        assert_eq!(cell("80% of 1.0 GiB (limit)"), "80% of 1.0 GiB (limit)");
    }

    #[test]
    fn rule_ids_are_code_unless_odd() {
        assert_eq!(
            rule("redis-maxmemory-headroom"),
            "`redis-maxmemory-headroom`"
        );
        assert_eq!(rule("a`b"), "a\\`b");
    }
}

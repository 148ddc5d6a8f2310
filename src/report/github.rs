//! GitHub Actions workflow commands: `::error file=…,line=…,col=…,title=…::message`, which
//! GitHub shows as annotations on the pull request's changed lines. Infos are `notice`s.
//! The summary line follows as plain log text.

use std::fmt::Write;

use super::Report;
use crate::rules::Severity;

pub fn render(report: &Report) -> String {
    let mut out = String::new();
    for i in &report.items {
        let command = match i.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "notice",
        };
        let mut props = format!("file={}", property(&i.file));
        if let (Some(line), Some(col)) = (i.line, i.column) {
            let _ = write!(props, ",line={line},col={col}");
        }
        let _ = write!(props, ",title={}", property(&format!("redline {}", i.rule)));
        let mut message = i.message.to_string();
        if let Some(fix) = i.fix {
            let _ = write!(message, "\nfix: {}", fix.description);
        }
        let _ = writeln!(out, "::{command} {props}::{}", data(&message));
    }
    let s = &report.summary;
    let _ = writeln!(
        out,
        "redline: {} file(s), {} object(s): {} error(s), {} warning(s), {} info(s)",
        s.files, s.objects, s.errors, s.warnings, s.infos
    );
    out
}

/// A command's message: `%`, CR and LF escaped (what `@actions/core` does).
fn data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// A property value: as message text, plus `:` and `,`, which end properties.
fn property(s: &str) -> String {
    data(s).replace(':', "%3A").replace(',', "%2C")
}

#[cfg(test)]
mod tests {
    use super::{data, property};

    #[test]
    fn escapes_as_actions_toolkit() {
        assert_eq!(data("50% of\nlimit"), "50%25 of%0Alimit");
        assert_eq!(property("a:b,c"), "a%3Ab%2Cc");
    }
}

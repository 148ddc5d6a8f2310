//! JUnit XML, for CI systems that show test reports (GitLab, Jenkins, Azure): one test suite
//! per file, one test case per finding. Findings at or above `--fail-on` are failures; the
//! others are passed test cases carrying their message, so a report shows them without
//! failing. A file without findings is one passed test case, so the report lists every file
//! that was checked.

use std::collections::{HashMap, HashSet};
use std::fmt::Write;

use super::{Item, Report, subject};
use crate::rules::Severity;

pub fn render(report: &Report, fail_on: Option<Severity>) -> String {
    // Files in input order, every input whether it has findings or not, then the files only
    // findings name (Helm templates of stdin).
    let inputs: HashSet<&str> = report
        .linted
        .sources
        .iter()
        .map(|s| s.name.as_str())
        .collect();
    let mut files: Vec<&str> = report
        .linted
        .sources
        .iter()
        .map(|s| s.name.as_str())
        .collect();
    let mut seen = inputs.clone();
    let mut by_file: HashMap<&str, Vec<&Item>> = HashMap::new();
    for i in &report.items {
        if seen.insert(&i.file) {
            files.push(&i.file);
        }
        by_file.entry(&i.file).or_default().push(i);
    }
    let fails = |i: &Item| fail_on.is_some_and(|t| i.severity >= t);
    let total_failures = report.items.iter().filter(|i| fails(i)).count();
    let mut total_tests = 0;
    let mut suites = String::new();
    for &file in &files {
        let items = by_file.get(file).map_or(&[][..], Vec::as_slice);
        // An input without findings is one passed test case (so is a stdin whose findings
        // all name Helm templates).
        debug_assert!(!items.is_empty() || inputs.contains(file));
        let tests = items.len().max(1);
        total_tests += tests;
        let failures = items.iter().filter(|i| fails(i)).count();
        let _ = writeln!(
            suites,
            "  <testsuite name=\"{}\" tests=\"{tests}\" failures=\"{failures}\" errors=\"0\">",
            escape(file)
        );
        if items.is_empty() {
            let _ = writeln!(
                suites,
                "    <testcase classname=\"{}\" name=\"redline\"/>",
                escape(file)
            );
        }
        for i in items {
            let at = match (i.line, i.column) {
                (Some(l), Some(c)) => format!("{}:{l}:{c}", i.file),
                _ => i.file.clone(),
            };
            let name = format!("{} {} {}", i.rule, subject(i), i.path);
            let mut body = format!("{}: {}\n  at {at}", i.severity, i.message);
            if let Some(fix) = i.fix {
                let _ = write!(body, "\n  fix: {}", fix.description);
            }
            let _ = writeln!(
                suites,
                "    <testcase classname=\"{}\" name=\"{}\">",
                escape(file),
                escape(name.trim_end())
            );
            if fails(i) {
                let _ = writeln!(
                    suites,
                    "      <failure type=\"{}\" message=\"{}\">{}</failure>",
                    i.severity,
                    escape(i.message),
                    escape(&body)
                );
            } else {
                let _ = writeln!(suites, "      <system-out>{}</system-out>", escape(&body));
            }
            let _ = writeln!(suites, "    </testcase>");
        }
        let _ = writeln!(suites, "  </testsuite>");
    }
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
         <testsuites name=\"redline\" tests=\"{total_tests}\" failures=\"{total_failures}\" errors=\"0\">\n\
         {suites}</testsuites>\n"
    )
}

/// Escape for XML text and attribute values; characters XML 1.0 cannot carry at all
/// (control characters other than tab and newlines) become U+FFFD.
fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\n' => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            '\t' => out.push_str("&#9;"),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::escape;

    #[test]
    fn escapes_markup_and_control_characters() {
        assert_eq!(
            escape("a<b & \"c\"\n\u{1}"),
            "a&lt;b &amp; &quot;c&quot;&#10;\u{FFFD}"
        );
    }
}

//! The human format: one block per finding, rustc/ruff style, with the source line and a
//! caret under the field, then one summary line. Colour only when asked (the CLI asks on a
//! terminal without `NO_COLOR`).

use std::fmt::Write;

use anstyle::{AnsiColor, Style};

use super::memory::{self, Part};
use super::{Budget, Item, Report, context};
use crate::patch::FixEdit;
use crate::rules::Severity;
use crate::rules::memory::MemoryBudget;

struct Palette {
    severity: [Style; 3],
    rule: Style,
    gutter: Style,
    fix: Style,
    /// The memory bar's parts, in [`Part`] order.
    parts: [Style; 5],
}

impl Palette {
    fn new(color: bool) -> Palette {
        if !color {
            let plain = Style::new();
            return Palette {
                severity: [plain; 3],
                rule: plain,
                gutter: plain,
                fix: plain,
                parts: [plain; 5],
            };
        }
        let bold = |c: AnsiColor| Style::new().bold().fg_color(Some(c.into()));
        Palette {
            severity: [
                bold(AnsiColor::Cyan),
                bold(AnsiColor::Yellow),
                bold(AnsiColor::Red),
            ],
            rule: Style::new().bold(),
            gutter: bold(AnsiColor::Blue),
            fix: Style::new().fg_color(Some(AnsiColor::Green.into())),
            parts: [
                Style::new().fg_color(Some(AnsiColor::Blue.into())),
                Style::new().fg_color(Some(AnsiColor::Yellow.into())),
                Style::new().fg_color(Some(AnsiColor::Magenta.into())),
                Style::new().fg_color(Some(AnsiColor::Green.into())),
                bold(AnsiColor::Red),
            ],
        }
    }

    fn part(&self, part: Part) -> Style {
        self.parts[part as usize]
    }

    fn of(&self, s: Severity) -> Style {
        match s {
            Severity::Info => self.severity[0],
            Severity::Warning => self.severity[1],
            Severity::Error => self.severity[2],
        }
    }
}

pub fn render(report: &Report, color: bool) -> String {
    let p = Palette::new(color);
    let mut out = String::new();
    for item in &report.items {
        block(&mut out, item, report.budget_of(item), &p);
    }
    let s = &report.summary;
    // An audit reads objects, not files.
    let files = if s.files == 0 && s.objects > 0 {
        String::new()
    } else {
        format!("{} file(s), ", s.files)
    };
    let mut line = format!(
        "{files}{} object(s): {} error(s), {} warning(s), {} info(s)",
        s.objects, s.errors, s.warnings, s.infos
    );
    if s.exempted > 0 {
        let _ = write!(line, ", {} exempted by annotation", s.exempted);
    }
    if s.skipped > 0 {
        let _ = write!(
            line,
            ", {} document(s) that are not Kubernetes objects",
            s.skipped
        );
    }
    let worst = [Severity::Error, Severity::Warning, Severity::Info]
        .into_iter()
        .find(|&sev| report.items.iter().any(|i| i.severity == sev));
    let style = worst.map_or(p.rule, |w| p.of(w));
    let _ = writeln!(out, "{style}{line}{style:#}");
    out
}

fn block(out: &mut String, item: &Item, budget: Option<&Budget>, p: &Palette) {
    let (sev, rule, gutter, fix) = (p.of(item.severity), p.rule, p.gutter, p.fix);
    let _ = writeln!(
        out,
        "{sev}{}{sev:#}{rule}[{}]: {}{rule:#}",
        item.severity, item.rule, item.message
    );
    let context = context(item);
    // rustc's layout: the gutter is as wide as the line number.
    let number = item.line.map(|l| l.to_string()).unwrap_or_default();
    let pad = " ".repeat(number.len().max(1));
    match (item.line, item.column) {
        (Some(line), Some(column)) => {
            let _ = writeln!(
                out,
                "{pad}{gutter}-->{gutter:#} {}:{line}:{column}{context}",
                super::shown(&item.file)
            );
            if let Some(line_text) = item.snippet {
                // A long line (one-line JSON) is shown as a window around the column: the
                // whole line per finding made the output grow with findings × line length.
                let (text, column) = window(line_text, column as usize, item.column_byte);
                // Columns count characters; tabs keep their width in the caret line.
                let lead: String = text
                    .chars()
                    .take(column.saturating_sub(1))
                    .map(|c| if c == '\t' { '\t' } else { ' ' })
                    .collect();
                let _ = writeln!(out, "{gutter}{pad} |{gutter:#}");
                let _ = writeln!(out, "{gutter}{number} |{gutter:#} {text}");
                let _ = writeln!(out, "{gutter}{pad} |{gutter:#} {lead}{sev}^{sev:#}");
            }
        }
        _ => {
            let _ = writeln!(
                out,
                "{pad}{gutter}-->{gutter:#} {}{context}",
                super::shown(&item.file)
            );
        }
    }
    if let Some(b) = budget
        .map(Budget::memory)
        .filter(|b| memory::has_numbers(b))
    {
        memory_lines(out, b, &pad, p);
    }
    if let Some(f) = item.fix {
        let _ = writeln!(out, "{pad} {fix}= fix:{fix:#} {}", f.description);
        if let FixEdit::Manifest(m) = &f.edit {
            let yaml = yaml_serde::to_string(m).unwrap_or_default();
            for l in yaml.lines() {
                let _ = writeln!(out, "{pad}   {gutter}|{gutter:#} {l}");
            }
        }
    }
    out.push('\n');
}

/// Cells of the memory bar.
const BAR: usize = 24;
/// The memory lines' width, at most.
const WIDTH: usize = 80;

/// The server's memory budget under a finding: the bar against the limit, then the parts
/// in words, within 80 columns.
fn memory_lines(out: &mut String, b: &MemoryBudget, pad: &str, p: &Palette) {
    let fix = p.fix;
    let bar = memory::cells(b, BAR).map(|cells| {
        let mut s = String::from("[");
        for c in cells {
            let style = p.part(c);
            let _ = write!(s, "{style}{}{style:#}", c.char());
        }
        s.push_str("] ");
        s
    });
    let mut words = vec![memory::head(b)];
    words.extend(memory::parts(b, bar.is_some()));
    // Wrapped on the plain text; the bar's colour codes have no width.
    let first = format!(
        "{pad} = memory: {}",
        " ".repeat(bar.as_ref().map_or(0, |_| BAR + 3))
    );
    let indent = format!("{pad}   ");
    for (i, line) in memory::wrap(&words, &first, &indent, WIDTH)
        .into_iter()
        .enumerate()
    {
        let line = if i == 0 {
            let rest = &line[first.len()..];
            format!(
                "{pad} {fix}= memory:{fix:#} {}{rest}",
                bar.as_deref().unwrap_or("")
            )
        } else {
            line
        };
        let _ = writeln!(out, "{line}");
    }
}

/// Characters of a source line shown before and after the column, at most.
const BEFORE: usize = 60;
const AFTER: usize = 100;

/// The part of `line` shown for a finding at 1-based character `column` (at byte
/// `column_byte` of the line, when known), and the column in it: the whole line when short,
/// else a window with `…` where it was cut. Costs the window, not the line.
fn window(
    line: &str,
    column: usize,
    column_byte: Option<usize>,
) -> (std::borrow::Cow<'_, str>, usize) {
    if line.len() <= BEFORE + AFTER {
        return (line.into(), column);
    }
    let at = column_byte.unwrap_or_else(|| {
        line.char_indices()
            .nth(column.saturating_sub(1))
            .map_or(line.len(), |(b, _)| b)
    });
    // Byte bounds moved onto character boundaries (a character is at most 4 bytes).
    let floor = |mut b: usize| {
        while !line.is_char_boundary(b) {
            b -= 1;
        }
        b
    };
    let from = floor(at.saturating_sub(BEFORE));
    let to = floor((at + AFTER).min(line.len()));
    let mut out = String::new();
    if from > 0 {
        out.push('…');
    }
    out.push_str(&line[from..to]);
    if to < line.len() {
        out.push('…');
    }
    let column = line[from..at.max(from)].chars().count() + 1 + usize::from(from > 0);
    (out.into(), column)
}

#[cfg(test)]
mod tests {
    use super::window;

    #[test]
    fn long_lines_are_cut_around_the_column() {
        assert_eq!(window("a: 1", 4, Some(3)), ("a: 1".into(), 4));
        let line = format!("{}X{}", "a".repeat(500), "b".repeat(500));
        for byte in [Some(500), None] {
            let (text, column) = window(&line, 501, byte);
            assert_eq!(text.chars().nth(column - 1), Some('X'));
            assert!(text.starts_with('…') && text.ends_with('…'));
            assert_eq!(text.chars().count(), 1 + 60 + 100 + 1);
        }
        let (text, column) = window(&line, 3, Some(2));
        assert_eq!((text.chars().nth(column - 1), column), (Some('a'), 3));
        assert!(!text.starts_with('…'));
        // Multi-byte characters: the cut stays on character boundaries.
        let line = format!("{}X{}", "é".repeat(300), "ü".repeat(300));
        let (text, column) = window(&line, 301, Some(600));
        assert_eq!(text.chars().nth(column - 1), Some('X'));
    }
}

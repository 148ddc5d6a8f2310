//! The human format: one block per finding, rustc/ruff style, with the source line and a
//! caret under the field, then one summary line. Colour only when asked (the CLI asks on a
//! terminal without `NO_COLOR`).

use std::fmt::Write;

use anstyle::{AnsiColor, Style};

use super::{Item, Report, subject};
use crate::rules::{FixEdit, Severity};

struct Palette {
    severity: [Style; 3],
    rule: Style,
    gutter: Style,
    fix: Style,
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
        }
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
        block(&mut out, item, &p);
    }
    let s = &report.summary;
    let mut line = format!(
        "{} file(s), {} object(s): {} error(s), {} warning(s), {} info(s)",
        s.files, s.objects, s.errors, s.warnings, s.infos
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

fn block(out: &mut String, item: &Item, p: &Palette) {
    let (sev, rule, gutter, fix) = (p.of(item.severity), p.rule, p.gutter, p.fix);
    let _ = writeln!(
        out,
        "{sev}{}{sev:#}{rule}[{}]: {}{rule:#}",
        item.severity, item.rule, item.message
    );
    let context = match item.object {
        Some(_) => format!(
            " ({}, {})",
            subject(item),
            if item.path.is_empty() { "/" } else { item.path }
        ),
        None => String::new(),
    };
    // rustc's layout: the gutter is as wide as the line number.
    let number = item.line.map(|l| l.to_string()).unwrap_or_default();
    let pad = " ".repeat(number.len().max(1));
    match (item.line, item.column) {
        (Some(line), Some(column)) => {
            let _ = writeln!(
                out,
                "{pad}{gutter}-->{gutter:#} {}:{line}:{column}{context}",
                item.file
            );
            if let Some(text) = item.snippet {
                // Columns count characters; tabs keep their width in the caret line.
                let lead: String = text
                    .chars()
                    .take(column.saturating_sub(1) as usize)
                    .map(|c| if c == '\t' { '\t' } else { ' ' })
                    .collect();
                let _ = writeln!(out, "{gutter}{pad} |{gutter:#}");
                let _ = writeln!(out, "{gutter}{number} |{gutter:#} {text}");
                let _ = writeln!(out, "{gutter}{pad} |{gutter:#} {lead}{sev}^{sev:#}");
            }
        }
        _ => {
            let _ = writeln!(out, "{pad}{gutter}-->{gutter:#} {}{context}", item.file);
        }
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

//! The human format: one block per finding, rustc/ruff style, with the source line and a
//! caret under the field.

use std::fmt::Write;

use crate::engine::Finding;
use crate::lint::Linted;
use crate::rules::{FixEdit, Severity};

pub fn render(linted: &Linted) -> String {
    let mut out = String::new();
    for (file, d) in linted.diagnostics() {
        let level = if d.error { "error" } else { "warning" };
        let _ = writeln!(out, "{level}: {}", d.message);
        let _ = writeln!(out, "  --> {file}:{}:{}", d.pos.line, d.pos.column);
        source_line(&mut out, linted.text_of(file), d.pos.line, d.pos.column);
        out.push('\n');
    }
    for f in &linted.outcome.findings {
        finding(&mut out, linted, f);
    }
    let o = &linted.outcome;
    let parse_errors = linted.diagnostics().filter(|(_, d)| d.error).count();
    let _ = writeln!(
        out,
        "{} file(s), {} object(s): {} error(s), {} warning(s), {} info(s){}{}",
        linted.sources.len(),
        linted.inventory.objects.len(),
        o.count(Severity::Error) + parse_errors,
        o.count(Severity::Warning),
        o.count(Severity::Info),
        if o.suppressed.is_empty() {
            String::new()
        } else {
            format!(", {} exempted by annotation", o.suppressed.len())
        },
        if linted.skipped.is_empty() {
            String::new()
        } else {
            format!(
                ", {} document(s) that are not Kubernetes objects",
                linted.skipped.len()
            )
        },
    );
    out
}

fn finding(out: &mut String, linted: &Linted, f: &Finding) {
    let object = linted.inventory.object(f.object);
    let _ = writeln!(out, "{}[{}]: {}", f.severity, f.rule, f.message);
    let file = object.file.as_deref().unwrap_or("<input>");
    match f.pos {
        Some(p) => {
            let _ = writeln!(
                out,
                "  --> {file}:{}:{} ({object}, {})",
                p.line,
                p.column,
                pointer(f)
            );
            source_line(out, linted.text_of(file), p.line, p.column);
        }
        None => {
            let _ = writeln!(out, "  --> {file} ({object}, {})", pointer(f));
        }
    }
    if let Some(fix) = &f.fix {
        let _ = writeln!(out, "   = fix: {}", fix.description);
        if let FixEdit::Manifest(m) = &fix.edit {
            let yaml = yaml_serde::to_string(m).unwrap_or_default();
            for l in yaml.lines() {
                let _ = writeln!(out, "     | {l}");
            }
        }
    }
    out.push('\n');
}

fn pointer(f: &Finding) -> &str {
    if f.pointer.is_empty() {
        "/"
    } else {
        &f.pointer
    }
}

/// `   12 |     maxmemory: 32gb` and a caret under the column.
fn source_line(out: &mut String, text: Option<&str>, line: u32, column: u32) {
    let Some(l) = text.and_then(|t| t.lines().nth(line.saturating_sub(1) as usize)) else {
        return;
    };
    let number = line.to_string();
    let pad = " ".repeat(number.len());
    let _ = writeln!(out, "  {pad} |");
    let _ = writeln!(out, "  {number} | {l}");
    // Columns count characters; tabs keep their width in the caret line.
    let lead: String = l
        .chars()
        .take(column.saturating_sub(1) as usize)
        .map(|c| if c == '\t' { '\t' } else { ' ' })
        .collect();
    let _ = writeln!(out, "  {pad} | {lead}^");
}

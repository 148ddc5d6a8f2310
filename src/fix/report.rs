//! What `redline fix` prints. Standard output carries what a program consumes (the diff, the
//! fixed text of standard input, the files `--check` would change, the manifests to apply);
//! standard error carries what a person reads (each fix, what is left to do, a summary).

use std::fmt::Write as _;

use super::write::Unwritten;
use super::{Action, FixRun};
use crate::input::STDIN;
use crate::source::shown;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Write the files.
    Write,
    /// Write nothing; list the files that would change.
    Check,
    /// Write nothing; print a unified diff.
    Diff,
}

#[derive(Debug, Default)]
pub struct Printed {
    pub stdout: String,
    /// Standard input that is not UTF-8, passed through as it came (after `stdout`).
    pub stdout_raw: Vec<u8>,
    pub stderr: String,
}

/// What `fix` prints; `unwritten` are the files a write-mode run meant to write and did not
/// ([`super::write::write_files`]): their fixes are not counted as made.
pub fn render(run: &FixRun, mode: Mode, unwritten: &[Unwritten]) -> Printed {
    let mut p = Printed::default();
    let written = |file: &str| !unwritten.iter().any(|u| u.file == file);
    let stdin_is_output = run.files.iter().any(|f| f.name == STDIN) && mode == Mode::Write;
    for f in &run.files {
        match mode {
            Mode::Diff if f.changed() => {
                p.stdout
                    .push_str(&super::unified_diff(&f.name, &f.original, &f.fixed));
            }
            Mode::Check if f.changed() => {
                let _ = writeln!(p.stdout, "would fix: {}", shown(&f.name));
            }
            // A filter: the text comes out whether or not it changed, and bytes it could not
            // read come out as they went in.
            Mode::Write if f.name == STDIN => match &f.raw {
                Some(bytes) => p.stdout_raw.extend_from_slice(bytes),
                None => p.stdout.push_str(&f.fixed),
            },
            _ => {}
        }
        if let Some((pos, message)) = &f.unparseable {
            let _ = writeln!(
                p.stderr,
                "{}:{pos}: not fixed: the file does not load ({message}); it is left untouched",
                shown(&f.name)
            );
        }
    }
    let verb = if mode == Mode::Write {
        "fixed"
    } else {
        "would fix"
    };
    for a in run.applied.iter().filter(|a| written(&a.file)) {
        let at = a.pos.map(|p| format!(":{p}")).unwrap_or_default();
        let _ = writeln!(
            p.stderr,
            "{verb} {}{at}: {}: {}",
            shown(&a.file),
            a.rule,
            a.description
        );
    }
    // Manifests are the output of a plain run on files; elsewhere standard output is taken.
    let manifests_out = mode == Mode::Write && !stdin_is_output;
    let mut manifests = 0;
    for m in &run.manual {
        let at = match (&m.file, m.pos) {
            (Some(f), Some(p)) => format!("{}:{p}: ", shown(f)),
            (Some(f), None) => format!("{}: ", shown(f)),
            _ => String::new(),
        };
        match &m.action {
            Action::Manifest(manifest) => {
                manifests += 1;
                let _ = writeln!(
                    p.stderr,
                    "{at}{}: {}\n  not a file edit: {} (manifest {})",
                    m.rule,
                    m.message,
                    m.description,
                    if manifests_out {
                        "on standard output"
                    } else {
                        "below"
                    }
                );
                let yaml = yaml_serde::to_string(manifest).unwrap_or_default();
                let text = format!(
                    "---\n# redline {}: {}\n# for {}\n{yaml}",
                    m.rule,
                    m.description,
                    at.trim_end_matches([':', ' '])
                );
                if manifests_out {
                    p.stdout.push_str(&text);
                } else {
                    p.stderr.push_str(&text);
                }
            }
            Action::Refused {
                reason,
                object,
                ops,
            } => {
                let patch = serde_json::to_string(ops).unwrap_or_default();
                let _ = writeln!(
                    p.stderr,
                    "{at}{}: {}\n  not fixed in place: {reason}\n  to do by hand: {}\n  \
                     patch on {object}: {patch}",
                    m.rule, m.message, m.description
                );
            }
        }
    }
    for u in unwritten {
        let _ = writeln!(p.stderr, "{}: {}", shown(&u.file), u.why);
    }
    let changed = run
        .files
        .iter()
        .filter(|f| f.changed() && written(&f.name))
        .count();
    let fixed = run.applied.iter().filter(|a| written(&a.file)).count();
    let mut summary = format!(
        "redline fix: {verb} {} in {}",
        plural(fixed, "finding"),
        plural(changed, "file")
    );
    if !unwritten.is_empty() {
        let _ = write!(
            summary,
            "; {} not written (run `redline fix` again)",
            plural(unwritten.len(), "file")
        );
    }
    let refused = run.manual.len() - manifests;
    if manifests > 0 {
        let _ = write!(summary, "; {} to apply", plural(manifests, "manifest"));
    }
    if refused > 0 {
        let _ = write!(summary, "; {} to fix by hand", plural(refused, "finding"));
    }
    let unparseable = run.files.iter().filter(|f| f.unparseable.is_some()).count();
    if unparseable > 0 {
        let _ = write!(
            summary,
            "; {} not loaded, left untouched",
            plural(unparseable, "file")
        );
    }
    if run.without_fix > 0 {
        let _ = write!(
            summary,
            "; {} without an automatic fix (`redline lint` lists them)",
            plural(run.without_fix, "finding")
        );
    }
    let _ = writeln!(p.stderr, "{summary}");
    p
}

/// The exit status: 2 when a file was not written (an I/O error, or changed meanwhile);
/// 1 when something is left to do (with `--check`/`--diff`, a file would change; a manifest
/// to apply, a refused fix, a file that does not load); 0 otherwise.
pub fn exit_code(run: &FixRun, mode: Mode, unwritten: &[Unwritten]) -> u8 {
    let would_change = mode != Mode::Write && run.files.iter().any(|f| f.changed());
    if !unwritten.is_empty() {
        2
    } else if would_change || run.needs_attention() {
        1
    } else {
        0
    }
}

fn plural(n: usize, noun: &str) -> String {
    format!("{n} {noun}{}", if n == 1 { "" } else { "s" })
}

//! Reports of a lint run. [`Report::new`] turns findings and loading problems into one
//! ordered list of [`Item`]s with display positions (Helm output on stdin mapped to its
//! templates); each format module only renders that list.

pub mod github;
pub mod html;
pub mod human;
pub mod json;
pub mod junit;
pub mod markdown;
pub mod memory;
pub mod policyreport;
pub mod sarif;

use std::collections::HashMap;

use crate::engine::{Finding, ServerBudget};
use crate::input::STDIN;
use crate::lint::{LOAD_RULE, Linted};
use crate::model::Object;
use crate::patch::Fix;
use crate::rules::Severity;
use crate::source::{Pos, SourceFile};

/// The output formats of `redline lint` (`--format`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Human,
    Json,
    Sarif,
    Junit,
    Github,
    // A Markdown summary (a GitHub Actions step summary).
    Markdown,
    /// One self-contained HTML page (no network): summary, memory budget charts, findings.
    Html,
}

/// What a renderer needs besides the report.
#[derive(Debug, Clone, Copy)]
pub struct Style {
    /// ANSI colours (human format only).
    pub color: bool,
    /// Findings at or above this severity fail the run (JUnit marks them as failures).
    pub fail_on: Option<Severity>,
}

pub use crate::source::shown;

/// `--color auto`: colour when writing to a terminal, unless `NO_COLOR` is set to anything
/// but the empty string (https://no-color.org).
pub fn auto_color(terminal: bool, no_color: Option<&std::ffi::OsStr>) -> bool {
    terminal && no_color.is_none_or(|v| v.is_empty())
}

/// Render a report in one format.
pub fn render(report: &Report, format: Format, style: Style) -> String {
    match format {
        Format::Human => human::render(report, style.color),
        Format::Json => json::render(report),
        Format::Sarif => sarif::render(report),
        Format::Junit => junit::render(report, style.fail_on),
        Format::Github => github::render(report),
        Format::Markdown => markdown::render(report),
        Format::Html => html::render(report),
    }
}

/// One finding, from a rule or from loading, placed for display.
#[derive(Debug, Clone)]
pub struct Item<'a> {
    pub rule: &'a str,
    pub severity: Severity,
    pub message: &'a str,
    /// The file to show: the input's name, or for `helm template` output on stdin the
    /// template the line was rendered from.
    pub file: String,
    /// 1-based line in `file` and column in characters; `None` when the finding has no
    /// position (an object that did not come from a file).
    pub line: Option<u32>,
    pub column: Option<u32>,
    /// The text of that line, for carets.
    pub snippet: Option<&'a str>,
    /// The column as a byte offset in `snippet`, where known (to cut a long line around it
    /// without counting its characters).
    pub column_byte: Option<usize>,
    /// `None` for documents that did not load.
    pub object: Option<&'a Object>,
    /// JSON pointer in the object (empty for the whole object or a loading problem).
    pub path: &'a str,
    pub fix: Option<&'a Fix>,
    /// The index in `Inventory::deployments` of the deployment judged, for a rule's
    /// finding about one ([`Report::budget_of`]).
    pub deployment: Option<usize>,
    /// Order: input order, then position in the input.
    key: (usize, u32, u32),
}

/// An exempted finding and the reason its annotation gives.
#[derive(Debug, Clone)]
pub struct Exempted<'a> {
    pub item: Item<'a>,
    pub reason: Option<&'a str>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Summary {
    pub files: usize,
    pub objects: usize,
    pub errors: usize,
    pub warnings: usize,
    pub infos: usize,
    pub exempted: usize,
    /// Documents that are YAML but not Kubernetes objects (no `kind`/`apiVersion`).
    pub skipped: usize,
}

pub struct Report<'a> {
    pub linted: &'a Linted,
    pub items: Vec<Item<'a>>,
    pub exempted: Vec<Exempted<'a>>,
    pub summary: Summary,
    /// The memory budget of every server judged, in the order of the deployments.
    pub budgets: Vec<Budget<'a>>,
}

/// A server's memory budget, placed for display like a finding: at its object's first line
/// in a file, or by its identity (`namespace/Kind/name`) for an object from a cluster.
#[derive(Debug, Clone)]
pub struct Budget<'a> {
    pub server: ServerBudget,
    pub object: &'a Object,
    /// The file to show (as [`Item::file`]), or the identity of an object without one.
    pub file: String,
    /// 1-based line of the object in `file`.
    pub line: Option<u32>,
}

impl Budget<'_> {
    pub fn memory(&self) -> &crate::rules::memory::MemoryBudget {
        &self.server.memory
    }

    /// `file:line`, or the file (identity) alone.
    pub fn location(&self) -> String {
        match self.line {
            Some(line) => format!("{}:{line}", shown(&self.file)),
            None => shown(&self.file).to_string(),
        }
    }
}

impl<'a> Report<'a> {
    pub fn new(linted: &'a Linted) -> Report<'a> {
        let index: HashMap<&str, usize> = linted
            .sources
            .iter()
            .enumerate()
            .map(|(i, s)| (s.name.as_str(), i))
            .collect();
        let mut lines = LineIndex::default();
        let mut items: Vec<Item<'a>> = linted
            .load_findings
            .iter()
            .map(|f| {
                let source = &linted.sources[f.source];
                let mut item = place(&mut lines, f.source, source, Some(f.pos));
                item.rule = LOAD_RULE;
                item.severity = f.severity;
                item.message = &f.message;
                item
            })
            .collect();
        let mut of_finding = |f: &'a Finding| {
            let object = linted.inventory.object(f.object);
            let i = object
                .file
                .as_deref()
                .and_then(|n| index.get(n).copied())
                .unwrap_or(usize::MAX);
            let mut item = match linted.sources.get(i) {
                Some(source) => place(&mut lines, i, source, f.pos),
                // An object read from a cluster (`audit`): named by its identity, in the
                // order of the objects.
                None => {
                    let mut item = match object.file.as_deref() {
                        Some(file) => Item::unplaced(file),
                        None => Item::unplaced(&identity(object)),
                    };
                    item.key = (usize::MAX, u32::try_from(f.object.0).unwrap_or(u32::MAX), 0);
                    item
                }
            };
            item.rule = f.rule;
            item.severity = f.severity;
            item.message = &f.message;
            item.object = Some(object);
            item.path = &f.pointer;
            item.fix = f.fix.as_ref();
            item.deployment = f.deployment;
            item
        };
        items.extend(linted.outcome.findings.iter().map(&mut of_finding));
        let mut exempted: Vec<Exempted<'a>> = linted
            .outcome
            .suppressed
            .iter()
            .map(|s| Exempted {
                item: of_finding(&s.finding),
                reason: s.reason.as_deref(),
            })
            .collect();
        let order = |a: &Item, b: &Item| {
            (a.key, a.rule, a.message, a.path).cmp(&(b.key, b.rule, b.message, b.path))
        };
        items.sort_by(order);
        exempted.sort_by(|a, b| order(&a.item, &b.item));
        let count = |s: Severity| items.iter().filter(|i| i.severity == s).count();
        let summary = Summary {
            files: linted.sources.len(),
            objects: linted.inventory.objects.len(),
            errors: count(Severity::Error),
            warnings: count(Severity::Warning),
            infos: count(Severity::Info),
            exempted: exempted.len(),
            skipped: linted.skipped.len(),
        };
        let budgets = crate::engine::budgets(&linted.inventory)
            .into_iter()
            .map(|server| {
                let object = linted.inventory.object(server.object);
                let i = object.file.as_deref().and_then(|n| index.get(n).copied());
                let (file, line) = match i.and_then(|i| Some((i, linted.sources.get(i)?))) {
                    Some((i, source)) => {
                        let item = place(&mut lines, i, source, object.pos);
                        (item.file, item.line)
                    }
                    None => (
                        object.file.clone().unwrap_or_else(|| identity(object)),
                        None,
                    ),
                };
                Budget {
                    server,
                    object,
                    file,
                    line,
                }
            })
            .collect();
        Report {
            linted,
            items,
            exempted,
            summary,
            budgets,
        }
    }

    /// The memory budget of the server a finding is about, for the rules whose findings
    /// it explains ([`memory::SHOWN_WITH`]).
    pub fn budget_of(&self, item: &Item) -> Option<&Budget<'a>> {
        self.budget_index_of(item).map(|i| &self.budgets[i])
    }

    /// [`Report::budget_of`] as an index in [`Report::budgets`].
    pub fn budget_index_of(&self, item: &Item) -> Option<usize> {
        if !memory::SHOWN_WITH.contains(&item.rule) {
            return None;
        }
        let d = item.deployment?;
        self.budgets
            .binary_search_by_key(&d, |b| b.server.deployment)
            .ok()
    }

    /// Whether the run fails at `threshold` (`None`: never, except for documents that did
    /// not load).
    pub fn fails(&self, threshold: Option<Severity>) -> bool {
        self.linted.has_load_errors()
            || threshold.is_some_and(|t| self.items.iter().any(|i| i.severity >= t))
    }

    /// The object a fix patches (it may differ from the finding's object).
    pub fn object(&self, id: crate::model::ObjectId) -> &'a Object {
        self.linted.inventory.object(id)
    }
}

impl<'a> Item<'a> {
    fn unplaced(file: &str) -> Item<'a> {
        Item {
            rule: "",
            severity: Severity::Info,
            message: "",
            file: file.to_string(),
            line: None,
            column: None,
            snippet: None,
            column_byte: None,
            object: None,
            path: "",
            fix: None,
            deployment: None,
            key: (usize::MAX, 0, 0),
        }
    }
}

/// Line starts of the sources findings point into, built once per source.
#[derive(Default)]
struct LineIndex(HashMap<usize, Vec<usize>>);

impl LineIndex {
    /// The text of 1-based `line` and its byte offset; O(1) once the file is indexed (a
    /// search for the line's end made every finding of a one-line JSON cost the file).
    fn line<'s>(
        &mut self,
        i: usize,
        source: &'s SourceFile,
        line: u32,
    ) -> Option<(&'s str, usize)> {
        let starts = self.0.entry(i).or_insert_with(|| {
            std::iter::once(0)
                .chain(source.text.match_indices('\n').map(|(at, _)| at + 1))
                .collect()
        });
        let n = line.checked_sub(1)? as usize;
        let start = *starts.get(n)?;
        let end = starts.get(n + 1).map_or(source.text.len(), |next| next - 1);
        let text = source.text.get(start..end)?;
        Some((text.strip_suffix('\r').unwrap_or(text), start))
    }
}

/// An item at `pos` of source `i`.
fn place<'a>(
    lines: &mut LineIndex,
    i: usize,
    source: &'a SourceFile,
    pos: Option<Pos>,
) -> Item<'a> {
    let mut item = Item::unplaced(&source.name);
    item.key = (i, 0, 0);
    let Some(pos) = pos else { return item };
    item.key = (i, pos.line, pos.column);
    if let Some((text, start)) = lines.line(i, source, pos.line) {
        item.snippet = Some(text);
        item.column_byte = pos.offset.checked_sub(start).filter(|b| *b <= text.len());
    }
    item.column = Some(pos.column);
    item.line = Some(pos.line);
    // Helm output read from stdin has no file to open: point at the template instead.
    // A rendered file in the repository keeps its own, exact, positions.
    if source.name == STDIN
        && let Some((template, line)) = source.helm_origin(pos.line)
    {
        item.file = template.to_string();
        item.line = Some(line);
    }
    item
}

/// `namespace/Kind/name` (`Kind/name` when cluster-scoped): how a finding in an object that
/// came from no file (`audit`) is located.
pub fn identity(object: &Object) -> String {
    match &object.namespace {
        Some(ns) => format!("{ns}/{}/{}", object.kind, object.name),
        None => format!("{}/{}", object.kind, object.name),
    }
}

/// `Kind namespace/name` of an item's object, or the file for loading problems.
pub fn subject(item: &Item) -> String {
    item.object
        .map_or_else(|| item.file.clone(), |o| o.to_string())
}

/// ` (Kind namespace/name, /pointer)` after an item's place; empty for loading problems.
pub fn context(item: &Item) -> String {
    match item.object {
        Some(_) => format!(
            " ({}, {})",
            subject(item),
            if item.path.is_empty() { "/" } else { item.path }
        ),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::auto_color;
    use std::ffi::OsStr;

    #[test]
    fn no_color_is_honoured() {
        assert!(auto_color(true, None));
        assert!(
            auto_color(true, Some(OsStr::new(""))),
            "empty NO_COLOR is unset"
        );
        assert!(!auto_color(true, Some(OsStr::new("1"))));
        assert!(!auto_color(false, None), "pipes and files get no colour");
    }
}

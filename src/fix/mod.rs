//! `redline fix`: the patches of fixable findings written back into the text they came from.
//!
//! The same findings and RFC 6902 patches as `lint` and the mutating webhook, applied as byte
//! edits ([`edit`]): only the edited spans change. Every edit is checked before it is kept:
//! the edited file must load without error and its objects must equal, as data, the old
//! objects with the same patches applied (the `json-patch` crate). An edit that fails the
//! check is refused and reported with its patch, never written.
//!
//! Fixes are applied in passes, as ruff does: a pass lints, applies every fix that does not
//! overlap an earlier one of the same pass, and the next pass lints the result, until nothing
//! fixable is left (or [`MAX_PASSES`]). Later passes apply only fixes of findings the first
//! lint listed: `fix` does what `lint` said. The rules plan the fixes of one object together
//! (`rules::plan`), so none of them makes another finding appear, and fixing a fixed file
//! changes nothing (`tests/fix_plan.rs` checks both on every real input of the tests).
//!
//! Nothing here does I/O but [`write`]; the CLI reads, and decides what to write.

pub mod edit;
pub mod render;
pub mod report;
pub mod write;

use std::collections::{HashMap, HashSet};

use serde_json::Value;

use crate::engine::{Finding, Settings};
use crate::extract::{self, Options};
use crate::lint::{Linted, lint};
use crate::model::ObjectId;
use crate::patch::{FixEdit, PatchOp, Touched, to_json_patch};
use crate::source::{Limits, Pos, SourceFile, load_yaml};

use edit::{Editor, TextEdit};

mod check;
use check::*;
pub use check::{check_together, edits_of, edits_unchecked};

/// Passes before giving up on fixes that keep producing new fixes.
pub const MAX_PASSES: usize = 8;

/// One input file and what fixing made of it.
#[derive(Debug, Clone)]
pub struct FileResult {
    pub name: String,
    pub original: String,
    pub fixed: String,
    /// The first error of a file that does not load: it is left as it is.
    pub unparseable: Option<(Pos, String)>,
    /// Its bytes, when they are not UTF-8 (`original` is then empty).
    pub raw: Option<Vec<u8>>,
}

impl FileResult {
    pub fn changed(&self) -> bool {
        self.original != self.fixed
    }
}

/// A fix written into a file.
#[derive(Debug, Clone, PartialEq)]
pub struct Applied {
    pub rule: &'static str,
    /// Where the finding was, in the text of the pass that fixed it.
    pub file: String,
    pub pos: Option<Pos>,
    pub description: String,
}

/// A fixable finding that `fix` leaves to the user.
#[derive(Debug, Clone, PartialEq)]
pub struct Manual {
    pub rule: &'static str,
    pub file: Option<String>,
    pub pos: Option<Pos>,
    pub message: String,
    pub description: String,
    pub action: Action,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// The change belongs in an object the input does not hold: apply this manifest.
    Manifest(Value),
    /// The patch could not be written into the file: why, and the patch, on `object`.
    Refused {
        reason: String,
        object: String,
        ops: Vec<PatchOp>,
    },
}

#[derive(Debug, Clone)]
pub struct FixRun {
    pub files: Vec<FileResult>,
    pub applied: Vec<Applied>,
    pub manual: Vec<Manual>,
    /// Findings left with no automatic fix at all (`redline lint` lists them).
    pub without_fix: usize,
    pub passes: usize,
}

impl FixRun {
    /// Whether something is left for the user: a manifest to apply, a refused fix, a file
    /// that does not load.
    pub fn needs_attention(&self) -> bool {
        !self.manual.is_empty() || self.files.iter().any(|f| f.unparseable.is_some())
    }
}

/// Which findings' fixes apply, and how many passes may apply them.
pub struct FixOptions<'a> {
    /// Rule IDs (`--rule`); empty: every rule.
    pub rules: &'a [String],
    /// Only these findings (the editor's code action for one diagnostic); `None`: every
    /// finding of `rules`.
    pub only: Option<&'a [Target]>,
    pub max_passes: usize,
}

impl<'a> FixOptions<'a> {
    pub fn new(rules: &'a [String]) -> Self {
        FixOptions {
            rules,
            only: None,
            max_passes: MAX_PASSES,
        }
    }

    fn wants(&self, linted: &Linted, f: &Finding) -> bool {
        (self.rules.is_empty() || self.rules.iter().any(|r| r == f.rule))
            && self.only.is_none_or(|only| {
                let key = key_of(linted, f);
                only.iter().any(|t| {
                    t.rule == key.rule && t.object == key.object && t.pointer == key.pointer
                })
            })
    }
}

/// Identifies a fix across passes (positions move as files change).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct FixKey {
    rule: &'static str,
    object: String,
    pointer: String,
}

/// A finding as `fix` tells findings apart across passes and edits: rule, object
/// (`Kind/namespace/name`) and JSON pointer; positions move, these do not.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct Target {
    pub rule: String,
    pub object: String,
    pub pointer: String,
}

impl Target {
    /// The finding of `rule` at `pointer` in `object`.
    pub fn of(rule: &str, object: &crate::model::Object, pointer: &str) -> Target {
        Target {
            rule: rule.to_string(),
            object: object_key(object),
            pointer: pointer.to_string(),
        }
    }
}

fn object_key(o: &crate::model::Object) -> String {
    format!("{}/{}", o.kind, o.namespaced_name())
}

/// The [`Target`] of a finding of `linted`.
pub fn target_of(linted: &Linted, f: &Finding) -> Target {
    let key = key_of(linted, f);
    Target {
        rule: key.rule.to_string(),
        object: key.object,
        pointer: key.pointer,
    }
}

/// Fix `sources` (as loaded by `input`) in memory.
pub fn fix(
    sources: Vec<SourceFile>,
    opts: &Options,
    settings: &Settings,
    options: &FixOptions,
    limits: &Limits,
) -> FixRun {
    let mut files: Vec<FileResult> = sources
        .iter()
        .map(|s| FileResult {
            name: s.name.clone(),
            original: s.text.clone(),
            fixed: s.text.clone(),
            raw: s.raw.clone(),
            unparseable: s
                .diagnostics
                .iter()
                .find(|d| d.error)
                .map(|d| (d.pos, d.message.clone())),
        })
        .collect();
    let index: HashMap<String, usize> = files
        .iter()
        .enumerate()
        .map(|(i, f)| (f.name.clone(), i))
        .collect();
    let mut refused: HashMap<FixKey, String> = HashMap::new();
    let mut applied = Vec::new();
    let mut sources = Some(sources);
    let mut passes = 0;
    // What `lint` listed: later passes apply only these (fixes that overlapped in a pass),
    // never a finding that appeared because of another fix.
    let mut listed: Option<HashSet<FixKey>> = None;
    // Where each finding is in the files as given: what `lint` printed and what the user's
    // files hold in `--diff`/`--check` (later passes lint the half-edited text).
    let mut first_pos: Option<HashMap<FixKey, Option<Pos>>> = None;
    let linted = loop {
        let current = sources.take().unwrap_or_else(|| {
            files
                .iter()
                .map(|f| load_yaml(&f.name, f.fixed.clone(), limits))
                .collect()
        });
        let linted = lint(current, opts, settings);
        passes += 1;
        first_pos.get_or_insert_with(|| {
            linted
                .outcome
                .findings
                .iter()
                .map(|f| (key_of(&linted, f), f.pos))
                .collect()
        });
        let mut candidates = candidates(&linted, options, &files, &index, &refused);
        let listed =
            listed.get_or_insert_with(|| candidates.iter().map(|f| key_of(&linted, f)).collect());
        candidates.retain(|f| listed.contains(&key_of(&linted, f)));
        if candidates.is_empty() || passes > options.max_passes {
            break linted;
        }
        let mut by_file: HashMap<usize, Vec<&Finding>> = HashMap::new();
        for f in candidates {
            let Some(FixEdit::Patch { object, .. }) = f.fix.as_ref().map(|x| &x.edit) else {
                continue;
            };
            let file = linted.inventory.object(*object).file.as_deref();
            if let Some(&i) = file.and_then(|n| index.get(n)) {
                by_file.entry(i).or_default().push(f);
            }
        }
        let mut progress = false;
        let refused_before = refused.len();
        let mut order: Vec<usize> = by_file.keys().copied().collect();
        order.sort_unstable();
        for i in order {
            let outcome = fix_file(&linted, &files[i], &by_file[&i], limits);
            for (key, reason) in outcome.refused {
                refused.insert(key, reason);
            }
            if let Some(text) = outcome.text {
                files[i].fixed = text;
                applied.extend(outcome.applied);
                progress = true;
            }
        }
        if !progress && refused.len() == refused_before {
            break linted;
        }
    };
    let listed = listed.unwrap_or_default();
    let first_pos = first_pos.unwrap_or_default();
    let (manual, without_fix) = leftovers(
        &linted, options, &files, &index, &refused, &listed, &first_pos,
    );
    FixRun {
        files,
        applied,
        manual,
        without_fix,
        passes,
    }
}

fn key_of(linted: &Linted, f: &Finding) -> FixKey {
    let o = linted.inventory.object(f.object);
    FixKey {
        rule: f.rule,
        object: object_key(o),
        pointer: f.pointer.clone(),
    }
}

/// Findings of this pass whose patch can be tried.
fn candidates<'l>(
    linted: &'l Linted,
    options: &FixOptions,
    files: &[FileResult],
    index: &HashMap<String, usize>,
    refused: &HashMap<FixKey, String>,
) -> Vec<&'l Finding> {
    linted
        .outcome
        .findings
        .iter()
        .filter(|f| options.wants(linted, f))
        .filter(|f| match f.fix.as_ref().map(|x| &x.edit) {
            Some(FixEdit::Patch { object, .. }) => {
                editable(linted, *object, files, index).is_ok()
                    && !refused.contains_key(&key_of(linted, f))
            }
            _ => false,
        })
        .collect()
}

/// Whether the object's file can be edited, or why not.
fn editable(
    linted: &Linted,
    object: ObjectId,
    files: &[FileResult],
    index: &HashMap<String, usize>,
) -> Result<(), String> {
    let Some(name) = linted.inventory.object(object).file.as_deref() else {
        return Err("the object was not read from a file".into());
    };
    match index.get(name).map(|&i| &files[i]) {
        None => Err(format!("{name} was not given to `fix`")),
        Some(f) => match &f.unparseable {
            Some((pos, message)) => Err(format!(
                "{name} is left untouched: it does not load ({}:{pos}: {message})",
                f.name
            )),
            None => Ok(()),
        },
    }
}

struct FileOutcome {
    text: Option<String>,
    applied: Vec<Applied>,
    refused: Vec<(FixKey, String)>,
}

/// A fix of this pass, with the edits it makes.
struct Planned<'l> {
    finding: &'l Finding,
    object: ObjectId,
    ops: &'l [PatchOp],
    edits: Vec<TextEdit>,
    /// Other findings with the very same patch (a ConfigMap shared by two StatefulSets).
    same: Vec<&'l Finding>,
}

/// Apply the fixes of one file that do not overlap; check the result; refuse what fails.
fn fix_file(
    linted: &Linted,
    file: &FileResult,
    found: &[&Finding],
    limits: &Limits,
) -> FileOutcome {
    let mut refused = Vec::new();
    let mut planned: Vec<Planned> = Vec::new();
    // Indexes, so that a file of thousands of objects and fixes stays linear: identical
    // patches, fields touched per object, bytes taken by edits.
    let mut same_patch: HashMap<(ObjectId, String), usize> = HashMap::new();
    let mut touched: HashMap<ObjectId, Touched> = HashMap::new();
    let mut taken = Taken::default();
    let eol = edit::eol_of(&file.fixed);
    for &f in found {
        let Some(FixEdit::Patch { object, ops }) = f.fix.as_ref().map(|x| &x.edit) else {
            continue;
        };
        let key = (*object, format!("{ops:?}"));
        if let Some(&i) = same_patch.get(&key) {
            planned[i].same.push(f);
            continue;
        }
        // A fix touching what an earlier fix of this pass touches waits for the next pass,
        // which judges the changed object afresh.
        if touched.get(object).is_some_and(|t| t.overlaps(ops)) {
            continue;
        }
        let root = &linted.inventory.object(*object).root;
        match Editor::new(&file.fixed, root, eol).edits(ops) {
            Err(reason) => refused.push((key_of(linted, f), reason)),
            Ok(edits) => {
                if !edits.iter().any(|e| taken.overlaps(e)) {
                    taken.add(&edits);
                    touched.entry(*object).or_default().add(ops);
                    same_patch.insert(key, planned.len());
                    planned.push(Planned {
                        finding: f,
                        object: *object,
                        ops,
                        edits,
                        same: Vec::new(),
                    });
                }
            }
        }
    }
    if planned.is_empty() {
        return FileOutcome {
            text: None,
            applied: Vec::new(),
            refused,
        };
    }
    let Some((chosen, text)) = choose(linted, file, &planned, limits, &mut refused) else {
        return FileOutcome {
            text: None,
            applied: Vec::new(),
            refused,
        };
    };
    let applied = chosen
        .iter()
        .flat_map(|p| std::iter::once(p.finding).chain(p.same.iter().copied()))
        .map(|f| Applied {
            rule: f.rule,
            file: linted
                .inventory
                .object(f.object)
                .file
                .clone()
                .unwrap_or_default(),
            pos: f.pos,
            description: f
                .fix
                .as_ref()
                .map(|x| x.description.clone())
                .unwrap_or_default(),
        })
        .collect();
    FileOutcome {
        text: Some(text),
        applied,
        refused,
    }
}

/// The planned fixes to keep and the text they give: all of them if they pass the check
/// together; else those that pass alone (the others refused), together if they can, else
/// the first of them (the rest wait for the next pass).
fn choose<'p, 'l>(
    linted: &Linted,
    file: &FileResult,
    planned: &'p [Planned<'l>],
    limits: &Limits,
    refused: &mut Vec<(FixKey, String)>,
) -> Option<(Vec<&'p Planned<'l>>, String)> {
    let all: Vec<&Planned> = planned.iter().collect();
    if let Ok(text) = check_planned(linted, file, &all, limits) {
        return Some((all, text));
    }
    let mut good: Vec<(&Planned, String)> = Vec::new();
    for p in planned {
        match check_planned(linted, file, &[p], limits) {
            Ok(text) => good.push((p, text)),
            Err(reason) => refused.push((key_of(linted, p.finding), reason)),
        }
    }
    let together: Vec<&Planned> = good.iter().map(|(p, _)| *p).collect();
    if let Ok(text) = check_planned(linted, file, &together, limits) {
        return Some((together, text));
    }
    good.into_iter().next().map(|(p, text)| (vec![p], text))
}

/// Byte ranges some edits take, to tell whether another edit overlaps one in O(log n).
#[derive(Default)]
struct Taken(std::collections::BTreeMap<usize, Vec<usize>>);

impl Taken {
    /// The taken edits never overlap one another, so only three places can overlap `e`:
    /// an edit starting strictly inside it, those starting where it starts, and the last
    /// one starting before it (if it reaches past `e`'s start).
    fn overlaps(&self, e: &TextEdit) -> bool {
        let hits = |start: usize, ends: &Vec<usize>| {
            ends.iter().any(|&end| {
                edit::overlap(
                    &TextEdit {
                        start,
                        end,
                        text: String::new(),
                    },
                    e,
                )
            })
        };
        let inside = e.end > e.start + 1 && self.0.range(e.start + 1..e.end).next().is_some();
        let same = self.0.get(&e.start).is_some_and(|ends| hits(e.start, ends));
        let before = self
            .0
            .range(..e.start)
            .next_back()
            .is_some_and(|(&start, ends)| hits(start, ends));
        inside || same || before
    }

    fn add(&mut self, edits: &[TextEdit]) {
        for e in edits {
            self.0.entry(e.start).or_default().push(e.end);
        }
    }
}

/// A unified diff of one file (`a/NAME`, `b/NAME`, three lines of context).
/// An absolute path keeps its name on both sides, as `diff -u` writes it.
pub fn unified_diff(name: &str, old: &str, new: &str) -> String {
    let (a, b) = if name.starts_with('/') {
        (name.to_string(), name.to_string())
    } else {
        (format!("a/{name}"), format!("b/{name}"))
    };
    similar::TextDiff::from_lines(old, new)
        .unified_diff()
        .context_radius(3)
        .header(&a, &b)
        .to_string()
}

#[cfg(test)]
mod tests;

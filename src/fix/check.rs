//! Checking planned edits before a byte is written: each edit alone, all of a file's
//! together, the result parsed again and judged, what is left for a human.

use super::*;

pub(super) fn check_planned(
    linted: &Linted,
    file: &FileResult,
    fixes: &[&Planned],
    limits: &Limits,
) -> Result<String, String> {
    let fixes: Vec<(ObjectId, &[PatchOp], &[TextEdit])> = fixes
        .iter()
        .map(|p| (p.object, p.ops, p.edits.as_slice()))
        .collect();
    check(linted, &file.name, &file.fixed, &fixes, limits)
}

/// The text with `fixes` (object, patch, its edits) applied, if it loads and its objects
/// equal the patched objects.
pub(super) fn check(
    linted: &Linted,
    name: &str,
    old: &str,
    fixes: &[(ObjectId, &[PatchOp], &[TextEdit])],
    limits: &Limits,
) -> Result<String, String> {
    let edits: Vec<TextEdit> = fixes.iter().flat_map(|f| f.2.iter().cloned()).collect();
    let text = edit::apply(old, &edits);
    if text == old {
        // The finding would come back on every pass: a fix that fixes nothing.
        return Err("applying it changes nothing, yet the rule still reports it".into());
    }
    // What the objects must become: the same patches on the data.
    let ids: Vec<ObjectId> = linted
        .inventory
        .objects
        .iter()
        .enumerate()
        .filter(|(_, o)| o.file.as_deref() == Some(name))
        .map(|(i, _)| ObjectId(i))
        .collect();
    let mut expected: Vec<Value> = ids
        .iter()
        .map(|&id| linted.inventory.object(id).root.to_json())
        .collect();
    let index: HashMap<ObjectId, usize> = ids.iter().enumerate().map(|(i, &id)| (id, i)).collect();
    for &(object, ops, _) in fixes {
        let &i = index
            .get(&object)
            .ok_or("the patched object is not in this file")?;
        let patch = to_json_patch(ops).map_err(|e| format!("the patch is not RFC 6902: {e}"))?;
        json_patch::patch(&mut expected[i], &patch)
            .map_err(|e| format!("the patch does not apply to the object: {e}"))?;
    }
    let mut reloaded = [load_yaml(name, text.clone(), limits)];
    if let Some(d) = reloaded[0].diagnostics.iter().find(|d| d.error) {
        return Err(format!(
            "the edited text would not load ({}: {})",
            d.pos, d.message
        ));
    }
    let (objects, _) = extract::objects_of(&mut reloaded);
    if objects.len() != expected.len() {
        return Err("the edited text would hold a different number of objects".into());
    }
    for (o, want) in objects.iter().zip(&expected) {
        if &o.root.to_json() != want {
            return Err(format!(
                "the edited text would not read back as the patched {} {}",
                o.kind,
                o.namespaced_name()
            ));
        }
    }
    Ok(text)
}

/// The byte edits one fix makes in `source`, the file its object came from, checked as `fix`
/// checks them (for SARIF `fixes`); `None` when `fix` would not write it in place.
pub fn edits_of(
    linted: &Linted,
    source: &SourceFile,
    fix: &crate::patch::Fix,
    limits: &Limits,
) -> Option<Vec<TextEdit>> {
    let FixEdit::Patch { object, ops } = &fix.edit else {
        return None;
    };
    let patched = linted.inventory.object(*object);
    if patched.file.as_deref() != Some(source.name.as_str()) {
        return None;
    }
    let edits = edits_unchecked(source, &patched.root, fix)?;
    verified(linted, source, *object, ops, &edits, limits).then_some(edits)
}

/// The edits of `fix` in `source`, not checked (see [`check_together`]).
pub fn edits_unchecked(
    source: &SourceFile,
    root: &crate::source::Node,
    fix: &crate::patch::Fix,
) -> Option<Vec<TextEdit>> {
    let FixEdit::Patch { ops, .. } = &fix.edit else {
        return None;
    };
    if source.diagnostics.iter().any(|d| d.error) {
        return None;
    }
    Editor::new(&source.text, root, edit::eol_of(&source.text))
        .edits(ops)
        .ok()
}

/// Whether several fixes of one object, applied together, read back as their patches
/// applied together: one check for all of an object's SARIF fixes (checking each alone
/// re-read the object once per finding, quadratic in a large object). False when their
/// edits overlap, or the check fails: then each is checked alone ([`edits_of`]).
pub fn check_together(
    linted: &Linted,
    source: &SourceFile,
    object: ObjectId,
    fixes: &[(&[PatchOp], Vec<TextEdit>)],
    limits: &Limits,
) -> bool {
    let mut taken = Taken::default();
    for (_, edits) in fixes {
        if edits.iter().any(|e| taken.overlaps(e)) {
            return false;
        }
        taken.add(edits);
    }
    let ops: Vec<PatchOp> = fixes.iter().flat_map(|(o, _)| o.iter().cloned()).collect();
    let edits: Vec<TextEdit> = fixes.iter().flat_map(|(_, e)| e.iter().cloned()).collect();
    verified(linted, source, object, &ops, &edits, limits)
}

/// Whether `edits` of `object` in `source` read back as `ops` applied: on the object's own
/// document when it is one, else on the whole file.
pub(super) fn verified(
    linted: &Linted,
    source: &SourceFile,
    object: ObjectId,
    ops: &[PatchOp],
    edits: &[TextEdit],
    limits: &Limits,
) -> bool {
    let root = &linted.inventory.object(object).root;
    document_check(&source.text, root, ops, edits, limits).unwrap_or_else(|| {
        check(
            linted,
            &source.name,
            &source.text,
            &[(object, ops, edits)],
            limits,
        )
        .is_ok()
    })
}

/// `check` for one object that is a whole document of its file, on that document's text
/// alone (SARIF asks it for every finding: reloading the whole file each time made a large
/// file quadratic). `None` where it does not apply (an item of a `List`, an edit outside
/// the document): the caller checks the whole file.
pub(super) fn document_check(
    text: &str,
    root: &crate::source::Node,
    ops: &[PatchOp],
    edits: &[TextEdit],
    limits: &Limits,
) -> Option<bool> {
    let span = root.span?;
    let (start, end) = (span.start.offset, span.end.offset);
    if span.start.column != 1 || edits.iter().any(|e| e.start < start || e.end > end) {
        return None;
    }
    let shifted: Vec<TextEdit> = edits
        .iter()
        .map(|e| TextEdit {
            start: e.start - start,
            end: e.end - start,
            text: e.text.clone(),
        })
        .collect();
    let new = edit::apply(&text[start..end], &shifted);
    let mut want = root.to_json();
    let patch = to_json_patch(ops).ok()?;
    if json_patch::patch(&mut want, &patch).is_err() {
        return Some(false);
    }
    let loaded = load_yaml("document", new, limits);
    Some(
        !loaded.diagnostics.iter().any(|d| d.error)
            && loaded.documents.len() == 1
            && loaded.documents[0].root.to_json() == want,
    )
}

/// What the last pass leaves for the user, and the count of findings with no fix.
pub(super) fn leftovers(
    linted: &Linted,
    options: &FixOptions,
    files: &[FileResult],
    index: &HashMap<String, usize>,
    refused: &HashMap<FixKey, String>,
    listed: &HashSet<FixKey>,
    first_pos: &HashMap<FixKey, Option<Pos>>,
) -> (Vec<Manual>, usize) {
    let mut manual = Vec::new();
    let mut without_fix = 0;
    let mut seen = HashSet::new();
    for f in &linted.outcome.findings {
        let Some(fix) = &f.fix else {
            without_fix += 1;
            continue;
        };
        if !options.wants(linted, f) {
            continue;
        }
        let action = match &fix.edit {
            FixEdit::Manifest(m) => Action::Manifest(m.clone()),
            FixEdit::Patch { object, ops } => {
                let reason = match editable(linted, *object, files, index) {
                    Err(why) => why,
                    Ok(()) => {
                        let key = key_of(linted, f);
                        match refused.get(&key) {
                            Some(reason) => reason.clone(),
                            None if !listed.contains(&key) => "appeared after the listed fixes \
                                were applied (not applied: run `redline lint` and review it)"
                                .to_string(),
                            None => format!(
                                "still pending after {} passes (fixes that undo each other?)",
                                options.max_passes
                            ),
                        }
                    }
                };
                let o = linted.inventory.object(*object);
                Action::Refused {
                    reason,
                    object: format!("{} {}", o.kind, o.namespaced_name()),
                    ops: ops.clone(),
                }
            }
        };
        // One manifest per change, whichever rules ask for it (the plan makes the headroom
        // and request-ratio rules ask for the same Reconfiguring OpsRequest).
        let key = match &action {
            Action::Manifest(_) => format!("{action:?}"),
            Action::Refused { .. } => format!("{}{action:?}", f.rule),
        };
        if !seen.insert(key) {
            continue;
        }
        manual.push(Manual {
            rule: f.rule,
            file: linted.inventory.object(f.object).file.clone(),
            // Where `lint` put it in the files as given; a finding that appeared after the
            // fixes (not applied) only has its place in the fixed text.
            pos: first_pos.get(&key_of(linted, f)).copied().unwrap_or(f.pos),
            message: f.message.clone(),
            description: fix.description.clone(),
            action,
        });
    }
    (manual, without_fix)
}

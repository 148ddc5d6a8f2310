//! Linting a folder gives the findings of its files linted one by one, except where a real
//! cross-file join changes one: every finding that appears only together, or only alone, is
//! about an object the folder's model joins with an object of another file (a ConfigMap
//! mounted by a workload, a PodDisruptionBudget, an operation's target, a Redis Enterprise
//! cluster and its databases), or a reference that several files answer equally
//! (`redline-ambiguous-reference`). Checked on every project of `tests/realworld/` and
//! `tests/corpus/`.

mod common;

use std::collections::{BTreeSet, HashMap};
use std::path::Path;

use common::{corpus_dir, corpus_files, lint_dir, subdirs};
use redline::model::{Inventory, ObjectId};

/// One finding: file, position, rule, message.
type Key = (String, String, String, String);

fn keys(linted: &redline::lint::Linted) -> BTreeSet<Key> {
    common::finding_rows(linted).into_iter().collect()
}

/// The files each object of `inv` is joined with (its own included).
fn joins(inv: &Inventory) -> HashMap<String, BTreeSet<String>> {
    let file = |id: ObjectId| inv.object(id).file.clone().unwrap_or_default();
    let mut groups: Vec<Vec<ObjectId>> = Vec::new();
    for d in &inv.deployments {
        let mut g = vec![d.object];
        g.extend(d.related.iter().copied());
        if let Some(pdb) = &d.pdb {
            g.push(pdb.object);
        }
        if let redline::model::DataVolume::SharedClaim {
            object: Some(claim),
            ..
        } = &d.data
        {
            g.push(*claim);
        }
        groups.push(g);
    }
    for c in &inv.enterprise {
        let mut g = vec![c.object];
        g.extend(c.databases.iter().map(|d| d.object));
        groups.push(g);
    }
    let mut out: HashMap<String, BTreeSet<String>> = HashMap::new();
    for g in groups {
        let files: BTreeSet<String> = g.iter().map(|&id| file(id)).collect();
        for &id in &g {
            out.entry(file(id))
                .or_default()
                .extend(files.iter().cloned());
        }
    }
    out
}

fn check(dir: &Path, project: &Path) -> Vec<String> {
    check_counting(dir, project).1
}

/// The differences a join explains, and those none does.
fn check_counting(dir: &Path, project: &Path) -> (usize, Vec<String>) {
    let together = lint_dir(dir, project);
    let folder = keys(&together);
    let mut alone = BTreeSet::new();
    for file in corpus_files(project) {
        let single = tempdir_with(&file);
        let linted = lint_dir(single.path(), single.path());
        for (f, pos, rule, message) in keys(&linted) {
            let name = file.strip_prefix(dir).unwrap().display().to_string();
            assert!(
                f.ends_with(file.file_name().unwrap().to_str().unwrap()),
                "{f}"
            );
            alone.insert((name, pos, rule, message));
        }
    }
    let joined = joins(&together.inventory);
    let mut unexplained = Vec::new();
    let mut explained = 0;
    for (which, k) in folder.symmetric_difference(&alone).map(|k| {
        (
            if folder.contains(k) {
                "together only"
            } else {
                "alone only"
            },
            k,
        )
    }) {
        // A reference several files answer (`redline-ambiguous-reference`) is a join across
        // files that the ambiguity blocks: its message names the other files.
        let ambiguous =
            k.2 == "redline-ambiguous-reference" && k.3.match_indices(".yaml:").count() > 1;
        let crosses = ambiguous || joined.get(&k.0).is_some_and(|files| files.len() > 1);
        if crosses {
            explained += 1;
        } else {
            unexplained.push(format!("{which}: {} {} [{}] {}", k.0, k.1, k.2, k.3));
        }
    }
    (explained, unexplained)
}

/// A directory holding one copy of `file` under its own name.
fn tempdir_with(file: &Path) -> Scratch {
    let dir = std::env::temp_dir().join(format!(
        "redline-alone-{}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    ));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::copy(file, dir.join(file.file_name().unwrap())).unwrap();
    Scratch(dir)
}

static COUNTER: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

struct Scratch(std::path::PathBuf);

impl Scratch {
    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn a_folder_gives_the_findings_of_its_files_alone_but_for_real_joins() {
    let realworld = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/realworld");
    let corpus = corpus_dir();
    let mut unexplained = Vec::new();
    let (mut projects, mut explained) = (0, 0);
    for dir in [&realworld, &corpus] {
        for project in subdirs(dir) {
            projects += 1;
            let (n, u) = check_counting(dir, &project);
            explained += n;
            unexplained.extend(u);
        }
    }
    println!(
        "{projects} projects: {explained} findings differ between the folder and its files alone, each through a join across files"
    );
    assert!(projects > 40, "only {projects} projects");
    assert!(
        unexplained.is_empty(),
        "findings that differ between the folder and its files alone, with no join across \
         files to explain them:\n{}",
        unexplained.join("\n")
    );
}

/// The check sees a difference and needs a join to explain it: a ConfigMap alone is an
/// orphan redis.conf and a StatefulSet alone has unknown config; in two files of one folder the
/// StatefulSet mounts the ConfigMap, the findings change, and the join accounts for every
/// change. Unjoined (the ConfigMap renamed), the same split would be two independent files
/// with no difference to explain.
#[test]
fn a_join_across_files_is_what_explains_a_difference() {
    let dir = std::env::temp_dir().join(format!("redline-join-{}", std::process::id()));
    let project = dir.join("p");
    std::fs::create_dir_all(&project).unwrap();
    let example = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/statefulset-configmap.yaml"),
    )
    .unwrap();
    let (first, second) = example.split_once("\n---\n").expect("two documents");
    std::fs::write(project.join("a.yaml"), first).unwrap();
    std::fs::write(project.join("b.yaml"), second).unwrap();
    let together = lint_dir(&dir, &project);
    let joined = joins(&together.inventory);
    assert!(
        joined
            .get("p/a.yaml")
            .is_some_and(|files| files.contains("p/b.yaml")),
        "{joined:?}"
    );
    let alone: BTreeSet<Key> = ["a.yaml", "b.yaml"]
        .iter()
        .flat_map(|f| {
            let single = tempdir_with(&project.join(f));
            keys(&lint_dir(single.path(), single.path()))
                .into_iter()
                .map(|(_, pos, rule, message)| (format!("p/{f}"), pos, rule, message))
                .collect::<Vec<_>>()
        })
        .collect();
    assert_ne!(keys(&together), alone, "the join changes the findings");
    assert_eq!(check(&dir, &project), Vec::<String>::new());
    let _ = std::fs::remove_dir_all(&dir);
}

//! What the benchmarks share: the corpus, and the plain YAML parses lint is compared with.

use std::path::{Path, PathBuf};

use serde::Deserialize;

/// `tests/corpus`'s YAML and JSON files (real upstream manifests; `tests/corpus/SOURCES.md`) as (name relative to it, text), sorted by name.
pub fn corpus() -> Vec<(String, String)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus");
    let mut paths = Vec::new();
    corpus_files(&root, &mut paths);
    paths
        .iter()
        .map(|p| {
            let name = p.strip_prefix(&root).unwrap().display().to_string();
            (name, std::fs::read_to_string(p).unwrap())
        })
        .collect()
}

fn corpus_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            corpus_files(&p, out);
        } else if p
            .extension()
            .is_some_and(|x| ["yaml", "yml", "json"].contains(&x.to_string_lossy().as_ref()))
        {
            out.push(p);
        }
    }
}

/// What a serde_yaml user's linter does before any rule: every document to a
/// `yaml_serde::Value`. Returns the documents read.
pub fn serde_parse(text: &str) -> usize {
    let mut docs = 0;
    for doc in yaml_serde::Deserializer::from_str(text) {
        // After an error the document iterator yields the same error forever.
        if yaml_serde::Value::deserialize(doc).is_err() {
            break;
        }
        docs += 1;
    }
    docs
}

/// The tokenizer alone, no tree: a floor no linter can beat. Returns the events read.
pub fn saphyr_events(text: &str) -> usize {
    let mut n = 0;
    let mut parser = saphyr_parser::Parser::new_from_str(text);
    while let Some(Ok((event, _))) = parser.next_event() {
        n += 1;
        if event == saphyr_parser::Event::StreamEnd {
            break;
        }
    }
    n
}

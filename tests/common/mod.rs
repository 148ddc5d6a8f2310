//! What several integration tests share: where the corpus is and which files it holds.

#![allow(dead_code)]

use std::path::{Path, PathBuf};

/// The shared corpus (`../shared/corpus`, or `$REDLINE_CORPUS`); missing, it fails the test
/// instead of skipping it.
pub fn corpus_dir() -> PathBuf {
    let dir = std::env::var_os("REDLINE_CORPUS").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus"),
        PathBuf::from,
    );
    assert!(
        dir.join("SOURCES.md").is_file(),
        "corpus not found at {} (set REDLINE_CORPUS)",
        dir.display()
    );
    dir
}

/// Every file of the corpus but SOURCES.md, sorted.
pub fn corpus_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.file_name().is_some_and(|n| n != "SOURCES.md") {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

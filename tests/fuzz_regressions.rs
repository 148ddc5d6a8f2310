//! Every input kept in `tests/fixtures/fuzz/<target>/` replayed through the fuzz target's
//! checks (`fuzz/checks.rs`, the same code `cargo fuzz run <target>` runs): inputs that once
//! crashed or stalled a target, and the hand-made cases of its findings. A new crash found by
//! fuzzing is copied here (see `fuzz/README.md`).

#[path = "../fuzz/checks.rs"]
mod checks;

use std::path::Path;

fn replay(target: &str, check: fn(&[u8])) -> usize {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/fuzz")
        .join(target);
    let mut inputs: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    inputs.sort();
    for path in &inputs {
        let data = std::fs::read(path).unwrap();
        if std::panic::catch_unwind(|| check(&data)).is_err() {
            panic!("{target}: {} fails its check again", path.display());
        }
    }
    inputs.len()
}

#[test]
fn redis_conf_inputs() {
    assert!(replay("redis_conf", checks::redis_conf) > 0);
}

#[test]
fn quantity_inputs() {
    assert!(replay("quantity", checks::quantity) > 0);
}

#[test]
fn yaml_lint_inputs() {
    assert!(replay("yaml_lint", checks::yaml_lint) > 0);
}

#[test]
fn admission_review_inputs() {
    assert!(replay("admission_review", checks::admission_review) > 0);
}

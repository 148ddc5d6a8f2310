//! `redline fix` as a user runs it: in place, `--diff`, `--check`, `--rule`, standard input,
//! atomic writes that keep permissions and symbolic links, a file that does not load left
//! untouched, KubeBlocks manifests printed, exit codes.

mod common;

use std::path::Path;

use common::{code, root, run_in, scratch, stderr, stdout};

/// `examples/statefulset-configmap.yaml` in a fresh directory: every finding there with a
/// fix is fixable in place.
fn workspace(name: &str) -> (std::path::PathBuf, String) {
    let dir = scratch(name);
    let text = std::fs::read_to_string(root().join("examples/statefulset-configmap.yaml")).unwrap();
    std::fs::write(dir.join("redis.yaml"), &text).unwrap();
    (dir, text)
}

fn read(dir: &Path, name: &str) -> String {
    std::fs::read_to_string(dir.join(name)).unwrap()
}

#[test]
fn diff_and_check_write_nothing_and_exit_1() {
    let (dir, original) = workspace("diff");
    let diff = run_in(&dir, &["fix", "--diff", "redis.yaml"], "");
    assert_eq!(code(&diff), 1, "{}", stderr(&diff));
    let text = stdout(&diff);
    assert!(
        text.starts_with("--- a/redis.yaml\n+++ b/redis.yaml\n@@ "),
        "{text}"
    );
    assert!(
        text.contains("\n-    maxmemory 1gb\n+    maxmemory 768mb\n"),
        "{text}"
    );
    assert!(
        text.contains("\n-              memory: 512m\n+              memory: 512Mi\n"),
        "{text}"
    );
    assert_eq!(read(&dir, "redis.yaml"), original);

    let check = run_in(&dir, &["fix", "--check", "redis.yaml"], "");
    assert_eq!(code(&check), 1);
    assert_eq!(stdout(&check), "would fix: redis.yaml\n");
    assert!(stderr(&check).contains("would fix redis.yaml:12:15: redis-maxmemory-headroom"));
    assert_eq!(read(&dir, "redis.yaml"), original);

    // The diff applies with patch(1) and gives what `fix` writes.
    let applied = scratch("diff-applied");
    std::fs::write(applied.join("redis.yaml"), &original).unwrap();
    let mut child = std::process::Command::new("patch")
        .args(["-p1", "--quiet"])
        .current_dir(&applied)
        .stdin(std::process::Stdio::piped())
        .spawn()
        .expect("patch(1) is installed");
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    assert!(child.wait().unwrap().success());
    let fixed = run_in(&dir, &["fix", "redis.yaml"], "");
    assert_eq!(code(&fixed), 0, "{}", stderr(&fixed));
    assert_eq!(read(&applied, "redis.yaml"), read(&dir, "redis.yaml"));
}

#[test]
fn fix_in_place_keeps_permissions_and_links_and_is_idempotent() {
    use std::os::unix::fs::PermissionsExt;
    let (dir, original) = workspace("write");
    let path = dir.join("redis.yaml");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).unwrap();
    std::os::unix::fs::symlink("redis.yaml", dir.join("link.yaml")).unwrap();

    let out = run_in(&dir, &["fix", "link.yaml"], "");
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(
        stderr(&out).contains("redline fix: fixed 5 findings in 1 file"),
        "{}",
        stderr(&out)
    );
    let fixed = read(&dir, "redis.yaml");
    assert_ne!(fixed, original);
    let meta = std::fs::symlink_metadata(dir.join("link.yaml")).unwrap();
    assert!(meta.file_type().is_symlink(), "the link is kept");
    let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o640);
    let names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names.len(), 2, "no temporary file left: {names:?}");

    // Linting the result finds nothing fixable; fixing again changes nothing.
    let lint = run_in(&dir, &["lint", "--format", "json", "redis.yaml"], "");
    let report: serde_json::Value = serde_json::from_slice(&lint.stdout).unwrap();
    let fixable: Vec<_> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| !f["fix"].is_null())
        .collect();
    assert!(fixable.is_empty(), "{fixable:?}");
    let again = run_in(&dir, &["fix", "redis.yaml"], "");
    assert_eq!(code(&again), 0);
    assert!(stderr(&again).contains("fixed 0 findings in 0 files"));
    assert_eq!(read(&dir, "redis.yaml"), fixed);
}

#[test]
fn rule_limits_the_fixes() {
    let (dir, original) = workspace("rule");
    let out = run_in(
        &dir,
        &["fix", "--rule", "k8s-memory-milli", "redis.yaml"],
        "",
    );
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(
        read(&dir, "redis.yaml"),
        original.replace("memory: 512m\n", "memory: 512Mi\n")
    );
    let bad = run_in(&dir, &["fix", "--rule", "no-such-rule", "redis.yaml"], "");
    assert_eq!(code(&bad), 2);
    assert!(stderr(&bad).contains("no rule `no-such-rule`"));
}

#[test]
fn a_file_that_does_not_load_is_left_untouched() {
    let (dir, original) = workspace("broken");
    let broken = format!("{original}---\nkind: [unclosed\n");
    std::fs::write(dir.join("redis.yaml"), &broken).unwrap();
    let out = run_in(&dir, &["fix", "redis.yaml"], "");
    assert_eq!(code(&out), 1);
    assert!(
        stderr(&out).contains("redis.yaml:") && stderr(&out).contains("the file does not load"),
        "{}",
        stderr(&out)
    );
    assert_eq!(read(&dir, "redis.yaml"), broken);
}

#[test]
fn standard_input_is_a_filter() {
    let original =
        std::fs::read_to_string(root().join("examples/statefulset-configmap.yaml")).unwrap();
    let out = run_in(root(), &["fix", "-"], &original);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let fixed = stdout(&out);
    assert!(fixed.contains("    maxmemory 768mb\n"), "{fixed}");
    let (dir, _) = workspace("stdin");
    run_in(&dir, &["fix", "redis.yaml"], "");
    assert_eq!(fixed, read(&dir, "redis.yaml"));
}

#[test]
fn kubeblocks_maxmemory_in_a_derived_config_is_a_manifest() {
    let dir = scratch("manifest");
    let original =
        std::fs::read_to_string(root().join("examples/kubeblocks-seed-incident.yaml")).unwrap();
    std::fs::write(dir.join("kb.yaml"), &original).unwrap();
    let out = run_in(&dir, &["fix", "kb.yaml"], "");
    assert_eq!(
        code(&out),
        1,
        "a manifest is left to apply: {}",
        stderr(&out)
    );
    let manifests = stdout(&out);
    let docs: Vec<serde_json::Value> = manifests
        .split("---\n")
        .filter(|d| !d.trim().is_empty())
        .map(|d| yaml_serde::from_str(d).unwrap())
        .collect();
    // One manifest pins maxmemory (the memory rules plan together); others may set other
    // parameters (the replication backlog).
    let maxmemory: Vec<&serde_json::Value> = docs
        .iter()
        .filter(|d| {
            d["spec"]["reconfigures"][0]["parameters"]
                .as_array()
                .is_some_and(|ps| ps.iter().any(|p| p["key"] == "maxmemory"))
        })
        .collect();
    assert_eq!(maxmemory.len(), 1, "{manifests}");
    assert_eq!(maxmemory[0]["kind"], "OpsRequest");
    assert_eq!(maxmemory[0]["spec"]["type"], "Reconfiguring");
    assert!(
        docs.iter().all(|d| d["kind"] == "OpsRequest"),
        "{manifests}"
    );
    assert!(stderr(&out).contains("not a file edit"));
    // The OpsRequest already in the file was fixed in place.
    let fixed = read(&dir, "kb.yaml");
    assert!(fixed.contains("value: \"25769803776\""), "{fixed}");
}

#[test]
fn a_file_named_twice_is_fixed_once() {
    let (dir, _) = workspace("twice");
    std::os::unix::fs::symlink("redis.yaml", dir.join("alias.yaml")).unwrap();
    let out = run_in(
        &dir,
        &["fix", "redis.yaml", "./redis.yaml", ".", "alias.yaml"],
        "",
    );
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(
        stderr(&out).contains("fixed 5 findings in 1 file;"),
        "{}",
        stderr(&out)
    );
    assert!(!stderr(&out).contains("./redis.yaml"), "{}", stderr(&out));
}

/// What `redline fix redis.yaml` computes in `dir`, through the library (so that a test can
/// act between the read and the write).
fn fix_run(dir: &Path) -> redline::fix::FixRun {
    let path = dir.join("redis.yaml");
    let source = redline::input::read_source(&path, &redline::source::Limits::default()).unwrap();
    redline::fix::fix(
        vec![source],
        &redline::extract::Options::default(),
        &redline::engine::Settings::default(),
        &redline::fix::FixOptions::new(&[]),
        &redline::source::Limits::default(),
    )
}

/// Files in `dir` but the ones named.
fn leftovers(dir: &Path, expected: &[&str]) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| !expected.contains(&n.as_str()))
        .collect()
}

/// A file changed after `fix` read it (an editor saving, `git checkout`) is not overwritten:
/// the change is kept, the file is named, and the run exits 2.
#[test]
fn a_file_changed_while_being_fixed_is_kept_and_reported() {
    use redline::fix::report::{Mode, exit_code, render};
    let (dir, original) = workspace("changed-meanwhile");
    let run = fix_run(&dir);
    assert!(run.files[0].changed(), "the example has fixes");
    // Someone saves the file between the read and the write.
    let theirs = original.replace("maxmemory 1gb", "maxmemory 600mb");
    let mut calls = 0;
    let unwritten = redline::fix::write::write_files_with(&run, &mut |path| {
        calls += 1;
        std::fs::write(path, &theirs).unwrap();
    });
    assert_eq!(calls, 1);
    assert_eq!(read(&dir, "redis.yaml"), theirs, "their change is kept");
    assert_eq!(leftovers(&dir, &["redis.yaml"]), Vec::<String>::new());
    assert_eq!(unwritten.len(), 1);
    let printed = render(&run, Mode::Write, &unwritten);
    let name = dir.join("redis.yaml").display().to_string();
    assert!(
        printed
            .stderr
            .contains(&format!("{name}: changed while being fixed, not written\n")),
        "{}",
        printed.stderr
    );
    // Nothing claims to be fixed.
    assert!(!printed.stderr.contains("\nfixed "), "{}", printed.stderr);
    assert!(
        printed
            .stderr
            .contains("redline fix: fixed 0 findings in 0 files; 1 file not written"),
        "{}",
        printed.stderr
    );
    assert_eq!(exit_code(&run, Mode::Write, &unwritten), 2);

    // Unchanged meanwhile, the same run writes, and the run exits 0.
    std::fs::write(dir.join("redis.yaml"), &original).unwrap();
    let unwritten = redline::fix::write::write_files_with(&run, &mut |_| {});
    assert!(unwritten.is_empty(), "{unwritten:?}");
    assert_eq!(read(&dir, "redis.yaml"), run.files[0].fixed);
    assert_eq!(exit_code(&run, Mode::Write, &unwritten), 0);
}

/// The comparison is by content: a change that keeps the size (and may keep the mtime, whose
/// granularity can be coarse) is still seen.
#[test]
fn a_same_size_change_is_seen() {
    let (dir, original) = workspace("changed-same-size");
    let run = fix_run(&dir);
    let theirs = original.replace("maxmemory 1gb", "maxmemory 2gb");
    assert_eq!(theirs.len(), original.len());
    let unwritten = redline::fix::write::write_files_with(&run, &mut |path| {
        let mtime = std::fs::metadata(path).unwrap().modified().unwrap();
        std::fs::write(path, &theirs).unwrap();
        std::fs::File::options()
            .write(true)
            .open(path)
            .unwrap()
            .set_modified(mtime)
            .unwrap();
    });
    assert_eq!(unwritten.len(), 1);
    assert!(matches!(
        unwritten[0].why,
        redline::fix::write::NotWritten::Changed
    ));
    assert_eq!(read(&dir, "redis.yaml"), theirs);
}

/// `redline fix -` with `input` on standard input (written from another thread, so that a
/// large input cannot fill the pipes both ways).
fn filter(input: Vec<u8>) -> (std::process::Output, Vec<u8>) {
    use std::io::Write as _;
    let mut child = std::process::Command::new(common::BIN)
        .args(["fix", "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || stdin.write_all(&input).map(|()| input));
    let out = child.wait_with_output().unwrap();
    (out, writer.join().unwrap().unwrap())
}

/// `fix -` is a filter: input it cannot read (not UTF-8) comes out as it went in, never
/// swallowed, and the exit status says a file was not loaded.
#[test]
fn a_filter_passes_through_what_it_cannot_read() {
    let (out, input) = filter(b"a: caf\xe9\n".to_vec());
    assert_eq!(out.stdout, input);
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    assert!(stderr(&out).contains("not UTF-8"), "{}", stderr(&out));
}

/// Standard input over the size limit: `fix -` passes all of it through (what it read and
/// the rest, streamed), says it did not fix it, and exits 1; the bytes are never swallowed.
#[test]
fn a_filter_passes_through_input_over_the_size_limit() {
    let limit = redline::source::Limits::default().max_bytes;
    let input: Vec<u8> = b"a: b\n"
        .iter()
        .copied()
        .cycle()
        .take(limit + 100_000)
        .collect();
    let (out, input) = filter(input);
    assert_eq!(out.stdout.len(), input.len(), "{}", stderr(&out));
    assert!(out.stdout == input, "the bytes differ");
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    assert!(
        stderr(&out).contains("larger than the limit"),
        "{}",
        stderr(&out)
    );
}

/// A read-only file is its owner's choice: `fix` leaves it, says so and exits 2 (renaming a
/// new file over it would succeed wherever the directory is writable).
#[test]
fn a_read_only_file_is_not_written() {
    let (dir, original) = workspace("read-only");
    let file = dir.join("redis.yaml");
    let mut perms = std::fs::metadata(&file).unwrap().permissions();
    perms.set_readonly(true);
    std::fs::set_permissions(&file, perms).unwrap();
    let out = run_in(&dir, &["fix", "redis.yaml"], "");
    assert_eq!(read(&dir, "redis.yaml"), original);
    assert!(
        stderr(&out).contains("redis.yaml: read-only, not written"),
        "{}",
        stderr(&out)
    );
    assert!(
        stderr(&out).contains("fixed 0 findings in 0 files; 1 file not written"),
        "{}",
        stderr(&out)
    );
    assert_eq!(code(&out), 2);
}

/// A file with another hard link is written in place: both names see the fix (a rename over
/// it would leave the other name with the old text, silently).
#[test]
fn a_hard_linked_file_stays_linked() {
    use std::os::unix::fs::MetadataExt;
    let (dir, original) = workspace("hard-link");
    std::fs::hard_link(dir.join("redis.yaml"), dir.join("also.yaml")).unwrap();
    let inode = std::fs::metadata(dir.join("redis.yaml")).unwrap().ino();
    let out = run_in(&dir, &["fix", "redis.yaml"], "");
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let fixed = read(&dir, "redis.yaml");
    assert_ne!(fixed, original);
    assert_eq!(read(&dir, "also.yaml"), fixed);
    assert_eq!(
        std::fs::metadata(dir.join("redis.yaml")).unwrap().ino(),
        inode
    );
    assert_eq!(std::fs::metadata(dir.join("also.yaml")).unwrap().nlink(), 2);
}

/// A tag or an anchor on the redis.conf block scalar: findings inside it are reported where
/// they are (as in the unadorned twin), and `fix` changes the one line, keeping the tag.
#[test]
fn tags_and_anchors_on_a_block_scalar_keep_positions_and_survive_fix() {
    let (dir, original) = workspace("tagged-block");
    let position = |dir: &Path, name: &str| {
        let out = run_in(dir, &["lint", "--format", "json", name], "");
        let v: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
        v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["rule"] == "redis-maxmemory-headroom")
            .map(|f| (f["line"].clone(), f["column"].clone()))
            .unwrap()
    };
    let expected = position(&dir, "redis.yaml");
    let fix = || {
        run_in(
            &dir,
            &["fix", "--rule", "redis-maxmemory-headroom", "redis.yaml"],
            "",
        )
    };
    for adorned in [
        "redis.conf: !!str |",
        "redis.conf: &conf |",
        "redis.conf: !!str &conf |",
    ] {
        let text = original.replace("redis.conf: |", adorned);
        std::fs::write(dir.join("redis.yaml"), &text).unwrap();
        assert_eq!(position(&dir, "redis.yaml"), expected, "{adorned}");
        let out = fix();
        assert!(
            stderr(&out).contains("fixed 1 finding"),
            "{adorned}: {}",
            stderr(&out)
        );
        let fixed = read(&dir, "redis.yaml");
        assert_eq!(
            fixed,
            text.replace("maxmemory 1gb", "maxmemory 768mb"),
            "{adorned}: only the maxmemory line changes"
        );
    }
    // An anchor an alias shares is another matter: changing it would change the alias too.
    let shared = original.replace("redis.conf: |", "redis.conf: &conf |");
    let shared = shared.replacen("\n---\n", "\n  copy.conf: *conf\n---\n", 1);
    assert_ne!(
        shared,
        original.replace("redis.conf: |", "redis.conf: &conf |")
    );
    std::fs::write(dir.join("redis.yaml"), &shared).unwrap();
    let out = fix();
    assert!(
        stderr(&out).contains("that aliases share"),
        "{}",
        stderr(&out)
    );
    assert_eq!(read(&dir, "redis.yaml"), shared);
}

/// A CRLF file: the redis.conf line of its ConfigMap is fixed like the LF twin's, and every
/// line keeps its `\r\n`.
#[test]
fn crlf_files_are_fixed_like_their_lf_twins() {
    let (dir, original) = workspace("crlf");
    let crlf = original.replace('\n', "\r\n");
    std::fs::write(dir.join("redis.yaml"), &crlf).unwrap();
    let out = run_in(
        &dir,
        &["fix", "--rule", "redis-maxmemory-headroom", "redis.yaml"],
        "",
    );
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let fixed = read(&dir, "redis.yaml");
    assert!(fixed.contains("    maxmemory 768mb\r\n"), "{fixed:?}");
    assert_eq!(fixed.matches('\n').count(), fixed.matches("\r\n").count());
    assert_eq!(fixed.replace("768mb", "1gb"), crlf);
}

/// A manifest `fix` prints for a finding below an in-file fix is placed where `lint` places
/// it, in the file as given — not in the half-edited text of a later pass (the guestbook of
/// kubernetes/examples: a limit added at line 40 moved the PDB finding from 62 to 64).
#[test]
fn manifests_are_placed_where_lint_places_their_finding() {
    let dir = scratch("fix-positions");
    let text = std::fs::read_to_string(
        root().join("tests/realworld/kubernetes-examples/guestbook-all-in-one.yaml"),
    )
    .unwrap();
    std::fs::write(dir.join("guestbook.yaml"), &text).unwrap();
    let lint = run_in(&dir, &["lint", "--format", "json", "guestbook.yaml"], "");
    let findings = common::json(&lint);
    let pdb = findings["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == "redis-pdb-missing")
        .expect("a PDB finding");
    let at = format!("guestbook.yaml:{}:{}", pdb["line"], pdb["column"]);
    let diff = run_in(&dir, &["fix", "--diff", "guestbook.yaml"], "");
    let err = stderr(&diff);
    assert!(err.contains("would fix guestbook.yaml:40:11"), "{err}");
    assert!(
        err.contains(&format!("{at}: redis-pdb-missing")),
        "{at}\n{err}"
    );
    assert!(err.contains(&format!("# for {at}\n")), "{at}\n{err}");
    assert_eq!(read(&dir, "guestbook.yaml"), text);
}

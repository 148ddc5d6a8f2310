//! Where the shell meets redline: completion scripts that load, manual pages that render,
//! a version that names its commit, and progress on a terminal only.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_redline");

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn run(args: &[&str]) -> Output {
    Command::new(BIN).args(args).output().unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn temp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("redline-shell-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn bash_completion_loads_and_completes_commands_and_flags() {
    // What a user runs, then what bash runs on TAB: `redline l` and `redline lint --fa`.
    let script = format!(
        r#"source <({BIN} completions bash) || exit 9
complete -p redline || exit 8
COMP_WORDS=(redline l); COMP_CWORD=1; _redline redline l redline; echo "1:${{COMPREPLY[*]}}"
COMP_WORDS=(redline lint --fa); COMP_CWORD=2; _redline redline --fa lint; echo "2:${{COMPREPLY[*]}}""#
    );
    let o = Command::new("bash")
        .args(["--norc", "--noprofile", "-c", &script])
        .output()
        .unwrap();
    let out = stdout(&o);
    assert!(
        o.status.success(),
        "{out}{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(out.contains("1:lint lsp"), "{out}");
    assert!(out.contains("2:--fail-on"), "{out}");
}

#[test]
fn every_shell_gets_a_script_naming_every_command() {
    // Only bash is installed here to load its script; the others are checked for what they
    // must mention.
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let o = run(&["completions", shell]);
        assert!(o.status.success(), "{shell}");
        let script = stdout(&o);
        for word in ["lint", "fix", "audit", "serve", "lsp", "explain", "fail-on"] {
            assert!(script.contains(word), "{shell} lacks {word}");
        }
    }
    let o = run(&["completions", "tcsh"]);
    assert_eq!(o.status.code(), Some(2));
}

/// `groff -man` over a page: the plain text (no bold or underline), and groff's warnings
/// (`-ww`) on standard error.
fn render(page: &[u8]) -> (String, String) {
    let mut child = Command::new("groff")
        .args(["-man", "-Tutf8", "-ww", "-P-c", "-P-b", "-P-u"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("groff (tests/run installs it)");
    use std::io::Write as _;
    child.stdin.take().unwrap().write_all(page).unwrap();
    let o = child.wait_with_output().unwrap();
    assert!(o.status.success());
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

#[test]
fn the_manual_page_renders_and_one_page_per_command_is_written() {
    let o = run(&["man"]);
    assert!(o.status.success());
    let (text, warnings) = render(&o.stdout);
    assert!(warnings.is_empty(), "{warnings}");
    assert!(text.contains("Keeps Redis on Kubernetes"), "{text}");
    for command in ["lint", "fix", "audit", "serve", "lsp", "completions"] {
        assert!(text.contains(command), "{command}: {text}");
    }
    let dir = temp("man");
    let o = run(&["man", "--dir", dir.to_str().unwrap()]);
    assert!(o.status.success());
    let lint = std::fs::read(dir.join("redline-lint.1")).unwrap();
    let (text, warnings) = render(&lint);
    assert!(warnings.is_empty(), "{warnings}");
    assert!(text.contains("--fail-on"), "{text}");
    assert!(dir.join("redline.1").is_file());
    assert!(dir.join("redline-audit.1").is_file());
}

#[test]
fn the_version_names_the_commit() {
    let o = run(&["--version"]);
    let version = stdout(&o);
    assert!(version.starts_with(&format!("redline {} (", env!("CARGO_PKG_VERSION"))));
    let head = Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .current_dir(root())
        .output();
    match head {
        // A checkout: its commit (with `-modified` when the sources differ from it).
        Ok(h) if h.status.success() => {
            let hash = String::from_utf8_lossy(&h.stdout).trim().to_string();
            assert!(
                version.contains(&format!("commit {hash}")),
                "{version} vs {hash}"
            );
        }
        _ => assert!(
            version.contains("not built from a git checkout"),
            "{version}"
        ),
    }
}

/// `redline ARGS` on a pseudo-terminal (util-linux `script`): what the terminal showed.
fn on_terminal(args: &str, dir: &Path) -> String {
    let o = Command::new("script")
        .args(["-qec", &format!("{BIN} {args}"), "/dev/null"])
        .current_dir(dir)
        .output()
        .expect("script (util-linux)");
    stdout(&o)
}

#[test]
fn a_long_run_shows_progress_on_a_terminal_only() {
    let dir = temp("progress");
    let example =
        std::fs::read_to_string(root().join("examples/statefulset-configmap.yaml")).unwrap();
    let tree = dir.join("tree");
    std::fs::create_dir_all(&tree).unwrap();
    // More files than the bar's threshold, each the example under its own namespace.
    for i in 0..250 {
        let text = example.replace("namespace: cache", &format!("namespace: ns-{i}"));
        std::fs::write(tree.join(format!("f{i:03}.yaml")), text).unwrap();
    }
    let shown = on_terminal("lint tree --format json -o report.json", &dir);
    assert!(
        shown.contains("reading [") && shown.contains("/250 files"),
        "{shown:?}"
    );
    assert!(
        shown.contains("linting [########################] 250/250 files"),
        "{shown:?}"
    );
    assert!(
        shown.ends_with("\r\u{1b}[2K"),
        "the bar is cleared: {shown:?}"
    );
    let shown = on_terminal("fix --check tree", &dir);
    assert!(
        shown.contains("fixing [########################] 250/250 files"),
        "{shown:?}"
    );
    // Piped (a CI log): nothing but the report.
    let o = Command::new(BIN)
        .args(["lint", "tree", "--format", "json", "-o", "report.json"])
        .current_dir(&dir)
        .output()
        .unwrap();
    assert!(
        o.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    // A short run on a terminal: no bar either.
    let shown = on_terminal("lint tree/f000.yaml --format json -o one.json", &dir);
    assert!(!shown.contains("reading ["), "{shown:?}");
}

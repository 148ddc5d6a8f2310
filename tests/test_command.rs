//! The README's test command, `tests/run`, on a machine that lacks what the tests need and
//! where nothing may be installed: it names each missing tool with how to get it, and exits 1
//! without running a single test (it never skips the tests that need those tools).

use std::path::Path;
use std::process::Command;

mod common;
use common::{root, scratch};

#[test]
fn missing_tools_are_named_and_no_test_runs() {
    let dir = scratch("test-command");
    // A PATH with only what the script itself uses: no cargo, git, patch, python3,
    // redis-server, chromium or kubectl.
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    for tool in [
        "bash", "cat", "cksum", "dirname", "grep", "head", "id", "ln", "mkdir", "rm", "sed",
        "uname",
    ] {
        let found = ["/usr/bin", "/bin"]
            .iter()
            .map(|d| Path::new(d).join(tool))
            .find(|p| p.exists())
            .unwrap_or_else(|| panic!("{tool} not found in /usr/bin or /bin"));
        std::os::unix::fs::symlink(found, bin.join(tool)).unwrap();
    }
    let out = Command::new(bin.join("bash"))
        .arg(root().join("tests/run"))
        .env_clear()
        .env("PATH", &bin)
        .env("REDLINE_TESTS_INSTALL", "no")
        .env("REDLINE_TEST_TOOLS", dir.join("tools"))
        // Whatever this machine has, the one named here is not a redis-server 7.0.
        .env("REDIS_SERVER", dir.join("no-redis-server"))
        .env("CHROMIUM", dir.join("no-chromium"))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        out.stdout.is_empty(),
        "no test ran: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(err.contains("cannot run the tests; missing:"), "{err}");
    for missing in [
        "- patch: apt-get install patch",
        "- git: apt-get install git",
        "- a C compiler",
        "- cargo: https://rustup.rs",
        "- redis-server 7.0.x",
        "- chromium (tests/html_report.rs",
        "- python3 with the venv module",
        "- groff (the manual page test",
        "- kubectl >= 1.21",
        "nothing was installed",
    ] {
        assert!(err.contains(missing), "{missing}: {err}");
    }
}

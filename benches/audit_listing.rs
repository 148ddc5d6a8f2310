//! `redline audit` against a cluster of N ConfigMaps (issue 24): peak memory must not grow
//! with N. The fake API server of the tests (`tests/common/fake_api.rs`) serves, in pages of
//! 500, N ConfigMaps of other applications (2 KiB of data each) plus the bundled examples'
//! objects; the release binary audits all namespaces, and its peak RSS (`wait4`'s
//! `ru_maxrss`) and wall time are printed per N. Run:
//! `cargo bench --bench audit_listing` (`REDLINE_BENCH_SIZES=1000,10000,40000` to choose N).

#[path = "../tests/common/fake_api.rs"]
mod fake_api;

use std::process::Command;
use std::time::Instant;

use serde_json::{Value, json};

fn fake(n: usize) -> fake_api::Fake {
    let mut fake = fake_api::examples(std::path::Path::new(env!("CARGO_MANIFEST_DIR")));
    let line = "key.with.a.long.name=and a value of some length\n";
    let data = line.repeat(2048 / line.len());
    let config_maps = fake.lists.get_mut("/api/v1/configmaps").unwrap();
    config_maps.extend((0..n).map(|i| {
        json!({"apiVersion": "v1", "kind": "ConfigMap",
               "metadata": {"name": format!("app-{i:06}"), "namespace": format!("team-{:03}", i % 200),
                            "uid": format!("uid-{i}"), "resourceVersion": "1",
                            "annotations": {"kubectl.kubernetes.io/last-applied-configuration": data.clone()}},
               "data": {"application.properties": data.clone()}})
    }));
    fake
}

fn main() {
    let sizes: Vec<usize> = std::env::var("REDLINE_BENCH_SIZES")
        .unwrap_or_else(|_| "1000,10000,40000".into())
        .split(',')
        .map(|s| s.trim().parse().unwrap())
        .collect();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let dir = std::env::temp_dir().join(format!("redline-bench-audit-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    println!("| ConfigMaps | bytes listed | wall s | redline peak RSS MiB | exit |");
    println!("|---:|---:|---:|---:|---:|");
    for n in sizes {
        let fake = fake(n);
        let bytes: usize = fake
            .lists
            .values()
            .flatten()
            .map(|v| v.to_string().len())
            .sum();
        let (addr, fake) = rt.block_on(fake_api::start(fake));
        let kubeconfig = fake_api::kubeconfig(&dir, addr, "default");
        let start = Instant::now();
        // Through /usr/bin/time: a child spawned from this process would report this
        // process's RSS as its own peak (Linux keeps the maximum across fork and exec, and
        // this process holds the fake's objects); time's own child starts afresh.
        let out = Command::new("/usr/bin/time")
            .args(["-f", "%M"])
            .arg(env!("CARGO_BIN_EXE_redline"))
            .args(["audit", "-A", "--format", "json", "--kubeconfig"])
            .arg(&kubeconfig)
            .output()
            .expect("/usr/bin/time (Debian's `time` package)");
        let code = out.status.code().unwrap_or(-1);
        let stderr = String::from_utf8_lossy(&out.stderr);
        let rss_kib: f64 = stderr
            .lines()
            .last()
            .and_then(|l| l.trim().parse().ok())
            .unwrap_or_else(|| panic!("no RSS from /usr/bin/time: {stderr}"));
        let report: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(report["summary"]["objects"], 4, "{}", report["summary"]);
        assert_eq!(
            fake.requests()
                .iter()
                .filter(|r| r.contains("/configmaps?"))
                .count(),
            (n + 1).div_ceil(500)
        );
        println!(
            "| {n} | {:.1} MB | {:.2} | {:.1} | {code} |",
            bytes as f64 / 1e6,
            start.elapsed().as_secs_f64(),
            rss_kib / 1024.0
        );
    }
}

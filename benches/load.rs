//! The webhook under load: the release binary (`redline serve`, lookups off) on a loopback
//! port, driven over HTTPS by an open-loop generator at fixed rates. For each rate, first
//! `GET /healthz` (the transport baseline: TLS, HTTP, routing, no review), then
//! `POST /validate` with realistic reviews (a KubeBlocks Cluster, the seed incident's
//! OpsRequest, the README's denied StatefulSet, in turn). Reports per phase: requests sent
//! and answered, errors, latency p50/p99/max, and the server's peak RSS.
//!
//! Open loop: requests start on a fixed schedule whether or not earlier ones have been
//! answered (a closed loop would slow down with the server and hide its queueing). Latency is
//! measured from when a request's task starts sending; "late p99" measures from its
//! scheduled time instead, so the client's own scheduling lag (tokio's 1 ms timer, a busy
//! second core) is visible rather than hidden.
//!
//! Run: `cargo bench --bench load` — environment: `REDLINE_LOAD_RATES` (default
//! `500,2000,5000`), `REDLINE_LOAD_SECONDS` (30), `REDLINE_LOAD_HTTP` (`2`, what the API
//! server negotiates by ALPN; `1` for HTTP/1.1 keep-alive connections), `REDLINE_LOAD_LOG`
//! (`info`: a JSON line per review, as deployed).

#[path = "../tests/common/server.rs"]
mod server;

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use redline::webhook::review::request_for;
use serde_json::Value;
use server::Server;

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The review bodies /validate is sent, in turn.
fn bodies() -> Vec<Vec<u8>> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let docs = |path: &str| -> Vec<Value> {
        let text = std::fs::read_to_string(root.join(path)).unwrap();
        text.split("\n---\n")
            .map(|d| yaml_serde::from_str(d).unwrap())
            .collect()
    };
    let mut out: Vec<Value> = docs("examples/kubeblocks-seed-incident.yaml")
        .iter()
        .enumerate()
        .map(|(i, o)| request_for(&format!("load-{i}"), "CREATE", o, None))
        .collect();
    out.push(
        serde_json::from_slice(
            &std::fs::read(root.join("tests/fixtures/serve/admission-review.json")).unwrap(),
        )
        .unwrap(),
    );
    out.iter().map(|v| serde_json::to_vec(v).unwrap()).collect()
}

/// Resident memory of a process, from /proc (MiB): (now, peak).
fn rss_mib(pid: i32) -> (f64, f64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
            .map_or(0.0, |kb| kb / 1024.0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

/// CPU time the server has used (user + system), from /proc/PID/stat.
fn cpu_seconds(pid: i32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the command name (which is in parentheses and may hold spaces).
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // utime and stime are fields 14 and 15 of stat(5); `rest` starts at field 3.
    // SAFETY: sysconf has no preconditions.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64;
    (ticks(11) + ticks(12)) / hz
}

struct Phase {
    path: &'static str,
    rate: u64,
    sent: u64,
    latencies_us: Vec<u64>,
    late_us: Vec<u64>,
    errors: u64,
    first_error: Option<String>,
    elapsed: Duration,
    rss_peak_mib: f64,
    cpu_seconds: f64,
}

fn percentile(sorted: &[u64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[i] as f64 / 1000.0
}

async fn run_phase(
    client: &reqwest::Client,
    server: &Server,
    path: &'static str,
    rate: u64,
    seconds: u64,
    bodies: &[Vec<u8>],
) -> Phase {
    let url = server.url(path);
    let total = rate * seconds;
    let period = Duration::from_secs_f64(1.0 / rate as f64);
    let errors = Arc::new(AtomicU64::new(0));
    let first_error = Arc::new(std::sync::Mutex::new(None::<String>));
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<(u64, u64)>();
    let pid = server.pid();
    let cpu_before = cpu_seconds(pid);
    let rss_peak = Arc::new(AtomicU64::new(0));
    let sampling = {
        let rss_peak = rss_peak.clone();
        tokio::spawn(async move {
            loop {
                let (now, _) = rss_mib(pid);
                rss_peak.fetch_max((now * 1024.0) as u64, Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        })
    };
    let start = Instant::now();
    for i in 0..total {
        let due = start + period.mul_f64(i as f64);
        tokio::time::sleep_until(due.into()).await;
        let request = if path == "/healthz" {
            client.get(&url)
        } else {
            client
                .post(&url)
                .header("content-type", "application/json")
                .body(bodies[i as usize % bodies.len()].clone())
        };
        let (tx, errors, first_error) = (tx.clone(), errors.clone(), first_error.clone());
        tokio::spawn(async move {
            let began = Instant::now();
            let outcome = match request.send().await {
                Ok(r) if r.status() == 200 => r.bytes().await.map_err(|e| e.to_string()),
                Ok(r) => Err(format!("HTTP {}", r.status())),
                Err(e) => Err(format!("{e:?}")),
            };
            let done = Instant::now();
            match outcome {
                Ok(_) => {
                    let _ = tx.send((
                        (done - began).as_micros() as u64,
                        (done - due).as_micros() as u64,
                    ));
                }
                Err(e) => {
                    errors.fetch_add(1, Ordering::Relaxed);
                    first_error.lock().unwrap().get_or_insert(e);
                }
            }
        });
    }
    drop(tx);
    let mut latencies_us = Vec::with_capacity(total as usize);
    let mut late_us = Vec::with_capacity(total as usize);
    while let Some((l, late)) = rx.recv().await {
        latencies_us.push(l);
        late_us.push(late);
    }
    let elapsed = start.elapsed();
    sampling.abort();
    latencies_us.sort_unstable();
    late_us.sort_unstable();
    let (_, peak_since_start) = rss_mib(pid);
    let sampled = rss_peak.load(Ordering::Relaxed) as f64 / 1024.0;
    let first_error = first_error.lock().unwrap().take();
    Phase {
        path,
        rate,
        sent: total,
        latencies_us,
        late_us,
        errors: errors.load(Ordering::Relaxed),
        first_error,
        elapsed,
        rss_peak_mib: sampled.max(if sampled > 0.0 { 0.0 } else { peak_since_start }),
        cpu_seconds: cpu_seconds(pid) - cpu_before,
    }
}

fn main() {
    let rates: Vec<u64> = std::env::var("REDLINE_LOAD_RATES")
        .unwrap_or_else(|_| "500,2000,5000".into())
        .split(',')
        .map(|r| r.trim().parse().expect("REDLINE_LOAD_RATES: numbers"))
        .collect();
    let seconds: u64 = env_or("REDLINE_LOAD_SECONDS", 30);
    let http: u8 = env_or("REDLINE_LOAD_HTTP", 2);
    let dir = std::env::temp_dir().join(format!("redline-load-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    // Per-review log lines stay on, as in production (`REDLINE_LOAD_LOG=warn` turns them off).
    let log = std::env::var("REDLINE_LOAD_LOG").unwrap_or_else(|_| "info".into());
    let server = Server::start(&dir, &["--lookups", "off"], &[("REDLINE_LOG", &log)], None);
    let builder = reqwest::Client::builder().pool_max_idle_per_host(usize::MAX);
    let builder = if http == 1 {
        builder.http1_only()
    } else {
        builder
    };
    let client = server.client_with(&[], builder);
    let bodies = bodies();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let (rss_idle, _) = rss_mib(server.pid());
    println!(
        "redline serve (release, lookups off) pid {}; client: HTTP/{http}, open loop, {seconds} s per phase; idle RSS {rss_idle:.1} MiB",
        server.pid()
    );
    println!(
        "| path | rate/s | sent | answered/s | errors | p50 ms | p99 ms | max ms | late p99 ms | server CPU | peak RSS MiB |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    let mut results = Vec::new();
    runtime.block_on(async {
        // Warm-up: connections, TLS sessions, first allocations.
        for i in 0..200 {
            let _ = client
                .post(server.url("/validate"))
                .body(bodies[i % bodies.len()].clone())
                .send()
                .await;
        }
        for &rate in &rates {
            for path in ["/healthz", "/validate"] {
                let p = run_phase(&client, &server, path, rate, seconds, &bodies).await;
                println!(
                    "| `{}` | {} | {} | {:.0} | {} | {:.3} | {:.3} | {:.3} | {:.3} | {:.0}% | {:.1} |",
                    p.path,
                    p.rate,
                    p.sent,
                    p.latencies_us.len() as f64 / p.elapsed.as_secs_f64(),
                    p.errors,
                    percentile(&p.latencies_us, 0.50),
                    percentile(&p.latencies_us, 0.99),
                    percentile(&p.latencies_us, 1.0),
                    percentile(&p.late_us, 0.99),
                    100.0 * p.cpu_seconds / p.elapsed.as_secs_f64(),
                    p.rss_peak_mib,
                );
                if let Some(e) = &p.first_error {
                    println!("  first error: {e}");
                }
                results.push(p);
            }
        }
    });
    let (_, hwm) = rss_mib(server.pid());
    println!("server peak RSS over the whole run (VmHWM): {hwm:.1} MiB (target < 64 MiB)");
    for pair in results.chunks(2) {
        let [health, validate] = pair else { continue };
        let (h99, v99) = (
            percentile(&health.latencies_us, 0.99),
            percentile(&validate.latencies_us, 0.99),
        );
        println!(
            "{}/s: /validate p99 {v99:.3} ms = {:.2}× /healthz p99 {h99:.3} ms (targets: ≤ 1 ms at 2000/s, ≤ 2×)",
            validate.rate,
            v99 / h99
        );
    }
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);
}

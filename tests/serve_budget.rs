//! The webhook's review budget under attack (issue 21): 16 concurrent reviews of the largest
//! StatefulSet the API server accepts, against a server with the manifests' budget. Every
//! review is answered (judged, or not judged as the failure policy says) near its deadline,
//! memory stays below the manifests' limit, `/healthz` keeps answering, and once the answers
//! are out (or the clients gone) the process is idle: no review runs on after its request.
//! The figures are printed (`--show-output`) and recorded in BENCHMARKS.md.

mod common;
#[path = "common/server.rs"]
mod server;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use common::scratch;
use serde_json::Value;
use server::{Server, tokio};

/// `manifests/base/deployment.yaml`'s memory limit; the server gets the budget
/// `ReviewLimits::detect` derives from it in a pod.
const LIMIT_MIB: u64 = 512;
const DEADLINE_MS: u64 = 1500;
const REVIEWS: usize = 16;

fn status_kib(pid: i32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim().strip_suffix("kB"))
        .map(|v| v.trim().parse().unwrap())
        .unwrap()
}

/// CPU seconds the process has used (user + system).
fn cpu_seconds(pid: i32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    // Fields after the command name (which may hold spaces) in parentheses.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .unwrap()
        .1
        .split_whitespace()
        .collect();
    let ticks: f64 = fields[11].parse::<f64>().unwrap() + fields[12].parse::<f64>().unwrap();
    // SAFETY: sysconf has no preconditions.
    ticks / unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64
}

/// CPU the process uses over one second, once the work should be over.
fn idle_cpu(pid: i32) -> f64 {
    let before = cpu_seconds(pid);
    std::thread::sleep(Duration::from_secs(1));
    cpu_seconds(pid) - before
}

/// The tests measure the server's CPU and memory: one at a time.
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

#[test]
fn sixteen_maximal_reviews_stay_within_memory_and_deadline_and_healthz_answers() {
    let _alone = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let dir = scratch("budget-sixteen");
    let budget_mib = redline::webhook::limits::memory_budget_for(Some(LIMIT_MIB << 20), None) >> 20;
    let server = Server::start(
        &dir,
        &[
            "--lookups",
            "off",
            "--review-deadline-ms",
            &DEADLINE_MS.to_string(),
            "--review-concurrency",
            "2",
            "--review-memory-mib",
            &budget_mib.to_string(),
        ],
        &[],
        None,
    );
    let pid = server.pid();
    let body = common::maximal_review();
    let rt = tokio();
    let (answers, healthz) = rt.block_on(async {
        let client = server.client();
        // /healthz every 20 ms while the reviews run.
        let done = Arc::new(AtomicBool::new(false));
        let probe = tokio::spawn({
            let client = client.clone();
            let url = server.url("/healthz");
            let done = done.clone();
            async move {
                let mut latencies = Vec::new();
                while !done.load(Ordering::Relaxed) {
                    let sent = Instant::now();
                    let r = client.get(&url).send().await.unwrap();
                    assert_eq!(r.status(), 200);
                    latencies.push(sent.elapsed());
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                latencies
            }
        });
        let reviews: Vec<_> = (0..REVIEWS)
            .map(|_| {
                let client = client.clone();
                let url = server.url("/mutate");
                let body = body.clone();
                tokio::spawn(async move {
                    let sent = Instant::now();
                    let r = client
                        .post(&url)
                        .header("content-type", "application/json")
                        .body(body)
                        .send()
                        .await
                        .unwrap();
                    assert_eq!(r.status(), 200);
                    let answer: Value = r.json().await.unwrap();
                    (sent.elapsed(), answer)
                })
            })
            .collect();
        let mut answers = Vec::new();
        for r in reviews {
            answers.push(r.await.unwrap());
        }
        done.store(true, Ordering::Relaxed);
        (answers, probe.await.unwrap())
    });
    let peak_mib = status_kib(pid, "VmHWM:") / 1024;
    let slowest = answers.iter().map(|(t, _)| *t).max().unwrap();
    let mut healthz_sorted = healthz.clone();
    healthz_sorted.sort();
    let healthz_max = *healthz_sorted.last().unwrap();
    let healthz_p99 = healthz_sorted[healthz_sorted.len() * 99 / 100];
    let judged = answers
        .iter()
        .filter(|(_, a)| a["response"]["patch"].is_string())
        .count();
    let why = |what: &str| {
        answers
            .iter()
            .filter(|(_, a)| {
                a["response"]["warnings"][0]
                    .as_str()
                    .is_some_and(|w| w.contains(what))
            })
            .count()
    };
    let (busy, deadline) = (why("busy with other reviews"), why("did not finish within"));
    println!(
        "{REVIEWS} reviews of {} bytes: {judged} judged, {busy} busy, {deadline} cut at the deadline; slowest answer {:?}; \
         peak RSS {peak_mib} MiB (limit {LIMIT_MIB} MiB, review budget {budget_mib} MiB); \
         /healthz {} probes, p99 {:?}, max {:?}",
        body.len(),
        slowest,
        healthz.len(),
        healthz_p99,
        healthz_max
    );
    assert_eq!(judged + busy + deadline, REVIEWS);
    for (_, a) in &answers {
        let r = &a["response"];
        assert_eq!(r["uid"], "uid-max");
        assert_eq!(r["allowed"], true, "{r}");
        if !r["patch"].is_string() {
            let warning = r["warnings"][0].as_str().unwrap();
            assert!(warning.starts_with("redline: not judged: "), "{warning}");
        }
    }
    // Every answer within the deadline, plus what the deadline does not count (sending
    // 16 × 1.6 MB over TLS) and what no check can cut short (parsing a body, building its
    // tree): 1.5–1.8 s in release, up to 2.8 s in a debug build; the slack is for a busy
    // machine. Before the budget, one such review took minutes.
    assert!(
        slowest < Duration::from_millis(DEADLINE_MS + 5000),
        "slowest {slowest:?}"
    );
    assert!(peak_mib < LIMIT_MIB, "peak RSS {peak_mib} MiB");
    // The liveness probe's timeout is 3 s; /healthz is answered by workers no review runs
    // on. 100 ms is the goal BENCHMARKS.md records against; the test allows a busy machine.
    assert!(
        healthz_max < Duration::from_secs(1),
        "healthz max {healthz_max:?}"
    );
    assert!(healthz.len() >= 10, "{} probes", healthz.len());
    // The metrics count every one, judged or not.
    let metrics = rt.block_on(server.metrics(&server.client()));
    let counted: u64 = metrics
        .lines()
        .filter(|l| {
            l.starts_with("redline_admission_reviews_total{") && l.contains("hook=\"mutate\"")
        })
        .filter_map(|l| l.rsplit(' ').next()?.parse::<u64>().ok())
        .sum();
    assert_eq!(counted, REVIEWS as u64, "{metrics}");
    // Nothing runs on after the answers.
    let idle = idle_cpu(pid);
    assert!(
        idle < 0.3,
        "{idle} CPU seconds in the second after the answers"
    );
}

#[test]
fn reviews_whose_clients_went_away_stop() {
    let _alone = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let dir = scratch("budget-gone");
    // A deadline far away: only the client going away can stop these reviews.
    let server = Server::start(
        &dir,
        &[
            "--lookups",
            "off",
            "--review-deadline-ms",
            "600000",
            "--review-concurrency",
            "2",
        ],
        &[],
        None,
    );
    let pid = server.pid();
    let body = common::maximal_review();
    let rt = tokio();
    rt.block_on(async {
        let client = server.client();
        // Six at once (three rounds of two slots): the first ones are being judged, the
        // rest wait for a slot, when their clients give up.
        let gone: Vec<_> = (0..6)
            .map(|_| {
                let request = client
                    .post(server.url("/mutate"))
                    .header("content-type", "application/json")
                    .body(body.clone())
                    .send();
                tokio::time::timeout(Duration::from_millis(300), request)
            })
            .collect();
        for r in futures::future::join_all(gone).await {
            assert!(r.is_err(), "answered within 300 ms: {r:?}");
        }
    });
    // The reviews were running when their clients gave up; they stop at their next check.
    std::thread::sleep(Duration::from_millis(500));
    let idle = idle_cpu(pid);
    assert!(
        idle < 0.3,
        "{idle} CPU seconds a second after the clients left"
    );
}

/// A KubeBlocks Cluster of 5,000 tiny components (200 KB): each becomes a whole server model,
/// about 20 KB of heap, far past what the body's size predicts. The binary counts its heap
/// and stops the review at its reservation.
#[test]
fn a_review_that_outgrows_its_reservation_is_stopped() {
    let _alone = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let dir = scratch("budget-outgrown");
    let server = Server::start(
        &dir,
        &["--lookups", "off", "--review-deadline-ms", "600000"],
        &[],
        None,
    );
    let specs: Vec<Value> = (0..5000)
        .map(|i| serde_json::json!({"name": format!("r{i}"), "componentDef": "redis-7"}))
        .collect();
    let cluster = serde_json::json!({
        "apiVersion": "apps.kubeblocks.io/v1", "kind": "Cluster",
        "metadata": {"name": "c", "namespace": "web"},
        "spec": {"componentSpecs": specs}
    });
    let body = redline::webhook::review::request_for("uid-big", "CREATE", &cluster, None);
    let answer: Value = tokio().block_on(async {
        let r = server
            .client()
            .post(server.url("/validate"))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        r.json().await.unwrap()
    });
    let r = &answer["response"];
    assert_eq!(
        (r["uid"].as_str(), r["allowed"].as_bool()),
        (Some("uid-big"), Some(true))
    );
    let warning = r["warnings"][0].as_str().unwrap();
    assert!(
        warning.starts_with("redline: not judged: judging the object took more than the")
            && warning.contains("MiB of memory reserved for it"),
        "{warning}"
    );
    let logs = server.logs_when("the review", |logs| {
        logs.iter().any(|l| l["uid"] == "uid-big")
    });
    let line = logs.iter().find(|l| l["uid"] == "uid-big").unwrap();
    assert_eq!(line["decision"], "over_budget");
}

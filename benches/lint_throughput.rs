//! Lint throughput: `tests/corpus` replicated to at least 50 MB (`REDLINE_BENCH_MB`),
//! linted as one input (so the cross-object linking runs at that size), against plain YAML
//! parses of the same bytes in the same run:
//!
//! - `yaml_serde::Value`: what a serde_yaml user's linter does before any rule (the baseline
//!   the target is judged against);
//! - saphyr-parser events: the tokenizer alone, no tree — a floor no linter can beat.
//!
//! Each figure is the median of `REDLINE_BENCH_RUNS` (default 5) runs, single-threaded, texts
//! already in memory. The CLI's end-to-end figure (parallel reading from memory, lint, JSON
//! report) follows. Run: `cargo bench --bench lint_throughput`.

mod common;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use redline::engine::Settings;
use redline::extract::Options;
use redline::source::{Limits, load_yaml};

fn median(mut runs: Vec<Duration>) -> Duration {
    runs.sort();
    runs[runs.len() / 2]
}

fn measure(runs: usize, mut f: impl FnMut() -> usize) -> (Duration, usize) {
    let mut times = Vec::new();
    let mut count = 0;
    for _ in 0..runs {
        let start = Instant::now();
        count = std::hint::black_box(f());
        times.push(start.elapsed());
    }
    (median(times), count)
}

fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let kb: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))?
        .trim()
        .trim_end_matches(" kB")
        .trim()
        .parse()
        .ok()?;
    Some(kb / 1024.0)
}

fn main() {
    let corpus = common::corpus();
    let corpus_bytes: usize = corpus.iter().map(|(_, t)| t.len()).sum();
    let target_mb: usize = std::env::var("REDLINE_BENCH_MB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(50);
    let runs: usize = std::env::var("REDLINE_BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5);
    let copies = (target_mb * 1_000_000).div_ceil(corpus_bytes);
    // Copies keep their object names (one repository with the same chart rendered into many
    // directories): linking by name costs the same as with distinct names.
    let inputs: Vec<(String, String)> = (0..copies)
        .flat_map(|k| {
            corpus
                .iter()
                .map(move |(n, t)| (format!("copy{k:04}/{n}"), t.clone()))
        })
        .collect();
    let bytes: usize = inputs.iter().map(|(_, t)| t.len()).sum();
    let mb = bytes as f64 / 1e6;
    println!(
        "input: {} files ({} corpus files × {copies}), {mb:.1} MB; median of {runs} runs",
        inputs.len(),
        corpus.len()
    );

    let limits = Limits::default();
    let settings = Settings::default();
    let options = Options::default();
    let mut objects = 0;
    let mut findings = 0;
    let mut lint = || {
        let sources = inputs
            .iter()
            .map(|(n, t)| load_yaml(n, t.clone(), &limits))
            .collect();
        let linted = redline::lint::lint(sources, &options, &settings);
        objects = linted.inventory.objects.len();
        findings = linted.outcome.findings.len();
        objects
    };
    // `REDLINE_BENCH_ONLY=lint`: the lint phase alone, for a profiler.
    if std::env::var("REDLINE_BENCH_ONLY").is_ok_and(|v| v == "lint") {
        let (t, n) = measure(runs, &mut lint);
        println!("lint: {:.3} s, {n} objects", t.as_secs_f64());
        return;
    }
    let (lint_time, _) = measure(runs, &mut lint);

    let (serde_time, serde_docs) = measure(runs, || {
        inputs.iter().map(|(_, t)| common::serde_parse(t)).sum()
    });
    let (events_time, events) = measure(runs, || {
        inputs.iter().map(|(_, t)| common::saphyr_events(t)).sum()
    });
    let (load_time, _) = measure(runs, || {
        inputs
            .iter()
            .map(|(n, t)| load_yaml(n, t.clone(), &limits).documents.len())
            .sum()
    });

    // End to end as `redline lint --format json` does it, from files on disk.
    let dir = std::env::temp_dir().join(format!("redline-bench-{}", std::process::id()));
    let files: Vec<PathBuf> = inputs
        .iter()
        .map(|(n, t)| {
            let p = dir.join(n);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(&p, t).unwrap();
            p
        })
        .collect();
    let (cli_time, report_bytes) = measure(runs, || {
        let sources = redline::input::read_all(&files, &limits).unwrap();
        let linted = redline::lint::lint(sources, &options, &settings);
        let report = redline::report::Report::new(&linted);
        redline::report::json::render(&report).len()
    });
    let _ = std::fs::remove_dir_all(&dir);

    let rate = |t: Duration| mb / t.as_secs_f64();
    let row = |name: &str, t: Duration, what: String| {
        println!(
            "{name:<44} {:>8.3} s {:>8.1} MB/s  {what}",
            t.as_secs_f64(),
            rate(t)
        );
    };
    row(
        "yaml_serde::Value parse (baseline)",
        serde_time,
        format!("{serde_docs} documents"),
    );
    row(
        "saphyr-parser events only (floor)",
        events_time,
        format!("{events} events"),
    );
    row(
        "redline load (span-aware YAML) only",
        load_time,
        String::new(),
    );
    row(
        "redline lint, 1 thread (load+model+rules)",
        lint_time,
        format!(
            "{objects} objects, {:.0} objects/s, {findings} findings",
            objects as f64 / lint_time.as_secs_f64()
        ),
    );
    row(
        "redline lint --format json, files, parallel",
        cli_time,
        format!(
            "{:.0} objects/s, {:.1} MB of report",
            objects as f64 / cli_time.as_secs_f64(),
            report_bytes as f64 / 1e6
        ),
    );
    println!(
        "lint / yaml_serde parse throughput: {:.0}% (target ≥ 50%); lint / events: {:.0}%",
        100.0 * serde_time.as_secs_f64() / lint_time.as_secs_f64(),
        100.0 * events_time.as_secs_f64() / lint_time.as_secs_f64()
    );
    if let Some(rss) = peak_rss_mib() {
        println!("peak RSS of the benchmark process: {rss:.0} MiB");
    }
}

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

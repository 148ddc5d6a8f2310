//! How cost grows with the size of one input (issue 21): a `/mutate` review of a StatefulSet
//! with N containers, `fix` of one file holding N objects, and the human and SARIF reports
//! of a one-line JSON with N findings. Each step doubles N; a linear cost doubles the time. Medians of
//! `REDLINE_BENCH_RUNS` (default 3) runs, single-threaded, inputs in memory.
//! Run: `cargo bench --bench scaling`.

use std::time::{Duration, Instant};

use redline::engine::Settings;
use redline::extract::Options;
use redline::source::{Limits, load_yaml};
use redline::webhook::review::{Hook, Policy, request_for, review};
use serde_json::Value;

fn median(mut f: impl FnMut()) -> Duration {
    let runs: usize = std::env::var("REDLINE_BENCH_RUNS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(3);
    let mut times: Vec<Duration> = (0..runs)
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed()
        })
        .collect();
    times.sort();
    times[times.len() / 2]
}

/// The fixture's StatefulSet with its container repeated `n` times under new names.
fn statefulset(n: usize) -> Value {
    let text = include_str!("../tests/fixtures/serve/statefulset.json");
    let mut object: Value = serde_json::from_str(text).unwrap();
    let container = object["spec"]["template"]["spec"]["containers"][0].clone();
    let containers: Vec<Value> = (0..n)
        .map(|i| {
            let mut c = container.clone();
            c["name"] = Value::String(format!("redis-{i}"));
            c
        })
        .collect();
    object["spec"]["template"]["spec"]["containers"] = Value::Array(containers);
    object
}

fn row(what: &str, n: usize, took: Duration, previous: &mut Option<Duration>) {
    let ratio = previous.map_or(String::new(), |p| {
        format!("{:.2}×", took.as_secs_f64() / p.as_secs_f64())
    });
    println!("| {what} | {n} | {:.3} s | {ratio} |", took.as_secs_f64());
    *previous = Some(took);
}

fn main() {
    println!("| what | N | time | vs N/2 |\n|---|---:|---:|---:|");
    let mut previous = None;
    for n in [200, 400, 800, 1600] {
        let object = statefulset(n);
        let body = serde_json::to_vec(&request_for("uid", "CREATE", &object, None)).unwrap();
        let took = median(|| {
            std::hint::black_box(review(
                &body,
                Hook::Mutate,
                &Policy::default(),
                &redline::webhook::lookups::NoLookups,
            ))
            .unwrap();
        });
        row(
            &format!(
                "`/mutate`, StatefulSet of N containers ({} KB)",
                body.len() / 1024
            ),
            n,
            took,
            &mut previous,
        );
    }
    let mut previous = None;
    let object = serde_json::to_string(&statefulset(1)).unwrap();
    for n in [500, 1000, 2000, 4000] {
        let text: String = (0..n)
            .map(|i| object.replace("\"name\":\"cache\"", &format!("\"name\":\"cache-{i}\"")))
            .collect::<Vec<_>>()
            .join("\n---\n");
        let rules: [String; 0] = [];
        let took = median(|| {
            let source = load_yaml("many.yaml", text.clone(), &Limits::default());
            std::hint::black_box(redline::fix::fix(
                vec![source],
                &Options::default(),
                &Settings::default(),
                &redline::fix::FixOptions::new(&rules),
                &Limits::default(),
            ));
        });
        row(
            &format!("`fix`, one file of N objects ({} KB)", text.len() / 1024),
            n,
            took,
            &mut previous,
        );
    }
    for (format, name) in [
        (redline::report::Format::Human, "human"),
        (redline::report::Format::Sarif, "SARIF"),
    ] {
        report_rows(format, name);
    }
}

fn report_rows(format: redline::report::Format, name: &str) {
    let mut previous = None;
    for n in [200, 400, 800, 1600] {
        let text = serde_json::to_string(&statefulset(n)).unwrap();
        let took = median(|| {
            let source = load_yaml("one-line.json", text.clone(), &Limits::default());
            let linted =
                redline::lint::lint(vec![source], &Options::default(), &Settings::default());
            let report = redline::report::Report::new(&linted);
            std::hint::black_box(redline::report::render(
                &report,
                format,
                redline::report::Style {
                    color: false,
                    fail_on: None,
                },
            ));
        });
        row(
            &format!(
                "`lint`, {name} report of a one-line JSON of N containers ({} KB)",
                text.len() / 1024
            ),
            n,
            took,
            &mut previous,
        );
    }
}

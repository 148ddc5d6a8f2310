//! The webhook's memory budget admits a review by its estimated peak
//! ([`review_cost_bytes`]); this measures the real peak with a counting allocator over the
//! shapes that cost the most per byte, at the size the API server accepts, and fails if one
//! needs more than the estimate. One test in its own binary: the allocator counts every
//! thread, so nothing else may run meanwhile.

use std::time::{Duration, Instant};

use redline::budget::Budget;
use redline::heap::{Counting, reset_peak, thread_live, thread_peak};

use redline::webhook::limits::{json_values, review_cost_bytes};
use redline::webhook::lookups::NoLookups;
use redline::webhook::review::{Hook, Policy, request_for, review_within};
use serde_json::{Value, json};

#[global_allocator]
static ALLOCATOR: Counting<std::alloc::System> = Counting(std::alloc::System);

/// The API server's limit for a request (etcd's 1.5 MiB).
const OBJECT_BYTES: usize = 1536 * 1024;

fn statefulset() -> Value {
    serde_json::from_str(include_str!("fixtures/serve/statefulset.json")).unwrap()
}

/// `make(n)` grown until its JSON is about `OBJECT_BYTES`.
fn sized(make: impl Fn(usize) -> Value) -> Value {
    let one = serde_json::to_vec(&make(1000)).unwrap().len();
    let base = serde_json::to_vec(&make(0)).unwrap().len();
    let n = (OBJECT_BYTES - base) * 1000 / (one - base).max(1);
    make(n)
}

fn container(i: usize) -> Value {
    let mut c = statefulset()["spec"]["template"]["spec"]["containers"][0].clone();
    c["name"] = json!(format!("redis-{i}"));
    c
}

fn with_pod(f: impl Fn(&mut Value)) -> Value {
    let mut o = statefulset();
    f(&mut o["spec"]["template"]["spec"]);
    o
}

/// Whether a shape must be judged within its estimate, or is one no real object has (its
/// model outgrows any estimate from the body) and may be stopped by the memory check.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Expect {
    Judged,
    MayBeCut,
}

fn shapes() -> Vec<(&'static str, Expect, Value, Option<Value>)> {
    let containers = sized(|n| with_pod(|p| p["containers"] = (0..n).map(container).collect()));
    let args = sized(|n| {
        with_pod(|p| {
            let args: Vec<Value> = (0..n).map(|_| json!("a")).collect();
            p["containers"][0]["args"] = json!(args);
        })
    });
    let env = sized(|n| {
        with_pod(|p| {
            let env: Vec<Value> = (0..n)
                .map(|i| json!({"name": format!("E{i}"), "value": ""}))
                .collect();
            p["containers"][0]["env"] = json!(env);
        })
    });
    let labels = sized(|n| {
        let mut o = statefulset();
        let labels: serde_json::Map<String, Value> =
            (0..n).map(|i| (format!("{i}"), json!(""))).collect();
        o["metadata"]["labels"] = Value::Object(labels);
        o
    });
    let empty_arrays = sized(|n| {
        let mut o = statefulset();
        o["spec"]["x"] = json!((0..n).map(|_| json!([])).collect::<Vec<_>>());
        o
    });
    let nested = sized(|n| {
        let mut o = statefulset();
        let deep = (0..100).fold(json!(0), |v, _| json!([v]));
        o["spec"]["x"] = json!((0..n / 100).map(|_| deep.clone()).collect::<Vec<_>>());
        o
    });
    let redis_conf = |line: &'static str| {
        move |n: usize| {
            json!({
                "apiVersion": "v1", "kind": "ConfigMap",
                "metadata": {"name": "cache-config", "namespace": "web"},
                "data": {"redis.conf": line.repeat(n)}
            })
        }
    };
    let conf_lines = sized(redis_conf("save 1 1\n"));
    let conf_blank = sized(redis_conf("\n"));
    let conf_args = sized(redis_conf("user u on >p ~* +@all\n"));
    let config_maps = sized(|n| {
        let data: serde_json::Map<String, Value> = (0..n)
            .map(|i| (format!("k{i}.conf"), json!("maxmemory 1mb\n")))
            .collect();
        json!({
            "apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "cache-config", "namespace": "web"},
            "data": data
        })
    });
    let components = sized(|n| {
        let specs: Vec<Value> = (0..n)
            .map(|i| json!({"name": format!("r{i}"), "componentDef": "redis-7"}))
            .collect();
        json!({
            "apiVersion": "apps.kubeblocks.io/v1", "kind": "Cluster",
            "metadata": {"name": "c", "namespace": "web"},
            "spec": {"componentSpecs": specs}
        })
    });
    let half = |v: Value| {
        let n = serde_json::to_vec(&v).unwrap().len();
        assert!(n > OBJECT_BYTES / 2, "{n}");
        v
    };
    use Expect::*;
    vec![
        ("containers", Judged, containers.clone(), None),
        ("args of one character", Judged, args, None),
        ("env", Judged, env, None),
        ("labels", Judged, labels, None),
        ("empty arrays", Judged, empty_arrays, None),
        ("nested arrays", Judged, nested, None),
        ("redis.conf save lines", Judged, conf_lines, None),
        ("redis.conf blank lines", Judged, conf_blank, None),
        ("redis.conf user lines", Judged, conf_args, None),
        (
            "ConfigMap of tiny redis.conf files",
            MayBeCut,
            config_maps,
            None,
        ),
        ("KubeBlocks tiny components", MayBeCut, components, None),
        (
            "update: containers old and new",
            Judged,
            half(containers.clone()),
            Some(containers),
        ),
    ]
}

/// Peak heap of a review of `body` within `budget`, the body and the answer included (the
/// server holds both), and whether it was judged (not cut).
fn measure(body: &[u8], hook: Hook, policy: &Policy, budget: &Budget) -> (u64, bool) {
    reset_peak();
    let before = thread_live();
    let answer = review_within(body, hook, policy, &NoLookups, budget);
    let answer_bytes = answer.as_ref().map_or(0, |(v, _)| v.to_string().len());
    let judged = answer.is_ok_and(|(_, d)| !matches!(d.outcome, "over_budget" | "deadline"));
    let peak = (thread_peak() - before) as u64 + body.len() as u64 + answer_bytes as u64;
    (peak, judged)
}

/// The check interval: what a review may allocate between two budget checks once past its
/// reservation (one container, component or rule's work).
const OVERSHOOT_BYTES: u64 = 8 << 20;

#[test]
fn a_review_needs_no_more_than_its_estimate_and_is_stopped_when_it_would() {
    redline::heap::count_from_now();
    let policy = Policy {
        allow_legacy_updates: true,
        ..Policy::default()
    };
    let mut worst: (f64, &str) = (0.0, "");
    for (name, expect, object, old) in shapes() {
        let operation = if old.is_some() { "UPDATE" } else { "CREATE" };
        let body =
            serde_json::to_vec(&request_for("uid", operation, &object, old.as_ref())).unwrap();
        drop((object, old));
        let estimate = review_cost_bytes(&body);
        for hook in [Hook::Validate, Hook::Mutate] {
            // Unlimited, the shapes no real object has can take gigabytes: only bounded.
            let mut judged_within_estimate = false;
            if expect == Expect::Judged {
                let (peak, judged) = measure(&body, hook, &policy, &Budget::unlimited());
                let ratio = peak as f64 / estimate as f64;
                println!(
                    "{name:34} {hook:?}: body {:>8} B, {:>7} values, peak {:>10} B = {ratio:4.2} of the estimate {estimate:>10} B ({:.0} B per body byte)",
                    body.len(),
                    json_values(&body),
                    peak,
                    peak as f64 / body.len() as f64,
                );
                assert!(judged, "{name}: not judged");
                assert!(
                    peak <= estimate,
                    "{name} ({hook:?}): a review of {} bytes peaked at {peak} bytes, over the estimate of {estimate}",
                    body.len()
                );
                judged_within_estimate = true;
                if ratio > worst.0 {
                    worst = (ratio, name);
                }
            }
            // Within a budget of its estimate, no shape goes further than one check past it.
            let budget = Budget::new(Instant::now(), Duration::from_secs(3600), Some(estimate));
            let (bounded_peak, bounded_judged) = measure(&body, hook, &policy, &budget);
            println!(
                "{name:34} {hook:?} within its estimate of {estimate:>10} B: peak {bounded_peak:>10} B, judged {bounded_judged}"
            );
            assert!(
                bounded_peak <= estimate + OVERSHOOT_BYTES,
                "{name} ({hook:?}): peaked at {bounded_peak} bytes within a budget of {estimate}"
            );
            // What fits its estimate is never cut by it.
            if judged_within_estimate {
                assert!(
                    bounded_judged,
                    "{name} ({hook:?}) was cut within its estimate"
                );
            }
        }
    }
    println!("worst: {:.2} of the estimate ({})", worst.0, worst.1);
}

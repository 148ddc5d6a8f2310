//! Micro-benchmarks (divan): the corpus linted as one input against plain YAML parses of the
//! same bytes, and one admission review of each shape the webhook meets. Run:
//! `cargo bench --bench engine` (add `-- corpus` or `-- admission` for one group).
//! The 50 MB scale run is `benches/lint_throughput.rs`; the webhook under load over HTTPS
//! is `benches/load.rs`. Figures and the machine they came from: BENCHMARKS.md.

mod common;

use std::sync::LazyLock;

use divan::counter::{BytesCount, ItemsCount};
use divan::{Bencher, black_box};
use redline::engine::Settings;
use redline::extract::Options;
use redline::source::{Limits, load_yaml};
use redline::webhook::lookups::{LookupError, Related, Want};
use redline::webhook::review::{Hook, Policy, request_for, review};
use serde_json::Value;

fn main() {
    divan::main();
}

static CORPUS: LazyLock<Vec<(String, String)>> = LazyLock::new(common::corpus);

fn corpus_bytes() -> BytesCount {
    BytesCount::new(CORPUS.iter().map(|(_, t)| t.len()).sum::<usize>())
}

/// Lint (load + model + rules) of the whole corpus as one input, and what it is judged
/// against: the same bytes parsed to `yaml_serde::Value`s, and to bare parser events.
mod corpus {
    use super::*;

    fn lint_once() -> redline::lint::Linted {
        let limits = Limits::default();
        let sources = CORPUS
            .iter()
            .map(|(n, t)| load_yaml(n, t.clone(), &limits))
            .collect();
        redline::lint::lint(sources, &Options::default(), &Settings::default())
    }

    #[divan::bench]
    fn redline_lint(bencher: Bencher) {
        let objects = lint_once().inventory.objects.len();
        bencher
            .counter(corpus_bytes())
            .counter(ItemsCount::new(objects))
            .bench(lint_once);
    }

    #[divan::bench]
    fn redline_load_only(bencher: Bencher) {
        let limits = Limits::default();
        bencher.counter(corpus_bytes()).bench(|| {
            CORPUS
                .iter()
                .map(|(n, t)| load_yaml(n, t.clone(), &limits).documents.len())
                .sum::<usize>()
        });
    }

    #[divan::bench]
    fn yaml_serde_value_parse(bencher: Bencher) {
        bencher.counter(corpus_bytes()).bench(|| {
            CORPUS
                .iter()
                .map(|(_, t)| common::serde_parse(black_box(t)))
                .sum::<usize>()
        });
    }

    #[divan::bench]
    fn saphyr_events_only(bencher: Bencher) {
        bencher.counter(corpus_bytes()).bench(|| {
            CORPUS
                .iter()
                .map(|(_, t)| common::saphyr_events(black_box(t)))
                .sum::<usize>()
        });
    }
}

/// One review, body bytes in → response bytes out, as the server's handler does it (without
/// HTTP and TLS: those are `benches/load.rs`). Related objects come from memory, as from the
/// live caches.
mod admission {
    use super::*;

    /// The objects of an example file, by kind.
    fn example(path: &str, kind: &str) -> Value {
        let text =
            std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(path))
                .unwrap();
        text.split("\n---\n")
            .map(|doc| yaml_serde::from_str::<Value>(doc).unwrap())
            .find(|o| o["kind"] == kind)
            .unwrap()
    }

    /// Caches holding `objects`: every lookup answers with them (the review keeps those it
    /// wants), cloned as the live caches clone.
    struct Cached(Vec<Value>);

    impl Related for Cached {
        fn find(&self, _: &str, _: &Want) -> Result<Vec<Value>, LookupError> {
            Ok(self.0.clone())
        }
    }

    fn bench_review(bencher: Bencher, hook: Hook, object: Value, related: Vec<Value>) {
        let body = serde_json::to_vec(&request_for("bench", "CREATE", &object, None)).unwrap();
        let policy = Policy::default();
        let lookups = Cached(related);
        bencher.counter(BytesCount::of_slice(&body)).bench(|| {
            let (answer, _) = review(black_box(&body), hook, &policy, &lookups).unwrap();
            serde_json::to_vec(&answer).unwrap()
        });
    }

    const SEED: &str = "examples/kubeblocks-seed-incident.yaml";
    const PAIR: &str = "examples/statefulset-configmap.yaml";

    /// A KubeBlocks Cluster (v1, 16Gi requests / 32Gi limits), judged alone.
    #[divan::bench]
    fn kubeblocks_cluster_validate(bencher: Bencher) {
        bench_review(bencher, Hook::Validate, example(SEED, "Cluster"), vec![]);
    }

    #[divan::bench]
    fn kubeblocks_cluster_mutate(bencher: Bencher) {
        bench_review(bencher, Hook::Mutate, example(SEED, "Cluster"), vec![]);
    }

    /// The StatefulSet with the ConfigMap it mounts from the caches (denied: maxmemory =
    /// the limit, found in the ConfigMap).
    #[divan::bench]
    fn statefulset_with_configmap_validate(bencher: Bencher) {
        let related = vec![example(PAIR, "ConfigMap")];
        bench_review(
            bencher,
            Hook::Validate,
            example(PAIR, "StatefulSet"),
            related,
        );
    }

    #[divan::bench]
    fn statefulset_with_configmap_mutate(bencher: Bencher) {
        let related = vec![example(PAIR, "ConfigMap")];
        bench_review(bencher, Hook::Mutate, example(PAIR, "StatefulSet"), related);
    }

    /// The seed incident's Reconfiguring OpsRequest with its Cluster from the caches
    /// (denied: maxmemory = the Cluster's 32Gi limit).
    #[divan::bench]
    fn opsrequest_with_cluster_validate(bencher: Bencher) {
        let related = vec![example(SEED, "Cluster")];
        bench_review(
            bencher,
            Hook::Validate,
            example(SEED, "OpsRequest"),
            related,
        );
    }
}

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

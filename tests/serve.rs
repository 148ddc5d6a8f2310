//! `redline serve` end to end: the real binary on a loopback port, spoken to over real TLS by
//! a rustls client (reqwest with ring), as the API server would. Lookups are tested against
//! a *fake* API server (an axum app in this test that answers list and watch requests from
//! fixed objects), not a real cluster.

mod common;
#[path = "common/fake_api.rs"]
mod fake_api;
#[path = "common/server.rs"]
mod server;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde_json::{Value, json};

use common::{BIN, scratch};
use server::{Server, provider, tokio};

/// A StatefulSet running redis-server with `maxmemory` under a 1Gi limit, no readiness or
/// startup probe, a 1 s liveness timeout (the review unit tests' fixture), plus a user
/// annotation the mutating patch must keep.
fn statefulset(maxmemory: &str) -> Value {
    let mut v: Value = serde_json::from_slice(
        &std::fs::read(common::root().join("tests/fixtures/serve/statefulset.json")).unwrap(),
    )
    .unwrap();
    v["spec"]["template"]["spec"]["containers"][0]["args"][1] = json!(maxmemory);
    v["metadata"]["annotations"] = json!({"team": "a/b"});
    v
}

fn review(uid: &str, operation: &str, object: &Value) -> Value {
    redline::webhook::review::request_for(uid, operation, object, None)
}

async fn post(client: &reqwest::Client, url: &str, body: &Value) -> Value {
    let r = client.post(url).json(body).send().await.unwrap();
    assert_eq!(r.status(), 200);
    r.json().await.unwrap()
}

#[test]
fn validate_denies_and_warns_over_tls_echoing_the_uid() {
    let dir = scratch("serve-validate");
    let server = Server::start(&dir, &["--lookups", "off"], &[], None);
    tokio().block_on(async {
        let client = server.client();
        let url = server.url("/validate");
        let denied = post(&client, &url, &review("uid-deny-1", "CREATE", &statefulset("1gb"))).await;
        assert_eq!(denied["apiVersion"], "admission.k8s.io/v1");
        assert_eq!(denied["response"]["uid"], "uid-deny-1");
        assert_eq!(denied["response"]["allowed"], false);
        let message = denied["response"]["status"]["message"].as_str().unwrap();
        for part in [
            "[redis-maxmemory-headroom]",
            "/spec/template/spec/containers/0/args/1",
            "Fix: set maxmemory",
        ] {
            assert!(message.contains(part), "{part} not in {message}");
        }

        // The README's curl example says what this answers.
        let example: Value = serde_json::from_slice(
            &std::fs::read(common::root().join("tests/fixtures/serve/admission-review.json")).unwrap(),
        )
        .unwrap();
        let readme = std::fs::read_to_string(common::root().join("README.md")).unwrap();
        assert!(readme.contains("--data @tests/fixtures/serve/admission-review.json https://localhost:8443/validate"));
        let answer = post(&client, &url, &example).await;
        assert_eq!(answer["response"]["uid"], example["request"]["uid"]);
        assert_eq!(answer["response"]["allowed"], false);
        let message = answer["response"]["status"]["message"].as_str().unwrap();
        assert!(
            message.contains(
                "[redis-maxmemory-headroom] /spec/template/spec/containers/0/args/1: maxmemory \
                 1073741824 B (1.0 GiB) is 100% of the memory limit"
            ),
            "{message}"
        );

        let warned = post(&client, &url, &review("uid-warn-2", "CREATE", &statefulset("600mb"))).await;
        assert_eq!(warned["response"]["uid"], "uid-warn-2");
        assert_eq!(warned["response"]["allowed"], true);
        let warnings = warned["response"]["warnings"].as_array().unwrap();
        assert!(!warnings.is_empty());

        // The JSON log carries each review's uid and decision.
        let logs = server.logs_when("both reviews", |logs| {
            ["uid-deny-1", "uid-warn-2"]
                .iter()
                .all(|uid| logs.iter().any(|l| l["uid"] == *uid))
        });
        let line = |uid: &str| {
            logs.iter()
                .find(|l| l["uid"] == uid)
                .unwrap_or_else(|| panic!("no log line for {uid}: {logs:?}"))
                .clone()
        };
        assert_eq!(line("uid-deny-1")["decision"], "denied");
        assert_eq!(line("uid-deny-1")["message"], "review");
        for field in ["namespace", "name", "operation", "hook"] {
            assert!(line("uid-deny-1")[field].is_string(), "{field}");
        }
        assert!(line("uid-deny-1")["duration_us"].is_u64());
        // Names and counts, never the answer's text.
        assert_eq!(line("uid-deny-1")["denied"], 1);
        assert!(line("uid-deny-1").get("detail").is_none());
        assert!(
            line("uid-deny-1")["rules"]
                .as_str()
                .is_some_and(|d| d.split(',').any(|r| r == "redis-maxmemory-headroom")),
            "{:?}",
            line("uid-deny-1")
        );
        assert_eq!(line("uid-warn-2")["decision"], "warned");
        assert_eq!(line("uid-warn-2")["kind"], "StatefulSet");

        // A kind the webhook does not judge: allowed, and counted as `other` (a client must
        // not be able to create label values).
        let widget = json!({"apiVersion": "example.com/v1", "kind": "Widget-0001",
                            "metadata": {"name": "w", "namespace": "web"}});
        let r = post(&client, &url, &review("uid-widget", "CREATE", &widget)).await;
        assert_eq!(r["response"]["allowed"], true, "{r}");

        let metrics = server.metrics(&client).await;
        assert!(!metrics.contains("Widget-0001"), "{metrics}");
        assert!(metrics.contains(r#"kind="other""#), "{metrics}");
        for series in [
            r#"redline_admission_reviews_total{hook="validate",kind="StatefulSet",operation="CREATE",decision="denied"} 2"#,
            r#"redline_admission_reviews_total{hook="validate",kind="StatefulSet",operation="CREATE",decision="warned"} 1"#,
            r#"redline_admission_review_duration_seconds_count{hook="validate"} 4"#,
        ] {
            assert!(metrics.contains(series), "{series} not in\n{metrics}");
        }
        let expiry: f64 = metrics
            .lines()
            .find_map(|l| l.strip_prefix("redline_tls_certificate_expiry_seconds "))
            .unwrap()
            .parse()
            .unwrap();
        // The generated certificate is valid 30 days.
        assert!((29.0 * 86_400.0..=30.0 * 86_400.0).contains(&expiry), "{expiry}");
    });
}

#[test]
fn mutate_patch_is_base64_applies_and_a_patched_object_gets_none() {
    let dir = scratch("serve-mutate");
    let server = Server::start(&dir, &["--lookups", "off"], &[], None);
    tokio().block_on(async {
        let client = server.client();
        let url = server.url("/mutate");
        let object = statefulset("600mb");
        let r = client
            .post(&url)
            .json(&review("uid-m-1", "CREATE", &object))
            .send()
            .await
            .unwrap();
        // The raw bytes: the patch is a base64 string (kube-rs#1781), not a number array.
        let raw: Value = serde_json::from_slice(&r.bytes().await.unwrap()).unwrap();
        let response = &raw["response"];
        assert_eq!(response["uid"], "uid-m-1");
        assert_eq!(response["allowed"], true);
        assert_eq!(response["patchType"], "JSONPatch");
        let encoded = response["patch"].as_str().expect("patch is a string");
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(encoded)
            .unwrap();
        let patch: json_patch::Patch = serde_json::from_slice(&bytes).unwrap();
        let mut patched = object.clone();
        json_patch::patch(&mut patched, &patch).unwrap();
        // Probes added, the user's annotation kept next to redline's record.
        let container = &patched["spec"]["template"]["spec"]["containers"][0];
        assert!(container.get("readinessProbe").is_some(), "{patched}");
        assert_eq!(patched["metadata"]["annotations"]["team"], "a/b");
        assert!(
            patched["metadata"]["annotations"]["redline.dev/mutated"]
                .as_str()
                .unwrap()
                .contains("redis-readiness-probe-missing")
        );
        // Nothing the user wrote was removed.
        assert!(
            patch
                .0
                .iter()
                .all(|op| !matches!(op, json_patch::PatchOperation::Remove(_)))
        );

        let again = post(&client, &url, &review("uid-m-2", "CREATE", &patched)).await;
        assert_eq!(again["response"]["allowed"], true);
        assert!(again["response"].get("patch").is_none(), "{again}");
    });
}

#[test]
fn bad_requests_get_4xx_and_the_server_stays_healthy() {
    let dir = scratch("serve-bad");
    let server = Server::start(&dir, &["--lookups", "off"], &[], None);
    tokio().block_on(async {
        let client = server.client();
        let url = server.url("/validate");
        let cases: Vec<(&str, Vec<u8>, &str)> = vec![
            ("empty body", Vec::new(), "not JSON"),
            ("not JSON", b"kind: AdmissionReview".to_vec(), "not JSON"),
            (
                "wrong kind",
                br#"{"apiVersion":"v1","kind":"ConfigMap"}"#.to_vec(),
                "expected an AdmissionReview",
            ),
            (
                "v1beta1",
                br#"{"apiVersion":"admission.k8s.io/v1beta1","kind":"AdmissionReview","request":{}}"#
                    .to_vec(),
                "admission.k8s.io/v1",
            ),
            (
                "no request",
                br#"{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview"}"#.to_vec(),
                "no `request`",
            ),
        ];
        for (what, body, expected) in cases {
            let r = client
                .post(&url)
                .header("content-type", "application/json")
                .body(body)
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 400, "{what}");
            let v: Value = r.json().await.unwrap();
            let error = v["error"].as_str().unwrap();
            assert!(error.contains(expected), "{what}: {error}");
        }

        // 8 MiB, declared: refused before it is read.
        let big = vec![b' '; 8 * 1024 * 1024];
        let r = client.post(&url).body(big.clone()).send().await.unwrap();
        assert_eq!(r.status(), 413);
        // 8 MiB, streamed without a length: refused once 6 MiB have arrived.
        let chunks: Vec<Result<Vec<u8>, std::io::Error>> =
            big.chunks(64 * 1024).map(|c| Ok(c.to_vec())).collect();
        let r = client
            .post(&url)
            .body(reqwest::Body::wrap_stream(futures::stream::iter(chunks)))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 413);

        let r = client.get(server.url("/nope")).send().await.unwrap();
        assert_eq!(r.status(), 404);
        let r = client.get(&url).send().await.unwrap();
        assert_eq!(r.status(), 405);

        // Still healthy, still judging.
        let r = client.get(server.url("/healthz")).send().await.unwrap();
        assert_eq!(r.status(), 200);
        let ok = post(&client, &url, &review("uid-after", "CREATE", &statefulset("1gb"))).await;
        assert_eq!(ok["response"]["uid"], "uid-after");
        let metrics = server.metrics(&client).await;
        assert!(metrics.contains(r#"decision="bad_request"} 5"#), "{metrics}");
        assert!(metrics.contains(r#"decision="too_large"} 2"#), "{metrics}");
    });
}

/// Write a generated pair (CA trusted by the test) as PEM files; the CA's path.
fn write_pair(dir: &Path, tag: &str) -> (PathBuf, redline::webhook::tls::Generated) {
    provider();
    let names = ["localhost".to_string(), "127.0.0.1".to_string()];
    let g = redline::webhook::tls::generate(&names, 10, 10).unwrap();
    let ca = dir.join(format!("ca-{tag}.crt"));
    std::fs::write(&ca, &g.ca_cert_pem).unwrap();
    (ca, g)
}

fn leaf_der(pem: &str) -> Vec<u8> {
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject;
    CertificateDer::from_pem_slice(pem.as_bytes())
        .unwrap()
        .to_vec()
}

/// A server on pair `a` (files `cert`, `key`, re-read every `reload_seconds`), and a client
/// that trusts both CAs and makes a new connection, so a new handshake, for every request.
struct Rotation {
    server: Server,
    client: reqwest::Client,
    a: redline::webhook::tls::Generated,
    b: redline::webhook::tls::Generated,
    cert: PathBuf,
    key: PathBuf,
}

fn rotation(name: &str, reload_seconds: &str) -> Rotation {
    let dir = scratch(name);
    let (ca_a, a) = write_pair(&dir, "a");
    let (ca_b, b) = write_pair(&dir, "b");
    let (cert, key) = (dir.join("tls.crt"), dir.join("tls.key"));
    std::fs::write(&cert, &a.cert_pem).unwrap();
    std::fs::write(&key, &a.key_pem).unwrap();
    let server = Server::start(
        &dir,
        &[
            "--lookups",
            "off",
            "--tls-cert",
            cert.to_str().unwrap(),
            "--tls-key",
            key.to_str().unwrap(),
            "--tls-reload-seconds",
            reload_seconds,
        ],
        &[],
        Some(&ca_a),
    );
    let client = server.client_with(
        &[&ca_b],
        reqwest::Client::builder()
            .pool_max_idle_per_host(0)
            .tls_info(true),
    );
    Rotation {
        server,
        client,
        a,
        b,
        cert,
        key,
    }
}

#[test]
fn certificate_rotation_while_requests_run_fails_no_handshake() {
    let Rotation {
        server,
        client,
        a,
        b,
        cert,
        key,
    } = rotation("serve-rotate", "1");
    let (a_der, b_der) = (leaf_der(&a.cert_pem), leaf_der(&b.cert_pem));
    tokio().block_on(async {
        use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
        let stop = Arc::new(AtomicBool::new(false));
        // Requests answered so far, per loop: the test waits for events (requests served,
        // a reload counted), not for fixed times, so a slow machine only makes it slower.
        let answered: Arc<Vec<AtomicUsize>> =
            Arc::new((0..4).map(|_| AtomicUsize::new(0)).collect());
        let mut loops = Vec::new();
        for i in 0..4 {
            let client = client.clone();
            let url = server.url("/validate");
            let stop = stop.clone();
            let answered = answered.clone();
            loops.push(tokio::spawn(async move {
                let mut served: Vec<Vec<u8>> = Vec::new();
                let mut failures: Vec<String> = Vec::new();
                let mut n = 0;
                while !stop.load(Ordering::SeqCst) {
                    n += 1;
                    let body = review(&format!("rot-{i}-{n}"), "CREATE", &statefulset("600mb"));
                    match client.post(&url).json(&body).send().await {
                        Ok(r) if r.status() == 200 => {
                            let peer = r
                                .extensions()
                                .get::<reqwest::tls::TlsInfo>()
                                .and_then(|t| t.peer_certificate())
                                .map(<[u8]>::to_vec)
                                .unwrap_or_default();
                            served.push(peer);
                            answered[i].fetch_add(1, Ordering::SeqCst);
                        }
                        Ok(r) => failures.push(format!("status {}", r.status())),
                        Err(e) => failures.push(format!("{e:?}")),
                    }
                }
                (served, failures)
            }));
        }
        // Every loop has made `more` requests beyond `since` (its counts then).
        let progressed = |since: Vec<usize>, more: usize| {
            let answered = answered.clone();
            async move {
                let deadline = Instant::now() + Duration::from_secs(60);
                while answered
                    .iter()
                    .zip(&since)
                    .any(|(a, s)| a.load(Ordering::SeqCst) < s + more)
                {
                    assert!(Instant::now() < deadline, "the request loops stalled");
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            }
        };
        let counts =
            || -> Vec<usize> { answered.iter().map(|a| a.load(Ordering::SeqCst)).collect() };
        let metric = |line: &'static str| {
            let client = client.clone();
            let server = &server;
            async move {
                let deadline = Instant::now() + Duration::from_secs(60);
                loop {
                    if server.metrics(&client).await.contains(line) {
                        return;
                    }
                    assert!(Instant::now() < deadline, "no `{line}` within 60 s");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }
        };
        progressed(vec![0; 4], 3).await;
        // Half a rotation: the new certificate next to the old key. It must not be served
        // (it does not load), and nothing may fail meanwhile. Each file is replaced by a
        // rename, as the kubelet updates a Secret volume, so a poll never reads half a file.
        replace(&cert, &b.cert_pem);
        metric(r#"redline_tls_reloads_total{result="error"} 1"#).await;
        progressed(counts(), 3).await;
        replace(&key, &b.key_pem);
        metric(r#"redline_tls_reloads_total{result="ok"} 1"#).await;
        // Every loop's next handshakes meet the new certificate.
        progressed(counts(), 3).await;
        stop.store(true, Ordering::SeqCst);
        let mut served = Vec::new();
        for l in loops {
            let (s, failures) = l.await.unwrap();
            assert!(
                failures.is_empty(),
                "requests failed during rotation: {failures:?}"
            );
            assert_eq!(s.first(), Some(&a_der));
            assert_eq!(s.last(), Some(&b_der), "the new certificate is served");
            served.extend(s);
        }
        assert!(served.iter().all(|c| *c == a_der || *c == b_der));

        let metrics = server.metrics(&client).await;
        assert!(
            metrics.contains(r#"redline_tls_reloads_total{result="ok"} 1"#),
            "{metrics}"
        );
        assert!(
            metrics.contains(r#"redline_tls_reloads_total{result="error"} 1"#),
            "{metrics}"
        );
    });
    server.logs_when("the new certificate", |logs| {
        logs.iter()
            .any(|l| l["message"] == "serving a new certificate")
    });
}

/// SIGHUP re-reads the certificate at once, whatever the reload interval.
#[test]
fn sighup_reloads_the_certificate() {
    let Rotation {
        server,
        client,
        b,
        cert,
        key,
        ..
    } = rotation("serve-sighup", "3600");
    replace(&key, &b.key_pem);
    replace(&cert, &b.cert_pem);
    // SAFETY: kill(2) on our own child's pid.
    assert_eq!(unsafe { libc::kill(server.pid(), libc::SIGHUP) }, 0);
    tokio().block_on(async {
        let deadline = Instant::now() + Duration::from_secs(60);
        while !server
            .metrics(&client)
            .await
            .contains(r#"redline_tls_reloads_total{result="ok"} 1"#)
        {
            assert!(Instant::now() < deadline, "no reload after SIGHUP");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let r = client.get(server.url("/healthz")).send().await.unwrap();
        let peer = r
            .extensions()
            .get::<reqwest::tls::TlsInfo>()
            .and_then(|t| t.peer_certificate())
            .map(<[u8]>::to_vec);
        assert_eq!(peer, Some(leaf_der(&b.cert_pem)));
    });
}

/// Replace `path` by a rename of a file written beside it.
fn replace(path: &Path, text: &str) {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, text).unwrap();
    std::fs::rename(&tmp, path).unwrap();
}

#[test]
fn sigterm_finishes_in_flight_reviews_and_exits_within_ten_seconds() {
    let dir = scratch("serve-sigterm");
    let mut server = Server::start(&dir, &["--lookups", "off"], &[], None);
    let client = server.client();
    let fresh = server.client_with(&[], reqwest::Client::builder().pool_max_idle_per_host(0));
    let rt = tokio();
    let url = server.url("/validate");
    // Reviews whose bodies arrive slowly: in flight when the signal comes.
    let slow: Vec<_> = (0..3)
        .map(|i| {
            let body =
                serde_json::to_vec(&review(&format!("slow-{i}"), "CREATE", &statefulset("1gb")))
                    .unwrap();
            let chunks: Vec<Vec<u8>> = body
                .chunks(body.len() / 8 + 1)
                .map(<[u8]>::to_vec)
                .collect();
            let stream = futures::stream::unfold(chunks.into_iter(), |mut it| async move {
                let next = it.next()?;
                tokio::time::sleep(Duration::from_millis(250)).await;
                Some((Ok::<_, std::io::Error>(next), it))
            });
            let request = client
                .post(&url)
                .header("content-type", "application/json")
                .body(reqwest::Body::wrap_stream(stream));
            rt.spawn(async move {
                let r = request.send().await.map_err(|e| format!("{e:?}"))?;
                let status = r.status();
                let v: Value = r.json().await.map_err(|e| format!("{e:?}"))?;
                Ok::<_, String>((status, v))
            })
        })
        .collect();
    // Fast reviews on fresh connections, before and after the signal: each is answered, or
    // its connection is refused (a connect error the client can retry); none is cut off
    // after the server took it.
    let fast = {
        let url = url.clone();
        rt.spawn(async move {
            let (mut ok, mut refused, mut dropped) = (0, 0, Vec::new());
            let deadline = Instant::now() + Duration::from_secs(4);
            while Instant::now() < deadline {
                let body = review("fast", "CREATE", &statefulset("600mb"));
                match fresh.post(&url).json(&body).send().await {
                    Ok(r) if r.status() == 200 => ok += 1,
                    Err(e) if e.is_connect() => refused += 1,
                    other => dropped.push(format!("{other:?}")),
                }
            }
            (ok, refused, dropped)
        })
    };
    std::thread::sleep(Duration::from_millis(700));
    let (status, took) = server.terminate();
    assert!(status.success(), "{status}");
    assert!(took < Duration::from_secs(10), "exit took {took:?}");
    rt.block_on(async {
        for (i, s) in slow.into_iter().enumerate() {
            let (status, v) = s
                .await
                .unwrap()
                .unwrap_or_else(|e| panic!("slow-{i} dropped: {e}"));
            assert_eq!(status, 200);
            assert_eq!(v["response"]["uid"], format!("slow-{i}"));
            assert_eq!(v["response"]["allowed"], false);
        }
        let (ok, refused, dropped) = fast.await.unwrap();
        assert!(ok > 0 && refused > 0, "{ok} answered, {refused} refused");
        assert!(dropped.is_empty(), "{dropped:?}");
    });
    let logs = server.logs_when("\"stopped\"", |logs| {
        logs.iter().any(|l| l["message"] == "stopped")
    });
    assert!(logs.iter().any(|l| l["signal"] == "SIGTERM"), "{logs:?}");
}

fn yaml_objects(path: &str) -> Vec<Value> {
    let text = std::fs::read_to_string(common::root().join(path)).unwrap();
    text.split("\n---\n")
        .map(|doc| yaml_serde::from_str::<Value>(doc).unwrap())
        .collect()
}

fn of_kind(objects: &[Value], kind: &str) -> Value {
    objects.iter().find(|o| o["kind"] == kind).unwrap().clone()
}

#[test]
fn lookups_judge_objects_with_their_relatives_from_a_fake_api_server() {
    let dir = scratch("serve-lookups");
    let workload = yaml_objects("examples/statefulset-configmap.yaml");
    let seed = yaml_objects("examples/kubeblocks-seed-incident.yaml");
    let (config_map, statefulset) = (
        of_kind(&workload, "ConfigMap"),
        of_kind(&workload, "StatefulSet"),
    );
    let (mut cluster, reconfigure) = (of_kind(&seed, "Cluster"), of_kind(&seed, "OpsRequest"));
    cluster["status"] = json!({"phase": "Updating"});
    // Issue 27's families: a KubeDB Redis whose inline maxmemory a VerticalScaling leaves at
    // the new limit, and a Redis Enterprise cluster of 3 × 2Gi nodes.
    let kubedb = json!({"apiVersion": "kubedb.com/v1", "kind": "Redis",
        "metadata": {"name": "rd", "namespace": "default"},
        "spec": {"version": "7.2.6",
                 "configuration": {"inline": {"redis.conf": "maxmemory 600mb\n"}},
                 "podTemplate": {"spec": {"containers": [{"name": "redis",
                     "resources": {"limits": {"memory": "2Gi"}}}]}}}});
    let rec = json!({"apiVersion": "app.redislabs.com/v1alpha1", "kind": "RedisEnterpriseCluster",
        "metadata": {"name": "rec", "namespace": "default"},
        "spec": {"nodes": 3, "redisEnterpriseNodeResources": {
            "requests": {"cpu": "2", "memory": "2Gi"}, "limits": {"cpu": "2", "memory": "2Gi"}}}});
    // A ConfigMap created after the caches synced: it reaches them as a watch event.
    let mut late_config = config_map.clone();
    late_config["metadata"]["name"] = json!("late-config");
    late_config["metadata"]["resourceVersion"] = json!("8");
    let mut late = statefulset.clone();
    late["metadata"]["name"] = json!("late");
    for volume in late["spec"]["template"]["spec"]["volumes"]
        .as_array_mut()
        .unwrap()
    {
        if volume.get("configMap").is_some() {
            volume["configMap"]["name"] = json!("late-config");
        }
    }
    let rt = tokio();
    let mut fake = fake_api::Fake {
        watch_events: [(
            "/api/v1/configmaps".to_string(),
            vec![json!({"type": "ADDED", "object": late_config})],
        )]
        .into(),
        lists: [
            ("/api/v1/configmaps", vec![config_map.clone()]),
            ("/apis/apps/v1/statefulsets", vec![statefulset.clone()]),
            ("/apis/apps/v1/deployments", vec![]),
            ("/apis/apps.kubeblocks.io/v1/clusters", vec![cluster]),
            (
                "/apis/parameters.kubeblocks.io/v1alpha1/componentparameters",
                vec![],
            ),
            ("/apis/kubedb.com/v1/redises", vec![kubedb.clone()]),
            (
                "/apis/app.redislabs.com/v1alpha1/redisenterpriseclusters",
                vec![rec.clone()],
            ),
            (
                "/apis/app.redislabs.com/v1alpha1/redisenterprisedatabases",
                vec![],
            ),
        ]
        .into_iter()
        .map(|(p, items)| (p.to_string(), items))
        .collect(),
        failing: vec!["/apis/policy/v1/poddisruptionbudgets".into()],
        ..Default::default()
    };
    fake.serve_group("apps.kubeblocks.io", "v1", &[("clusters", "Cluster")]);
    fake.serve_group(
        "parameters.kubeblocks.io",
        "v1alpha1",
        &[("componentparameters", "ComponentParameter")],
    );
    fake.serve_group("kubedb.com", "v1", &[("redises", "Redis")]);
    fake.serve_group(
        "app.redislabs.com",
        "v1alpha1",
        &[
            ("redisenterpriseclusters", "RedisEnterpriseCluster"),
            ("redisenterprisedatabases", "RedisEnterpriseDatabase"),
        ],
    );
    let (addr, fake) = rt.block_on(fake_api::start(fake));
    let kubeconfig = fake_api::kubeconfig(&dir, addr, "default");
    let server = Server::start(
        &dir,
        &["--lookups", "on", "--lookups-sync-seconds", "3"],
        &[("KUBECONFIG", kubeconfig.to_str().unwrap())],
        None,
    );
    rt.block_on(async {
        let client = server.client();
        let deadline = Instant::now() + Duration::from_secs(20);
        while client
            .get(server.url("/readyz"))
            .send()
            .await
            .unwrap()
            .status()
            != 200
        {
            assert!(
                Instant::now() < deadline,
                "never ready: {:?}",
                server.logs()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let requests_before = fake.seen.lock().unwrap().len();
        let url = server.url("/validate");
        let message = |v: &Value| {
            v["response"]["status"]["message"]
                .as_str()
                .unwrap_or("")
                .to_string()
        };

        // The seed incident: maxmemory = the limit, set through an OpsRequest. Judged alone,
        // the limit is unknown; with its Cluster from the cache, it is refused.
        let r = post(&client, &url, &review("kb-1", "CREATE", &reconfigure)).await;
        assert_eq!(r["response"]["allowed"], false, "{r}");
        assert!(message(&r).contains("[redis-maxmemory-headroom]"), "{r}");

        // A StatefulSet whose mounted ConfigMap sets maxmemory 1gb under a 1Gi limit: the
        // line is in the ConfigMap, named in the message.
        let r = post(&client, &url, &review("sts-1", "UPDATE", &statefulset)).await;
        assert_eq!(r["response"]["allowed"], false, "{r}");
        assert!(
            message(&r).contains(
                "[redis-maxmemory-headroom] ConfigMap cache/redis-config /data/redis.conf"
            ),
            "{r}"
        );
        // PodDisruptionBudgets could not be listed: allowed to go on, with a warning.
        let warnings = r["response"]["warnings"].to_string();
        assert!(
            warnings.contains("judged without related objects (PodDisruptionBudget"),
            "{warnings}"
        );

        // The reverse: the ConfigMap, judged with the StatefulSet that mounts it.
        let r = post(&client, &url, &review("cm-1", "UPDATE", &config_map)).await;
        assert_eq!(r["response"]["allowed"], false, "{r}");
        assert!(message(&r).contains("[redis-maxmemory-headroom]"), "{r}");

        // An operation on a Cluster that is not Running, from its status in the cache.
        let scale = json!({"apiVersion": "operations.kubeblocks.io/v1alpha1", "kind": "OpsRequest",
            "metadata": {"name": "restart", "namespace": "default"},
            "spec": {"clusterName": "redis-prod", "type": "HorizontalScaling"}});
        let r = post(&client, &url, &review("ops-2", "CREATE", &scale)).await;
        assert_eq!(r["response"]["allowed"], false, "{r}");
        assert!(
            message(&r).contains("[kubeblocks-ops-while-unstable]"),
            "{r}"
        );
        assert!(message(&r).contains("Updating"), "{r}");

        // A RedisOpsRequest is judged with its database from the cache: 600mb under 600Mi.
        let shrink = json!({"apiVersion": "ops.kubedb.com/v1alpha1", "kind": "RedisOpsRequest",
            "metadata": {"name": "shrink", "namespace": "default"},
            "spec": {"type": "VerticalScaling", "databaseRef": {"name": "rd"},
                     "verticalScaling": {"redis": {"resources": {"limits": {"memory": "600Mi"}}}}}});
        let r = post(&client, &url, &review("kubedb-1", "CREATE", &shrink)).await;
        assert_eq!(r["response"]["allowed"], false, "{r}");
        assert!(message(&r).contains("[redis-maxmemory-headroom]"), "{r}");

        // The ConfigMap that arrived by a watch event is in the cache (the event may land
        // just after /readyz: a busy machine gets 20 s).
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let r = post(&client, &url, &review("late-1", "CREATE", &late)).await;
            if message(&r)
                .contains("[redis-maxmemory-headroom] ConfigMap cache/late-config /data/redis.conf")
            {
                break;
            }
            assert!(Instant::now() < deadline, "the watched ConfigMap never counted: {r}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }

        // A database is judged with its cluster from the cache (bound by namespace).
        let redb = json!({"apiVersion": "app.redislabs.com/v1alpha1",
            "kind": "RedisEnterpriseDatabase",
            "metadata": {"name": "db", "namespace": "default"},
            "spec": {"memorySize": "10GB"}});
        let r = post(&client, &url, &review("redb-1", "CREATE", &redb)).await;
        assert_eq!(r["response"]["allowed"], false, "{r}");
        assert!(message(&r).contains("[redis-enterprise-capacity]"), "{r}");

        // Reviews read the caches: no request reached the API server for them (the
        // failing PodDisruptionBudget list is retried by its watcher on its own).
        let seen = fake.seen.lock().unwrap().clone();
        let during: Vec<&String> = seen[requests_before..]
            .iter()
            .filter(|p| !p.starts_with("GET /apis/policy/"))
            .collect();
        assert!(during.is_empty(), "requests per review: {during:?}");
        assert!(
            seen.iter()
                .any(|p| p.starts_with("GET /api/v1/configmaps?") && p.contains("watch=true"))
        );

        let metrics = server.metrics(&client).await;
        assert!(
            metrics.contains(r#"redline_lookup_errors_total{kind="PodDisruptionBudget"} 2"#),
            "{metrics}"
        );
    });
}

#[test]
fn lookups_on_without_a_cluster_configuration_refuses_to_start() {
    let dir = scratch("serve-lookups-on");
    let out = Command::new(BIN)
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--lookups",
            "on",
            "--log-format",
            "json",
        ])
        .env_remove("KUBERNETES_SERVICE_HOST")
        .env("KUBECONFIG", dir.join("missing"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("--lookups on, but no cluster configuration"),
        "{err}"
    );
}

#[test]
fn unusable_certificate_files_stop_start_up_naming_the_file() {
    let dir = scratch("serve-badcert");
    let (_, a) = write_pair(&dir, "a");
    let (_, b) = write_pair(&dir, "b");
    std::fs::write(dir.join("a.crt"), &a.cert_pem).unwrap();
    std::fs::write(dir.join("b.key"), &b.key_pem).unwrap();
    for (cert, key, expected) in [
        ("a.crt", "b.key", "do not make a pair"),
        ("missing.crt", "b.key", "cannot read missing.crt"),
        ("b.key", "b.key", "no CERTIFICATE"),
    ] {
        let out = Command::new(BIN)
            .current_dir(&dir)
            .args(["serve", "--listen", "127.0.0.1:0", "--lookups", "off"])
            .args(["--tls-cert", cert, "--tls-key", key])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{cert} {key}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(expected), "{cert} {key}: {err}");
    }
}

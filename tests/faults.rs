//! Hostile and broken input, end to end (issue 9): what the CLI does with a YAML alias bomb
//! and 10,000-deep nesting, and what `redline serve` does with deep JSON, truncated TLS
//! handshakes, clients that send their headers or body too slowly, and SIGTERM while an
//! HTTP/2 load runs. Each ends in a clear error or a closed connection, never a crash, a hang
//! or a dropped review. (The 8 MiB bodies and certificate rotation under load are in
//! `tests/serve.rs`.)

mod common;
#[path = "common/server.rs"]
mod server;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use common::{code, run_in, scratch, stdout};
use serde_json::Value;
use server::{Server, provider, tokio};

/// A billion-laughs document: 9 levels of 9 aliases each, 9^9 nodes once expanded.
fn alias_bomb() -> String {
    let mut text = String::from("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: lol\ndata:\n");
    text.push_str("  a0: &a0 [\"lol\", \"lol\", \"lol\", \"lol\", \"lol\", \"lol\", \"lol\", \"lol\", \"lol\"]\n");
    for i in 1..10 {
        let refs = vec![format!("*a{}", i - 1); 9].join(", ");
        text.push_str(&format!("  a{i}: &a{i} [{refs}]\n"));
    }
    text
}

#[test]
fn an_alias_bomb_is_refused_naming_file_and_line() {
    let dir = scratch("faults-bomb");
    std::fs::write(dir.join("bomb.yaml"), alias_bomb()).unwrap();
    for args in [&["lint", "bomb.yaml"][..], &["fix", "--check", "bomb.yaml"]] {
        let out = run_in(&dir, args, "");
        let text = format!("{}{}", stdout(&out), String::from_utf8_lossy(&out.stderr));
        assert_ne!(code(&out), 0, "{args:?}: {text}");
        assert!(
            text.contains("bomb.yaml:") && text.contains("aliases are expanded"),
            "{args:?}: {text}"
        );
    }
    // From stdin too, named as such.
    let out = run_in(&dir, &["lint", "-"], &alias_bomb());
    assert_ne!(code(&out), 0);
    assert!(
        stdout(&out).contains("aliases are expanded"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn ten_thousand_deep_nesting_is_refused_naming_file_and_line() {
    let dir = scratch("faults-deep");
    let depth = 10_000;
    // Block style: a key per level, each indented one more step.
    let mut block =
        String::from("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: deep\ndata:\n");
    for level in 0..depth {
        block.push_str(&" ".repeat(2 + level));
        block.push_str("k:\n");
    }
    // Flow style: brackets only.
    let flow = format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: deep}}\ndata: {}{}\n",
        "[".repeat(depth),
        "]".repeat(depth)
    );
    std::fs::write(dir.join("block.yaml"), &block).unwrap();
    std::fs::write(dir.join("flow.yaml"), &flow).unwrap();
    for file in ["block.yaml", "flow.yaml"] {
        for args in [&["lint", file][..], &["fix", "--check", file]] {
            let out = run_in(&dir, args, "");
            let text = format!("{}{}", stdout(&out), String::from_utf8_lossy(&out.stderr));
            assert_ne!(code(&out), 0, "{args:?}: {text}");
            // The error names the line where nesting passes a limit: ours (128 levels) for
            // block style; the parser's own for flow style, whose scanner meets it first.
            let (line, limit) = match file {
                "block.yaml" => ("block.yaml:133:", "nesting deeper than 128 levels"),
                _ => ("flow.yaml:4:", "recursion limit exceeded"),
            };
            assert!(
                text.contains(line) && text.contains(limit),
                "{args:?}: {text}"
            );
        }
    }
}

fn statefulset_review(uid: &str) -> Value {
    let object: Value = serde_json::from_slice(
        &std::fs::read(common::root().join("tests/fixtures/serve/statefulset.json")).unwrap(),
    )
    .unwrap();
    redline::webhook::review::request_for(uid, "CREATE", &object, None)
}

/// One review, answered 200 with its uid.
async fn reviewed(client: &reqwest::Client, server: &Server, uid: &str) {
    let r = client
        .post(server.url("/validate"))
        .json(&statefulset_review(uid))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let answer: Value = r.json().await.unwrap();
    assert_eq!(answer["response"]["uid"], uid);
}

#[test]
fn deep_json_gets_a_400_naming_the_limit_and_the_server_stays_healthy() {
    let dir = scratch("faults-deep-json");
    let server = Server::start(&dir, &[], &[], None);
    let client = server.client();
    tokio().block_on(async {
        let mut body = serde_json::to_string(&statefulset_review("deep")).unwrap();
        // 10,000 nested arrays as an annotation value.
        let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
        body = body.replacen(
            "\"metadata\":{",
            &format!("\"metadata\":{{\"labels\":{deep},"),
            1,
        );
        let r = client
            .post(server.url("/validate"))
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 400);
        let message = r.text().await.unwrap();
        assert!(message.contains("recursion limit"), "{message}");
        reviewed(&client, &server, "after-deep").await;
    });
}

/// A rustls client over a plain `TcpStream`, trusting the server's CA: for tests that must
/// control each byte sent (reqwest always sends whole requests).
fn tls_stream(server: &Server) -> rustls::StreamOwned<rustls::ClientConnection, TcpStream> {
    use rustls::pki_types::pem::PemObject;
    provider();
    let mut roots = rustls::RootCertStore::empty();
    for cert in rustls::pki_types::CertificateDer::pem_file_iter(&server.ca).unwrap() {
        roots.add(cert.unwrap()).unwrap();
    }
    let config = rustls::ClientConfig::builder()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
    let conn = rustls::ClientConnection::new(Arc::new(config), name).unwrap();
    let tcp = TcpStream::connect(server.addr).unwrap();
    tcp.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let mut stream = rustls::StreamOwned::new(conn, tcp);
    // Drive the handshake to completion before the caller writes anything.
    while stream.conn.is_handshaking() {
        stream.conn.complete_io(&mut stream.sock).unwrap();
    }
    stream
}

/// Reads until the peer closes; how long that took. A read timeout (30 s) fails the test:
/// the server never closed.
fn wait_for_close(stream: &mut impl Read) -> (Duration, Vec<u8>) {
    let started = Instant::now();
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                panic!("the server did not close the connection within 30 s");
            }
            // A reset, or a TLS close without close_notify: closed either way.
            Err(_) => break,
        }
    }
    (started.elapsed(), got)
}

#[test]
fn truncated_tls_handshakes_are_closed_and_block_no_one() {
    let dir = scratch("faults-handshake");
    let server = Server::start(&dir, &[], &[], None);
    let opened = Instant::now();
    // 50 connections that start a ClientHello record (type 22, TLS 1.0 record version,
    // 512 bytes announced) and send 3 bytes of it.
    let mut stalled: Vec<TcpStream> = (0..50)
        .map(|_| {
            let mut tcp = TcpStream::connect(server.addr).unwrap();
            tcp.write_all(&[0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01])
                .unwrap();
            tcp.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
            tcp
        })
        .collect();
    // Meanwhile every other client is served.
    let client = server.client();
    tokio().block_on(async {
        for i in 0..20 {
            reviewed(&client, &server, &format!("during-{i}")).await;
        }
    });
    for tcp in &mut stalled {
        let (_, got) = wait_for_close(tcp);
        // Closed by our 5 s handshake timeout (axum-server's default is 10 s), without an
        // HTTP answer.
        assert!(
            got.is_empty() || got[0] == 0x15,
            "an alert or nothing: {got:?}"
        );
        let waited = opened.elapsed();
        assert!(
            waited >= Duration::from_secs(4) && waited < Duration::from_secs(9),
            "{waited:?}"
        );
    }
    tokio().block_on(reviewed(&client, &server, "after"));
}

#[test]
fn slow_headers_are_cut_by_the_header_timeout_and_slow_bodies_get_408() {
    let dir = scratch("faults-slow");
    let server = Server::start(&dir, &[], &[], None);
    let started = Instant::now();
    // Headers that never end: no blank line.
    let mut headers = tls_stream(&server);
    headers
        .write_all(
            b"POST /validate HTTP/1.1\r\nhost: localhost\r\ncontent-type: application/json\r\n",
        )
        .unwrap();
    headers.flush().unwrap();
    // A body announced at 1,000 bytes that sends 10.
    let mut body = tls_stream(&server);
    body.write_all(
        b"POST /validate HTTP/1.1\r\nhost: localhost\r\ncontent-type: application/json\r\ncontent-length: 1000\r\n\r\n{\"apiVersi",
    )
    .unwrap();
    body.flush().unwrap();

    let client = server.client();
    tokio().block_on(async {
        for i in 0..10 {
            reviewed(&client, &server, &format!("beside-slow-{i}")).await;
        }
    });

    let (_, got) = wait_for_close(&mut headers);
    let headers_closed = started.elapsed();
    // hyper closes without an answer when the header timeout (5 s) passes.
    assert!(
        headers_closed >= Duration::from_secs(4) && headers_closed < Duration::from_secs(15),
        "{headers_closed:?}"
    );
    let answer = String::from_utf8_lossy(&got);
    assert!(!answer.contains("200 OK"), "{answer}");

    let mut answer = Vec::new();
    let mut buf = [0u8; 4096];
    // The body timeout (10 s) answers 408 naming it.
    while !String::from_utf8_lossy(&answer).contains("did not arrive") {
        match body.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => answer.extend_from_slice(&buf[..n]),
        }
    }
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(
        answer.contains("the body did not arrive within 10 s"),
        "{answer}"
    );
    assert!(
        started.elapsed() >= Duration::from_secs(9),
        "{:?}",
        started.elapsed()
    );

    tokio().block_on(async {
        let metrics = server.metrics(&client).await;
        assert!(
            metrics.contains(r#"redline_admission_reviews_total{hook="validate",kind="unknown",operation="unknown",decision="timeout"} 1"#),
            "{metrics}"
        );
    });
}

/// What became of one review sent during the SIGTERM test.
#[derive(Debug)]
enum Fate {
    /// 200 with an AdmissionReview answering this uid.
    Answered,
    /// Refused before the server read it: the connection was refused (the server stopped
    /// accepting), or the server's GOAWAY said the stream was not processed (RFC 9113 §8.7).
    /// The API server retries both.
    Refused,
    /// Never sent: see [`never_sent`].
    NeverSent,
    /// Anything else: the server took the review and the client got no answer.
    Lost(String),
}

/// SIGTERM while reviews arrive at a steady rate over shared HTTP/2 connections (as the API
/// server sends them): every review sent is answered, or refused before the server read it
/// (connection refused, or a stream the server's GOAWAY says it never processed) — which
/// the API server retries. None is cut off after the server took it: the server's own log,
/// which has a line for every review it judged, names no uid the client did not get an
/// answer for.
#[test]
fn sigterm_under_http2_load_drops_no_review() {
    let dir = scratch("faults-sigterm-h2");
    let mut server = Server::start(&dir, &[], &[], None);
    let client = server.client();
    let runtime = tokio();
    let stop = Arc::new(AtomicBool::new(false));
    let (sent, status, took) = runtime.block_on(async {
        let ticker = {
            let stop = stop.clone();
            let client = client.clone();
            let url = server.url("/validate");
            tokio::spawn(async move {
                let mut handles = Vec::new();
                let mut interval = tokio::time::interval(Duration::from_millis(2));
                let mut n = 0;
                while !stop.load(Ordering::SeqCst) {
                    interval.tick().await;
                    n += 1;
                    let uid = format!("h2-{n}");
                    let request = client.post(&url).json(&statefulset_review(&uid));
                    handles.push(tokio::spawn(async move {
                        let fate = fate_of(request.send().await, &uid).await;
                        (uid, fate)
                    }));
                }
                handles
            })
        };
        tokio::time::sleep(Duration::from_secs(2)).await;
        let (status, took) = tokio::task::block_in_place(|| server.terminate());
        stop.store(true, Ordering::SeqCst);
        let mut sent = Vec::new();
        for h in ticker.await.unwrap() {
            sent.push(h.await.unwrap());
        }
        (sent, status, took)
    });
    assert!(status.success(), "{status:?}");
    assert!(took < Duration::from_secs(10), "{took:?}");
    let count = |f: fn(&Fate) -> bool| sent.iter().filter(|(_, fate)| f(fate)).count();
    let answered = count(|f| matches!(f, Fate::Answered));
    let refused = count(|f| matches!(f, Fate::Refused));
    let never_sent = count(|f| matches!(f, Fate::NeverSent));
    let lost: Vec<_> = sent
        .iter()
        .filter_map(|(uid, f)| match f {
            Fate::Lost(why) => Some(format!("{uid}: {why}")),
            _ => None,
        })
        .collect();
    eprintln!(
        "{} sent: {answered} answered, {refused} refused before processing, {never_sent} never sent",
        sent.len()
    );
    assert!(answered > 500, "{answered} answered of {}", sent.len());
    assert!(
        lost.is_empty(),
        "{} of {} lost ({answered} answered, {refused} refused, {never_sent} never sent): {:?}",
        lost.len(),
        sent.len(),
        &lost[..lost.len().min(5)]
    );
    // The server judged no review whose answer the client did not get: its log (complete
    // once the process has exited and the reader has seen the last line) has a line per
    // review judged.
    let judged: std::collections::HashSet<String> = server_log_when_stopped(&server)
        .iter()
        .filter(|l| l["message"] == "review")
        .filter_map(|l| l["uid"].as_str().map(str::to_string))
        .collect();
    let unanswered_but_judged: Vec<_> = sent
        .iter()
        .filter(|(uid, f)| !matches!(f, Fate::Answered) && judged.contains(uid))
        .collect();
    assert!(
        unanswered_but_judged.is_empty(),
        "judged by the server, not answered to the client: {unanswered_but_judged:?}"
    );
    assert_eq!(judged.len(), answered, "every answer was judged once");
}

async fn fate_of(sent: Result<reqwest::Response, reqwest::Error>, uid: &str) -> Fate {
    let response = match sent {
        Ok(r) => r,
        Err(e) if e.is_connect() || refused_by_goaway(&e) => return Fate::Refused,
        Err(e) if never_sent(&e) => return Fate::NeverSent,
        Err(e) => return Fate::Lost(format!("{e:?}")),
    };
    let status = response.status();
    match response.json::<Value>().await {
        Ok(v) if status == 200 && v["response"]["uid"] == uid => Fate::Answered,
        Ok(v) => Fate::Lost(format!("HTTP {status}: {v}")),
        Err(e) => Fate::Lost(format!("HTTP {status}, body: {e:?}")),
    }
}

/// The server's log lines once it has exited and its standard output has been read to the
/// end (the last line is "stopped").
fn server_log_when_stopped(server: &Server) -> Vec<Value> {
    server.logs_when("\"stopped\"", |logs| {
        logs.iter().any(|l| l["message"] == "stopped")
    })
}

/// An HTTP/2 stream the server refused without processing it (GOAWAY with a lower last
/// stream id, or REFUSED_STREAM): RFC 9113 §8.7 makes it safe to retry.
fn refused_by_goaway(e: &reqwest::Error) -> bool {
    error_chain_mentions(e, |text| {
        text.contains("REFUSED_STREAM") || text.contains("GoAway") && text.contains("NO_ERROR")
    })
}

/// A request hyper's client dropped before sending it, not a loss. The server allows 200
/// concurrent streams per connection (hyper's default SETTINGS_MAX_CONCURRENT_STREAMS); when
/// that many reviews are in flight, the client parks the next request as a stream "pending
/// open" (h2: no HEADERS frame is written until a slot frees). When the server's GOAWAY
/// arrives, hyper's `ClientTask::poll` (hyper 1.x, `proto/h2/client.rs`) returns on the
/// connection error while that parked request is still in its `fut_ctx`, and drops its
/// callback: the caller gets `DispatchGone` ("runtime dropped the dispatch task"). Measured
/// while finding this: each such request was issued with exactly 201 or 203 requests in
/// flight. The server never saw it, which the log check in the test confirms for every one;
/// the API server's Go client retries such a request on a new connection.
fn never_sent(e: &reqwest::Error) -> bool {
    error_chain_mentions(e, |text| text.contains("DispatchGone"))
}

fn error_chain_mentions(e: &reqwest::Error, test: impl Fn(&str) -> bool) -> bool {
    let mut source: Option<&dyn std::error::Error> = Some(e);
    while let Some(s) = source {
        if test(&format!("{s:?}")) {
            return true;
        }
        source = s.source();
    }
    false
}

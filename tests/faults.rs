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

/// SIGTERM while reviews arrive at a steady rate over shared HTTP/2 connections (as the API
/// server sends them): every review sent is answered, or refused before the server read it
/// (connection refused, or a stream the server's GOAWAY says it never processed) — which
/// the API server retries. None is cut off after the server took it.
#[test]
fn sigterm_under_http2_load_drops_no_review() {
    let dir = scratch("faults-sigterm-h2");
    let mut server = Server::start(&dir, &[], &[], None);
    let client = server.client();
    let runtime = tokio();
    let stop = Arc::new(AtomicBool::new(false));
    let results = runtime.block_on(async {
        let mut sent = Vec::new();
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
                    let request = client
                        .post(&url)
                        .json(&statefulset_review(&format!("h2-{n}")));
                    handles.push(tokio::spawn(async move {
                        match request.send().await {
                            Ok(r) => Ok(r.status().as_u16()),
                            Err(e) => Err(e),
                        }
                    }));
                }
                handles
            })
        };
        tokio::time::sleep(Duration::from_secs(2)).await;
        let (status, took) = tokio::task::block_in_place(|| server.terminate());
        stop.store(true, Ordering::SeqCst);
        for h in ticker.await.unwrap() {
            sent.push(h.await.unwrap());
        }
        (sent, status, took)
    });
    let (sent, status, took) = results;
    assert!(status.success(), "{status:?}");
    assert!(took < Duration::from_secs(10), "{took:?}");
    let answered = sent.iter().filter(|r| matches!(r, Ok(200))).count();
    let mut dropped = Vec::new();
    let mut refused = 0;
    for r in &sent {
        match r {
            Ok(200) => {}
            Ok(other) => dropped.push(format!("HTTP {other}")),
            Err(e) if e.is_connect() || refused_by_goaway(e) => refused += 1,
            Err(e) => dropped.push(format!("{e:?}")),
        }
    }
    eprintln!(
        "{} sent: {answered} answered, {refused} refused before processing",
        sent.len()
    );
    assert!(answered > 500, "{answered} answered of {}", sent.len());
    assert!(
        dropped.is_empty(),
        "{} of {} dropped ({answered} answered, {refused} refused): {:?}",
        dropped.len(),
        sent.len(),
        &dropped[..dropped.len().min(5)]
    );
}

/// An HTTP/2 stream the server refused without processing it (GOAWAY with a lower last
/// stream id, or REFUSED_STREAM): RFC 9113 §8.7 makes it safe to retry.
fn refused_by_goaway(e: &reqwest::Error) -> bool {
    let mut source: Option<&dyn std::error::Error> = Some(e);
    while let Some(s) = source {
        let text = format!("{s:?}");
        if text.contains("REFUSED_STREAM") || text.contains("GoAway") && text.contains("NO_ERROR") {
            return true;
        }
        source = s.source();
    }
    false
}

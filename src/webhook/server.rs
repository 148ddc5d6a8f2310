//! The HTTPS server: axum over rustls (axum-server), a thin adapter over [`review`].
//!
//! Limits, because the webhook sits in the API server's request path and must never be the
//! reason a cluster stops: bodies over 6 MiB get 413 before they are read (an object is at
//! most 1.5 MiB, a review carries two); a body not received within 10 s gets 408; headers
//! within 5 s (HTTP/1) and a TLS handshake within 5 s, or the connection is closed. Anything
//! that is not a v1 AdmissionReview gets a 400 naming what is wrong. A panic in a review (a
//! bug) allows the object with a warning rather than failing the API request.

use std::net::SocketAddr;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum_server::tls_rustls::{RustlsAcceptor, RustlsConfig};
use http_body_util::BodyExt as _;
use serde_json::{Value, json};

use super::linger::{Closes, Lingering};
use super::lookups::Related;
use super::metrics::{HookLabels, KindLabels, Metrics, ReviewLabels};
use super::review::{self, Decision, Hook, Policy};
use super::tls::{self, CertFiles};

/// Two objects of at most 1.5 MiB each, JSON-escaped, plus the request around them.
pub const MAX_BODY_BYTES: usize = 6 * 1024 * 1024;
const BODY_TIMEOUT: Duration = Duration::from_secs(10);
const HEADER_TIMEOUT: Duration = Duration::from_secs(5);
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(5);
/// Bodies larger than this are judged on the blocking pool, so one large review does not
/// hold up the small ones queued on the same worker.
const INLINE_BODY_BYTES: usize = 64 * 1024;

/// Where the serving certificate comes from.
#[derive(Debug, Clone)]
pub enum TlsSource {
    /// PEM files, re-read when they change.
    Files(CertFiles),
    /// Generate a CA and a certificate for `names` into `dir` (local runs).
    Generate {
        dir: std::path::PathBuf,
        names: Vec<String>,
    },
}

pub struct ServeOptions {
    pub listen: SocketAddr,
    pub tls: TlsSource,
    pub policy: Policy,
    pub lookups: Arc<dyn Related>,
    /// How often the certificate files are checked for a change.
    pub reload_every: Duration,
    /// How long in-flight requests get after SIGTERM before the process exits.
    pub shutdown_grace: Duration,
    /// Not ready before this, unless the lookups have synced: the first reviews should not
    /// all be judged without their related objects.
    pub lookups_sync_deadline: Duration,
}

struct Shared {
    policy: Policy,
    lookups: Arc<dyn Related>,
    metrics: Arc<Metrics>,
    stopping: AtomicBool,
    started: Instant,
    sync_deadline: Duration,
    /// Connections closing (draining their input before the socket closes).
    closes: Arc<Closes>,
}

type App = Arc<Shared>;

/// Serve until SIGTERM or SIGINT; then stop accepting, let in-flight requests finish (up to
/// `shutdown_grace`) and return.
pub async fn run(opts: ServeOptions) -> Result<(), String> {
    let metrics = Arc::new(Metrics::default());
    let (files, ca) = match opts.tls {
        TlsSource::Files(files) => (files, None),
        TlsSource::Generate { dir, names } => {
            let dev = tls::write_dev_certs(&dir, &names)?;
            (dev.files, Some(dev.ca))
        }
    };
    let (loaded, cert_pem, key_pem) = tls::read(&files)?;
    metrics.set_not_after(loaded.not_after_unix);
    let rustls = RustlsConfig::from_config(Arc::new(loaded.config));
    // Signal handlers are registered here, before anything listens: until a handler exists,
    // SIGHUP or SIGTERM ends the process at once (no reload; no graceful stop).
    let hangup = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()).ok();
    let signals = Signals::register();
    tokio::spawn(tls::keep_fresh(
        rustls.clone(),
        files.clone(),
        (cert_pem, key_pem),
        metrics.clone(),
        opts.reload_every,
        hangup,
    ));

    let shared = Arc::new(Shared {
        policy: opts.policy,
        lookups: opts.lookups,
        metrics,
        stopping: AtomicBool::new(false),
        started: Instant::now(),
        sync_deadline: opts.lookups_sync_deadline,
        closes: Arc::new(Closes::default()),
    });
    let handle = axum_server::Handle::<SocketAddr>::new();
    let acceptor = Gate {
        inner: RustlsAcceptor::new(rustls).handshake_timeout(HANDSHAKE_TIMEOUT),
        shared: shared.clone(),
    };
    let mut server = axum_server::bind(opts.listen)
        .acceptor(acceptor)
        .handle(handle.clone());
    server
        .http_builder()
        .http1()
        .timer(hyper_util::rt::TokioTimer::new())
        .header_read_timeout(HEADER_TIMEOUT);
    let app = router(shared.clone());
    let serving = tokio::spawn(server.serve(app.into_make_service()));
    let Some(addr) = handle.listening().await else {
        return Err(match serving.await {
            Ok(Err(e)) => format!("cannot listen on {}: {e}", opts.listen),
            _ => format!("cannot listen on {}", opts.listen),
        });
    };
    match &ca {
        Some(ca) => tracing::info!(
            address = %addr,
            ca = %ca.display(),
            cert = %files.cert.display(),
            "listening on https://{addr} with a generated self-signed certificate; trust the CA file {}",
            ca.display()
        ),
        None => {
            tracing::info!(address = %addr, cert = %files.cert.display(), "listening on https://{addr}")
        }
    }

    let grace = opts.shutdown_grace;
    // When the signal came: the closes still draining get what is left of the grace.
    let signalled = Arc::new(std::sync::OnceLock::new());
    tokio::spawn({
        let signalled = signalled.clone();
        let shared = shared.clone();
        let handle = handle.clone();
        async move {
            let signal = signals.next().await;
            let _ = signalled.set(Instant::now());
            // No new connections from now on; connections already accepted get to send
            // their request (a handshake under way, a request on its way) and are answered
            // with `Connection: close`. Then hyper's graceful shutdown closes the idle ones
            // and lets the in-flight ones finish.
            shared.stopping.store(true, Ordering::SeqCst);
            tracing::info!(
                signal,
                connections = handle.connection_count(),
                "stopping: no new connections; finishing in-flight requests (at most {} s)",
                grace.as_secs_f64()
            );
            let drain = DRAIN.min(grace);
            tokio::time::sleep(drain).await;
            handle.graceful_shutdown(Some(grace.saturating_sub(drain)));
        }
    });
    match serving.await {
        Ok(Ok(())) => {
            // The process exiting would close the draining sockets at once, with the very
            // reset lingering avoids.
            let left = signalled.get().map_or(Duration::ZERO, |at: &Instant| {
                grace.saturating_sub(at.elapsed())
            });
            shared.closes.wait(left).await;
            tracing::info!(draining = shared.closes.open(), "stopped");
            Ok(())
        }
        Ok(Err(e)) => Err(format!("the server failed: {e}")),
        Err(e) => Err(format!("the server task failed: {e}")),
    }
}

/// SIGTERM (the kubelet) and SIGINT (a terminal), handled from the moment they are
/// registered.
struct Signals {
    term: std::io::Result<tokio::signal::unix::Signal>,
    int: std::io::Result<tokio::signal::unix::Signal>,
}

impl Signals {
    fn register() -> Signals {
        use tokio::signal::unix::{SignalKind, signal};
        Signals {
            term: signal(SignalKind::terminate()),
            int: signal(SignalKind::interrupt()),
        }
    }

    /// The name of the next one that comes.
    async fn next(mut self) -> &'static str {
        match (&mut self.term, &mut self.int) {
            (Ok(term), Ok(int)) => tokio::select! {
                _ = term.recv() => "SIGTERM",
                _ = int.recv() => "SIGINT",
            },
            // Cannot happen on Unix with a runtime; never stop on it.
            _ => std::future::pending().await,
        }
    }
}

/// After SIGTERM, how long connections accepted before it get to deliver their request
/// before idle ones are closed.
const DRAIN: Duration = Duration::from_secs(1);

/// Refuses new connections once stopping (the client sees a failed connect, which it may
/// retry elsewhere, never a request dropped half-way); otherwise the TLS acceptor, over a
/// stream that lingers when closed ([`Lingering`]).
#[derive(Clone)]
struct Gate<A> {
    inner: A,
    shared: App,
}

impl<A, S> axum_server::accept::Accept<tokio::net::TcpStream, S> for Gate<A>
where
    A: axum_server::accept::Accept<Lingering, S>,
    A::Future: Send + 'static,
    A::Stream: Send + 'static,
    A::Service: Send + 'static,
{
    type Stream = A::Stream;
    type Service = A::Service;
    type Future = std::pin::Pin<
        Box<dyn std::future::Future<Output = std::io::Result<(A::Stream, A::Service)>> + Send>,
    >;

    fn accept(&self, stream: tokio::net::TcpStream, service: S) -> Self::Future {
        if self.shared.stopping.load(Ordering::SeqCst) {
            drop(stream);
            return Box::pin(std::future::ready(Err(std::io::Error::other(
                "stopping: new connections refused",
            ))));
        }
        // TCP_NODELAY: without it, Nagle's algorithm holds a response's second small write
        // (HTTP/2 sends headers and data as separate frames) until the client's delayed ACK,
        // up to 40 ms on Linux: the load benchmark saw /healthz p99 16 ms and maxima of 44 ms.
        if let Err(e) = stream.set_nodelay(true) {
            return Box::pin(std::future::ready(Err(e)));
        }
        let stream = Lingering::new(stream, self.shared.closes.clone());
        Box::pin(self.inner.accept(stream, service))
    }
}

/// While stopping, HTTP/1.1 answers carry `Connection: close`, so keep-alive connections
/// end after their current request instead of being cut between two.
async fn close_when_stopping(
    State(app): State<App>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let http1 = request.version() <= axum::http::Version::HTTP_11;
    let mut response = next.run(request).await;
    if http1 && app.stopping.load(Ordering::SeqCst) {
        response.headers_mut().insert(
            header::CONNECTION,
            axum::http::HeaderValue::from_static("close"),
        );
    }
    response
}

fn router(app: App) -> Router {
    Router::new()
        .route("/validate", post(validate))
        .route("/mutate", post(mutate))
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .fallback(|| async {
            refuse(
                StatusCode::NOT_FOUND,
                "no such endpoint: POST /validate or /mutate; GET /healthz, /readyz or /metrics",
            )
        })
        .layer(axum::middleware::from_fn_with_state(
            app.clone(),
            close_when_stopping,
        ))
        .with_state(app)
}

async fn readyz(State(app): State<App>) -> Response {
    if app.stopping.load(Ordering::SeqCst) {
        return (StatusCode::SERVICE_UNAVAILABLE, "stopping\n").into_response();
    }
    if !app.lookups.synced() && app.started.elapsed() < app.sync_deadline {
        return (StatusCode::SERVICE_UNAVAILABLE, "lookups syncing\n").into_response();
    }
    "ok\n".into_response()
}

async fn metrics(State(app): State<App>) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        app.metrics.render(),
    )
        .into_response()
}

async fn validate(State(app): State<App>, headers: HeaderMap, body: Body) -> Response {
    answer(app, Hook::Validate, &headers, body).await
}

async fn mutate(State(app): State<App>, headers: HeaderMap, body: Body) -> Response {
    answer(app, Hook::Mutate, &headers, body).await
}

fn hook_name(hook: Hook) -> &'static str {
    match hook {
        Hook::Validate => "validate",
        Hook::Mutate => "mutate",
    }
}

async fn answer(app: App, hook: Hook, headers: &HeaderMap, body: Body) -> Response {
    let started = Instant::now();
    let hook_label = hook_name(hook);
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let refused = |status: StatusCode, decision: &'static str, message: String| {
        count(&app, hook_label, "unknown", "unknown", decision, started);
        tracing::warn!(hook = hook_label, status = status.as_u16(), error = %message, "request refused");
        refuse(status, &message)
    };
    if declared.is_some_and(|n| n > MAX_BODY_BYTES as u64) {
        return refused(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
            format!("the body is larger than {MAX_BODY_BYTES} bytes"),
        );
    }
    let limited = http_body_util::Limited::new(body, MAX_BODY_BYTES);
    let bytes = match tokio::time::timeout(BODY_TIMEOUT, limited.collect()).await {
        Err(_) => {
            return refused(
                StatusCode::REQUEST_TIMEOUT,
                "timeout",
                format!(
                    "the body did not arrive within {} s",
                    BODY_TIMEOUT.as_secs()
                ),
            );
        }
        Ok(Err(e)) if e.is::<http_body_util::LengthLimitError>() => {
            return refused(
                StatusCode::PAYLOAD_TOO_LARGE,
                "too_large",
                format!("the body is larger than {MAX_BODY_BYTES} bytes"),
            );
        }
        Ok(Err(e)) => {
            return refused(
                StatusCode::BAD_REQUEST,
                "bad_request",
                format!("cannot read the body: {e}"),
            );
        }
        Ok(Ok(collected)) => collected.to_bytes(),
    };
    let judge = {
        let app = app.clone();
        let bytes = bytes.clone();
        move || {
            std::panic::catch_unwind(AssertUnwindSafe(|| {
                review::review(&bytes, hook, &app.policy, app.lookups.as_ref())
            }))
        }
    };
    let outcome = if bytes.len() > INLINE_BODY_BYTES {
        tokio::task::spawn_blocking(judge)
            .await
            .unwrap_or_else(|e| Err(Box::new(e.to_string())))
    } else {
        judge()
    };
    match outcome {
        Ok(Ok((answer, decision))) => {
            for kind in &decision.lookup_errors {
                app.metrics
                    .lookup_errors
                    .get_or_create(&KindLabels {
                        kind: (*kind).to_string(),
                    })
                    .inc();
            }
            count(
                &app,
                hook_label,
                &decision.kind,
                &decision.operation,
                decision.outcome,
                started,
            );
            log(hook_label, &decision, &answer, started);
            json_response(StatusCode::OK, &answer)
        }
        Ok(Err(bad)) => refused(StatusCode::BAD_REQUEST, "bad_request", bad.0),
        Err(_) => {
            // A bug, not the request's fault: never the reason an object is refused.
            let uid = serde_json::from_slice::<Value>(&bytes)
                .ok()
                .and_then(|v| v.pointer("/request/uid")?.as_str().map(str::to_string))
                .unwrap_or_default();
            tracing::error!(
                hook = hook_label,
                uid,
                "internal error judging the review; allowed"
            );
            count(
                &app,
                hook_label,
                "unknown",
                "unknown",
                "internal_error",
                started,
            );
            json_response(
                StatusCode::OK,
                &json!({
                    "apiVersion": "admission.k8s.io/v1",
                    "kind": "AdmissionReview",
                    "response": {
                        "uid": uid,
                        "allowed": true,
                        "warnings": ["redline: internal error; the object was not judged"],
                    }
                }),
            )
        }
    }
}

fn count(
    app: &App,
    hook: &'static str,
    kind: &str,
    operation: &str,
    decision: &'static str,
    started: Instant,
) {
    app.metrics
        .reviews
        .get_or_create(&ReviewLabels {
            hook,
            kind: super::metrics::kind_label(kind),
            operation: operation.to_string(),
            decision,
        })
        .inc();
    app.metrics
        .latency_seconds
        .get_or_create(&HookLabels { hook })
        .observe(started.elapsed().as_secs_f64());
}

fn log(hook: &'static str, d: &Decision, answer: &Value, started: Instant) {
    // Not `message`: that is the event's own field ("review"), and a second `message` key
    // in the JSON line is one a log pipeline may keep instead of the first.
    let detail = answer
        .pointer("/response/status/message")
        .and_then(Value::as_str)
        .unwrap_or("");
    let warnings = answer
        .pointer("/response/warnings")
        .and_then(Value::as_array)
        .map_or(0, Vec::len);
    // Names as Kubernetes bounds them (253 characters): a log line names the object, it
    // never carries whatever a request put there.
    let clip = |s: &str| -> String { s.chars().take(253).collect() };
    tracing::info!(
        uid = %clip(&d.uid),
        hook,
        kind = %clip(&d.kind),
        namespace = %clip(&d.namespace),
        name = %clip(&d.name),
        operation = %d.operation,
        dry_run = d.dry_run,
        decision = d.outcome,
        warnings,
        lookup_errors = d.lookup_errors.len(),
        duration_us = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX),
        detail,
        "review"
    );
}

fn json_response(status: StatusCode, body: &Value) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

fn refuse(status: StatusCode, message: &str) -> Response {
    json_response(
        status,
        &json!({ "error": format!("redline: {message}"), "status": status.as_u16() }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use tower::ServiceExt as _;

    /// Lookups whose caches have not synced.
    struct Unsynced;

    impl Related for Unsynced {
        fn find(
            &self,
            _: &str,
            _: &crate::webhook::lookups::Want,
        ) -> Result<Vec<Value>, crate::webhook::lookups::LookupError> {
            Ok(Vec::new())
        }

        fn synced(&self) -> bool {
            false
        }
    }

    fn app(lookups: Arc<dyn Related>, sync_deadline: Duration) -> App {
        Arc::new(Shared {
            policy: Policy::default(),
            lookups,
            metrics: Arc::new(Metrics::default()),
            stopping: AtomicBool::new(false),
            started: Instant::now(),
            sync_deadline,
            closes: Arc::new(Closes::default()),
        })
    }

    async fn get(app: &App, path: &str, version: axum::http::Version) -> Response {
        let request = axum::http::Request::get(path)
            .version(version)
            .body(axum::body::Body::empty())
            .unwrap();
        router(app.clone()).oneshot(request).await.unwrap()
    }

    #[tokio::test]
    async fn readyz_is_503_while_stopping_and_while_lookups_sync() {
        use axum::http::Version;
        let ready = app(Arc::new(crate::webhook::lookups::NoLookups), Duration::ZERO);
        assert_eq!(get(&ready, "/readyz", Version::HTTP_11).await.status(), 200);
        ready.stopping.store(true, Ordering::SeqCst);
        assert_eq!(get(&ready, "/readyz", Version::HTTP_11).await.status(), 503);
        // The process still answers /healthz: stopping is not dead.
        assert_eq!(
            get(&ready, "/healthz", Version::HTTP_11).await.status(),
            200
        );

        let syncing = app(Arc::new(Unsynced), Duration::from_secs(3600));
        assert_eq!(
            get(&syncing, "/readyz", Version::HTTP_11).await.status(),
            503
        );
        // Past the deadline, ready without the caches: reviews are judged alone meanwhile.
        let late = app(Arc::new(Unsynced), Duration::ZERO);
        assert_eq!(get(&late, "/readyz", Version::HTTP_11).await.status(), 200);
    }

    #[tokio::test]
    async fn http1_answers_close_the_connection_while_stopping_and_http2_ones_do_not() {
        use axum::http::Version;
        let app = app(Arc::new(crate::webhook::lookups::NoLookups), Duration::ZERO);
        let close = |r: &Response| r.headers().get(header::CONNECTION).cloned();
        assert_eq!(close(&get(&app, "/healthz", Version::HTTP_11).await), None);
        app.stopping.store(true, Ordering::SeqCst);
        let answer = get(&app, "/healthz", Version::HTTP_11).await;
        assert_eq!(
            close(&answer).as_ref().map(|v| v.as_bytes()),
            Some(&b"close"[..])
        );
        // HTTP/2 has no Connection header (RFC 9113 §8.2.2): its GOAWAY does that job.
        assert_eq!(close(&get(&app, "/healthz", Version::HTTP_2).await), None);
    }
}

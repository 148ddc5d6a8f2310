//! The HTTPS server: axum over rustls (axum-server), a thin adapter over [`review`].
//!
//! Limits, because the webhook sits in the API server's request path and must never be the
//! reason a cluster stops: bodies over 6 MiB get 413 before they are read (an object is at
//! most 1.5 MiB, a review carries two); a body not received within 10 s gets 408; headers
//! within 5 s (HTTP/1) and a TLS handshake within 5 s, or the connection is closed. Anything
//! that is not a v1 AdmissionReview gets a 400 naming what is wrong. A panic in a review (a
//! bug) allows the object with a warning rather than failing the API request.
//!
//! Every review has a budget ([`ReviewLimits`]): it is judged on the blocking pool (a small
//! one may be judged on an async worker, never on the last free one, which answers
//! `/healthz`), at most `concurrency` at once, with memory reserved
//! for it from the budget (its body first, then its estimated peak) and a deadline checked
//! by the extractor, the engine and the patch builder. A review that cannot get its turn or
//! finish in time, or could never fit the budget, gets the answer the failure policy gives an
//! unjudged object, and its decision (`busy`, `deadline`, `over_budget`) is counted. When the
//! client goes away, the review's budget is cancelled: no work outlives its request.

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
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::limits::{ReviewLimits, UNSCANNED_BODY_BYTES, review_cost_bound, review_cost_bytes};
use super::linger::{Closes, Lingering};
use super::lookups::Related;
use super::metrics::{HookLabels, KindLabels, Metrics, ReviewLabels};
use super::review::{self, Decision, Hook, Policy, Unjudged};
use super::tls::{self, CertFiles};
use crate::budget::Budget;

mod answer;
use answer::*;

/// Two objects of at most 1.5 MiB each, JSON-escaped, plus the request around them.
pub const MAX_BODY_BYTES: usize = 6 * 1024 * 1024;
/// Reviews of bodies up to this size may be judged on an async worker (see `inline`).
const INLINE_BODY_BYTES: usize = 16 * 1024;
const BODY_TIMEOUT: Duration = Duration::from_secs(10);
const HEADER_TIMEOUT: Duration = Duration::from_secs(5);
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(5);

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
    pub limits: ReviewLimits,
    /// What `/metrics` shows; shared with the background audit (`serve --audit-interval`).
    pub metrics: Arc<Metrics>,
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
    limits: ReviewLimits,
    /// One permit per review judged at once.
    slots: Arc<Semaphore>,
    /// The memory budget in KiB permits.
    memory_kib: Arc<Semaphore>,
    /// Small reviews judged on an async worker at once: one fewer than the workers, so one
    /// is always free for /healthz.
    inline: Semaphore,
}

type App = Arc<Shared>;

impl Shared {
    fn new(
        policy: Policy,
        lookups: Arc<dyn Related>,
        metrics: Arc<Metrics>,
        sync_deadline: Duration,
        limits: ReviewLimits,
    ) -> App {
        Arc::new(Shared {
            policy,
            lookups,
            metrics,
            stopping: AtomicBool::new(false),
            started: Instant::now(),
            sync_deadline,
            closes: Arc::new(Closes::default()),
            slots: Arc::new(Semaphore::new(limits.concurrency.max(1))),
            memory_kib: Arc::new(Semaphore::new(kib(limits.memory_bytes))),
            inline: Semaphore::new(
                std::thread::available_parallelism().map_or(1, |n| n.get().saturating_sub(1)),
            ),
            limits,
        })
    }
}

/// Serve until SIGTERM or SIGINT; then stop accepting, let in-flight requests finish (up to
/// `shutdown_grace`) and return.
pub async fn run(opts: ServeOptions) -> Result<(), String> {
    let metrics = opts.metrics.clone();
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

    let shared = Shared::new(
        opts.policy,
        opts.lookups,
        metrics,
        opts.lookups_sync_deadline,
        opts.limits,
    );
    tracing::info!(
        deadline_ms = shared.limits.deadline.as_millis(),
        concurrency = shared.limits.concurrency,
        memory_mib = shared.limits.memory_bytes >> 20,
        "review budget"
    );
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

#[cfg(test)]
mod tests;

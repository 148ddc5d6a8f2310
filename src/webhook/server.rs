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
    // The body's bytes come out of the memory budget before it is read: bodies waiting for
    // their turn count too. Without a declared length, the most a body may be.
    let body_kib = kib(declared.unwrap_or(MAX_BODY_BYTES as u64))
        .min(kib(app.limits.memory_bytes))
        .max(1);
    let Some(body_memory) = until(
        started + app.limits.deadline,
        app.memory_kib.clone().acquire_many_owned(permits(body_kib)),
    )
    .await
    else {
        // Not read, so no uid to answer with: the API server applies the webhook's
        // failurePolicy, which the manifests keep equal to `--failure-policy`.
        return refused(
            StatusCode::SERVICE_UNAVAILABLE,
            "busy",
            format!(
                "no memory came free for the body within the deadline of {} ms",
                app.limits.deadline.as_millis()
            ),
        );
    };
    let limited = http_body_util::Limited::new(body, MAX_BODY_BYTES);
    let reading = Instant::now();
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
    // The deadline's clock stops while the body arrives: the API server sends it at once,
    // and a client that trickles it in spends only its own time (BODY_TIMEOUT bounds it).
    let clock = started + reading.elapsed();
    let (answer, decision) = match judged(&app, hook, bytes, body_memory, clock).await {
        Judged::Answer(answer, decision) => (answer, *decision),
        Judged::Bad(message) => return refused(StatusCode::BAD_REQUEST, "bad_request", message),
        Judged::InternalError(uid) => {
            // A bug, not the request's fault: never the reason an object is refused.
            tracing::error!(
                hook = hook_label,
                uid = %clip(&uid),
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
            return json_response(
                StatusCode::OK,
                &review::not_judged(
                    &uid,
                    true,
                    "redline: internal error; the object was not judged",
                ),
            );
        }
    };
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
    log(hook_label, &decision, started);
    json_response(StatusCode::OK, &answer)
}

enum Judged {
    Answer(Value, Box<Decision>),
    Bad(String),
    /// The review panicked (a bug); the request's uid.
    InternalError(String),
}

/// Judge a body within the budget: memory for its estimated peak (it holds its body's
/// already), a slot, then the review on the blocking pool. Whatever cannot happen before the
/// deadline is answered as the failure policy says.
async fn judged(
    app: &App,
    hook: Hook,
    bytes: axum::body::Bytes,
    mut memory: OwnedSemaphorePermit,
    started: Instant,
) -> Judged {
    let limits = &app.limits;
    // Reading the body through (its size in values, its uid) is work in proportion to it:
    // on the blocking pool too, never on the workers that answer /healthz.
    let need_bytes = if bytes.len() <= UNSCANNED_BODY_BYTES {
        review_cost_bound(bytes.len())
    } else {
        let bytes = bytes.clone();
        match tokio::task::spawn_blocking(move || review_cost_bytes(&bytes)).await {
            Ok(need_bytes) => need_bytes,
            Err(_) => return Judged::InternalError(String::new()),
        }
    };
    let deadline = started + limits.deadline;
    let budget = &Budget::new(started, limits.deadline, Some(need_bytes));
    let failure_policy = app.policy.failure_policy;
    let unjudged = |why: Unjudged| {
        let bytes = bytes.clone();
        async move {
            let answered = tokio::task::spawn_blocking(move || {
                let uid = review::uid_of(&bytes).unwrap_or_default();
                let mut decision = Decision::unread(uid.clone());
                let answer = review::unjudged(&uid, failure_policy, &why, &mut decision);
                (answer, decision)
            })
            .await;
            match answered {
                Ok((answer, decision)) => Judged::Answer(answer, Box::new(decision)),
                Err(_) => Judged::InternalError(String::new()),
            }
        }
    };
    let busy = || Unjudged::Busy {
        after_ms: limits.deadline.as_millis(),
    };
    let need_kib = kib(need_bytes);
    if need_kib > kib(limits.memory_bytes) {
        return unjudged(Unjudged::OverBudget {
            need_bytes,
            budget_bytes: limits.memory_bytes,
        })
        .await;
    }
    let more = need_kib.saturating_sub(memory.num_permits());
    if more > 0 {
        match until(
            deadline,
            app.memory_kib.clone().acquire_many_owned(permits(more)),
        )
        .await
        {
            Some(extra) => memory.merge(extra),
            None => return unjudged(busy()).await,
        }
    }
    let Some(slot) = until(deadline, app.slots.clone().acquire_owned()).await else {
        return unjudged(busy()).await;
    };
    let work = {
        let app = app.clone();
        let budget = budget.clone();
        let bytes = bytes.clone();
        move || {
            // Held until the work ends, not until the request does: a client that went away
            // frees nothing that is still in use.
            let _held = (slot, memory);
            std::panic::catch_unwind(AssertUnwindSafe(|| {
                review::review_within(&bytes, hook, &app.policy, app.lookups.as_ref(), &budget)
            }))
        }
    };
    // If this future is dropped (the client closed the connection), the review stops at its
    // next check instead of running on.
    let _cancel = CancelOnDrop(budget.clone());
    // A small body's review (a millisecond or two at most; still within its budget) is judged
    // where it is, while a worker stays free for /healthz: a hop to the blocking pool costs
    // more than such a review under load (BENCHMARKS.md, "Review budget").
    let inline = (bytes.len() <= INLINE_BODY_BYTES)
        .then(|| app.inline.try_acquire().ok())
        .flatten();
    let done = match inline {
        Some(_inline) => Ok(work()),
        None => tokio::task::spawn_blocking(work).await,
    };
    match done {
        Ok(Ok(Ok((answer, decision)))) => Judged::Answer(answer, Box::new(decision)),
        Ok(Ok(Err(bad))) => Judged::Bad(bad.0),
        Ok(Err(_)) | Err(_) => Judged::InternalError(review::uid_of(&bytes).unwrap_or_default()),
    }
}

struct CancelOnDrop(Budget);

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        self.0.cancel();
    }
}

/// `wait`'s result, unless `deadline` comes first.
async fn until<T, E>(
    deadline: Instant,
    wait: impl std::future::Future<Output = Result<T, E>>,
) -> Option<T> {
    tokio::time::timeout_at(deadline.into(), wait)
        .await
        .ok()?
        .ok()
}

/// Bytes as KiB permits, rounded up, within what a semaphore holds.
fn kib(bytes: u64) -> usize {
    usize::try_from(bytes.div_ceil(1024))
        .unwrap_or(usize::MAX)
        .min(Semaphore::MAX_PERMITS)
}

/// A permit count as `acquire_many` takes it (more than u32::MAX KiB is 4 TiB).
fn permits(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
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

/// Names as Kubernetes bounds them (253 characters): a log line names the object, it never
/// carries whatever a request put there.
fn clip(s: &str) -> String {
    s.chars().take(253).collect()
}

/// One line per review: the object's names, what was decided and counts; never the object
/// or the answer's text (which can be megabytes).
fn log(hook: &'static str, d: &Decision, started: Instant) {
    tracing::info!(
        uid = %clip(&d.uid),
        hook,
        kind = %clip(&d.kind),
        namespace = %clip(&d.namespace),
        name = %clip(&d.name),
        operation = %d.operation,
        dry_run = d.dry_run,
        decision = d.outcome,
        denied = d.denied,
        warnings = d.warnings,
        patch_ops = d.patch_ops,
        rules = %d.rules.join(","),
        lookup_errors = d.lookup_errors.len(),
        duration_us = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX),
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
        Shared::new(
            Policy::default(),
            lookups,
            Arc::new(Metrics::default()),
            sync_deadline,
            ReviewLimits::detect(),
        )
    }

    fn limited(limits: ReviewLimits, failure_policy: review::FailurePolicy) -> App {
        Shared::new(
            Policy {
                failure_policy,
                ..Policy::default()
            },
            Arc::new(crate::webhook::lookups::NoLookups),
            Arc::new(Metrics::default()),
            Duration::ZERO,
            limits,
        )
    }

    fn roomy() -> ReviewLimits {
        ReviewLimits {
            deadline: Duration::from_secs(3600),
            concurrency: 2,
            memory_bytes: 256 << 20,
        }
    }

    const REVIEW: &[u8] = include_bytes!("../../tests/fixtures/serve/admission-review.json");

    /// POST the fixture review (a StatefulSet with errors) to `/validate`: the answer's
    /// `response` and the decision counted in the metrics.
    async fn post(app: &App) -> (Value, String) {
        let request = axum::http::Request::post("/validate")
            .header(header::CONTENT_TYPE, "application/json")
            .header(header::CONTENT_LENGTH, REVIEW.len())
            .body(axum::body::Body::from(REVIEW))
            .unwrap();
        let answer = router(app.clone()).oneshot(request).await.unwrap();
        assert_eq!(answer.status(), 200);
        let body = answer.into_body().collect().await.unwrap().to_bytes();
        let review: Value = serde_json::from_slice(&body).unwrap();
        let metrics = app.metrics.render();
        let decision = metrics
            .lines()
            .find_map(|l| {
                let l = l.strip_prefix("redline_admission_reviews_total{")?;
                let d = l.split("decision=\"").nth(1)?;
                Some(d.split('"').next()?.to_string())
            })
            .unwrap_or_default();
        (review["response"].clone(), decision)
    }

    fn warning(response: &Value) -> &str {
        response["warnings"][0].as_str().unwrap_or_default()
    }

    #[tokio::test]
    async fn a_review_within_its_budget_is_judged_and_gives_back_all_it_held() {
        let app = limited(roomy(), review::FailurePolicy::Ignore);
        let (response, decision) = post(&app).await;
        assert_eq!(
            (response["allowed"].as_bool(), decision.as_str()),
            (Some(false), "denied")
        );
        assert_eq!(app.memory_kib.available_permits(), kib(256 << 20));
        assert_eq!(app.slots.available_permits(), 2);
    }

    #[tokio::test]
    async fn a_review_larger_than_the_whole_budget_gets_the_failure_policy_answer() {
        let small = ReviewLimits {
            memory_bytes: 256 << 10,
            ..roomy()
        };
        let (response, decision) =
            post(&limited(small.clone(), review::FailurePolicy::Ignore)).await;
        assert_eq!(response["allowed"], true);
        assert_eq!(response["uid"], "3b1d4c0e-0f7a-4d55-9a34-6c1d2e8f9a01");
        assert!(
            warning(&response).starts_with("redline: not judged: the object needs about 2 MiB"),
            "{response}"
        );
        assert_eq!(decision, "over_budget");
        let (response, _) = post(&limited(small, review::FailurePolicy::Fail)).await;
        assert_eq!(response["allowed"], false);
        assert_eq!(response["status"]["code"], 503);
        assert!(
            response["status"]["message"]
                .as_str()
                .unwrap()
                .contains("failurePolicy Fail")
        );
    }

    #[tokio::test]
    async fn a_review_that_gets_no_slot_before_its_deadline_is_answered_busy() {
        let app = limited(
            ReviewLimits {
                deadline: Duration::from_millis(200),
                concurrency: 1,
                ..roomy()
            },
            review::FailurePolicy::Ignore,
        );
        let taken = app.slots.clone().acquire_owned().await.unwrap();
        let (response, decision) = post(&app).await;
        assert_eq!(
            (response["allowed"].as_bool(), decision.as_str()),
            (Some(true), "busy")
        );
        assert!(
            warning(&response).contains("busy with other reviews for its whole deadline of 200 ms")
        );
        drop(taken);
        // Everything it reserved while it waited is back.
        assert_eq!(app.memory_kib.available_permits(), kib(256 << 20));
    }

    #[tokio::test]
    async fn a_review_past_its_deadline_stops_and_is_answered_so() {
        let app = limited(
            ReviewLimits {
                deadline: Duration::ZERO,
                ..roomy()
            },
            review::FailurePolicy::Ignore,
        );
        let (response, decision) = post(&app).await;
        assert_eq!(
            (response["allowed"].as_bool(), decision.as_str()),
            (Some(true), "deadline")
        );
        assert!(warning(&response).contains("did not finish within its deadline of 0 ms"));
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

//! One admission request: the body read within its reservation, the review run on the
//! blocking pool within its budget, the answer, the metrics and the log line.

use super::*;

pub(super) async fn answer(app: App, hook: Hook, headers: &HeaderMap, body: Body) -> Response {
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

pub(super) enum Judged {
    Answer(Value, Box<Decision>),
    Bad(String),
    /// The review panicked (a bug); the request's uid.
    InternalError(String),
}

/// Judge a body within the budget: memory for its estimated peak (it holds its body's
/// already), a slot, then the review on the blocking pool. Whatever cannot happen before the
/// deadline is answered as the failure policy says.
pub(super) async fn judged(
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

pub(super) struct CancelOnDrop(pub(super) Budget);

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        self.0.cancel();
    }
}

/// `wait`'s result, unless `deadline` comes first.
pub(super) async fn until<T, E>(
    deadline: Instant,
    wait: impl std::future::Future<Output = Result<T, E>>,
) -> Option<T> {
    tokio::time::timeout_at(deadline.into(), wait)
        .await
        .ok()?
        .ok()
}

/// Bytes as KiB permits, rounded up, within what a semaphore holds.
pub(super) fn kib(bytes: u64) -> usize {
    usize::try_from(bytes.div_ceil(1024))
        .unwrap_or(usize::MAX)
        .min(Semaphore::MAX_PERMITS)
}

/// A permit count as `acquire_many` takes it (more than u32::MAX KiB is 4 TiB).
pub(super) fn permits(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

pub(super) fn count(
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
            kind: super::super::metrics::kind_label(kind),
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
pub(super) fn clip(s: &str) -> String {
    s.chars().take(253).collect()
}

/// One line per review: the object's names, what was decided and counts; never the object
/// or the answer's text (which can be megabytes).
pub(super) fn log(hook: &'static str, d: &Decision, started: Instant) {
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

pub(super) fn json_response(status: StatusCode, body: &Value) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

pub(super) fn refuse(status: StatusCode, message: &str) -> Response {
    json_response(
        status,
        &json!({ "error": format!("redline: {message}"), "status": status.as_u16() }),
    )
}

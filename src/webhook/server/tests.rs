//! The server's parts without a socket: reservations, permits, log lines.

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

const REVIEW: &[u8] = include_bytes!("../../../tests/fixtures/serve/admission-review.json");

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
    let (response, decision) = post(&limited(small.clone(), review::FailurePolicy::Ignore)).await;
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

//! Upstream failures with nothing cached: each becomes a problem+json with
//! the right status (502/503/504), a summarised detail and never the
//! upstream's raw body; 5xx are retried a bounded number of times, 429 is
//! not retried.
mod common;

use std::time::{Duration, Instant};

use serde_json::Value;
use service_order_gateway::simulator::{Fault, Target};

/// Asserts a problem+json with `status` and `slug`; returns (body text, JSON).
async fn problem(r: reqwest::Response, status: u16, slug: &str) -> (String, Value) {
    assert_eq!(r.status(), status);
    assert_eq!(
        r.headers()["content-type"].to_str().unwrap(),
        "application/problem+json"
    );
    let text = r.text().await.unwrap();
    let body: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(
        body["type"],
        format!("urn:service-order-gateway:problem:{slug}"),
        "{text}"
    );
    assert_eq!(body["status"], status);
    assert!(!body["title"].as_str().unwrap().is_empty());
    assert!(!body["detail"].as_str().unwrap().is_empty());
    assert!(
        !text.contains("\"fault\""),
        "raw Apigee body leaked: {text}"
    );
    (text, body)
}

#[tokio::test]
async fn a_500_is_a_502_after_two_retries() {
    let app = common::spawn_app().await;
    app.sim.set_fault(Target::Orders, Some(Fault::Status(500)));
    let r = app.orders("uno").await;
    let (_, body) = problem(r, 502, "upstream-error").await;
    assert_eq!(body["upstreamStatus"], 500);
    assert_eq!(app.sim.count(Target::Orders), 3, "1 attempt + 2 retries");
}

#[tokio::test]
async fn a_503_is_retried_twice_and_its_faultstring_summarised() {
    let app = common::spawn_app().await;
    app.sim.set_fault(Target::Details, Some(Fault::Status(503)));
    let r = app.details("webentry_id=UN0000000001").await;
    let (_, body) = problem(r, 502, "upstream-error").await;
    assert_eq!(body["upstreamStatus"], 503);
    let detail = body["detail"].as_str().unwrap();
    assert!(
        detail.contains("The Service is temporarily unavailable"),
        "{detail}"
    );
    assert_eq!(app.sim.count(Target::Details), 3, "1 attempt + 2 retries");
}

#[tokio::test]
async fn a_transient_500_is_hidden_by_a_retry() {
    let app = common::spawn_app().await;
    app.sim.fail_next(Target::Orders, 1, Fault::Status(500));
    let r = app.orders("uno").await;
    assert_eq!(r.status(), 200);
    let statuses: Vec<u16> = app
        .sim
        .received()
        .into_iter()
        .filter(|c| c.target == Target::Orders)
        .map(|c| c.status)
        .collect();
    assert_eq!(statuses, vec![500, 200]);
}

#[tokio::test]
async fn an_apigee_fault_is_summarised_not_passed_through() {
    let app = common::spawn_app().await;
    app.sim.set_fault(Target::Orders, Some(Fault::Status(400)));
    let (_, body) = problem(app.orders("uno").await, 502, "upstream-error").await;
    assert_eq!(body["upstreamStatus"], 400);
    let detail = body["detail"].as_str().unwrap();
    assert!(detail.contains("Bad Request"), "{detail}");
    assert!(
        detail.contains("messaging.adaptors.http.flow.BadRequest"),
        "{detail}"
    );
    assert_eq!(app.sim.count(Target::Orders), 1, "a 4xx is not retried");
}

#[tokio::test]
async fn an_html_error_page_is_a_502_without_its_body() {
    let app = common::spawn_app().await;
    app.sim
        .set_fault(Target::Orders, Some(Fault::HtmlError(502)));
    let (text, body) = problem(app.orders("uno").await, 502, "upstream-error").await;
    assert_eq!(body["upstreamStatus"], 502);
    assert!(!text.contains("nginx"), "{text}");
    assert!(!text.contains("<html"), "{text}");
    assert!(!text.contains("<center>"), "{text}");
    assert!(body["detail"].as_str().unwrap().contains("502 Bad Gateway"));
    assert_eq!(app.sim.count(Target::Orders), 3);
}

#[tokio::test]
async fn malformed_json_is_a_502() {
    let app = common::spawn_app().await;
    app.sim
        .set_fault(Target::Orders, Some(Fault::MalformedJson));
    let (text, _) = problem(app.orders("uno").await, 502, "upstream-bad-response").await;
    assert!(!text.contains("N10000001"), "{text}");
    assert!(!text.contains("offerPl"), "{text}");

    app.sim
        .set_fault(Target::Details, Some(Fault::MalformedJson));
    let (text, _) = problem(
        app.details("webentry_id=UN0000000001").await,
        502,
        "upstream-bad-response",
    )
    .await;
    assert!(!text.contains("UN00000"), "{text}");
    // Nothing was cached from the broken answers.
    app.sim.clear_faults();
    assert_eq!(app.orders("uno").await.status(), 200);
}

#[tokio::test]
async fn a_details_result_code_error_is_a_502() {
    let app = common::spawn_app().await;
    app.sim.set_fault(
        Target::Details,
        Some(Fault::ResultCode {
            code: "500".into(),
            detail_code: "E99".into(),
            message: "エラーが発生しました".into(),
        }),
    );
    let (_, body) = problem(
        app.details("webentry_id=UN0000000002").await,
        502,
        "upstream-result-code",
    )
    .await;
    let detail = body["detail"].as_str().unwrap();
    assert!(detail.contains("500"), "{detail}");
    assert!(detail.contains("E99"), "{detail}");
    assert_eq!(app.sim.count(Target::Details), 1);
}

#[tokio::test]
async fn a_429_is_a_503_with_retry_after_and_not_retried() {
    let app = common::spawn_app().await;
    app.sim.set_fault(
        Target::Orders,
        Some(Fault::TooManyRequests {
            retry_after: Some(7),
        }),
    );
    let r = app.orders("uno").await;
    assert_eq!(r.headers()["retry-after"], "7");
    let (_, body) = problem(r, 503, "upstream-rate-limited").await;
    assert_eq!(body["retryAfter"], 7);
    assert_eq!(body["upstreamStatus"], 429);
    assert_eq!(app.sim.count(Target::Orders), 1, "a 429 is never retried");
}

#[tokio::test]
async fn a_429_without_retry_after_still_gets_one() {
    let app = common::spawn_app().await;
    app.sim.set_fault(
        Target::Orders,
        Some(Fault::TooManyRequests { retry_after: None }),
    );
    let r = app.orders("mss").await;
    let seconds: u64 = r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(seconds >= 1);
    problem(r, 503, "upstream-rate-limited").await;
    assert_eq!(app.sim.count(Target::Orders), 1);
}

#[tokio::test]
async fn a_hanging_upstream_is_a_504() {
    let app = common::spawn_app_with(common::open_hours(), |config| {
        config.upstream.timeout = Duration::from_millis(300);
    })
    .await;
    app.sim.set_fault(Target::Orders, Some(Fault::Hang));
    let started = Instant::now();
    let (_, body) = problem(app.orders("uno").await, 504, "upstream-timeout").await;
    assert!(started.elapsed() < Duration::from_secs(3));
    assert!(body["detail"].as_str().unwrap().contains("300ms"));
    assert_eq!(app.sim.count(Target::Orders), 1, "a timeout is not retried");
}

#[tokio::test]
async fn a_closed_answer_inside_opening_hours_is_a_502() {
    // The gateway's calendar says open (Thursday 10:00 JST), so an upstream
    // "closed" answer is an upstream error, not a closed-hours 503.
    let app = common::spawn_app().await;
    app.sim.set_fault(Target::Details, Some(Fault::Closed));
    let (_, body) = problem(
        app.details("webentry_id=UN0000000001").await,
        502,
        "upstream-error",
    )
    .await;
    assert_eq!(body["upstreamStatus"], 403);
    assert!(
        body["detail"]
            .as_str()
            .unwrap()
            .contains("Service is not available at this time")
    );
    assert_eq!(app.sim.count(Target::Details), 1);
}

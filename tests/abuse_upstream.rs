//! A malicious or broken upstream: a 40 MiB body (over the 32 MiB limit), a
//! body that drips one byte at a time, invalid UTF-8, JSON nested 100 000
//! deep and truncated JSON. Each time the client gets a prompt 502 (504 for
//! the slow one) problem+json, memory stays bounded, and the cache is
//! untouched: another key's good entry is still a hit, the failing key has
//! no entry, and once the fault clears the next request calls the upstream.
mod common;

use std::time::{Duration, Instant};

use common::TestApp;
use serde_json::Value;
use service_order_gateway::simulator::{Fault, Target};

/// The resident set of this process (gateway + simulator + test), in KiB.
fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|n| n.parse().ok())
        })
        .unwrap_or(0)
}

fn cache_status(r: &reqwest::Response) -> String {
    r.headers()
        .get("cache-status")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

fn cached_keys(app: &TestApp) -> Vec<String> {
    app.state
        .gateway
        .cache()
        .entries()
        .iter()
        .map(|e| e.key().to_string())
        .collect()
}

/// Runs one bad-upstream scenario on the orders endpoint and checks
/// everything the module doc promises.
async fn scenario(
    app: &TestApp,
    fault: Fault,
    status: u16,
    slug: &str,
    within: Duration,
) -> String {
    let (good, bad, target) = (
        "/v1/business-process/service-orders?serviceName=mss",
        "/v1/business-process/service-orders?serviceName=uno",
        Target::Orders,
    );
    // A good entry for another key.
    let r = app.get(good).await;
    assert_eq!(r.status(), 200);
    assert!(cache_status(&r).contains("stored"), "{}", cache_status(&r));
    assert_eq!(cached_keys(app).len(), 1);
    let calls_before = app.sim.count(target);

    app.sim.set_fault(target, Some(fault.clone()));
    let rss_before = rss_kib();
    let started = Instant::now();
    let r = app.get(bad).await;
    let took = started.elapsed();
    assert_eq!(r.status().as_u16(), status, "{fault:?}");
    assert!(took < within, "{fault:?}: answered after {took:?}");
    assert_eq!(
        r.headers()["content-type"],
        "application/problem+json",
        "{fault:?}"
    );
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["status"], status);
    assert_eq!(
        body["type"],
        format!("urn:service-order-gateway:problem:{slug}"),
        "{fault:?}: {body}"
    );
    assert!(body["title"].as_str().is_some_and(|t| !t.is_empty()));
    let detail = body["detail"].as_str().unwrap_or_default().to_owned();
    assert!(!detail.is_empty());
    // The upstream's garbage is never echoed back.
    assert!(detail.len() < 500, "{fault:?}: detail too long: {detail}");
    assert!(!detail.contains("xxxxxxxx") && !detail.contains("[[[["));
    // The upstream was asked, at most once plus the transport retries.
    let calls = app.sim.count(target) - calls_before;
    assert!((1..=3).contains(&calls), "{fault:?}: {calls} calls");
    // Growth bounded by the 32 MiB body limit (plus the simulator's own copy).
    let grown_mib = rss_kib().saturating_sub(rss_before) / 1024;
    assert!(grown_mib < 256, "{fault:?}: RSS grew {grown_mib} MiB");

    // The cache is untouched: the good key is still a hit, the bad one absent.
    assert_eq!(cached_keys(app).len(), 1, "{:?}", cached_keys(app));
    let calls_before = app.sim.count(target);
    let r = app.get(good).await;
    assert_eq!(r.status(), 200);
    assert!(cache_status(&r).contains("; hit"), "{}", cache_status(&r));
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["resultCount"], 4);
    assert_eq!(app.sim.count(target), calls_before, "a hit calls nobody");

    // Fault cleared: the failing key calls the upstream and is then stored.
    app.sim.clear_faults();
    let r = app.get(bad).await;
    assert_eq!(r.status(), 200);
    let cs = cache_status(&r);
    assert!(cs.contains("fwd=miss") && cs.contains("stored"), "{cs}");
    assert_eq!(app.sim.count(target), calls_before + 1);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["resultCount"], 3);
    detail
}

#[tokio::test]
async fn huge_body_over_the_limit_is_502() {
    let app = common::spawn_app().await;
    let detail = scenario(
        &app,
        Fault::HugeBody(40 * 1024 * 1024),
        502,
        "upstream-bad-response",
        Duration::from_secs(5),
    )
    .await;
    assert!(detail.contains("larger than 33554432 bytes"), "{detail}");
}

#[tokio::test]
async fn slow_drip_body_is_504_within_two_seconds() {
    let app = common::spawn_app_with(common::open_hours(), |c| {
        c.upstream.timeout = Duration::from_millis(500);
    })
    .await;
    scenario(
        &app,
        Fault::SlowDrip,
        504,
        "upstream-timeout",
        Duration::from_secs(2),
    )
    .await;
}

#[tokio::test]
async fn invalid_utf8_body_is_502() {
    let app = common::spawn_app().await;
    scenario(
        &app,
        Fault::InvalidUtf8,
        502,
        "upstream-bad-response",
        Duration::from_secs(2),
    )
    .await;
}

#[tokio::test]
async fn deeply_nested_json_is_502_without_stack_overflow() {
    let app = common::spawn_app().await;
    scenario(
        &app,
        Fault::DeepNesting(100_000),
        502,
        "upstream-bad-response",
        Duration::from_secs(2),
    )
    .await;
}

#[tokio::test]
async fn malformed_json_is_502() {
    let app = common::spawn_app().await;
    scenario(
        &app,
        Fault::MalformedJson,
        502,
        "upstream-bad-response",
        Duration::from_secs(2),
    )
    .await;
}

#[tokio::test]
async fn deeply_nested_details_body_is_502_and_not_cached() {
    let app = common::spawn_app().await;
    app.sim
        .set_fault(Target::Details, Some(Fault::DeepNesting(100_000)));
    let r = app.details("webentry_id=UN0000000001").await;
    assert_eq!(r.status(), 502);
    assert_eq!(r.headers()["content-type"], "application/problem+json");
    let body: Value = r.json().await.unwrap();
    assert_eq!(
        body["type"],
        "urn:service-order-gateway:problem:upstream-bad-response"
    );
    assert!(cached_keys(&app).is_empty());
    app.sim.clear_faults();
    let r = app.details("webentry_id=UN0000000001").await;
    assert_eq!(r.status(), 200);
    assert_eq!(app.sim.count(Target::Details), 2);
}

//! Bandwidth control end to end: a burst of distinct uncached requests
//! never makes the gateway exceed its upstream budget (rate + burst, token
//! requests included) nor provoke a 429; callers that cannot get budget in
//! time get a 503 problem with `Retry-After`; an upstream 429 pauses every
//! upstream call; 5xx are retried, 429s never.
mod common;

use std::time::{Duration, Instant};

use common::problem;
use common::{TestApp, header};
use service_order_gateway::simulator::{Fault, Target};

const CS: &str = "service-order-gateway";
const SERVICES: [&str; 9] = [
    "uno",
    "ucaas",
    "sip-trunking",
    "mss",
    "050plusbiz",
    "ip-voice",
    "smart-pbx",
    "accs",
    "bdp-e",
];

/// 10 calls/s, bursts of 5, one second in the queue at most.
async fn spawn_limited() -> TestApp {
    common::spawn_app_with(common::open_hours(), |c| {
        c.upstream.rate = "10/s".parse().unwrap();
        c.upstream.burst = std::num::NonZeroU32::new(5).unwrap();
        c.upstream.queue_timeout = Duration::from_secs(1);
    })
    .await
}

#[tokio::test]
async fn a_burst_of_uncached_requests_stays_within_the_budget() {
    let app = spawn_limited().await;
    let paths: Vec<String> =
        SERVICES
            .iter()
            .map(|s| format!("/v1/business-process/service-orders?serviceName={s}"))
            .chain((0..491).map(|i| {
                format!("/v1/business-process/service-order-details?webentry_id=BW{i:05}")
            }))
            .collect();
    assert_eq!(paths.len(), 500);
    let started = Instant::now();
    let responses = futures::future::join_all(paths.iter().map(|p| app.get(p))).await;
    let elapsed = started.elapsed();
    // Nobody waits much longer than the queue timeout.
    assert!(elapsed < Duration::from_secs(4), "{elapsed:?}");

    let mut ok = 0;
    for r in responses {
        match r.status().as_u16() {
            200 => {
                assert!(
                    header(&r, "cache-status").contains("; stored;"),
                    "{}",
                    header(&r, "cache-status")
                );
                ok += 1;
            }
            503 => {
                let retry_after: u64 = header(&r, "retry-after").parse().unwrap();
                assert!((1..=120).contains(&retry_after), "{retry_after}");
                assert_eq!(
                    header(&r, "cache-status"),
                    format!("{CS}; detail=rate-limited")
                );
                let p = problem(r, 503, "upstream-budget-exhausted").await;
                assert_eq!(p["retryAfter"], retry_after);
            }
            other => panic!("unexpected status {other}"),
        }
    }
    // Callers queue for budget rather than fail at once...
    assert!(ok >= 10, "only {ok} served");
    // ...and every one served cost exactly one upstream call.
    assert_eq!(app.api_calls(), ok);
    let budget = 5 + 10 * elapsed.as_secs_f64().ceil() as usize;
    assert!(app.sim.count(Target::Any) <= budget + 1, "{elapsed:?}");
    let peak = app.sim.max_per_second(Target::Any);
    assert!(peak <= 10 + 5, "{peak} upstream calls within one second");
    assert!(app.sim.received().iter().all(|r| r.status != 429));

    // The server stays up, and what was stored is served.
    let r = app.get("/healthz").await;
    assert_eq!(r.status(), 200);
    let served_calls = app.api_calls();
    for path in &paths {
        let r = app.get(path).await;
        if r.status() == 200 && header(&r, "cache-status").contains("; hit;") {
            assert_eq!(app.api_calls(), served_calls);
            return;
        }
    }
    panic!("no stored answer found");
}

#[tokio::test]
async fn an_upstream_429_pauses_every_upstream_call() {
    let app = spawn_limited().await;
    app.sim.fail_next(
        Target::Orders,
        1,
        Fault::TooManyRequests {
            retry_after: Some(2),
        },
    );
    let r = app.orders("uno").await;
    assert_eq!(header(&r, "retry-after"), "2");
    assert_eq!(
        header(&r, "cache-status"),
        format!("{CS}; fwd=miss; fwd-status=429")
    );
    let p = problem(r, 503, "upstream-rate-limited").await;
    assert_eq!(p["upstreamStatus"], 429);
    assert_eq!(p["retryAfter"], 2);
    assert_eq!(app.sim.count(Target::Orders), 1);

    let calls = app.sim.count(Target::Any);
    for path in [
        "/v1/business-process/service-orders?serviceName=mss",
        "/v1/business-process/service-order-details?webentry_id=UN0000000001",
    ] {
        let started = Instant::now();
        let r = app.get(path).await;
        assert!(started.elapsed() < Duration::from_millis(500));
        let retry_after: u64 = header(&r, "retry-after").parse().unwrap();
        assert!((1..=2).contains(&retry_after), "{retry_after}");
        assert_eq!(
            header(&r, "cache-status"),
            format!("{CS}; detail=rate-limited")
        );
        problem(r, 503, "upstream-budget-exhausted").await;
    }
    assert_eq!(app.sim.count(Target::Any), calls);
}

#[tokio::test]
async fn a_paused_upstream_serves_stale_data_marked_rate_limited() {
    let app = spawn_limited().await;
    let r = app.orders("uno").await;
    assert_eq!(r.status(), 200);
    let body = r.bytes().await.unwrap();
    app.advance(Duration::from_secs(61));
    app.sim.fail_next(
        Target::Orders,
        1,
        Fault::TooManyRequests {
            retry_after: Some(2),
        },
    );
    let r = app.orders("mss").await;
    assert_eq!(r.status(), 503);
    let calls = app.sim.count(Target::Any);

    let r = app
        .get_with(
            "/v1/business-process/service-orders?serviceName=uno",
            &[("cache-control", "no-cache")],
        )
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(
        header(&r, "cache-status"),
        format!("{CS}; hit; ttl=-1; detail=rate-limited")
    );
    assert_eq!(r.bytes().await.unwrap(), body);
    assert_eq!(app.sim.count(Target::Any), calls);
}

#[tokio::test]
async fn server_errors_are_retried() {
    let app = spawn_limited().await;
    app.sim.fail_next(Target::Orders, 2, Fault::Status(503));
    let r = app.orders("uno").await;
    assert_eq!(r.status(), 200);
    assert_eq!(
        header(&r, "cache-status"),
        format!("{CS}; fwd=miss; stored; ttl=60")
    );
    let statuses: Vec<u16> = app
        .sim
        .received()
        .iter()
        .filter(|r| r.target == Target::Orders)
        .map(|r| r.status)
        .collect();
    assert_eq!(statuses, vec![503, 503, 200]);
}

#[tokio::test]
async fn a_429_is_never_retried() {
    let app = spawn_limited().await;
    app.sim.fail_next(
        Target::Orders,
        1,
        Fault::TooManyRequests { retry_after: None },
    );
    let r = app.orders("uno").await;
    // Without Retry-After the gateway backs off 5 s.
    assert_eq!(header(&r, "retry-after"), "5");
    let p = problem(r, 503, "upstream-rate-limited").await;
    assert_eq!(p["upstreamStatus"], 429);
    assert_eq!(app.sim.count(Target::Orders), 1);
    assert!(
        app.state
            .gateway
            .upstream()
            .limiter()
            .paused_until()
            .is_some()
    );
}

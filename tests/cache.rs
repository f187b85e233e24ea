//! The response cache end to end: miss then hit with `Age`/`ttl` following
//! the clock, stale-while-revalidate with exactly one background refresh,
//! coalescing of concurrent cold requests, stale-if-error for every failure
//! kind (and its limit, `stale-max-age`), errors never cached, the caller's
//! `Cache-Control`, `ETag`/`If-None-Match` and canonical details keys.
mod common;

use std::time::Duration;

use common::problem;
use common::{TestApp, header};
use reqwest::Response;
use service_order_gateway::simulator::{Fault, Target};

const CS: &str = "service-order-gateway";
const UNO: &str = "/v1/business-process/service-orders?serviceName=uno";

fn cache_status(r: &Response) -> String {
    header(r, "cache-status")
}

fn age(r: &Response) -> u64 {
    header(r, "age").parse().unwrap()
}

/// Caches uno's orders (one upstream call) and returns the body.
async fn warm(app: &TestApp) -> bytes::Bytes {
    let r = app.get(UNO).await;
    assert_eq!(r.status(), 200);
    assert_eq!(cache_status(&r), format!("{CS}; fwd=miss; stored; ttl=60"));
    r.bytes().await.unwrap()
}

#[tokio::test]
async fn miss_then_hit_and_age_follows_the_clock() {
    let app = common::spawn_app().await;
    let r = app.get(UNO).await;
    assert_eq!(r.status(), 200);
    assert_eq!(cache_status(&r), format!("{CS}; fwd=miss; stored; ttl=60"));
    assert_eq!(age(&r), 0);
    assert_eq!(header(&r, "cache-control"), "public, max-age=60");
    let etag = header(&r, "etag");
    assert!(etag.starts_with('"') && etag.ends_with('"') && etag.len() > 2);
    let first = r.bytes().await.unwrap();

    let r = app.get(UNO).await;
    assert_eq!(cache_status(&r), format!("{CS}; hit; ttl=60"));
    assert_eq!(age(&r), 0);
    assert_eq!(header(&r, "etag"), etag);
    assert_eq!(r.bytes().await.unwrap(), first);
    assert_eq!(app.sim.count(Target::Orders), 1);

    app.advance(Duration::from_secs(30));
    let r = app.get(UNO).await;
    assert_eq!(r.status(), 200);
    assert_eq!(cache_status(&r), format!("{CS}; hit; ttl=30"));
    assert_eq!(age(&r), 30);
    assert_eq!(header(&r, "cache-control"), "public, max-age=30");
    assert_eq!(header(&r, "etag"), etag);
    assert_eq!(r.bytes().await.unwrap(), first);
    assert_eq!(app.sim.count(Target::Orders), 1);
}

fn is_fetched_now(app: &TestApp, key: &str) -> bool {
    let now = app.state.gateway.clock().now();
    app.state
        .gateway
        .cache()
        .entries()
        .iter()
        .any(|e| e.key() == key && e.fetched_at == now)
}

#[tokio::test]
async fn stale_while_revalidate_serves_at_once_and_refreshes_once() {
    let app = common::spawn_app().await;
    let body = warm(&app).await;

    app.advance(Duration::from_secs(61));
    let r = app.get(UNO).await;
    assert_eq!(r.status(), 200);
    assert_eq!(
        cache_status(&r),
        format!("{CS}; hit; ttl=-1; detail=revalidating")
    );
    assert_eq!(age(&r), 61);
    assert_eq!(header(&r, "cache-control"), "public, max-age=0");
    assert_eq!(r.bytes().await.unwrap(), body);
    app.eventually("one background refresh", || {
        app.sim.count(Target::Orders) == 2
    })
    .await;
    app.eventually("the refreshed entry is stored", || {
        is_fetched_now(&app, "service-orders?serviceName=uno")
    })
    .await;

    let r = app.get(UNO).await;
    assert_eq!(cache_status(&r), format!("{CS}; hit; ttl=60"));
    assert_eq!(age(&r), 0);
    assert_eq!(r.bytes().await.unwrap(), body);
    assert_eq!(app.sim.count(Target::Orders), 2);

    // Many callers of one stale key: all served stale at once, one refresh.
    app.sim.set_latency(Duration::from_millis(400));
    app.advance(Duration::from_secs(90));
    let responses = futures::future::join_all((0..50).map(|_| app.get(UNO))).await;
    for r in responses {
        assert_eq!(r.status(), 200);
        assert_eq!(
            cache_status(&r),
            format!("{CS}; hit; ttl=-30; detail=revalidating")
        );
        assert_eq!(age(&r), 90);
    }
    app.eventually("the second refresh", || app.sim.count(Target::Orders) == 3)
        .await;
    app.eventually("the refreshed entry is stored", || {
        is_fetched_now(&app, "service-orders?serviceName=uno")
    })
    .await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(app.sim.count(Target::Orders), 3);
}

#[tokio::test]
async fn concurrent_cold_requests_make_one_upstream_call() {
    let app = common::spawn_app().await;
    app.sim.set_latency(Duration::from_millis(200));
    let responses = futures::future::join_all((0..100).map(|_| app.get(UNO))).await;
    let mut stored = 0;
    let mut collapsed = 0;
    let mut bodies = Vec::new();
    for r in responses {
        assert_eq!(r.status(), 200);
        match cache_status(&r).as_str() {
            s if s == format!("{CS}; fwd=miss; stored; ttl=60") => stored += 1,
            s if s == format!("{CS}; fwd=miss; collapsed; ttl=60") => collapsed += 1,
            other => panic!("unexpected Cache-Status {other}"),
        }
        bodies.push(r.bytes().await.unwrap());
    }
    assert_eq!((stored, collapsed), (1, 99));
    assert!(bodies.iter().all(|b| *b == bodies[0]));
    let json: serde_json::Value = serde_json::from_slice(&bodies[0]).unwrap();
    assert_eq!(json["resultCount"], 3);
    assert_eq!(app.sim.count(Target::Orders), 1);
}

/// Caches uno, lets it expire, installs a failure with `fail`, then asks
/// with `no-cache` (so the upstream is asked synchronously): the stale
/// entry comes back with `expected` as Cache-Status.
async fn stale_if_error(app: &TestApp, fail: impl FnOnce(&TestApp), expected: &str) {
    let body = warm(app).await;
    app.advance(Duration::from_secs(61));
    fail(app);
    let r = app.get_with(UNO, &[("cache-control", "no-cache")]).await;
    assert_eq!(r.status(), 200);
    assert_eq!(cache_status(&r), format!("{CS}; {expected}"));
    assert_eq!(age(&r), 61);
    assert_eq!(header(&r, "cache-control"), "public, max-age=0");
    assert_eq!(header(&r, "content-type"), "application/json");
    assert_eq!(r.bytes().await.unwrap(), body);
}

#[tokio::test]
async fn stale_if_error_on_upstream_503() {
    let app = common::spawn_app().await;
    stale_if_error(
        &app,
        |app| app.sim.set_fault(Target::Orders, Some(Fault::Status(503))),
        "fwd=stale; fwd-status=503; ttl=-1; detail=upstream-error",
    )
    .await;
    // First call plus two retries.
    assert_eq!(app.sim.count(Target::Orders), 1 + 3);
}

#[tokio::test]
async fn stale_if_error_on_upstream_timeout() {
    let app = common::spawn_app_with(common::open_hours(), |c| {
        c.upstream.timeout = Duration::from_millis(300)
    })
    .await;
    let started = std::time::Instant::now();
    stale_if_error(
        &app,
        |app| app.sim.set_fault(Target::Orders, Some(Fault::Hang)),
        "fwd=stale; ttl=-1; detail=upstream-error",
    )
    .await;
    assert!(started.elapsed() < Duration::from_secs(3));
    assert_eq!(app.sim.count(Target::Orders), 2);
    // Nothing cached: a gateway timeout problem, after one (unretried) call.
    let r = app.orders("mss").await;
    assert_eq!(cache_status(&r), format!("{CS}; fwd=miss"));
    problem(r, 504, "upstream-timeout").await;
    assert_eq!(app.sim.count(Target::Orders), 3);
}

#[tokio::test]
async fn stale_if_error_when_the_upstream_is_unreachable() {
    let mut app = common::spawn_app().await;
    let body = warm(&app).await;
    app.simulator.take().unwrap().shutdown().await;
    app.advance(Duration::from_secs(61));
    let r = app.get_with(UNO, &[("cache-control", "no-cache")]).await;
    assert_eq!(r.status(), 200);
    assert_eq!(
        cache_status(&r),
        format!("{CS}; fwd=stale; ttl=-1; detail=upstream-error")
    );
    assert_eq!(r.bytes().await.unwrap(), body);
    // Nothing cached for another service: an unreachable-upstream problem.
    let r = app.orders("mss").await;
    let p = problem(r, 502, "upstream-unreachable").await;
    assert!(p.get("upstreamStatus").is_none());
    assert_eq!(app.sim.count(Target::Orders), 1);
}

#[tokio::test]
async fn stale_if_error_on_upstream_429_is_rate_limited() {
    let app = common::spawn_app().await;
    stale_if_error(
        &app,
        |app| {
            app.sim.set_fault(
                Target::Orders,
                Some(Fault::TooManyRequests {
                    retry_after: Some(2),
                }),
            )
        },
        "fwd=stale; fwd-status=429; ttl=-1; detail=rate-limited",
    )
    .await;
    // Never retried into a 429.
    assert_eq!(app.sim.count(Target::Orders), 2);
}

#[tokio::test]
async fn stale_if_error_when_no_token_can_be_had() {
    let app = common::spawn_app().await;
    let tokens_before = app.sim.count(Target::Token);
    stale_if_error(
        &app,
        |app| {
            app.sim.revoke_tokens();
            app.sim.set_fault(Target::Token, Some(Fault::Unauthorized));
        },
        "fwd=stale; fwd-status=401; ttl=-1; detail=upstream-error",
    )
    .await;
    let received = app.sim.received();
    let orders: Vec<u16> = received
        .iter()
        .filter(|r| r.target == Target::Orders)
        .map(|r| r.status)
        .collect();
    assert_eq!(orders, vec![200, 401]);
    assert_eq!(app.sim.count(Target::Token), tokens_before + 1);
    assert_eq!(received.last().unwrap().target, Target::Token);
    assert_eq!(received.last().unwrap().status, 401);
}

#[tokio::test]
async fn background_refresh_failure_keeps_serving_stale() {
    let app = common::spawn_app().await;
    let body = warm(&app).await;
    app.advance(Duration::from_secs(61));
    app.sim.set_fault(Target::Orders, Some(Fault::Status(503)));
    let r = app.get(UNO).await;
    assert_eq!(
        cache_status(&r),
        format!("{CS}; hit; ttl=-1; detail=revalidating")
    );
    assert_eq!(r.bytes().await.unwrap(), body);
    app.eventually("the background refresh and its retries", || {
        app.sim.count(Target::Orders) == 4
    })
    .await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    let r = app.get(UNO).await;
    assert_eq!(r.status(), 200);
    assert!(
        cache_status(&r).ends_with("; detail=revalidating"),
        "{}",
        cache_status(&r)
    );
    assert_eq!(r.bytes().await.unwrap(), body);
}

#[tokio::test]
async fn beyond_stale_max_age_an_error_is_not_hidden() {
    let app = common::spawn_app_with(common::open_hours(), |c| {
        c.cache.stale_max_age = Duration::from_secs(120)
    })
    .await;
    warm(&app).await;
    app.sim.set_fault(Target::Orders, Some(Fault::Status(503)));
    // Within stale-max-age: still served.
    app.advance(Duration::from_secs(100));
    let r = app.get_with(UNO, &[("cache-control", "no-cache")]).await;
    assert_eq!(r.status(), 200);
    assert_eq!(
        cache_status(&r),
        format!("{CS}; fwd=stale; fwd-status=503; ttl=-40; detail=upstream-error")
    );
    // Beyond it: the error, not old data.
    app.advance(Duration::from_secs(21));
    let calls = app.sim.count(Target::Orders);
    let r = app.get(UNO).await;
    assert_eq!(cache_status(&r), format!("{CS}; fwd=miss; fwd-status=503"));
    assert_eq!(header(&r, "cache-control"), "no-store");
    let p = problem(r, 502, "upstream-error").await;
    assert_eq!(p["upstreamStatus"], 503);
    assert!(p.get("items").is_none());
    assert_eq!(app.sim.count(Target::Orders), calls + 3);
}

#[tokio::test]
async fn errors_are_never_cached() {
    let app = common::spawn_app().await;
    app.sim.set_fault(Target::Orders, Some(Fault::Status(503)));
    let r = app.get(UNO).await;
    let p = problem(r, 502, "upstream-error").await;
    assert_eq!(p["upstreamStatus"], 503);
    assert_eq!(app.sim.count(Target::Orders), 3);
    app.sim.set_fault(Target::Orders, None);
    let r = app.get(UNO).await;
    assert_eq!(r.status(), 200);
    assert_eq!(cache_status(&r), format!("{CS}; fwd=miss; stored; ttl=60"));
    assert_eq!(app.sim.count(Target::Orders), 4);
}

#[tokio::test]
async fn empty_results_are_cached() {
    let app = common::spawn_app().await;
    for _ in 0..2 {
        let r = app.orders("accs").await;
        assert_eq!(r.status(), 200);
        let body: serde_json::Value = r.json().await.unwrap();
        assert_eq!(body["resultCount"], 0);
    }
    let r = app.orders("accs").await;
    assert_eq!(cache_status(&r), format!("{CS}; hit; ttl=60"));
    assert_eq!(app.sim.count(Target::Orders), 1);

    let r = app.details("webentry_id=EMPTY1").await;
    assert_eq!(r.status(), 200);
    assert_eq!(cache_status(&r), format!("{CS}; fwd=miss; stored; ttl=300"));
    assert_eq!(header(&r, "cache-control"), "private, max-age=300");
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["items"].as_array().unwrap().len(), 0);
    let r = app.details("webentry_id=EMPTY1").await;
    assert_eq!(cache_status(&r), format!("{CS}; hit; ttl=300"));
    assert_eq!(app.sim.count(Target::Details), 1);
}

#[tokio::test]
async fn caller_cache_control_is_honoured() {
    let app = common::spawn_app().await;
    warm(&app).await;
    let r = app.get_with(UNO, &[("cache-control", "no-cache")]).await;
    assert_eq!(r.status(), 200);
    assert_eq!(
        cache_status(&r),
        format!("{CS}; fwd=request; stored; ttl=60")
    );
    assert_eq!(app.sim.count(Target::Orders), 2);

    app.advance(Duration::from_secs(30));
    let r = app.get_with(UNO, &[("cache-control", "max-age=100")]).await;
    assert_eq!(cache_status(&r), format!("{CS}; hit; ttl=30"));
    assert_eq!(age(&r), 30);
    assert_eq!(app.sim.count(Target::Orders), 2);

    let r = app.get_with(UNO, &[("cache-control", "max-age=10")]).await;
    assert_eq!(r.status(), 200);
    assert_eq!(cache_status(&r), format!("{CS}; fwd=stale; stored; ttl=60"));
    assert_eq!(age(&r), 0);
    assert_eq!(app.sim.count(Target::Orders), 3);

    // Pragma: no-cache counts when there is no Cache-Control.
    let r = app.get_with(UNO, &[("pragma", "no-cache")]).await;
    assert_eq!(
        cache_status(&r),
        format!("{CS}; fwd=request; stored; ttl=60")
    );
    assert_eq!(app.sim.count(Target::Orders), 4);
}

#[tokio::test]
async fn if_none_match_gives_304() {
    let app = common::spawn_app().await;
    let r = app.get(UNO).await;
    let etag = header(&r, "etag");
    let r = app.get_with(UNO, &[("if-none-match", &etag)]).await;
    assert_eq!(r.status(), 304);
    assert_eq!(header(&r, "etag"), etag);
    assert_eq!(cache_status(&r), format!("{CS}; hit; ttl=60"));
    assert_eq!(age(&r), 0);
    assert!(r.bytes().await.unwrap().is_empty());

    let weak = format!("\"nope\", W/{etag}");
    let r = app.get_with(UNO, &[("if-none-match", &weak)]).await;
    assert_eq!(r.status(), 304);

    let r = app.get_with(UNO, &[("if-none-match", "\"nope\"")]).await;
    assert_eq!(r.status(), 200);
    assert_eq!(header(&r, "etag"), etag);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["resultCount"], 3);
    assert_eq!(app.sim.count(Target::Orders), 1);
}

#[tokio::test]
async fn details_keys_are_canonical() {
    let app = common::spawn_app().await;
    let r = app
        .details("webentry_id=UN0000000002&n_no=N000000002")
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(cache_status(&r), format!("{CS}; fwd=miss; stored; ttl=300"));
    let first = r.bytes().await.unwrap();
    let r = app
        .details("n_no=N000000002&webentry_id=UN0000000002")
        .await;
    assert_eq!(cache_status(&r), format!("{CS}; hit; ttl=300"));
    assert_eq!(r.bytes().await.unwrap(), first);
    // The default range (a month up to today, JST) is the explicit one.
    let r = app
        .details(
            "data_update_date_to=2026-12-03&n_no=N000000002&data_update_date_from=2026-11-03&webentry_id=UN0000000002",
        )
        .await;
    assert_eq!(cache_status(&r), format!("{CS}; hit; ttl=300"));
    assert_eq!(r.bytes().await.unwrap(), first);
    // A different range is a different key.
    let r = app
        .details("webentry_id=UN0000000002&n_no=N000000002&data_update_date_from=2026-11-04")
        .await;
    assert_eq!(cache_status(&r), format!("{CS}; fwd=miss; stored; ttl=300"));

    assert_eq!(app.sim.count(Target::Details), 2);
    let queries: Vec<String> = app
        .sim
        .received()
        .into_iter()
        .filter(|r| r.target == Target::Details)
        .map(|r| r.query.unwrap_or_default())
        .collect();
    assert_eq!(
        queries[0],
        "webentry_id=UN0000000002&n_no=N000000002&data_update_date_from=2026%2F11%2F03&data_update_date_to=2026%2F12%2F03"
    );
}

#[tokio::test]
async fn a_failed_background_refresh_is_not_retried_by_every_request() {
    use service_order_gateway::simulator::{Fault, Target};
    let app = common::spawn_app().await;
    assert_eq!(app.orders("uno").await.status(), 200);
    app.advance(std::time::Duration::from_secs(61));
    app.sim.set_fault(Target::Orders, Some(Fault::Status(503)));
    let r = app.orders("uno").await;
    assert!(
        r.headers()["cache-status"]
            .to_str()
            .unwrap()
            .contains("detail=revalidating")
    );
    // The refresh and its two retries fail.
    app.eventually("failed refresh", || app.sim.count(Target::Orders) == 4)
        .await;
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    for _ in 0..20 {
        let r = app.orders("uno").await;
        assert_eq!(r.status(), 200, "stale data keeps being served");
    }
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    assert_eq!(
        app.sim.count(Target::Orders),
        4,
        "no new refresh during the cooldown"
    );
}

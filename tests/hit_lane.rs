//! The hit lane (cached answers given before routing, repeated fresh hits
//! from each worker's memo) answers exactly as the full path would: headers
//! that follow the clock, request ids, purges and refreshes seen at once,
//! the default details range moving at JST midnight, conditional requests
//! and caller directives, authentication, the same metrics, and stale
//! answers (revalidating, details closed) without waiting for a request slot.
mod common;

use std::time::Duration;

use common::{header, jst_at, open_hours, problem, spawn_app_with};
use secrecy::SecretString;
use service_order_gateway::auth::hash_key;
use service_order_gateway::calendar::{DetailsDays, OpeningHours};
use service_order_gateway::simulator::Target;

const CS: &str = "service-order-gateway";
const UNO: &str = "/v1/business-process/service-orders?serviceName=uno";
const ADMIN: &str = "0123456789abcdef-admin";

#[tokio::test]
async fn repeated_hits_follow_the_clock_and_carry_request_ids() {
    let app = common::spawn_app().await;
    let first = app.get(UNO).await;
    assert_eq!(
        header(&first, "cache-status"),
        format!("{CS}; fwd=miss; stored; ttl=60")
    );
    let etag = header(&first, "etag");
    let body = first.bytes().await.unwrap();

    let mut ids = Vec::new();
    for _ in 0..5 {
        let r = app.get(UNO).await;
        assert_eq!(r.status(), 200);
        assert_eq!(header(&r, "cache-status"), format!("{CS}; hit; ttl=60"));
        assert_eq!(header(&r, "age"), "0");
        assert_eq!(header(&r, "cache-control"), "public, max-age=60");
        assert_eq!(header(&r, "content-type"), "application/json");
        assert_eq!(header(&r, "etag"), etag);
        ids.push(header(&r, "x-request-id"));
        assert_eq!(r.bytes().await.unwrap(), body);
    }
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 5, "every answer has its own request id");

    let r = app.get_with(UNO, &[("x-request-id", "caller-id-1")]).await;
    assert_eq!(header(&r, "x-request-id"), "caller-id-1");

    // The remembered headers are rebuilt as the clock moves.
    app.advance(Duration::from_millis(10_500));
    let r = app.get(UNO).await;
    assert_eq!(header(&r, "cache-status"), format!("{CS}; hit; ttl=49"));
    assert_eq!(header(&r, "age"), "10");
    assert_eq!(header(&r, "cache-control"), "public, max-age=49");
    app.advance(Duration::from_secs(40));
    let r = app.get(UNO).await;
    assert_eq!(header(&r, "cache-status"), format!("{CS}; hit; ttl=9"));
    assert_eq!(header(&r, "age"), "50");
    assert_eq!(app.sim.count(Target::Orders), 1);

    // Past freshness: stale while revalidating (the memo is not used).
    app.advance(Duration::from_secs(10));
    let r = app.get(UNO).await;
    assert!(header(&r, "cache-status").contains("detail=revalidating"));
}

#[tokio::test]
async fn a_purge_is_seen_by_the_very_next_request() {
    let app = spawn_app_with(open_hours(), |c| {
        c.server.admin_token = Some(SecretString::from(ADMIN));
    })
    .await;
    for _ in 0..3 {
        assert_eq!(app.get(UNO).await.status(), 200);
    }
    assert_eq!(app.sim.count(Target::Orders), 1);
    let r = app
        .client
        .delete(format!("{}/admin/cache", app.base))
        .bearer_auth(ADMIN)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = app.get(UNO).await;
    assert_eq!(
        header(&r, "cache-status"),
        format!("{CS}; fwd=miss; stored; ttl=60")
    );
    assert_eq!(app.sim.count(Target::Orders), 2);
}

#[tokio::test]
async fn a_refreshed_entry_replaces_the_remembered_one() {
    let app = common::spawn_app().await;
    for _ in 0..3 {
        assert_eq!(app.get(UNO).await.status(), 200);
    }
    app.advance(Duration::from_secs(61));
    let r = app.get(UNO).await;
    assert!(header(&r, "cache-status").contains("detail=revalidating"));
    app.eventually("the background refresh", || {
        app.sim.count(Target::Orders) == 2
    })
    .await;
    // The new entry, not the remembered old one (which would be 61 s old).
    let mut seen_new = false;
    for _ in 0..50 {
        let r = app.get(UNO).await;
        if header(&r, "cache-status") == format!("{CS}; hit; ttl=60") {
            assert_eq!(header(&r, "age"), "0");
            seen_new = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(seen_new, "the refreshed entry is served");
    let r = app.get(UNO).await;
    assert_eq!(header(&r, "age"), "0");
}

#[tokio::test]
async fn the_default_details_range_moves_at_jst_midnight() {
    let app = spawn_app_with(jst_at(2026, 12, 3, 23, 58), |c| {
        c.calendar.days = DetailsDays::All;
        c.calendar.hours = "00:00-23:59:59".parse::<OpeningHours>().unwrap();
        c.cache.details_ttl = Duration::from_secs(86_400);
    })
    .await;
    let q = "webentry_id=UN0000000001";
    for _ in 0..3 {
        let r = app.details(q).await;
        assert_eq!(r.status(), 200);
        let body: serde_json::Value = r.json().await.unwrap();
        assert_eq!(body["dataUpdateDateTo"], "2026-12-03");
    }
    assert_eq!(app.sim.count(Target::Details), 1);
    // Two minutes later it is Friday in Japan: the same query means another
    // range, although yesterday's answer is still fresh.
    app.advance(Duration::from_secs(120));
    let r = app.details(q).await;
    assert_eq!(r.status(), 200);
    assert!(header(&r, "cache-status").contains("fwd=miss"));
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["dataUpdateDateTo"], "2026-12-04");
    assert_eq!(app.sim.count(Target::Details), 2);
}

#[tokio::test]
async fn conditional_requests_and_caller_directives_are_honoured() {
    let app = common::spawn_app().await;
    let etag = header(&app.get(UNO).await, "etag");
    assert_eq!(app.get(UNO).await.status(), 200);
    let r = app.get_with(UNO, &[("if-none-match", &etag)]).await;
    assert_eq!(r.status(), 304);
    assert_eq!(header(&r, "etag"), etag);
    assert!(r.headers().get("x-request-id").is_some());
    assert!(r.bytes().await.unwrap().is_empty());
    let r = app.get_with(UNO, &[("cache-control", "no-cache")]).await;
    assert!(header(&r, "cache-status").contains("fwd=request"));
    assert_eq!(app.sim.count(Target::Orders), 2);
    let r = app.get_with(UNO, &[("pragma", "no-cache")]).await;
    assert!(header(&r, "cache-status").contains("fwd=request"));
    assert_eq!(app.sim.count(Target::Orders), 3);
}

#[tokio::test]
async fn cached_answers_still_need_a_key_with_the_scope() {
    let dir = tempfile::tempdir().unwrap();
    let keys = dir.path().join("api-keys");
    std::fs::write(
        &keys,
        format!(
            "billing:{}\nportal:{}:orders\n",
            hash_key("billing-key-0123456789"),
            hash_key("portal-key-0123456789")
        ),
    )
    .unwrap();
    let app = spawn_app_with(open_hours(), |c| {
        c.server.api_keys_file = Some(keys.clone());
    })
    .await;
    let details = "/v1/business-process/service-order-details?webentry_id=UN0000000001";
    let billing = [("authorization", "Bearer billing-key-0123456789")];
    for _ in 0..3 {
        assert_eq!(app.get_with(details, &billing).await.status(), 200);
        assert_eq!(app.get_with(UNO, &billing).await.status(), 200);
    }
    let r = app.get(details).await;
    assert_eq!(r.status(), 401);
    assert!(r.headers().get("www-authenticate").is_some());
    let r = app
        .get_with(details, &[("x-api-key", "wrong-key-0123456789")])
        .await;
    assert_eq!(r.status(), 401);
    let r = app
        .get_with(details, &[("x-api-key", "portal-key-0123456789")])
        .await;
    assert_eq!(r.status(), 403);
    let r = app
        .get_with(UNO, &[("x-api-key", "portal-key-0123456789")])
        .await;
    assert_eq!(header(&r, "cache-status"), format!("{CS}; hit; ttl=60"));
    assert_eq!(app.sim.count(Target::Details), 1);
    assert_eq!(app.sim.count(Target::Orders), 1);

    let metrics = app.get("/metrics").await.text().await.unwrap();
    let hits = |caller: &str| {
        metrics
            .lines()
            .filter(|l| {
                l.starts_with("sog_http_requests_total")
                    && l.contains("cache=\"hit\"")
                    && l.contains(&format!("caller=\"{caller}\""))
            })
            .map(|l| l.rsplit(' ').next().unwrap().parse::<u64>().unwrap())
            .sum::<u64>()
    };
    assert_eq!(hits("billing"), 4, "{metrics}");
    assert_eq!(hits("portal"), 1, "{metrics}");
}

/// Sums the samples of `name` whose labels include all of `parts`.
fn sample(metrics: &str, name: &str, parts: &[&str]) -> f64 {
    metrics
        .lines()
        .filter(|l| l.starts_with(name) && parts.iter().all(|p| l.contains(p)))
        .map(|l| l.rsplit(' ').next().unwrap().parse::<f64>().unwrap())
        .sum()
}

#[tokio::test]
async fn hits_are_counted_like_any_request() {
    // The recorder is shared by the tests of this file, which run at once:
    // counts grow at least by what this test did.
    let app = common::spawn_app().await;
    assert_eq!(app.get(UNO).await.status(), 200);
    let route = "route=\"/v1/business-process/service-orders\"";
    let before = app.get("/metrics").await.text().await.unwrap();
    for _ in 0..3 {
        assert_eq!(app.get(UNO).await.status(), 200);
    }
    let after = app.get("/metrics").await.text().await.unwrap();
    let grew =
        |name: &str, parts: &[&str]| sample(&after, name, parts) - sample(&before, name, parts);
    assert!(
        grew(
            "sog_http_requests_total",
            &[route, "status=\"200\"", "cache=\"hit\""]
        ) >= 3.0,
        "{after}"
    );
    assert!(
        grew(
            "sog_cache_lookups_total",
            &["endpoint=\"service-orders\"", "result=\"hit\""]
        ) >= 3.0,
        "{after}"
    );
    assert!(
        grew("sog_http_request_duration_seconds_count", &[route]) >= 3.0,
        "{after}"
    );
}

/// Takes the gateway's only request slot with a slow upstream call for
/// `path` (a key nothing has cached), and returns once the call is in flight.
async fn take_the_only_slot(app: &common::TestApp, path: &str) -> tokio::task::JoinHandle<u16> {
    let before = app.api_calls();
    let client = app.client.clone();
    let url = format!("{}{path}", app.base);
    let busy = tokio::spawn(async move { client.get(url).send().await.unwrap().status().as_u16() });
    app.eventually("the slow call in flight", || app.api_calls() == before + 1)
        .await;
    busy
}

#[tokio::test]
async fn stale_answers_take_the_lane_while_every_request_slot_is_taken() {
    // One request slot: anything taking the full path while it is held is
    // shed with 503, so a 200 proves the answer came from the lane.
    let app = spawn_app_with(open_hours(), |c| {
        c.server.max_concurrent_requests = std::num::NonZeroU32::new(1).unwrap();
    })
    .await;
    let first = app.get(UNO).await;
    assert_eq!(first.status(), 200);
    let etag = header(&first, "etag");
    let body = first.bytes().await.unwrap();
    app.advance(Duration::from_secs(61));
    app.sim.set_latency(Duration::from_millis(800));
    let busy =
        take_the_only_slot(&app, "/v1/business-process/service-orders?serviceName=mss").await;
    problem(app.orders("ucaas").await, 503, "overloaded").await;

    let r = app.get_with(UNO, &[("x-request-id", "stale-1")]).await;
    assert_eq!(r.status(), 200);
    assert_eq!(
        header(&r, "cache-status"),
        format!("{CS}; hit; ttl=-1; detail=revalidating")
    );
    assert_eq!(header(&r, "age"), "61");
    assert_eq!(header(&r, "cache-control"), "public, max-age=0");
    assert_eq!(header(&r, "etag"), etag);
    assert_eq!(header(&r, "x-request-id"), "stale-1");
    assert_eq!(r.bytes().await.unwrap(), body);
    // The answer started one background refresh, as the full path does;
    // the next stale answers join it rather than start more.
    for _ in 0..5 {
        let r = app.get(UNO).await;
        assert!(header(&r, "cache-status").contains("detail=revalidating"));
    }
    assert_eq!(busy.await.unwrap(), 200);
    app.eventually("the background refresh", || {
        app.sim.count(Target::Orders) == 3
    })
    .await;
    let uno_calls = app
        .sim
        .received()
        .iter()
        .filter(|r| {
            r.query
                .as_deref()
                .is_some_and(|q| q.contains("serviceName=uno"))
        })
        .count();
    assert_eq!(uno_calls, 2, "one fetch and one refresh");
    let metrics = app.get("/metrics").await.text().await.unwrap();
    assert!(
        sample(
            &metrics,
            "sog_cache_stale_served_total",
            &["endpoint=\"service-orders\"", "reason=\"revalidating\""]
        ) >= 6.0,
        "{metrics}"
    );
}

#[tokio::test]
async fn details_served_stale_while_closed_take_the_lane_too() {
    let app = spawn_app_with(jst_at(2026, 12, 3, 17, 20), |c| {
        c.server.max_concurrent_requests = std::num::NonZeroU32::new(1).unwrap();
        c.cache.details_ttl = Duration::from_secs(60);
    })
    .await;
    let q = "webentry_id=UN0000000001";
    assert_eq!(app.details(q).await.status(), 200);
    // 17:31 JST: closed until Friday 9:00, and the entry is stale.
    app.advance(Duration::from_secs(11 * 60));
    app.sim.set_latency(Duration::from_millis(800));
    let busy =
        take_the_only_slot(&app, "/v1/business-process/service-orders?serviceName=mss").await;
    let r = app.details(q).await;
    assert_eq!(r.status(), 200);
    assert_eq!(
        header(&r, "cache-status"),
        format!("{CS}; hit; ttl=-600; detail=details-closed")
    );
    assert_eq!(header(&r, "cache-control"), "private, max-age=0");
    assert_eq!(busy.await.unwrap(), 200);
    assert_eq!(
        app.sim.count(Target::Details),
        1,
        "never called while closed"
    );
}

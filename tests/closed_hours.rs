//! The details endpoint's business calendar end to end: outside 9:00-17:30
//! JST on Japanese business days (evenings, weekends, national holidays,
//! the year-end break) the upstream is never called; cached answers are
//! served stale (`detail=details-closed`), otherwise a 503 problem with the
//! exact `Retry-After` and `nextOpening`. The orders endpoint is unaffected,
//! and a holidays file adds closed days.
mod common;

use std::io::Write;

use chrono::{DateTime, Utc};
use common::{TestApp, header, jst_at};
use service_order_gateway::simulator::Target;

const CS: &str = "service-order-gateway";
/// An explicit range, so the key does not depend on today's date.
const QUERY: &str =
    "webentry_id=UN0000000002&data_update_date_from=2026-11-01&data_update_date_to=2026-11-20";

/// Caches QUERY at `open` (one details call), then moves the clock to
/// `closed` and checks the stale answer and that nothing went upstream.
async fn serves_stale_when_closed(open: DateTime<Utc>, closed: DateTime<Utc>) -> TestApp {
    let app = common::spawn_app_with(open, |_| {}).await;
    let r = app.details(QUERY).await;
    assert_eq!(r.status(), 200);
    assert_eq!(
        header(&r, "cache-status"),
        format!("{CS}; fwd=miss; stored; ttl=300")
    );
    let etag = header(&r, "etag");
    let body = r.bytes().await.unwrap();
    assert_eq!(app.sim.count(Target::Details), 1);

    app.clock.set(closed);
    let r = app.details(QUERY).await;
    assert_eq!(r.status(), 200);
    let age = (closed - open).num_seconds();
    let ttl = 300 - age;
    assert_eq!(
        header(&r, "cache-status"),
        format!("{CS}; hit; ttl={ttl}; detail=details-closed")
    );
    assert_eq!(header(&r, "age"), age.to_string());
    assert_eq!(header(&r, "cache-control"), "private, max-age=0");
    assert_eq!(header(&r, "etag"), etag);
    assert_eq!(r.bytes().await.unwrap(), body);
    // Even a caller asking for fresh data does not reach the closed upstream.
    let r = app
        .get_with(
            &format!("/v1/business-process/service-order-details?{QUERY}"),
            &[("cache-control", "no-cache")],
        )
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(
        header(&r, "cache-status"),
        format!("{CS}; hit; ttl={ttl}; detail=details-closed")
    );
    assert_eq!(app.sim.count(Target::Details), 1);
    app
}

#[tokio::test]
async fn weekday_evening_serves_stale() {
    serves_stale_when_closed(jst_at(2026, 12, 3, 10, 0), jst_at(2026, 12, 3, 18, 0)).await;
}

#[tokio::test]
async fn sunday_serves_stale() {
    serves_stale_when_closed(jst_at(2026, 12, 3, 10, 0), jst_at(2026, 12, 6, 12, 0)).await;
}

#[tokio::test]
async fn national_holiday_serves_stale() {
    // 2026-11-23 (Mon) is 勤労感謝の日; cached the Friday before.
    serves_stale_when_closed(jst_at(2026, 11, 20, 10, 0), jst_at(2026, 11, 23, 11, 0)).await;
}

#[tokio::test]
async fn year_end_break_serves_stale() {
    // 2026-12-30 is a Wednesday inside the Dec 29 - Jan 3 break.
    serves_stale_when_closed(jst_at(2026, 12, 28, 10, 0), jst_at(2026, 12, 30, 10, 0)).await;
}

#[tokio::test]
async fn stale_entry_is_refreshed_once_open_again() {
    let app =
        serves_stale_when_closed(jst_at(2026, 12, 3, 10, 0), jst_at(2026, 12, 3, 18, 0)).await;
    app.clock.set(jst_at(2026, 12, 4, 9, 0));
    let r = app
        .get_with(
            &format!("/v1/business-process/service-order-details?{QUERY}"),
            &[("cache-control", "no-cache")],
        )
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(
        header(&r, "cache-status"),
        format!("{CS}; fwd=stale; stored; ttl=300")
    );
    assert_eq!(app.sim.count(Target::Details), 2);
}

/// Asserts the closed-hours 503 for an uncached query at `at`.
async fn closed_problem(app: &TestApp, retry_after: i64, next_opening: &str) {
    let r = app.details("webentry_id=UN0000000003").await;
    assert_eq!(r.status(), 503);
    assert_eq!(header(&r, "content-type"), "application/problem+json");
    assert_eq!(header(&r, "retry-after"), retry_after.to_string());
    assert_eq!(header(&r, "cache-control"), "no-store");
    assert_eq!(
        header(&r, "cache-status"),
        format!("{CS}; detail=details-closed")
    );
    let p: serde_json::Value = r.json().await.unwrap();
    assert_eq!(
        p["type"],
        "urn:service-order-gateway:problem:details-closed"
    );
    assert_eq!(p["title"], "Details API closed");
    assert_eq!(p["status"], 503);
    assert!(p["detail"].as_str().unwrap().contains("9:00-17:30 JST"));
    assert_eq!(p["nextOpening"], next_opening);
    assert_eq!(p["retryAfter"], retry_after);
    assert_eq!(p["instance"], "/v1/business-process/service-order-details");
    assert_eq!(app.sim.count(Target::Details), 0);
}

#[tokio::test]
async fn nothing_cached_on_a_weekday_evening_is_503_until_the_next_morning() {
    let app = common::spawn_app_with(jst_at(2026, 12, 3, 18, 0), |_| {}).await;
    closed_problem(&app, 54_000, "2026-12-04T00:00:00Z").await;
    // One second before opening: one second to wait.
    app.clock
        .set(jst_at(2026, 12, 4, 8, 59) + chrono::Duration::seconds(59));
    closed_problem(&app, 1, "2026-12-04T00:00:00Z").await;
}

#[tokio::test]
async fn nothing_cached_before_the_year_end_break_waits_until_january_4() {
    let app = common::spawn_app_with(jst_at(2026, 12, 28, 18, 0), |_| {}).await;
    let expected = (jst_at(2027, 1, 4, 9, 0) - jst_at(2026, 12, 28, 18, 0)).num_seconds();
    assert_eq!(expected, 572_400);
    closed_problem(&app, expected, "2027-01-04T00:00:00Z").await;
    // Closing time is exclusive: 17:30 is closed.
    app.clock.set(jst_at(2026, 12, 28, 17, 30));
    closed_problem(&app, expected + 1800, "2027-01-04T00:00:00Z").await;
}

#[tokio::test]
async fn first_business_day_of_january_is_open() {
    let app = common::spawn_app_with(jst_at(2027, 1, 4, 9, 30), |_| {}).await;
    let r = app.details("webentry_id=UN0000000003").await;
    assert_eq!(r.status(), 200);
    assert_eq!(
        header(&r, "cache-status"),
        format!("{CS}; fwd=miss; stored; ttl=300")
    );
    assert_eq!(app.sim.count(Target::Details), 1);
    let q = app
        .sim
        .received()
        .into_iter()
        .find(|r| r.target == Target::Details);
    assert_eq!(
        q.unwrap().query.unwrap(),
        "webentry_id=UN0000000003&data_update_date_from=2026%2F12%2F04&data_update_date_to=2027%2F01%2F04"
    );
}

#[tokio::test]
async fn orders_are_unaffected_by_closed_hours() {
    let app = common::spawn_app_with(jst_at(2026, 12, 6, 12, 0), |_| {}).await;
    let r = app.orders("uno").await;
    assert_eq!(r.status(), 200);
    assert_eq!(
        header(&r, "cache-status"),
        format!("{CS}; fwd=miss; stored; ttl=60")
    );
    assert_eq!(app.sim.count(Target::Orders), 1);
    closed_problem(&app, 21 * 3600, "2026-12-07T00:00:00Z").await;
}

#[tokio::test]
async fn a_holidays_file_adds_closed_days() {
    let mut file = tempfile::NamedTempFile::new().unwrap();
    write!(
        file,
        "国民の祝日・休日月日,国民の祝日・休日名称\r\n2026/12/4,テスト休日\r\n"
    )
    .unwrap();
    file.flush().unwrap();
    let path = file.path().to_owned();
    let app = common::spawn_app_with(jst_at(2026, 12, 3, 18, 0), move |c| {
        c.calendar.holidays_file = Some(path)
    })
    .await;
    let expected = (jst_at(2026, 12, 7, 9, 0) - jst_at(2026, 12, 3, 18, 0)).num_seconds();
    closed_problem(&app, expected, "2026-12-07T00:00:00Z").await;
    // And the holiday itself is closed.
    app.clock.set(jst_at(2026, 12, 4, 10, 0));
    closed_problem(&app, expected - 16 * 3600, "2026-12-07T00:00:00Z").await;
}

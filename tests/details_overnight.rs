//! The details endpoint keeps answering overnight: the pre-closing refresh
//! of the day's entries, and default-range queries after midnight served from
//! the latest answer for the same filters.
mod common;

use std::time::Duration;

use common::{jst_at, spawn_app_with};
use service_order_gateway::simulator::Target;

#[tokio::test]
async fn entries_used_today_are_refreshed_shortly_before_closing_once() {
    let app = spawn_app_with(jst_at(2026, 12, 3, 10, 0), |c| {
        c.cache.prefetch_lead = Duration::from_secs(600);
    })
    .await;
    assert_eq!(app.details("webentry_id=UN0000000002").await.status(), 200);
    assert_eq!(app.sim.count(Target::Details), 1);
    // 17:25 JST: inside the 10-minute lead before 17:30.
    app.clock.set(jst_at(2026, 12, 3, 17, 25));
    app.eventually("pre-closing refresh", || {
        app.sim.count(Target::Details) == 2
    })
    .await;
    // Once per day, however long we stay in the window.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(app.sim.count(Target::Details), 2);
    // The evening's answer is the 17:25 one.
    app.clock.set(jst_at(2026, 12, 3, 20, 0));
    let r = app.details("webentry_id=UN0000000002").await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["age"], (2 * 3600 + 35 * 60).to_string());
    assert!(
        r.headers()["cache-status"]
            .to_str()
            .unwrap()
            .contains("detail=details-closed")
    );
    assert_eq!(app.sim.count(Target::Details), 2);
}

#[tokio::test]
async fn default_range_after_midnight_serves_the_latest_answer_for_the_same_filters() {
    let app = spawn_app_with(jst_at(2026, 12, 4, 11, 0), |_| {}).await;
    let r = app.details("webentry_id=UN0000000003").await;
    assert_eq!(r.status(), 200);
    // Saturday morning: closed; the default range would now end 2026-12-05.
    app.clock.set(jst_at(2026, 12, 5, 9, 30));
    let r = app.details("webentry_id=UN0000000003").await;
    let code = r.status();
    if code != 200 {
        panic!("{code}: {}", r.text().await.unwrap());
    }
    let status = r.headers()["cache-status"].to_str().unwrap().to_owned();
    assert!(status.contains("detail=details-closed"), "{status}");
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(
        body["dataUpdateDateTo"], "2026-12-04",
        "the body states the range it covers"
    );
    assert_eq!(
        app.sim.count(Target::Details),
        1,
        "never called while closed"
    );
    // An explicit range that was never fetched is still a 503.
    let r = app
        .details("webentry_id=UN0000000003&data_update_date_from=2026-11-05&data_update_date_to=2026-12-05")
        .await;
    assert_eq!(r.status(), 503);
}

#[tokio::test]
async fn the_latest_answer_lasts_through_the_year_end_closure_and_no_longer_than_stale_max_age() {
    // Fetched on Monday 2026-12-28, the last business day of the year;
    // closed from Tuesday 12-29 until Monday 2027-01-04 at 9:00.
    let app = spawn_app_with(jst_at(2026, 12, 28, 16, 0), |c| {
        c.cache.stale_max_age = Duration::from_secs(8 * 86_400);
    })
    .await;
    let older = app.details("webentry_id=UN0000000004").await;
    assert_eq!(older.status(), 200);
    // A second answer for the same filters, from the day before (an
    // explicit range equal to Sunday's default): older than Monday's.
    let r = app
        .details("webentry_id=UN0000000004&data_update_date_from=2026-11-27&data_update_date_to=2026-12-27")
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(app.sim.count(Target::Details), 2);

    // Sunday 2027-01-03, six days on: the answer whose range ended last.
    app.clock.set(jst_at(2027, 1, 3, 12, 0));
    let r = app.details("webentry_id=UN0000000004").await;
    assert_eq!(r.status(), 200);
    let status = r.headers()["cache-status"].to_str().unwrap().to_owned();
    assert!(status.contains("detail=details-closed"), "{status}");
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["dataUpdateDateFrom"], "2026-11-28");
    assert_eq!(body["dataUpdateDateTo"], "2026-12-28");
    // Other filters have no answer to fall back on.
    assert_eq!(app.details("webentry_id=UN0000000005").await.status(), 503);
    assert_eq!(
        app.sim.count(Target::Details),
        2,
        "never called while closed"
    );

    // Past stale-max-age (8 days) the answer is no longer served: 503 until opening.
    app.clock.set(jst_at(2027, 1, 6, 8, 0));
    let r = app.details("webentry_id=UN0000000004").await;
    assert_eq!(r.status(), 503);
    assert!(r.headers().contains_key("retry-after"));
    assert_eq!(app.sim.count(Target::Details), 2);
}

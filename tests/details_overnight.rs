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

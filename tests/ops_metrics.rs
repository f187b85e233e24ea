//! `/metrics`: the Prometheus text exposition after a known sequence of
//! requests (request counters by route/status/cache, upstream calls and
//! retries, cache size, token expiry, opening-hours gauges, histograms), and
//! no raw query strings in any label.
//!
//! The metrics recorder is process-global, so everything is asserted in ONE
//! test, as deltas against a scrape taken before the sequence.
mod common;

use service_order_gateway::simulator::{Fault, Target};

/// The sum of the samples of `name` whose labels include all of `labels`.
fn sample(text: &str, name: &str, labels: &[(&str, &str)]) -> f64 {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|line| {
            let (series, value) = line.rsplit_once(' ')?;
            let (metric, label_text) = match series.split_once('{') {
                Some((m, rest)) => (m, rest.trim_end_matches('}')),
                None => (series, ""),
            };
            if metric != name {
                return None;
            }
            let all = labels
                .iter()
                .all(|(k, v)| label_text.contains(&format!("{k}=\"{v}\"")));
            all.then(|| value.parse::<f64>().unwrap())
        })
        .sum()
}

async fn scrape(app: &common::TestApp) -> String {
    let r = app.get("/metrics").await;
    assert_eq!(r.status(), 200);
    let ct = r.headers()["content-type"].to_str().unwrap().to_owned();
    assert!(ct.starts_with("text/plain"), "content-type {ct}");
    r.text().await.unwrap()
}

const ORDERS: &str = "/v1/business-process/service-orders";

#[tokio::test]
async fn metrics_report_a_known_sequence_exactly() {
    let app = common::spawn_app().await;
    let before = scrape(&app).await;
    let req = |status: &str, cache: &str| {
        vec![("route", ORDERS), ("status", status), ("cache", cache)]
            .into_iter()
            .map(|(k, v)| (k, v.to_owned()))
            .collect::<Vec<_>>()
    };
    let delta = |after: &str, name: &str, labels: &[(&str, String)]| {
        let l: Vec<(&str, &str)> = labels.iter().map(|(k, v)| (*k, v.as_str())).collect();
        sample(after, name, &l) - sample(&before, name, &l)
    };

    // 1 miss, 2 hits, 1 invalid query, 1 upstream 503 (retried twice).
    assert_eq!(app.orders("uno").await.status(), 200);
    assert_eq!(app.orders("uno").await.status(), 200);
    assert_eq!(app.orders("uno").await.status(), 200);
    assert_eq!(app.orders("nonsense").await.status(), 400);
    app.sim.set_fault(Target::Orders, Some(Fault::Status(503)));
    let r = app.orders("ucaas").await;
    assert_eq!(r.status(), 502);
    app.sim.set_fault(Target::Orders, None);
    assert_eq!(app.sim.count(Target::Orders), 4); // 1 + 3 attempts

    let after = scrape(&app).await;
    let total = "sog_http_requests_total";
    assert_eq!(delta(&after, total, &req("200", "miss")), 1.0);
    assert_eq!(delta(&after, total, &req("200", "hit")), 2.0);
    assert_eq!(delta(&after, total, &req("400", "none")), 1.0);
    assert_eq!(delta(&after, total, &req("502", "miss")), 1.0);
    assert_eq!(
        delta(&after, total, &[("route", ORDERS.to_owned())]),
        5.0,
        "{after}"
    );
    // The first scrape itself was counted.
    assert!(
        delta(
            &after,
            total,
            &[("route", "/metrics".into()), ("status", "200".into())]
        ) >= 1.0
    );

    let up = "sog_upstream_requests_total";
    let ep = |class: &str| {
        vec![
            ("endpoint", "service-orders".to_owned()),
            ("status_class", class.to_owned()),
        ]
    };
    assert_eq!(delta(&after, up, &ep("2xx")), 1.0);
    assert_eq!(delta(&after, up, &ep("5xx")), 3.0);
    assert_eq!(
        delta(
            &after,
            "sog_upstream_retries_total",
            &[("endpoint", "service-orders".into())]
        ),
        2.0
    );
    assert_eq!(
        delta(
            &after,
            "sog_cache_lookups_total",
            &[
                ("endpoint", "service-orders".into()),
                ("result", "hit".into())
            ]
        ),
        2.0
    );

    // Gauges computed at scrape time.
    assert_eq!(sample(&after, "sog_cache_entries", &[]), 1.0, "{after}");
    assert!(sample(&after, "sog_cache_bytes", &[]) > 0.0);
    let expiry = sample(&after, "sog_token_expiry_seconds", &[]);
    assert!((3590.0..=3599.0).contains(&expiry), "token expiry {expiry}");
    assert_eq!(sample(&after, "sog_details_open", &[]), 1.0);
    // 10:00 JST -> closes at 17:30 JST.
    assert_eq!(
        sample(&after, "sog_details_next_change_seconds", &[]),
        7.5 * 3600.0
    );
    // After closing, the gauges follow the clock.
    app.advance(std::time::Duration::from_secs(8 * 3600));
    let night = scrape(&app).await;
    assert_eq!(sample(&night, "sog_details_open", &[]), 0.0);
    // 18:00 Thu -> 9:00 Fri.
    assert_eq!(
        sample(&night, "sog_details_next_change_seconds", &[]),
        15.0 * 3600.0
    );

    // Histograms.
    for h in [
        "sog_http_request_duration_seconds",
        "sog_upstream_request_duration_seconds",
    ] {
        for suffix in ["_bucket", "_sum", "_count"] {
            assert!(
                after.contains(&format!("{h}{suffix}{{")),
                "{h}{suffix} missing"
            );
        }
    }
    assert!(after.contains("sog_http_request_duration_seconds_bucket{route=\"/v1/business-process/service-orders\",le=\"+Inf\"}"));
    assert_eq!(
        sample(
            &after,
            "sog_http_request_duration_seconds_count",
            &[("route", ORDERS)]
        ) - sample(
            &before,
            "sog_http_request_duration_seconds_count",
            &[("route", ORDERS)]
        ),
        5.0
    );
    assert!(after.contains("# TYPE sog_http_requests_total counter"));

    // Labels never carry raw queries or paths outside the route templates.
    assert!(!after.contains("serviceName="), "{after}");
    assert!(!after.contains("nonsense"));
    assert!(!after.contains("ucaas"));
}

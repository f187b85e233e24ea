//! Fair share of the upstream budget: while caller A floods the gateway with
//! distinct uncached keys (80 at once, 20 times what the budget serves in the
//! queue timeout), caller B's few misses are still answered from the
//! upstream within the queue timeout; with one FIFO line B would wait
//! behind A's whole flood and get 503s. Cache hits are never queued.
mod common;

use std::time::{Duration, Instant};

use futures::future::join_all;
use service_order_gateway::auth::hash_key;
use service_order_gateway::simulator::Target;

const KEY_A: &str = "caller-a-key-5b1e0f3c9a7d2e4b6c8a0f1e3d5c7b9a";
const KEY_B: &str = "caller-b-key-0d2c4b6a8f1e3d5c7b9a1f0e2d4c6b8a";
const QUEUE_TIMEOUT: Duration = Duration::from_secs(2);

fn details(id: &str) -> String {
    format!("/v1/business-process/service-order-details?webentry_id={id}")
}

#[tokio::test]
async fn a_flooding_caller_does_not_starve_another() {
    let dir = tempfile::tempdir().unwrap();
    let keys = dir.path().join("api-keys");
    std::fs::write(
        &keys,
        format!("a:{}\nb:{}\n", hash_key(KEY_A), hash_key(KEY_B)),
    )
    .unwrap();
    let app = common::spawn_app_with(common::open_hours(), |c| {
        c.server.api_keys_file = Some(keys.clone());
        c.upstream.rate = "10/s".parse().unwrap();
        c.upstream.burst = std::num::NonZeroU32::new(2).unwrap();
        c.upstream.queue_timeout = QUEUE_TIMEOUT;
    })
    .await;
    let app = &app;

    // A: 80 distinct uncached keys at once.
    let flood = join_all((0..80).map(|i| async move {
        let r = app
            .get_with(&details(&format!("FLOODA{i:04}")), &[("x-api-key", KEY_A)])
            .await;
        r.status().as_u16()
    }));
    // B: once A's flood is queued, three distinct uncached keys.
    let few = async {
        app.eventually("A's flood reaches the limiter", || {
            app.sim.count(Target::Details) >= 1
        })
        .await;
        tokio::time::sleep(Duration::from_millis(50)).await;
        let started = Instant::now();
        let answers = join_all((0..3).map(|i| async move {
            let r = app
                .get_with(&details(&format!("FEWB{i:04}")), &[("x-api-key", KEY_B)])
                .await;
            let cache = r.headers()["cache-status"].to_str().unwrap().to_owned();
            (r.status().as_u16(), cache)
        }))
        .await;
        (answers, started.elapsed())
    };
    let (a_statuses, (b_answers, b_elapsed)) = tokio::join!(flood, few);

    for (status, cache) in &b_answers {
        assert_eq!(*status, 200, "B was starved: {b_answers:?}");
        assert!(cache.contains("fwd=miss"), "{cache}");
    }
    assert!(
        b_elapsed < QUEUE_TIMEOUT,
        "B waited {b_elapsed:?}, more than the queue timeout"
    );
    let received = app.sim.received();
    for i in 0..3 {
        let id = format!("FEWB{i:04}");
        assert!(
            received
                .iter()
                .any(|r| r.query.as_deref().is_some_and(|q| q.contains(&id))),
            "the upstream never saw {id}"
        );
    }
    let a_ok = a_statuses.iter().filter(|s| **s == 200).count();
    let a_refused = a_statuses.iter().filter(|s| **s == 503).count();
    assert_eq!(a_ok + a_refused, 80, "{a_statuses:?}");
    assert!(
        a_refused >= 40,
        "A got {a_ok} answers, {a_refused} refusals"
    );
    assert!(a_ok >= 10, "A still gets its share: {a_ok}");

    // Cache hits are never limited: A's answered keys come back at once
    // although the budget is spent.
    let hit_started = Instant::now();
    let first_ok = (0..80)
        .find(|i| a_statuses[*i] == 200)
        .map(|i| format!("FLOODA{i:04}"))
        .unwrap();
    let calls = app.api_calls();
    let hits = join_all((0..20).map(|_| {
        let path = details(&first_ok);
        async move {
            let r = app.get_with(&path, &[("x-api-key", KEY_A)]).await;
            (
                r.status().as_u16(),
                r.headers()["cache-status"].to_str().unwrap().to_owned(),
            )
        }
    }))
    .await;
    for (status, cache) in hits {
        assert_eq!(status, 200);
        assert!(cache.contains("hit"), "{cache}");
    }
    assert_eq!(app.api_calls(), calls);
    assert!(hit_started.elapsed() < Duration::from_millis(500));
}

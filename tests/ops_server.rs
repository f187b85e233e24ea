//! The server's operational behaviour: request ids (generated or echoed, and
//! sent upstream), graceful shutdown (in-flight requests finish, new
//! connections are refused, a stuck request cannot hold shutdown past its
//! timeout), load shedding under a concurrency limit, the request timeout and
//! the URI/header size limits.
mod common;

use std::time::{Duration, Instant};

use common::{open_hours, problem, spawn_app, spawn_app_with};
use service_order_gateway::simulator::{Fault, Target};

fn upstream_request_ids(app: &common::TestApp, target: Target) -> Vec<Option<String>> {
    app.sim
        .received()
        .iter()
        .filter(|r| r.target == target)
        .map(|r| {
            r.headers
                .get("x-request-id")
                .map(|v| v.to_str().unwrap().to_owned())
        })
        .collect()
}

#[tokio::test]
async fn a_request_id_is_generated_when_absent_and_sent_upstream() {
    let app = spawn_app().await;
    let r = app.orders("uno").await;
    assert_eq!(r.status(), 200);
    let id = r.headers()["x-request-id"].to_str().unwrap().to_owned();
    let parsed = uuid::Uuid::parse_str(&id).expect("a generated id is a UUID");
    assert_eq!(parsed.get_version_num(), 4);
    assert_eq!(
        upstream_request_ids(&app, Target::Orders),
        vec![Some(id.clone())]
    );

    // Each request gets its own id, also error responses.
    let r = app.get("/v1/business-process/service-orders").await;
    let other = r.headers()["x-request-id"].to_str().unwrap().to_owned();
    assert!(uuid::Uuid::parse_str(&other).is_ok());
    assert_ne!(other, id);
    problem(r, 400, "invalid-query").await;
}

#[tokio::test]
async fn an_incoming_request_id_is_echoed_and_sent_upstream() {
    let app = spawn_app().await;
    let r = app
        .get_with(
            "/v1/business-process/service-order-details?webentry_id=UN0000000001",
            &[("x-request-id", "caller-req-0042")],
        )
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["x-request-id"], "caller-req-0042");
    assert_eq!(
        upstream_request_ids(&app, Target::Details),
        vec![Some("caller-req-0042".to_owned())]
    );
    // Echoed on ops routes too.
    let r = app
        .get_with("/healthz", &[("x-request-id", "probe-7")])
        .await;
    assert_eq!(r.headers()["x-request-id"], "probe-7");
}

#[tokio::test]
async fn graceful_shutdown_finishes_in_flight_requests_and_refuses_new_ones() {
    let mut app = spawn_app().await;
    app.sim.set_latency(Duration::from_millis(500));
    let server = app.server.take().unwrap();
    // Keep the simulator alive after the TestApp is gone.
    let _simulator = app.simulator.take();
    let addr = app.base.trim_start_matches("http://").to_owned();
    let url = format!(
        "{}/v1/business-process/service-orders?serviceName=uno",
        app.base
    );
    let client = app.client.clone();
    let in_flight = tokio::spawn(async move { client.get(url).send().await });
    app.eventually("the request reached the upstream", || {
        app.sim.count(Target::Orders) == 1
    })
    .await;
    let sim = app.sim.clone();
    app.stop().await; // sends the signal; the server handle was taken above

    // The listener is closed while the request is still in flight.
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(!in_flight.is_finished(), "the request was cut short");
    assert!(
        tokio::net::TcpStream::connect(&addr).await.is_err(),
        "a new connection was accepted during shutdown"
    );

    let response = in_flight
        .await
        .unwrap()
        .expect("in-flight request answered");
    assert_eq!(response.status(), 200);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["resultCount"], 3);

    let result = tokio::time::timeout(Duration::from_secs(5), server)
        .await
        .expect("the server stops once idle")
        .unwrap();
    assert!(result.is_ok(), "server returned {result:?}");
    assert!(tokio::net::TcpStream::connect(&addr).await.is_err());
    let fresh = reqwest::Client::builder().no_proxy().build().unwrap();
    assert!(
        fresh
            .get(format!("http://{addr}/healthz"))
            .send()
            .await
            .is_err()
    );
    assert_eq!(sim.count(Target::Orders), 1);
}

#[tokio::test]
async fn shutdown_does_not_wait_past_its_timeout_for_a_stuck_request() {
    let mut app = spawn_app_with(open_hours(), |c| {
        c.server.shutdown_timeout = Duration::from_millis(300);
        c.upstream.timeout = Duration::from_secs(10);
        c.server.request_timeout = Duration::from_secs(10);
    })
    .await;
    app.sim.set_fault(Target::Orders, Some(Fault::Hang));
    let server = app.server.take().unwrap();
    let stuck = {
        let client = app.client.clone();
        let url = format!(
            "{}/v1/business-process/service-orders?serviceName=uno",
            app.base
        );
        tokio::spawn(async move { client.get(url).send().await })
    };
    app.eventually("the request reached the upstream", || {
        app.sim.count(Target::Orders) == 1
    })
    .await;
    let started = Instant::now();
    let _simulator = app.simulator.take();
    app.stop().await;
    let result = tokio::time::timeout(Duration::from_secs(3), server)
        .await
        .expect("shutdown is bounded by shutdown_timeout")
        .unwrap();
    let took = started.elapsed();
    assert!(result.is_ok());
    assert!(
        took >= Duration::from_millis(250) && took < Duration::from_secs(1),
        "shutdown took {took:?}"
    );
    stuck.abort();
}

#[tokio::test]
async fn over_the_concurrency_limit_requests_are_shed_with_503() {
    let app = spawn_app_with(open_hours(), |c| {
        c.server.max_concurrent_requests = std::num::NonZeroU32::new(2).unwrap();
    })
    .await;
    app.sim.set_latency(Duration::from_millis(500));
    // Ten distinct keys over both routes: the limit is for the whole gateway.
    let paths: Vec<String> = (0..10)
        .map(|i| {
            if i % 2 == 0 {
                format!("/v1/business-process/service-order-details?webentry_id=SHED{i:04}")
            } else {
                let service = ["uno", "ucaas", "mss", "accs", "bdp-e"][i / 2];
                format!("/v1/business-process/service-orders?serviceName={service}")
            }
        })
        .collect();
    let responses = futures::future::join_all(paths.iter().map(|p| app.get(p))).await;
    let mut ok = 0;
    let mut shed = 0;
    for r in responses {
        match r.status().as_u16() {
            200 => ok += 1,
            503 => {
                let retry_after: u64 = r.headers()["retry-after"]
                    .to_str()
                    .unwrap()
                    .parse()
                    .unwrap();
                assert!(retry_after >= 1);
                problem(r, 503, "overloaded").await;
                shed += 1;
            }
            other => panic!("unexpected status {other}"),
        }
    }
    assert!(ok >= 2, "{ok} succeeded");
    assert!(shed >= 1, "nothing was shed");
    assert_eq!(ok + shed, 10);
    // Shed requests never reach the upstream; at most 2 were handled at once.
    assert_eq!(app.api_calls(), ok);
    assert!(
        ok <= 2,
        "{ok} requests were handled at once with a limit of 2"
    );

    // While saturated, probes still answer and further requests are shed at once.
    let busy: Vec<_> = ["SAT1", "SAT2"]
        .iter()
        .map(|id| {
            let client = app.client.clone();
            let url = format!(
                "{}/v1/business-process/service-order-details?webentry_id={id}",
                app.base
            );
            tokio::spawn(async move { client.get(url).send().await.unwrap().status() })
        })
        .collect();
    let before = app.api_calls();
    app.eventually("two requests in flight", || app.api_calls() == before + 2)
        .await;
    let started = Instant::now();
    let r = app.get("/healthz").await;
    assert_eq!(r.status(), 200);
    problem(app.orders("sip-trunking").await, 503, "overloaded").await;
    assert!(started.elapsed() < Duration::from_millis(400));
    for b in busy {
        assert_eq!(b.await.unwrap(), 200);
    }
    // The server is still up and serving.
    assert_eq!(app.orders("ip-voice").await.status(), 200);
}

#[tokio::test]
async fn a_request_over_the_request_timeout_gets_504() {
    let app = spawn_app_with(open_hours(), |c| {
        c.server.request_timeout = Duration::from_millis(300);
        c.upstream.timeout = Duration::from_secs(10);
    })
    .await;
    app.sim.set_fault(Target::Orders, Some(Fault::Hang));
    let started = Instant::now();
    let body = problem(app.orders("uno").await, 504, "timeout").await;
    assert!(started.elapsed() < Duration::from_secs(2));
    assert_eq!(body["status"], 504);
    assert_eq!(app.sim.count(Target::Orders), 1);
}

#[tokio::test]
async fn oversized_uris_and_header_floods_are_refused_before_the_upstream() {
    let app = spawn_app().await;
    let long = format!(
        "/v1/business-process/service-orders?serviceName=uno&pad={}",
        "a".repeat(2100)
    );
    let body = problem(app.get(&long).await, 414, "uri-too-long").await;
    assert!(body["detail"].as_str().unwrap().contains("2048"));

    let names: Vec<String> = (0..70).map(|i| format!("x-flood-{i}")).collect();
    let headers: Vec<(&str, &str)> = names.iter().map(|n| (n.as_str(), "1")).collect();
    let r = app
        .get_with(
            "/v1/business-process/service-orders?serviceName=uno",
            &headers,
        )
        .await;
    problem(r, 431, "headers-too-large").await;

    assert_eq!(app.sim.count(Target::Orders), 0);
    assert_eq!(app.sim.count(Target::Details), 0);
    // A normal request still works.
    assert_eq!(app.orders("uno").await.status(), 200);
}

//! The single OAuth credential against the simulated token endpoint: the
//! request body NTT wants, one token fetch for many concurrent callers after
//! expiry, one re-authentication and retry when a token is revoked, and a
//! bounded 502 problem when the credentials are rejected.
mod common;

use std::time::Duration;

use serde_json::Value;
use service_order_gateway::simulator::{Fault, Target};

fn statuses(app: &common::TestApp, target: Target) -> Vec<u16> {
    app.sim
        .received()
        .into_iter()
        .filter(|c| c.target == target)
        .map(|c| c.status)
        .collect()
}

#[tokio::test]
async fn token_request_is_camel_case_json() {
    let app = common::spawn_app().await;
    assert!(app.state.gateway.upstream().tokens().has_valid_token());
    let calls: Vec<_> = app
        .sim
        .received()
        .into_iter()
        .filter(|c| c.target == Target::Token)
        .collect();
    assert_eq!(calls.len(), 1, "one token at start");
    let call = &calls[0];
    assert_eq!(call.method, "POST");
    assert_eq!(call.status, 200);
    let content_type = call.headers["content-type"].to_str().unwrap();
    assert!(
        content_type.starts_with("application/json"),
        "{content_type}"
    );
    let body: Value = serde_json::from_slice(&call.body).expect("a JSON body");
    assert_eq!(
        body,
        serde_json::json!({
            "grantType": "client_credentials",
            "clientId": "demo-client",
            "clientSecret": "demo-secret",
        })
    );
    // The token is used as issued.
    assert_eq!(app.orders("uno").await.status(), 200);
    let api = app
        .sim
        .received()
        .into_iter()
        .find(|c| c.target == Target::Orders)
        .unwrap();
    assert_eq!(
        api.headers["authorization"].to_str().unwrap(),
        format!("Bearer {}", app.sim.issued_tokens()[0])
    );
}

#[tokio::test]
async fn concurrent_callers_after_expiry_share_one_new_token() {
    let app = common::spawn_app().await;
    assert_eq!(app.sim.count(Target::Token), 1);
    // Past the 3599 s lifetime: the held token is expired for both sides.
    app.advance(Duration::from_secs(3600));
    assert!(!app.state.gateway.upstream().tokens().has_valid_token());
    // A slow token endpoint keeps every caller waiting on the same fetch.
    app.sim.set_latency(Duration::from_millis(100));

    let requests = (0..50).map(|i| {
        let app = &app;
        async move {
            let r = app.details(&format!("webentry_id=TOK{i:04}")).await;
            r.status().as_u16()
        }
    });
    let results = futures::future::join_all(requests).await;
    assert!(results.iter().all(|s| *s == 200), "{results:?}");
    assert_eq!(app.sim.count(Target::Details), 50);
    assert_eq!(
        app.sim.count(Target::Token),
        2,
        "exactly one new token request for 50 callers"
    );
    assert_eq!(app.sim.issued_tokens().len(), 2);
    // No call was made with the expired token.
    assert!(statuses(&app, Target::Details).iter().all(|s| *s == 200));
}

#[tokio::test]
async fn a_revoked_token_is_replaced_once_and_the_call_retried() {
    let app = common::spawn_app().await;
    app.sim.revoke_tokens();
    let r = app.orders("uno").await;
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["resultCount"], 3);
    assert_eq!(statuses(&app, Target::Orders), vec![401, 200]);
    assert_eq!(app.sim.count(Target::Token), 2);
    // The retry used the new token.
    let tokens = app.sim.issued_tokens();
    let last = app
        .sim
        .received()
        .into_iter()
        .rfind(|c| c.target == Target::Orders)
        .unwrap();
    assert_eq!(
        last.headers["authorization"].to_str().unwrap(),
        format!("Bearer {}", tokens[1])
    );
    // And keeps using it.
    assert_eq!(app.orders("mss").await.status(), 200);
    assert_eq!(app.sim.count(Target::Token), 2);
}

#[tokio::test]
async fn a_second_401_after_reauthentication_is_not_retried_again() {
    let app = common::spawn_app().await;
    app.sim.fail_next(Target::Orders, 5, Fault::Unauthorized);
    let r = app.orders("uno").await;
    assert_eq!(r.status(), 502);
    assert_eq!(
        r.headers()["content-type"].to_str().unwrap(),
        "application/problem+json"
    );
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["status"], 502);
    assert_eq!(body["upstreamStatus"], 401);
    assert_eq!(statuses(&app, Target::Orders), vec![401, 401]);
    assert_eq!(app.sim.count(Target::Token), 2);
}

#[tokio::test]
async fn rejected_credentials_are_a_bounded_502() {
    let app = common::spawn_app().await;
    app.sim.set_fault(Target::Token, Some(Fault::Status(401)));
    app.sim.revoke_tokens();

    let r = app.orders("uno").await;
    assert_eq!(r.status(), 502);
    assert_eq!(
        r.headers()["content-type"].to_str().unwrap(),
        "application/problem+json"
    );
    let body: Value = r.json().await.unwrap();
    assert_eq!(
        body["type"],
        "urn:service-order-gateway:problem:upstream-credentials-rejected"
    );
    assert_eq!(body["status"], 502);
    assert_eq!(body["upstreamStatus"], 401);
    let detail = body["detail"].as_str().unwrap();
    assert!(detail.contains("401"), "{detail}");
    assert!(!detail.contains("demo-secret"), "{detail}");
    // One API call (401), one failed token request: no loop.
    assert_eq!(statuses(&app, Target::Orders), vec![401]);
    assert_eq!(app.sim.count(Target::Token), 2);

    // The next request asks for a token once more, and never calls the API
    // without one.
    let r = app.details("webentry_id=UN0000000001").await;
    assert_eq!(r.status(), 502);
    assert_eq!(app.sim.count(Target::Token), 3);
    assert_eq!(app.api_calls(), 1);

    // Once the token endpoint recovers, so does the gateway.
    app.sim.set_fault(Target::Token, None);
    assert_eq!(app.orders("uno").await.status(), 200);
    assert_eq!(app.sim.count(Target::Token), 4);
}

//! Rotating the OAuth client secret file without a restart: the file is
//! read again for each token request, and when the token endpoint answers
//! 401 while the file has changed under the request, the request is retried
//! at once with the new secret.
mod common;

use std::time::Duration;

use service_order_gateway::config::SecretSource;
use service_order_gateway::simulator::Target;

#[tokio::test]
async fn a_rotated_secret_file_works_without_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let secret = dir.path().join("client-secret");
    std::fs::write(&secret, "an-old-secret\n").unwrap();
    let app = common::spawn_app_with(common::open_hours(), |c| {
        c.upstream.client_secret = SecretSource::File(secret.clone())
    })
    .await;
    assert!(!app.state.gateway.upstream().tokens().has_valid_token());
    let r = app.orders("uno").await;
    assert_eq!(r.status(), 502, "the old secret is refused");
    assert!(app.sim.issued_tokens().is_empty());

    std::fs::write(&secret, "demo-secret\n").unwrap();
    let r = app.orders("uno").await;
    assert_eq!(r.status(), 200);
    assert_eq!(app.sim.issued_tokens().len(), 1);
    let sent = app
        .sim
        .received()
        .into_iter()
        .filter(|r| r.target == Target::Token)
        .last()
        .unwrap();
    assert!(String::from_utf8_lossy(&sent.body).contains("\"clientSecret\":\"demo-secret\""));
}

#[tokio::test]
async fn a_401_from_the_token_endpoint_retries_once_with_a_secret_rotated_meanwhile() {
    let dir = tempfile::tempdir().unwrap();
    let secret = dir.path().join("client-secret");
    std::fs::write(&secret, "an-old-secret").unwrap();
    let app = common::spawn_app_with(common::open_hours(), |c| {
        c.upstream.client_secret = SecretSource::File(secret.clone())
    })
    .await;
    let token_requests = app.sim.count(Target::Token);

    // The request reads the old secret, then the file is rotated while the
    // (slow) token endpoint is still answering.
    app.sim.set_latency(Duration::from_millis(400));
    let request = {
        let (client, url) = (
            app.client.clone(),
            format!(
                "{}/v1/business-process/service-orders?serviceName=uno",
                app.base
            ),
        );
        tokio::spawn(async move { client.get(url).send().await.unwrap().status() })
    };
    app.eventually("the token request is under way", || {
        app.sim
            .received()
            .iter()
            .filter(|r| r.target == Target::Token)
            .count()
            > token_requests
    })
    .await;
    std::fs::write(&secret, "demo-secret").unwrap();
    assert_eq!(request.await.unwrap(), 200, "the first failure is retried");
    assert_eq!(
        app.sim.count(Target::Token),
        token_requests + 2,
        "one refused token request, one retry"
    );

    // An unchanged secret is not retried: that would only spend budget.
    app.sim.set_latency(Duration::ZERO);
    std::fs::write(&secret, "another-wrong-secret").unwrap();
    app.sim.revoke_tokens();
    let before = app.sim.count(Target::Token);
    assert_eq!(app.orders("ucaas").await.status(), 502);
    assert_eq!(app.sim.count(Target::Token), before + 1);
}

//! Liveness and readiness probes: `/healthz` answers without touching the
//! upstream; `/readyz` is ready once a token is held (or cached data can be
//! served), answers a 503 problem with a reason otherwise, and never calls
//! the upstream itself.
mod common;

use std::time::Duration;

use common::{TestApp, open_hours};
use service_order_gateway::Application;
use service_order_gateway::clock::ManualClock;
use service_order_gateway::config::Config;
use service_order_gateway::simulator::{
    Fault, Simulator, SimulatorConfig, SimulatorControls, Target,
};
use service_order_gateway::state::AppState;

/// A gateway whose token endpoint fails (500) from the start, so it never
/// obtains a token on its own (built like `common::spawn_app`).
struct NoTokenApp {
    base: String,
    client: reqwest::Client,
    sim: SimulatorControls,
    state: AppState,
    _simulator: Simulator,
    _server: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl NoTokenApp {
    async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(format!("{}{}", self.base, path))
            .send()
            .await
            .unwrap()
    }

    async fn orders(&self, service: &str) -> reqwest::Response {
        self.get(&format!(
            "/v1/business-process/service-orders?serviceName={service}"
        ))
        .await
    }

    fn api_calls(&self) -> usize {
        self.sim.count(Target::Orders) + self.sim.count(Target::Details)
    }

    async fn eventually(&self, what: &str, cond: impl Fn() -> bool) {
        for _ in 0..500 {
            if cond() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("timed out waiting for: {what}");
    }
}

impl Drop for NoTokenApp {
    fn drop(&mut self) {
        self._server.abort();
    }
}

async fn spawn_app_without_token() -> NoTokenApp {
    let clock = ManualClock::new(open_hours());
    let simulator = Simulator::start(
        SimulatorConfig {
            clock: clock.clone(),
            ..SimulatorConfig::default()
        },
        "127.0.0.1:0".parse().unwrap(),
    )
    .await
    .unwrap();
    simulator
        .controls()
        .set_fault(Target::Token, Some(Fault::Status(500)));
    let mut config = Config::for_upstream(&simulator.base_url());
    config.upstream.rate = "1000/s".parse().unwrap();
    config.upstream.burst = std::num::NonZeroU32::new(100).unwrap();
    config.upstream.timeout = Duration::from_secs(2);
    config.server.request_timeout = Duration::from_secs(5);
    let app = Application::build(config, clock).await.unwrap();
    let base = format!("http://{}", app.local_addr());
    let state = app.state().clone();
    let server = tokio::spawn(app.run_until_stopped(std::future::pending()));
    NoTokenApp {
        base,
        client: reqwest::Client::builder().no_proxy().build().unwrap(),
        sim: simulator.controls(),
        state,
        _simulator: simulator,
        _server: server,
    }
}

/// What both kinds of test app offer the assertions below.
trait Probe {
    fn get_path(&self, path: &str) -> impl std::future::Future<Output = reqwest::Response>;
}

impl Probe for NoTokenApp {
    async fn get_path(&self, path: &str) -> reqwest::Response {
        self.get(path).await
    }
}

impl Probe for TestApp {
    async fn get_path(&self, path: &str) -> reqwest::Response {
        self.get(path).await
    }
}

async fn assert_not_ready(app: &impl Probe) {
    let r = app.get_path("/readyz").await;
    assert_eq!(r.status(), 503);
    assert_eq!(r.headers()["content-type"], "application/problem+json");
    assert!(r.headers().contains_key("retry-after"));
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["type"], "urn:service-order-gateway:problem:not-ready");
    assert_eq!(body["status"], 503);
    assert_eq!(body["title"], "Not ready");
    let detail = body["detail"].as_str().unwrap();
    assert!(detail.contains("token"), "no reason given: {detail}");
    assert!(detail.contains("cached"), "no reason given: {detail}");
}

async fn assert_ready(app: &impl Probe) {
    let r = app.get_path("/readyz").await;
    assert_eq!(r.status(), 200);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json")
    );
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body, serde_json::json!({"status": "ready"}));
}

#[tokio::test]
async fn healthz_answers_ok_without_calling_the_upstream() {
    let app = common::spawn_app().await;
    app.sim.reset_counters();
    for _ in 0..5 {
        let r = app.get("/healthz").await;
        assert_eq!(r.status(), 200);
        assert!(
            r.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("application/json")
        );
        let body: serde_json::Value = r.json().await.unwrap();
        assert_eq!(body, serde_json::json!({"status": "ok"}));
    }
    assert_eq!(app.sim.count(Target::Orders), 0);
    assert_eq!(app.sim.count(Target::Details), 0);
    assert_eq!(app.sim.count(Target::Any), 0);
}

#[tokio::test]
async fn healthz_answers_even_when_the_upstream_is_down() {
    let app = spawn_app_without_token().await;
    app.sim.set_fault(Target::Any, Some(Fault::Status(503)));
    let r = app.get("/healthz").await;
    assert_eq!(r.status(), 200);
    assert_eq!(app.api_calls(), 0);
}

#[tokio::test]
async fn readyz_is_ready_with_a_token_and_never_calls_the_upstream() {
    let app = common::spawn_app().await;
    assert!(app.state.gateway.upstream().tokens().has_valid_token());
    let tokens_before = app.sim.count(Target::Token);
    assert_eq!(tokens_before, 1);
    for _ in 0..20 {
        assert_ready(&app).await;
    }
    assert_eq!(app.sim.count(Target::Token), tokens_before);
    assert_eq!(app.api_calls(), 0);
}

#[tokio::test]
async fn readyz_reports_not_ready_without_token_or_cache_then_recovers() {
    let app = spawn_app_without_token().await;
    app.eventually("the background task tried to get a token", || {
        app.sim.count(Target::Token) >= 1
    })
    .await;
    assert!(!app.state.gateway.upstream().tokens().has_valid_token());
    assert_not_ready(&app).await;

    // Probes never call the upstream, not even the token endpoint.
    let tokens = app.sim.count(Target::Token);
    for _ in 0..20 {
        assert_not_ready(&app).await;
    }
    assert_eq!(app.sim.count(Target::Token), tokens);
    assert_eq!(app.api_calls(), 0);

    // The token endpoint recovers; the next API request obtains a token.
    app.sim.set_fault(Target::Token, None);
    assert_eq!(app.orders("uno").await.status(), 200);
    assert_eq!(app.sim.count(Target::Token), tokens + 1);
    assert_ready(&app).await;
}

#[tokio::test]
async fn readyz_is_ready_without_a_token_when_cached_data_can_be_served() {
    let app = spawn_app_without_token().await;
    app.eventually("the background task tried to get a token", || {
        app.sim.count(Target::Token) >= 1
    })
    .await;
    // Get a token and cache one answer.
    app.sim.set_fault(Target::Token, None);
    assert_eq!(app.orders("uno").await.status(), 200);
    // The upstream revokes the token and the token endpoint fails again:
    // the next miss loses the token.
    app.sim.set_fault(Target::Token, Some(Fault::Status(500)));
    app.sim.revoke_tokens();
    let r = app.orders("ucaas").await;
    assert_eq!(r.status(), 502);
    assert!(!app.state.gateway.upstream().tokens().has_valid_token());
    // The cached answer is still served, so the gateway is ready.
    assert_eq!(app.orders("uno").await.status(), 200);
    assert_ready(&app).await;
    // Without the cached data it is not.
    app.state.gateway.cache().purge(None).await;
    assert_not_ready(&app).await;
}

//! Test helpers: the real gateway on a random loopback port in front of the
//! simulated NTT upstream, with a clock the test controls.
#![allow(dead_code)]

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use service_order_gateway::Application;
use service_order_gateway::calendar::jst;
use service_order_gateway::clock::ManualClock;
use service_order_gateway::config::Config;
use service_order_gateway::simulator::{Simulator, SimulatorConfig, SimulatorControls, Target};
use service_order_gateway::state::AppState;

/// A running gateway, its simulator and its clock.
pub struct TestApp {
    /// `http://127.0.0.1:PORT` of the gateway.
    pub base: String,
    pub client: reqwest::Client,
    pub sim: SimulatorControls,
    pub clock: Arc<ManualClock>,
    pub state: AppState,
    pub simulator: Option<Simulator>,
    /// The simulator's base URL when another app owns it.
    pub sim_base: Option<String>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    pub server: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
}

/// Asserts `r` is an RFC 9457 problem+json with this status and type slug
/// (`urn:service-order-gateway:problem:{slug}`), a title and a detail; returns the body.
pub async fn problem(r: reqwest::Response, status: u16, slug: &str) -> serde_json::Value {
    assert_eq!(r.status(), status);
    assert_eq!(r.headers()["content-type"], "application/problem+json");
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(
        body["type"],
        format!("urn:service-order-gateway:problem:{slug}")
    );
    assert_eq!(body["status"], status);
    assert!(body["title"].as_str().is_some_and(|t| !t.is_empty()));
    assert!(body["detail"].as_str().is_some_and(|t| !t.is_empty()));
    body
}

/// The value of a response header, which must be there.
pub fn header(r: &reqwest::Response, name: &str) -> String {
    r.headers()
        .get(name)
        .unwrap_or_else(|| panic!("no {name} header"))
        .to_str()
        .unwrap()
        .to_owned()
}

/// A JST wall-clock instant.
pub fn jst_at(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
    jst()
        .with_ymd_and_hms(y, m, d, h, min, 0)
        .unwrap()
        .with_timezone(&Utc)
}

/// Thursday 2026-12-03 10:00 JST: a business day, details open.
pub fn open_hours() -> DateTime<Utc> {
    jst_at(2026, 12, 3, 10, 0)
}

/// The gateway at 10:00 JST on a business day, with a generous upstream budget.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(open_hours(), |_| {}).await
}

/// The gateway with the clock at `start` and config changed by `tweak`.
pub async fn spawn_app_with(start: DateTime<Utc>, tweak: impl FnOnce(&mut Config)) -> TestApp {
    let clock = ManualClock::new(start);
    let simulator = Simulator::start(
        SimulatorConfig {
            clock: clock.clone(),
            ..SimulatorConfig::default()
        },
        "127.0.0.1:0".parse().unwrap(),
    )
    .await
    .expect("simulator starts");
    let sim = simulator.controls();
    start_gateway(&simulator.base_url(), clock, sim, Some(simulator), tweak).await
}

/// Another gateway (e.g. a replica) in front of `upstream`'s simulator, with
/// its own clock at `start` and config changed by `tweak`.
pub async fn spawn_replica(
    upstream: &TestApp,
    start: DateTime<Utc>,
    tweak: impl FnOnce(&mut Config),
) -> TestApp {
    let sim_base = upstream
        .simulator
        .as_ref()
        .map(|s| s.base_url())
        .or_else(|| upstream.sim_base.clone())
        .expect("the first app owns its simulator");
    let clock = ManualClock::new(start);
    start_gateway(&sim_base, clock, upstream.sim.clone(), None, tweak).await
}

/// Builds and starts a gateway in front of the simulator at `sim_base` with
/// the test defaults (a generous budget, short timeouts) changed by `tweak`,
/// and waits until it holds a token. `simulator` is owned by the result when
/// given (the first app); replicas only point at it.
async fn start_gateway(
    sim_base: &str,
    clock: Arc<ManualClock>,
    sim: SimulatorControls,
    simulator: Option<Simulator>,
    tweak: impl FnOnce(&mut Config),
) -> TestApp {
    let mut config = Config::for_upstream(sim_base);
    config.upstream.rate = "1000/s".parse().unwrap();
    config.upstream.burst = std::num::NonZeroU32::new(100).unwrap();
    config.upstream.timeout = Duration::from_secs(2);
    config.server.request_timeout = Duration::from_secs(5);
    tweak(&mut config);
    let app = Application::build(config, clock.clone())
        .await
        .expect("gateway builds");
    let base = format!("http://{}", app.local_addr());
    let state = app.state().clone();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(app.run_until_stopped(async move {
        let _ = rx.await;
    }));
    let sim_base = simulator.is_none().then(|| sim_base.to_owned());
    let test = TestApp {
        base,
        client: reqwest::Client::builder().no_proxy().build().unwrap(),
        sim,
        clock,
        state,
        simulator,
        sim_base,
        shutdown: Some(tx),
        server: Some(server),
    };
    test.wait_for_token().await;
    test
}

impl TestApp {
    /// GET a path (with query) on the gateway.
    pub async fn get(&self, path_and_query: &str) -> reqwest::Response {
        self.client
            .get(format!("{}{}", self.base, path_and_query))
            .send()
            .await
            .expect("request sent")
    }

    /// GET with extra headers.
    pub async fn get_with(
        &self,
        path_and_query: &str,
        headers: &[(&str, &str)],
    ) -> reqwest::Response {
        let mut req = self.client.get(format!("{}{}", self.base, path_and_query));
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        req.send().await.expect("request sent")
    }

    /// GET service-orders for one service.
    pub async fn orders(&self, service: &str) -> reqwest::Response {
        self.get(&format!(
            "/v1/business-process/service-orders?serviceName={service}"
        ))
        .await
    }

    /// GET service-order-details with a raw query string.
    pub async fn details(&self, query: &str) -> reqwest::Response {
        self.get(&format!(
            "/v1/business-process/service-order-details?{query}"
        ))
        .await
    }

    /// Upstream API calls received (token requests excluded).
    pub fn api_calls(&self) -> usize {
        self.sim.count(Target::Orders) + self.sim.count(Target::Details)
    }

    /// Waits (briefly) until the background task holds a token.
    pub async fn wait_for_token(&self) {
        for _ in 0..200 {
            if self.state.gateway.upstream().tokens().has_valid_token() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// Waits until `cond` holds (polling), up to 5 s.
    pub async fn eventually(&self, what: &str, mut cond: impl FnMut() -> bool) {
        for _ in 0..500 {
            if cond() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("timed out waiting for: {what}");
    }

    /// Moves the gateway's (and simulator's) clock forward.
    pub fn advance(&self, by: Duration) {
        self.clock.advance(by);
    }

    /// Stops the gateway gracefully and waits for it.
    pub async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(server) = self.server.take() {
            let _ = server.await;
        }
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

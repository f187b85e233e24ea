//! A simulator of NTT Com's upstream Service Order API (token endpoint,
//! service orders, service order details).
//!
//! This module owns everything the simulator does: the HTTP server
//! ([`Simulator`]), the axum [`router`], the deterministic fake data
//! (with every documented quirk of the real upstream), fault injection
//! ([`Fault`], [`SimulatorControls`]) and request bookkeeping
//! ([`ReceivedRequest`]). It is used by integration tests, by the gateway's
//! `--demo` mode and by benchmarks (through the `sog-simulator` binary and
//! its `/__sim/` control routes).
//!
//! It depends on nothing in the crate except [`crate::clock`].
//!
//! Behaviour in brief:
//! - `POST /v1/oauth/accesstokens` issues bearer tokens exactly as described
//!   in `upstream-facts.md` (JSON body, camelCase, every response field a
//!   string, `issuedAt` in epoch milliseconds taken from the configured clock).
//! - `GET /v1/business-process/service-orders?serviceName=..` answers fixed
//!   data per service name (see the `orders` submodule docs).
//! - `GET /v1/business-process/service-order-details?..` answers the details
//!   envelope with fixed records plus one synthetic record per unknown
//!   `webentry_id` (see the `details` submodule docs).
//! - Errors use an Apigee-style body
//!   `{"fault":{"faultstring":"..","detail":{"errorcode":".."}}}` (a guess:
//!   the real error bodies are undocumented).
//! - Routes under `/__sim/` control the simulator over HTTP (see [`control`]);
//!   they are not recorded and not subject to faults or latency.

#![warn(missing_docs)]

pub mod control;
mod details;
mod faults;
mod orders;
#[cfg(test)]
mod tests;

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::response::Response;
use bytes::Bytes;
use chrono::{DateTime, Utc};
use http::{HeaderMap, Method, StatusCode, header};
use rand::Rng;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::clock::{SharedClock, SystemClock};

pub use control::{parse_fault_spec, parse_target};

/// Path of the token endpoint.
pub const TOKEN_PATH: &str = "/v1/oauth/accesstokens";
/// Path of the service orders endpoint.
pub const ORDERS_PATH: &str = "/v1/business-process/service-orders";
/// Path of the service order details endpoint.
pub const DETAILS_PATH: &str = "/v1/business-process/service-order-details";

/// Largest request body the simulator reads; anything longer is truncated.
const MAX_REQUEST_BODY: usize = 1 << 20;

/// Configuration of a simulator instance.
#[derive(Debug, Clone)]
pub struct SimulatorConfig {
    /// The only accepted `clientId` (default `"demo-client"`).
    pub client_id: String,
    /// The only accepted `clientSecret` (default `"demo-secret"`).
    pub client_secret: String,
    /// Lifetime of issued tokens (default 3599 s), sent as `expiresIn` (a
    /// string of whole seconds).
    pub token_ttl: Duration,
    /// Delay added before every API and token response (default 0). Can be
    /// changed while running with [`SimulatorControls::set_latency`].
    pub latency: Duration,
    /// An extra bearer token that is always accepted, never expires and
    /// survives [`SimulatorControls::revoke_tokens`] (for benchmarks where a
    /// proxy injects a fixed token).
    pub static_token: Option<String>,
    /// Clock for `issuedAt` and token expiry (default [`SystemClock`]).
    pub clock: SharedClock,
}

impl Default for SimulatorConfig {
    fn default() -> Self {
        Self {
            client_id: "demo-client".to_owned(),
            client_secret: "demo-secret".to_owned(),
            token_ttl: Duration::from_secs(3599),
            latency: Duration::ZERO,
            static_token: None,
            clock: Arc::new(SystemClock),
        }
    }
}

/// Which upstream endpoint a request was addressed to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Target {
    /// `POST /v1/oauth/accesstokens`.
    Token,
    /// `GET /v1/business-process/service-orders`.
    Orders,
    /// `GET /v1/business-process/service-order-details`.
    Details,
    /// In faults and counters: every target. In a [`ReceivedRequest`]: a
    /// request to an unknown path (answered 404, never faulted).
    Any,
}

/// One request the simulator received.
#[derive(Debug, Clone)]
pub struct ReceivedRequest {
    /// The endpoint addressed ([`Target::Any`] for unknown paths).
    pub target: Target,
    /// HTTP method, e.g. `"GET"`.
    pub method: String,
    /// The request path without the query.
    pub path: String,
    /// The raw query string, if any.
    pub query: Option<String>,
    /// All request headers.
    pub headers: HeaderMap,
    /// The request body (at most 1 MiB is kept).
    pub body: Bytes,
    /// When the request arrived.
    pub at: Instant,
    /// The status the simulator answered; `0` while it has not answered
    /// (e.g. under [`Fault::Hang`]).
    pub status: u16,
}

/// A misbehaviour to inject instead of the normal answer.
///
/// Faults are checked before anything else (authentication, validation).
#[derive(Debug, Clone, PartialEq)]
pub enum Fault {
    /// That status with an Apigee-style JSON fault body.
    Status(u16),
    /// 429 with an Apigee-style body (errorcode
    /// `policies.ratelimit.QuotaViolation`), with a `Retry-After: N` header
    /// when `retry_after` is `Some(N)`.
    TooManyRequests {
        /// Seconds for the `Retry-After` header, or none.
        retry_after: Option<u64>,
    },
    /// That status with an HTML error page (`text/html`).
    HtmlError(u16),
    /// 200, `application/json`, with a truncated (invalid) JSON body.
    MalformedJson,
    /// 401 as for an invalid or expired token.
    Unauthorized,
    /// Details outside opening hours. The real answer is undocumented; this
    /// is a **guess**: 403 with Apigee faultstring
    /// `"Service is not available at this time"`, errorcode `service.closed`.
    Closed,
    /// 200 with the details envelope whose `code` (a string) is not success
    /// and whose `result` is empty. Meant for [`Target::Details`], answered
    /// as is for any target.
    ResultCode {
        /// The envelope `code`, e.g. `"500"`.
        code: String,
        /// `detail.detailCode`, e.g. `"E99"`.
        detail_code: String,
        /// `detail.detailMsg`, e.g. `"エラーが発生しました"`.
        message: String,
    },
    /// Never answers (until the simulator shuts down).
    Hang,
    /// 200 `application/json` whose body is exactly that many bytes: a
    /// valid-looking JSON prefix, then filler (never valid JSON overall
    /// unless tiny).
    HugeBody(usize),
    /// 200 `application/json` whose body trickles one byte every 200 ms
    /// (600 bytes: two minutes, and never valid JSON).
    SlowDrip,
    /// 200 `application/json`: well-formed JSON structure with invalid UTF-8
    /// bytes inside a string value.
    InvalidUtf8,
    /// 200 `application/json`: `[` repeated that many times, then as many `]`.
    DeepNesting(usize),
}

/// A running simulator server. Dropping it (or [`Simulator::shutdown`])
/// stops it.
#[derive(Debug)]
pub struct Simulator {
    addr: SocketAddr,
    controls: SimulatorControls,
    task: Option<JoinHandle<std::io::Result<()>>>,
}

impl Simulator {
    /// Binds `listen` (port 0 picks a free port) and serves the simulator in
    /// a background task.
    pub async fn start(config: SimulatorConfig, listen: SocketAddr) -> std::io::Result<Simulator> {
        let (router, controls) = router(config);
        let listener = tokio::net::TcpListener::bind(listen).await?;
        let addr = listener.local_addr()?;
        let mut stop = controls.shared.shutdown.subscribe();
        let task = tokio::spawn(async move {
            axum::serve(listener, router)
                .with_graceful_shutdown(async move {
                    let _ = stop.wait_for(|stopped| *stopped).await;
                })
                .await
        });
        Ok(Simulator {
            addr,
            controls,
            task: Some(task),
        })
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://IP:PORT` of the server, without a trailing slash.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// A handle to inspect and steer the running simulator.
    pub fn controls(&self) -> SimulatorControls {
        self.controls.clone()
    }

    /// Stops the server: no new connections, hanging or dripping responses
    /// are ended, and in-flight requests get up to 5 s to finish.
    pub async fn shutdown(mut self) {
        self.controls.shared.shutdown.send_replace(true);
        if let Some(task) = self.task.take() {
            let abort = task.abort_handle();
            if tokio::time::timeout(Duration::from_secs(5), task)
                .await
                .is_err()
            {
                abort.abort();
            }
        }
    }
}

impl Drop for Simulator {
    fn drop(&mut self) {
        self.controls.shared.shutdown.send_replace(true);
    }
}

/// Builds the simulator's router (upstream endpoints, `/__sim/` control
/// routes, 404 for everything else) and the controls for it, so others can
/// mount or serve it themselves.
pub fn router(config: SimulatorConfig) -> (Router, SimulatorControls) {
    let (shutdown, _) = watch::channel(false);
    let shared = Arc::new(Shared {
        inner: Mutex::new(Inner {
            latency: config.latency,
            ..Inner::default()
        }),
        config,
        shutdown,
    });
    let controls = SimulatorControls { shared };
    let router = Router::new().fallback(handle).with_state(controls.clone());
    (router, controls)
}

/// A cheap, cloneable handle to a simulator's state, usable while it runs.
#[derive(Clone, Debug)]
pub struct SimulatorControls {
    shared: Arc<Shared>,
}

#[derive(Debug)]
struct Shared {
    config: SimulatorConfig,
    inner: Mutex<Inner>,
    /// `true` once the owning [`Simulator`] stops.
    shutdown: watch::Sender<bool>,
}

#[derive(Debug, Default)]
struct Inner {
    latency: Duration,
    persistent: HashMap<Target, Fault>,
    next: HashMap<Target, VecDeque<(usize, Fault)>>,
    /// Valid (unrevoked) tokens and their expiry.
    tokens: HashMap<String, DateTime<Utc>>,
    issued: Vec<String>,
    /// Received requests with a sequence number (to set the status later).
    received: Vec<(u64, ReceivedRequest)>,
    seq: u64,
}

impl SimulatorControls {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.shared.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Sets (`Some`) or clears (`None`) a persistent fault for `target`
    /// ([`Target::Any`]: every target). A fault for the specific target wins
    /// over one for `Any`.
    pub fn set_fault(&self, target: Target, fault: Option<Fault>) {
        let mut inner = self.lock();
        match fault {
            Some(f) => inner.persistent.insert(target, f),
            None => inner.persistent.remove(&target),
        };
    }

    /// The next `n` requests to `target` ([`Target::Any`]: to any target) get
    /// `fault`, then behaviour returns to normal. Queued counts are consumed
    /// before persistent faults apply; the specific target's queue is
    /// consumed before the `Any` queue. Calls queue up in order.
    pub fn fail_next(&self, target: Target, n: usize, fault: Fault) {
        if n == 0 {
            return;
        }
        self.lock()
            .next
            .entry(target)
            .or_default()
            .push_back((n, fault));
    }

    /// Removes every persistent and queued fault.
    pub fn clear_faults(&self) {
        let mut inner = self.lock();
        inner.persistent.clear();
        inner.next.clear();
    }

    /// Changes the delay added before every API and token response.
    pub fn set_latency(&self, d: Duration) {
        self.lock().latency = d;
    }

    /// Invalidates every token issued so far (API calls with them get 401).
    /// The configured static token stays valid.
    pub fn revoke_tokens(&self) {
        self.lock().tokens.clear();
    }

    /// Every access token handed out so far, in order (revoked ones included).
    pub fn issued_tokens(&self) -> Vec<String> {
        self.lock().issued.clone()
    }

    /// Every request received since the last [`reset_counters`], in arrival
    /// order, token requests included (`/__sim/` requests excluded).
    ///
    /// [`reset_counters`]: SimulatorControls::reset_counters
    pub fn received(&self) -> Vec<ReceivedRequest> {
        self.lock()
            .received
            .iter()
            .map(|(_, r)| r.clone())
            .collect()
    }

    /// Requests received for `target` ([`Target::Any`]: all requests,
    /// unknown paths included).
    pub fn count(&self, target: Target) -> usize {
        self.lock()
            .received
            .iter()
            .filter(|(_, r)| target == Target::Any || r.target == target)
            .count()
    }

    /// The highest number of requests for `target` that arrived within any
    /// one-second window (sliding, by arrival [`Instant`]).
    pub fn max_per_second(&self, target: Target) -> usize {
        let times: Vec<Instant> = self
            .lock()
            .received
            .iter()
            .filter(|(_, r)| target == Target::Any || r.target == target)
            .map(|(_, r)| r.at)
            .collect();
        max_in_window(&times, Duration::from_secs(1))
    }

    /// Forgets received requests (and so all counts). Faults, tokens and
    /// latency are kept.
    pub fn reset_counters(&self) {
        self.lock().received.clear();
    }

    fn record(&self, mut req: ReceivedRequest) -> u64 {
        let mut inner = self.lock();
        inner.seq += 1;
        let seq = inner.seq;
        req.status = 0;
        inner.received.push((seq, req));
        seq
    }

    fn set_status(&self, seq: u64, status: u16) {
        let mut inner = self.lock();
        if let Ok(i) = inner.received.binary_search_by_key(&seq, |(s, _)| *s) {
            inner.received[i].1.status = status;
        }
    }

    fn take_fault(&self, target: Target) -> Option<Fault> {
        let mut inner = self.lock();
        for t in [target, Target::Any] {
            let Some(queue) = inner.next.get_mut(&t) else {
                continue;
            };
            if let Some((left, fault)) = queue.front_mut() {
                let fault = fault.clone();
                *left -= 1;
                if *left == 0 {
                    queue.pop_front();
                }
                return Some(fault);
            }
        }
        inner
            .persistent
            .get(&target)
            .or_else(|| inner.persistent.get(&Target::Any))
            .cloned()
    }

    fn latency(&self) -> Duration {
        self.lock().latency
    }

    fn config(&self) -> &SimulatorConfig {
        &self.shared.config
    }

    /// Resolves once the owning simulator shuts down (never for a bare
    /// router whose controls are never told to stop).
    async fn stopped(&self) {
        let mut rx = self.shared.shutdown.subscribe();
        let _ = rx.wait_for(|stopped| *stopped).await;
    }

    fn is_stopped(&self) -> bool {
        *self.shared.shutdown.borrow()
    }

    fn issue_token(&self) -> (String, DateTime<Utc>) {
        let token: String = rand::rng()
            .sample_iter(rand::distr::Alphanumeric)
            .take(28)
            .map(char::from)
            .collect();
        let now = self.config().clock.now();
        let ttl =
            chrono::Duration::from_std(self.config().token_ttl).unwrap_or(chrono::Duration::MAX);
        let expires = now
            .checked_add_signed(ttl)
            .unwrap_or(DateTime::<Utc>::MAX_UTC);
        let mut inner = self.lock();
        inner.tokens.insert(token.clone(), expires);
        inner.issued.push(token.clone());
        (token, now)
    }

    /// Checks the `Authorization` header; `Some` is the 401 to answer.
    fn auth_rejection(&self, headers: &HeaderMap) -> Option<Response> {
        let token = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split_once(' '))
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .map(|(_, token)| token.trim());
        let Some(token) = token else {
            return Some(faults::apigee(
                StatusCode::UNAUTHORIZED,
                "Invalid access token",
                "oauth.v2.InvalidAccessToken",
            ));
        };
        if self.config().static_token.as_deref() == Some(token) {
            return None;
        }
        let expiry = self.lock().tokens.get(token).copied();
        match expiry {
            Some(exp) if self.config().clock.now() < exp => None,
            Some(_) => Some(faults::apigee(
                StatusCode::UNAUTHORIZED,
                "Access Token expired",
                "keymanagement.service.access_token_expired",
            )),
            None => Some(faults::unauthorized()),
        }
    }
}

/// The largest number of `times` (any order) within a window shorter than
/// `window`.
fn max_in_window(times: &[Instant], window: Duration) -> usize {
    let mut times = times.to_vec();
    times.sort_unstable();
    let mut best = 0;
    let mut start = 0;
    for end in 0..times.len() {
        while times[end].duration_since(times[start]) >= window {
            start += 1;
        }
        best = best.max(end - start + 1);
    }
    best
}

fn classify(path: &str) -> Target {
    match path.trim_end_matches('/') {
        TOKEN_PATH => Target::Token,
        ORDERS_PATH => Target::Orders,
        DETAILS_PATH => Target::Details,
        _ => Target::Any,
    }
}

async fn handle(State(controls): State<SimulatorControls>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let path = parts.uri.path().to_owned();
    if path.starts_with("/__sim/") {
        return control::handle(&controls, &parts.method, &path, parts.uri.query()).await;
    }
    let body = axum::body::to_bytes(body, MAX_REQUEST_BODY)
        .await
        .unwrap_or_default();
    let target = classify(&path);
    let request = ReceivedRequest {
        target,
        method: parts.method.to_string(),
        path: path.clone(),
        query: parts.uri.query().map(str::to_owned),
        headers: parts.headers.clone(),
        body: body.clone(),
        at: Instant::now(),
        status: 0,
    };
    let seq = controls.record(request);
    let latency = controls.latency();
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    let response = respond(
        &controls,
        target,
        &parts.method,
        parts.uri.query(),
        &parts.headers,
        &body,
    )
    .await;
    controls.set_status(seq, response.status().as_u16());
    response
}

async fn respond(
    controls: &SimulatorControls,
    target: Target,
    method: &Method,
    query: Option<&str>,
    headers: &HeaderMap,
    body: &Bytes,
) -> Response {
    if target == Target::Any {
        return not_found();
    }
    if let Some(fault) = controls.take_fault(target) {
        return faults::render(controls, target, &fault).await;
    }
    let expected = if target == Target::Token {
        Method::POST
    } else {
        Method::GET
    };
    if *method != expected {
        return faults::apigee(
            StatusCode::METHOD_NOT_ALLOWED,
            "Method not allowed",
            "messaging.adaptors.http.flow.MethodNotAllowed",
        );
    }
    match target {
        Target::Token => token(controls, headers, body),
        Target::Orders => controls
            .auth_rejection(headers)
            .unwrap_or_else(|| orders::respond(query)),
        Target::Details => controls
            .auth_rejection(headers)
            .unwrap_or_else(|| details::respond(query)),
        Target::Any => not_found(),
    }
}

fn not_found() -> Response {
    faults::apigee(
        StatusCode::NOT_FOUND,
        "Unable to identify proxy for host: default and url: unknown path",
        "messaging.adaptors.http.flow.ApplicationNotFound",
    )
}

/// Builds a JSON response from an already serialized body.
fn json_response(status: StatusCode, body: impl Into<Body>) -> Response {
    Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, "application/json;charset=UTF-8")
        .body(body.into())
        .unwrap_or_default()
}

fn bad_request(faultstring: &str, errorcode: &str) -> Response {
    faults::apigee(StatusCode::BAD_REQUEST, faultstring, errorcode)
}

/// The token endpoint after faults and the method check.
fn token(controls: &SimulatorControls, headers: &HeaderMap, body: &Bytes) -> Response {
    let json_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|mime| mime.trim().eq_ignore_ascii_case("application/json"));
    if !json_type {
        return bad_request(
            "Content-Type must be application/json",
            "oauth.v2.InvalidContentType",
        );
    }
    let Ok(serde_json::Value::Object(fields)) = serde_json::from_slice::<serde_json::Value>(body)
    else {
        return bad_request("Invalid JSON request body", "oauth.v2.InvalidRequest");
    };
    let field = |name: &str| fields.get(name).and_then(|v| v.as_str());
    let (Some(grant), Some(id), Some(secret)) =
        (field("grantType"), field("clientId"), field("clientSecret"))
    else {
        return bad_request(
            "Required parameter missing: grantType, clientId and clientSecret are required",
            "oauth.v2.InvalidRequest",
        );
    };
    if grant != "client_credentials" {
        return bad_request(
            &format!("Unsupported grant type : {grant}"),
            "oauth.v2.UnsupportedGrantType",
        );
    }
    let config = controls.config();
    if id != config.client_id || secret != config.client_secret {
        return faults::apigee(
            StatusCode::UNAUTHORIZED,
            "Invalid client identifier",
            "oauth.v2.InvalidClientIdentifier",
        );
    }
    let (token, issued) = controls.issue_token();
    let body = serde_json::json!({
        "accessToken": token,
        "tokenType": "BearerToken",
        "expiresIn": config.token_ttl.as_secs().to_string(),
        "scope": "READ WRITE",
        "issuedAt": issued.timestamp_millis().to_string(),
    });
    json_response(StatusCode::OK, body.to_string())
}

//! The tower middleware of the HTTP surface, composed in one place
//! ([`stack`]) and read top to bottom, plus the small middleware functions
//! it uses. In front of all of it, the [hit lane](crate::api::hit_lane)
//! answers fresh cache hits, recording the same metrics and access line
//! ([`record_access`]).

use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::error_handling::HandleErrorLayer;
use axum::extract::{MatchedPath, Request};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use http::{HeaderName, StatusCode, header};
use tower::ServiceBuilder;
use tower::limit::GlobalConcurrencyLimitLayer;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{PropagateRequestIdLayer, SetRequestIdLayer};

use crate::api::hot_path::{self, FastRequestUuid};
use crate::api::problem::{PROBLEM_JSON, Problem};
use crate::cache::CacheStatus;

/// The longest request URI accepted.
pub const MAX_URI_BYTES: usize = 2048;
/// The most request header bytes accepted (names and values).
pub const MAX_HEADER_BYTES: usize = 16 * 1024;
/// The most request headers accepted.
pub const MAX_HEADERS: usize = 64;

pub(crate) static X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Wraps the routes that do real work (the API and docs) in the
/// protective layers: load shedding, a concurrency limit and a timeout.
/// Operations routes stay outside them so probes answer under load.
pub fn protect(router: Router, max_concurrent: usize, timeout: Duration) -> Router {
    router.layer(
        ServiceBuilder::new()
            // Turns the layers' errors below into problem+json responses.
            .layer(HandleErrorLayer::new(|error: tower::BoxError| async move {
                if error.is::<tower::timeout::error::Elapsed>() {
                    Problem::new(
                        StatusCode::GATEWAY_TIMEOUT,
                        "timeout",
                        "Request timeout",
                        "The request took longer than the gateway allows (SOG_REQUEST_TIMEOUT).",
                    )
                    .into_response()
                } else {
                    metrics::counter!("sog_http_shed_total").increment(1);
                    Problem::for_status(StatusCode::SERVICE_UNAVAILABLE, "")
                        .retry_after(1)
                        .into_response()
                }
            }))
            // Refuse at once, instead of queueing, when the limit below is reached.
            .load_shed()
            // Bounds the work in progress (memory, upstream sockets). One
            // semaphore for all routes: `Router::layer` layers each route
            // separately, so a plain `concurrency_limit` would be per route.
            .layer(GlobalConcurrencyLimitLayer::new(max_concurrent))
            // Bounds one request's life; the upstream deadline is the same.
            .timeout(timeout),
    )
}

/// The outer layers every route gets, outermost first.
pub fn stack(router: Router) -> Router {
    router.layer(
        ServiceBuilder::new()
            // Every request gets an id: the caller's x-request-id or a new UUID.
            .layer(SetRequestIdLayer::new(
                X_REQUEST_ID.clone(),
                FastRequestUuid,
            ))
            // ...and the response carries it back.
            .layer(PropagateRequestIdLayer::new(X_REQUEST_ID.clone()))
            // One log line and the metrics per request; every error response
            // is problem+json, whoever produced it; oversized URIs and header
            // floods never reach a handler (one middleware, see `edge`).
            .layer(middleware::from_fn(edge))
            // A panic becomes a 500 problem, not a dropped connection.
            .layer(CatchPanicLayer::custom(
                |_: Box<dyn std::any::Any + Send>| {
                    Problem::new(
                        StatusCode::INTERNAL_SERVER_ERROR,
                        "internal",
                        "Internal error",
                        "The gateway failed unexpectedly; the failure is logged.",
                    )
                    .into_response()
                },
            )),
    )
}

/// [`access_log`] around [`problem_for_bare_errors`] around
/// [`guard_limits`], as one middleware: each `from_fn` layer costs a boxed
/// future and a clone of the inner service per request, so the three share one.
async fn edge(request: Request, next: Next) -> Response {
    access_log(request, |request| {
        problem_for_bare_errors(request, |request| guard_limits(request, next))
    })
    .await
}

/// Logs one line per request (target `sog::access`, at info) and records
/// the request metrics. The log line's fields are gathered only when that
/// level is enabled, and the metric handles are reused ([`hot_path`]), so a
/// request costs no allocation here when the access log is off.
async fn access_log<F, Fut>(request: Request, next: F) -> Response
where
    F: FnOnce(Request) -> Fut,
    Fut: Future<Output = Response>,
{
    let started = Instant::now();
    let route = request.extensions().get::<MatchedPath>().cloned();
    let logged = tracing::enabled!(target: "sog::access", tracing::Level::INFO).then(|| {
        (
            request.method().clone(),
            request.headers().get(&X_REQUEST_ID).cloned(),
        )
    });
    let response = next(request).await;
    let caller = crate::api::auth::caller_label(&response);
    let route = route.as_ref().map_or("unmatched", |p| p.as_str());
    let status = response.status().as_u16();
    let cache = response.extensions().get::<CacheStatus>();
    let (method, request_id) = match &logged {
        Some((method, id)) => (Some(method), id.as_ref()),
        None => (None, None),
    };
    record_access(
        route,
        status,
        cache,
        &caller,
        started.elapsed(),
        method,
        request_id,
    );
    response
}

/// Records one answered request: the request metrics, and the access log
/// line when `method` is given (callers gather the method and request id
/// only when `sog::access` is enabled at info). Shared by [`access_log`]
/// and the [`hit_lane`](crate::api::hit_lane).
pub(crate) fn record_access(
    route: &str,
    status: u16,
    cache: Option<&CacheStatus>,
    caller: &str,
    elapsed: Duration,
    method: Option<&http::Method>,
    request_id: Option<&http::HeaderValue>,
) {
    let cache = cache.map_or("none", |s| s.label());
    let route_label = match route {
        "/docs" | "/docs/" | "/docs/{*rest}" => "/docs",
        r => r,
    };
    hot_path::record_request(route_label, status, cache, caller, elapsed);
    log_access(route, status, cache, caller, elapsed, method, request_id);
}

/// The access log line of [`record_access`], when `method` is given.
pub(crate) fn log_access(
    route: &str,
    status: u16,
    cache: &str,
    caller: &str,
    elapsed: Duration,
    method: Option<&http::Method>,
    request_id: Option<&http::HeaderValue>,
) {
    if let Some(method) = method {
        let request_id = request_id.and_then(|v| v.to_str().ok()).unwrap_or_default();
        tracing::info!(
            target: "sog::access",
            %method,
            route = %route,
            status,
            latency_ms = elapsed.as_secs_f64() * 1000.0,
            cache,
            caller = %caller,
            request_id = %request_id,
            "request"
        );
    }
}

/// Replaces the body of any error response that is not problem+json yet
/// (404s, 405s, extractor rejections, limits) with a problem, keeping headers such as `Allow`.
async fn problem_for_bare_errors<F, Fut>(request: Request, next: F) -> Response
where
    F: FnOnce(Request) -> Fut,
    Fut: Future<Output = Response>,
{
    // A cheap clone (shared bytes): the path is only read for errors.
    let uri = request.uri().clone();
    let response = next(request).await;
    let status = response.status();
    if status.as_u16() < 400 {
        return response;
    }
    let path = uri.path();
    let is_problem = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(PROBLEM_JSON.as_bytes()));
    if is_problem {
        return response;
    }
    let (mut parts, _) = response.into_parts();
    let problem = Problem::for_status(status, path).into_response();
    let (problem_parts, body) = problem.into_parts();
    parts.headers.remove(header::CONTENT_LENGTH);
    for (name, value) in problem_parts.headers.iter() {
        parts.headers.insert(name.clone(), value.clone());
    }
    Response::from_parts(parts, body)
}

/// Refuses over-long URIs (414) and header floods (431).
async fn guard_limits(request: Request, next: Next) -> Response {
    let path = || request.uri().path().chars().take(200).collect::<String>();
    let uri_len = request
        .uri()
        .path_and_query()
        .map(|p| p.as_str().len())
        .unwrap_or(0);
    if uri_len > MAX_URI_BYTES {
        let mut p = Problem::for_status(StatusCode::URI_TOO_LONG, &path());
        p.detail = format!(
            "The request URI is {uri_len} bytes; the gateway accepts at most {MAX_URI_BYTES}."
        );
        return p.into_response();
    }
    let headers = request.headers();
    let header_bytes: usize = headers
        .iter()
        .map(|(n, v)| n.as_str().len() + v.len())
        .sum();
    if headers.len() > MAX_HEADERS || header_bytes > MAX_HEADER_BYTES {
        let mut p = Problem::for_status(StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE, &path());
        p.detail = format!(
            "The request has {} headers ({header_bytes} bytes); the gateway accepts at most {MAX_HEADERS} headers and {MAX_HEADER_BYTES} bytes.",
            headers.len()
        );
        return p.into_response();
    }
    next.run(request).await
}

/// The fallback for paths that match no route.
pub async fn not_found(request: Request<Body>) -> Response {
    Problem::for_status(StatusCode::NOT_FOUND, request.uri().path()).into_response()
}

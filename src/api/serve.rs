//! Turning a [`Served`](crate::gateway::Served) answer into the HTTP
//! response: the stored bytes as the body, and the cache headers
//! (`Cache-Status`, `Age`, `ETag`, `Cache-Control`), with `If-None-Match`
//! answered by a 304.

use axum::body::Body;
use axum::response::{IntoResponse, Response};
use http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};

use crate::api::hot_path::{header_value, record_lookup};
use crate::api::problem::Problem;
use crate::auth::Caller;
use crate::cache::{CacheStatus, Entry, StaleReason};
use crate::gateway::{CallerDirectives, ServeError, Served};
use crate::upstream::{CallContext, Endpoint};

static CACHE_STATUS: HeaderName = HeaderName::from_static("cache-status");

/// Builds the response for an answer.
pub fn respond(
    served: Served,
    request_headers: &HeaderMap,
    now: chrono::DateTime<chrono::Utc>,
) -> Response {
    let entry = &served.entry;
    let etag = entry.etag();
    let not_modified = if_none_match(request_headers, &etag);
    let mut response = if not_modified {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        Response::new(Body::from(entry.body_bytes()))
    };
    let headers = response.headers_mut();
    headers.reserve(8);
    answer_headers(entry, etag, &served.status, now, !not_modified, headers);
    record_lookup(
        entry.endpoint.label(),
        served.status.label(),
        served.status.stale.map(StaleReason::as_str),
    );
    response.extensions_mut().insert(served.status);
    response
}

/// The headers of an answer from `entry` at `now`: `Content-Type` (when
/// there is a body), `ETag` (`etag`: [`Entry::etag`], which callers have
/// already made), `Age`, `Cache-Control` and `Cache-Status`.
pub fn answer_headers(
    entry: &Entry,
    etag: HeaderValue,
    status: &CacheStatus,
    now: chrono::DateTime<chrono::Utc>,
    with_body: bool,
    headers: &mut HeaderMap,
) {
    if with_body {
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
    }
    headers.insert(header::ETAG, etag);
    headers.insert(header::AGE, HeaderValue::from(entry.age(now)));
    let scope = match entry.endpoint {
        // Customer data: shared caches must not keep it.
        Endpoint::Details => "private",
        Endpoint::Orders => "public",
    };
    let fresh_for = entry.ttl(now).max(0);
    if let Some(v) = header_value(format_args!("{scope}, max-age={fresh_for}")) {
        headers.insert(header::CACHE_CONTROL, v);
    }
    if let Some(v) = header_value(format_args!("{status}")) {
        headers.insert(CACHE_STATUS.clone(), v);
    }
}

/// The response for a request that could not be served.
pub fn respond_error(error: &ServeError, path: &str) -> Response {
    Problem::from_serve_error(error).at(path).into_response()
}

/// Whether `If-None-Match` matches `etag` (weak comparison, `*` included).
pub(crate) fn if_none_match(headers: &HeaderMap, etag: &HeaderValue) -> bool {
    let Some(value) = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let ours = etag.to_str().unwrap_or_default();
    value
        .split(',')
        .map(str::trim)
        .any(|candidate| candidate == "*" || candidate.trim_start_matches("W/") == ours)
}

/// The caller's `Cache-Control` request directives that the gateway honours.
pub fn caller_directives(headers: &HeaderMap) -> CallerDirectives {
    let mut directives = CallerDirectives::default();
    for value in headers.get_all(header::CACHE_CONTROL) {
        let Ok(value) = value.to_str() else { continue };
        for part in value.split(',') {
            let part = part.trim().to_ascii_lowercase();
            if part == "no-cache" {
                directives.no_cache = true;
            } else if let Some(age) = part.strip_prefix("max-age=") {
                if let Ok(age) = age.trim_matches('"').parse::<u64>() {
                    directives.max_age = Some(directives.max_age.map_or(age, |m| m.min(age)));
                }
            }
        }
    }
    if headers
        .get(header::PRAGMA)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("no-cache"))
        && headers.get(header::CACHE_CONTROL).is_none()
    {
        directives.no_cache = true;
    }
    directives
}

/// The upstream call context for a request: its id, deadline and caller.
pub fn call_context(
    headers: &HeaderMap,
    timeout: std::time::Duration,
    caller: Option<&Caller>,
) -> CallContext {
    let request_id = headers
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .filter(|id| !id.is_empty() && id.len() <= 128 && id.bytes().all(|b| b.is_ascii_graphic()))
        .map(str::to_owned);
    CallContext {
        request_id,
        deadline: tokio::time::Instant::now() + timeout,
        caller: caller.map(|c| c.name.clone()),
    }
}

/// Answers a validated request of either resource: the gateway's answer
/// with cache headers, or the problem when there is none. Both handlers end here.
pub async fn answer(
    state: &crate::state::AppState,
    request: &crate::resources::ResourceRequest,
    headers: &HeaderMap,
    caller: Option<&Caller>,
    path: &str,
) -> Response {
    let ctx = call_context(headers, state.request_timeout, caller);
    match state
        .gateway
        .serve(request, caller_directives(headers), ctx)
        .await
    {
        Ok(served) => respond(served, headers, state.gateway.clock().now()),
        Err(e) => respond_error(&e, path),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn directives() {
        let mut h = HeaderMap::new();
        h.insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-cache, max-age=30"),
        );
        let d = caller_directives(&h);
        assert!(d.no_cache);
        assert_eq!(d.max_age, Some(30));
    }

    #[test]
    fn etag_matching() {
        let etag = HeaderValue::from_static("\"abc\"");
        let mut h = HeaderMap::new();
        h.insert(
            header::IF_NONE_MATCH,
            HeaderValue::from_static("\"x\", W/\"abc\""),
        );
        assert!(if_none_match(&h, &etag));
        h.insert(header::IF_NONE_MATCH, HeaderValue::from_static("\"x\""));
        assert!(!if_none_match(&h, &etag));
    }
}

//! The hit lane: fresh cache hits answered before routing and the
//! middleware stack, so that a hit costs little beyond the HTTP stack itself.
//!
//! [`HitLane`] wraps the whole application ([`router`](crate::api::router)).
//! A request takes the lane only when the full path would certainly answer
//! it with a fresh hit: a `GET` of one of the two business paths, within
//! the URI and header limits, without `Cache-Control` or `Pragma` (the
//! caller's directives are the full path's business), with a valid query,
//! an accepted API key when keys are required, and a fresh entry in this
//! replica's memory. The lane then answers exactly as the full path would:
//! the same body and cache headers ([`respond`], `If-None-Match` included),
//! the caller's `x-request-id` or a new one, the same metrics and access
//! log line. Everything else, including every error, goes down the full
//! path untouched, which decides it as usual.
//!
//! What a hit skips: routing, the concurrency limit, load shedding and the
//! request timeout (a hit neither waits nor holds anything), and the
//! boxed middleware futures. A panic in the lane still becomes a 500 problem.

use std::convert::Infallible;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use axum::extract::Request;
use axum::response::{IntoResponse, Response};
use futures::future::Either;
use http::{Method, StatusCode, header};
use tower::Service;
use tower_http::request_id::MakeRequestId;

use crate::api::hot_path::FastRequestUuid;
use crate::api::middleware::{MAX_HEADER_BYTES, MAX_HEADERS, MAX_URI_BYTES, X_REQUEST_ID};
use crate::api::problem::Problem;
use crate::api::serve::respond;
use crate::api::{auth, details, orders, query};
use crate::auth::Caller;
use crate::cache::CacheStatus;
use crate::calendar::BusinessCalendar;
use crate::resources::ResourceRequest;
use crate::state::AppState;

/// The application behind the hit lane (see the module docs).
#[derive(Clone)]
pub struct HitLane<S> {
    inner: S,
    state: Arc<AppState>,
}

impl<S> HitLane<S> {
    /// Puts the lane in front of `inner`, answering from `state`'s cache.
    pub fn new(inner: S, state: AppState) -> Self {
        Self {
            inner,
            state: Arc::new(state),
        }
    }
}

impl<S> Service<Request> for HitLane<S>
where
    S: Service<Request, Response = Response, Error = Infallible>,
{
    type Response = Response;
    type Error = Infallible;
    type Future = Either<std::future::Ready<Result<Response, Infallible>>, S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request) -> Self::Future {
        let hit = std::panic::catch_unwind(AssertUnwindSafe(|| try_hit(&self.state, &request)));
        match hit {
            Ok(None) => Either::Right(self.inner.call(request)),
            Ok(Some(response)) => Either::Left(std::future::ready(Ok(response))),
            Err(_) => {
                tracing::error!(
                    path = request.uri().path(),
                    "panic while answering a cache hit"
                );
                let response = Problem::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "Internal error",
                    "The gateway failed unexpectedly; the failure is logged.",
                )
                .into_response();
                Either::Left(std::future::ready(Ok(response)))
            }
        }
    }
}

/// The response when `request` is a fresh hit (see the module docs).
fn try_hit(state: &AppState, request: &Request) -> Option<Response> {
    if request.method() != Method::GET {
        return None;
    }
    let uri = request.uri();
    let route = match uri.path() {
        orders::PATH => orders::PATH,
        details::PATH => details::PATH,
        _ => return None,
    };
    let headers = request.headers();
    if headers.contains_key(header::CACHE_CONTROL) || headers.contains_key(header::PRAGMA) {
        return None;
    }
    let uri_len = uri.path_and_query().map_or(0, |p| p.as_str().len());
    let header_bytes: usize = headers
        .iter()
        .map(|(n, v)| n.as_str().len() + v.len())
        .sum();
    if uri_len > MAX_URI_BYTES || headers.len() > MAX_HEADERS || header_bytes > MAX_HEADER_BYTES {
        return None;
    }
    let started = Instant::now();
    let caller: Option<Caller> = match &state.api_keys {
        None => None,
        Some(store) => {
            let caller = store.keys().authenticate(auth::presented_key(headers)?)?;
            if !caller.may(auth::scope_for(route)) {
                return None;
            }
            Some(caller)
        }
    };
    let gateway = &state.gateway;
    let now = gateway.clock().now();
    let resource = if route == orders::PATH {
        ResourceRequest::Orders(query::parse_orders(uri.query()).ok()?)
    } else {
        let today = BusinessCalendar::today_jst(now);
        ResourceRequest::Details(
            query::parse_details(uri.query())
                .ok()?
                .resolve(today)
                .ok()?,
        )
    };
    let served = gateway.fresh_hit(&resource, now)?;

    let mut response = respond(served, headers, now);
    let request_id = match headers.get(&X_REQUEST_ID) {
        Some(id) => Some(id.clone()),
        None => FastRequestUuid
            .make_request_id(request)
            .map(|id| id.header_value().clone()),
    };
    if let Some(id) = &request_id {
        response
            .headers_mut()
            .insert(X_REQUEST_ID.clone(), id.clone());
    }
    let logged = tracing::enabled!(target: "sog::access", tracing::Level::INFO);
    let caller_label = caller.as_ref().map_or("anonymous", |c| &*c.name);
    crate::api::middleware::record_access(
        route,
        response.status().as_u16(),
        response.extensions().get::<CacheStatus>(),
        caller_label,
        started.elapsed(),
        logged.then_some(&Method::GET),
        request_id.as_ref(),
    );
    if let Some(caller) = caller {
        response.extensions_mut().insert(caller);
    }
    Some(response)
}

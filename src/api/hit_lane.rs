//! The hit lane: cache hits answered before routing and the middleware
//! stack, so that a hit costs little beyond the HTTP stack itself.
//!
//! [`HitLane`] wraps the whole application ([`router`](crate::api::router)).
//! A request takes the lane only when the full path would certainly answer
//! it from the cache at once: a `GET` of one of the two business paths,
//! within the URI and header limits, without `Cache-Control` or `Pragma`
//! (the caller's directives are the full path's business), with a valid
//! query, an accepted API key when keys are required, and an entry in this
//! replica's memory that is fresh, or stale and served as such without
//! waiting ([`Gateway::answer_at_once`](crate::gateway::Gateway::answer_at_once):
//! while the details endpoint is closed, or with a background refresh
//! started, which is what keeps a gateway whose upstream is down as fast
//! as one whose upstream is up). The lane then answers exactly as the full path would:
//! the same body and cache headers ([`respond`], `If-None-Match` included),
//! the caller's `x-request-id` or a new one, the same metrics and access
//! log line. Everything else, including every error, goes down the full
//! path untouched, which decides it as usual.
//!
//! Each worker thread also remembers its recent fresh hits by route and raw
//! query (a [`Memo`]), so that a repeated hit skips the query parsing and
//! the cache lookup too, and reuses the answer's headers within a second.
//!
//! What a hit skips: routing, the concurrency limit, load shedding and the
//! request timeout (a hit neither waits nor holds anything), and the
//! boxed middleware futures. A panic in the lane still becomes a 500 problem.

use std::cell::RefCell;
use std::collections::HashMap;
use std::convert::Infallible;
use std::panic::AssertUnwindSafe;
use std::sync::{Arc, Weak};
use std::task::{Context, Poll};
use std::time::Instant;

use axum::body::Body;
use axum::extract::Request;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use futures::future::Either;
use http::{HeaderMap, Method, StatusCode, header};
use tower::Service;
use tower_http::request_id::MakeRequestId;

use crate::api::hot_path::AnswerHandles;
use crate::api::hot_path::FastRequestUuid;
use crate::api::middleware::{
    MAX_HEADER_BYTES, MAX_HEADERS, MAX_URI_BYTES, X_REQUEST_ID, log_access, record_access,
};
use crate::api::problem::Problem;
use crate::api::serve::{answer_headers, respond};
use crate::api::{auth, details, orders, query};
use crate::auth::Caller;
use crate::cache::{CacheStatus, Entry};
use crate::gateway::Served;
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

/// The response when `request` is answered from the cache at once (see the module docs).
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
    let epoch = gateway.cache().epoch();
    // The memo's key: which route, and the raw query.
    let memo_key = (
        usize::from(route == details::PATH),
        uri.query().unwrap_or(""),
    );
    let conditional = headers.contains_key(header::IF_NONE_MATCH);
    let caller_label = caller.as_ref().map_or("anonymous", |c| &*c.name);
    let remembered = if conditional {
        None
    } else {
        MEMO.with(|memo| {
            memo.borrow_mut()
                .answer(epoch, memo_key, now, route, caller_label, started)
        })
    };
    // The memo's answers come with their cache status and their metrics
    // already recorded; the others carry the status in their extensions.
    let (mut response, memo_status) = match remembered {
        Some((response, status)) => (response, Some(status)),
        None => (
            {
                let resource = if route == orders::PATH {
                    ResourceRequest::Orders(query::parse_orders(uri.query()).ok()?)
                } else {
                    ResourceRequest::Details(query::parse_details_request(uri.query(), now).ok()?)
                };
                let served = gateway.answer_at_once(resource, now)?;
                // Stale answers are not remembered: each one is a lookup,
                // so that the first after a refresh is the fresh entry.
                let fresh = served.status.stale.is_none();
                if fresh && !conditional && memo_key.1.len() <= MEMO_MAX_KEY_BYTES {
                    MEMO.with(|memo| memo.borrow_mut().remember(epoch, memo_key, &served, now));
                }
                respond(served, headers, now)
            },
            None,
        ),
    };
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
    let status = response.status().as_u16();
    if let Some(cache) = memo_status {
        if logged {
            let cache = cache.label();
            let elapsed = started.elapsed();
            log_access(
                route,
                status,
                cache,
                caller_label,
                elapsed,
                Some(&Method::GET),
                request_id.as_ref(),
            );
        }
    } else {
        let cache = response.extensions().get::<CacheStatus>();
        let elapsed = started.elapsed();
        let method = logged.then_some(&Method::GET);
        record_access(
            route,
            status,
            cache,
            caller_label,
            elapsed,
            method,
            request_id.as_ref(),
        );
    }
    Some(response)
}

/// The most hits one worker thread remembers per route; it forgets them all when full.
const MEMO_CAPACITY: usize = 2048;

/// The longest query remembered (real ones are under 100 bytes): with
/// [`MEMO_CAPACITY`], bounds the memo to about 3 MiB per worker thread.
const MEMO_MAX_KEY_BYTES: usize = 256;

/// A remembered hit is answered this many times, then looked up again.
const RELOOKUP_EVERY: u32 = 256;

thread_local! {
    static MEMO: RefCell<Memo> = RefCell::new(Memo::default());
}

/// What one worker thread remembers of recent hits: for a route and raw
/// query, the entry its lookup found and the answer's headers. It is used
/// only while the cache's [epoch](crate::cache::ResponseCache::epoch) has
/// not moved (no entry stored or removed since: the same lookup would find
/// the same entry), while the entry is alive and fresh, and before the next
/// JST midnight (when a details query without dates starts meaning another
/// day's range). It holds no entry alive (a `Weak`), and at most
/// [`MEMO_CAPACITY`] keys per worker thread.
#[derive(Default)]
struct Memo {
    epoch: (u64, u64),
    /// By route (service-orders, service-order-details), then raw query.
    hits: [HashMap<Box<str>, Remembered, foldhash::fast::RandomState>; 2],
    /// Metric handles by route (the index of `hits`), cache result and
    /// caller: shared by every query, so few.
    handles: Vec<(usize, &'static str, Box<str>, AnswerHandles)>,
}

/// One remembered hit.
struct Remembered {
    entry: Weak<Entry>,
    /// The entry's end of freshness or the next JST midnight, whichever is first.
    until: DateTime<Utc>,
    /// The answer's headers, built for (`age`, `ttl`).
    headers: HeaderMap,
    status: CacheStatus,
    age: u64,
    ttl: i64,
    /// Answers given since the last real lookup.
    uses: u32,
}

impl Memo {
    /// The answer remembered for `key` (route, raw query), if still valid at
    /// `now` in `epoch`, and its cache status. Records its metrics as
    /// `route`'s answer to `caller` started at `started`.
    fn answer(
        &mut self,
        epoch: (u64, u64),
        (lane, query): (usize, &str),
        now: DateTime<Utc>,
        route: &str,
        caller: &str,
        started: Instant,
    ) -> Option<(Response, CacheStatus)> {
        if self.epoch != epoch {
            self.forget(epoch);
            return None;
        }
        let remembered = self.hits.get_mut(lane)?.get_mut(query)?;
        remembered.uses += 1;
        if now >= remembered.until || remembered.uses >= RELOOKUP_EVERY {
            // Every so often a real lookup, so that moka's eviction policy
            // sees how much this key is used.
            return None;
        }
        let entry = remembered.entry.upgrade()?;
        entry.touch(now);
        let (age, ttl) = (entry.age(now), entry.ttl(now));
        if (age, ttl) != (remembered.age, remembered.ttl) {
            remembered.status.ttl = Some(ttl);
            // The same entry, so the same ETag: kept, not formatted again.
            let etag = remembered
                .headers
                .remove(header::ETAG)
                .unwrap_or_else(|| entry.etag());
            remembered.headers.clear();
            answer_headers(
                &entry,
                etag,
                &remembered.status,
                now,
                true,
                &mut remembered.headers,
            );
            (remembered.age, remembered.ttl) = (age, ttl);
        }
        let mut response = Response::new(Body::from(entry.body_bytes()));
        *response.headers_mut() = remembered.headers.clone();
        let status = remembered.status;
        let label = status.label();
        let found = self
            .handles
            .iter()
            .position(|(l, s, c, _)| (*l, *s, &**c) == (lane, label, caller));
        let index = found.unwrap_or_else(|| {
            if self.handles.len() >= 64 {
                self.handles.clear(); // callers come from the key file: never many
            }
            let handles = AnswerHandles::new(route, entry.endpoint.label(), label, caller);
            self.handles.push((lane, label, caller.into(), handles));
            self.handles.len() - 1
        });
        self.handles[index].3.record(started.elapsed());
        Some((response, status))
    }

    /// Forgets every hit: the cache moved to `epoch`.
    fn forget(&mut self, epoch: (u64, u64)) {
        self.hits.iter_mut().for_each(HashMap::clear);
        self.epoch = epoch;
    }

    /// Remembers the fresh hit `served` for `key` (route, raw query), found at `now` in `epoch`.
    fn remember(
        &mut self,
        epoch: (u64, u64),
        (lane, query): (usize, &str),
        served: &Served,
        now: DateTime<Utc>,
    ) {
        let (entry, status) = (&served.entry, served.status);
        if self.epoch != epoch {
            self.forget(epoch);
        }
        let hits = &mut self.hits[lane];
        if hits.len() >= MEMO_CAPACITY {
            hits.clear();
        }
        let mut headers = HeaderMap::with_capacity(8);
        answer_headers(entry, entry.etag(), &status, now, true, &mut headers);
        hits.insert(
            query.into(),
            Remembered {
                entry: Arc::downgrade(entry),
                until: entry.fresh_until.min(next_jst_midnight(now)),
                headers,
                status,
                age: entry.age(now),
                ttl: entry.ttl(now),
                uses: 0,
            },
        );
    }
}

/// The first JST midnight after `now`.
fn next_jst_midnight(now: DateTime<Utc>) -> DateTime<Utc> {
    const DAY: i64 = 86_400;
    const JST_OFFSET: i64 = 9 * 3600;
    let local = now.timestamp() + JST_OFFSET;
    let midnight = (local.div_euclid(DAY) + 1) * DAY - JST_OFFSET;
    DateTime::from_timestamp(midnight, 0).unwrap_or(DateTime::<Utc>::MAX_UTC)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_jst_midnight_is_15_utc() {
        let at = |s: &str| s.parse::<DateTime<Utc>>().unwrap();
        assert_eq!(
            next_jst_midnight(at("2026-12-03T14:59:59Z")),
            at("2026-12-03T15:00:00Z")
        );
        assert_eq!(
            next_jst_midnight(at("2026-12-03T15:00:00Z")),
            at("2026-12-04T15:00:00Z")
        );
        assert_eq!(
            next_jst_midnight(at("2026-12-03T00:00:00Z")),
            at("2026-12-03T15:00:00Z")
        );
    }
}

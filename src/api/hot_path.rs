//! Per-request work made cheap for the cache-hit path: metric handles
//! looked up once per (route, status, cache result) and kept per thread
//! instead of building labelled keys on every request, and request ids made
//! from a thread-local random generator instead of a `getrandom` system call.
//!
//! The handles come from the global recorder; the process installs it
//! ([`metrics_handle`](crate::telemetry::metrics_handle)) before serving.

use std::cell::RefCell;
use std::collections::HashMap;
use std::time::Duration;

use axum::extract::Request;
use http::HeaderValue;
use metrics::{Counter, Histogram};
use tower_http::request_id::{MakeRequestId, RequestId};

/// The handles for one route.
struct RouteHandles {
    duration: Histogram,
    /// By (status, cache result), then caller name.
    requests: HashMap<(u16, &'static str), HashMap<Box<str>, Counter>>,
}

/// (endpoint, result, stale reason) of a cache lookup.
type LookupLabels = (&'static str, &'static str, Option<&'static str>);

thread_local! {
    static ROUTES: RefCell<HashMap<Box<str>, RouteHandles>> = RefCell::new(HashMap::new());
    static LOOKUPS: RefCell<HashMap<LookupLabels, (Counter, Option<Counter>)>> =
        RefCell::new(HashMap::new());
}

/// Records one answered request: `sog_http_requests_total{route,status,cache,caller}`
/// and `sog_http_request_duration_seconds{route}`. `route` must come from a
/// bounded set (matched route templates), as every distinct value is kept.
pub fn record_request(
    route: &str,
    status: u16,
    cache: &'static str,
    caller: &str,
    elapsed: Duration,
) {
    ROUTES.with(|routes| {
        let mut routes = routes.borrow_mut();
        if !routes.contains_key(route) {
            let owned = route.to_owned();
            routes.insert(
                route.into(),
                RouteHandles {
                    duration: metrics::histogram!("sog_http_request_duration_seconds", "route" => owned),
                    requests: HashMap::new(),
                },
            );
        }
        let Some(handles) = routes.get_mut(route) else {
            return;
        };
        handles.duration.record(elapsed.as_secs_f64());
        let by_caller = handles.requests.entry((status, cache)).or_default();
        if !by_caller.contains_key(caller) {
            let counter = metrics::counter!("sog_http_requests_total", "route" => route.to_owned(), "status" => status.to_string(), "cache" => cache, "caller" => caller.to_owned());
            by_caller.insert(caller.into(), counter);
        }
        if let Some(counter) = by_caller.get(caller) {
            counter.increment(1);
        }
    });
}

/// Records one cache lookup: `sog_cache_lookups_total{endpoint,result}` and,
/// when stale data was served, `sog_cache_stale_served_total{endpoint,reason}`.
pub fn record_lookup(endpoint: &'static str, result: &'static str, stale: Option<&'static str>) {
    LOOKUPS.with(|lookups| {
        let mut lookups = lookups.borrow_mut();
        let (lookup, stale_counter) = lookups.entry((endpoint, result, stale)).or_insert_with(|| {
            (
                metrics::counter!("sog_cache_lookups_total", "endpoint" => endpoint, "result" => result),
                stale.map(|reason| {
                    metrics::counter!("sog_cache_stale_served_total", "endpoint" => endpoint, "reason" => reason)
                }),
            )
        });
        lookup.increment(1);
        if let Some(c) = stale_counter {
            c.increment(1);
        }
    });
}

/// The metric handles of one kind of answer, held by whoever answers it
/// often (the [hit lane](crate::api::hit_lane)'s memo): what
/// [`record_request`] and [`record_lookup`] record, without their lookups.
#[derive(Clone)]
pub struct AnswerHandles {
    duration: Histogram,
    requests: Counter,
    lookup: Counter,
}

impl AnswerHandles {
    /// The handles of a 200 answer with this cache result, for a caller.
    pub fn new(route: &str, endpoint: &'static str, cache: &'static str, caller: &str) -> Self {
        Self {
            duration: metrics::histogram!("sog_http_request_duration_seconds", "route" => route.to_owned()),
            requests: metrics::counter!("sog_http_requests_total", "route" => route.to_owned(), "status" => "200", "cache" => cache, "caller" => caller.to_owned()),
            lookup: metrics::counter!("sog_cache_lookups_total", "endpoint" => endpoint, "result" => cache),
        }
    }

    /// Records one answer that took `elapsed`.
    pub fn record(&self, elapsed: Duration) {
        self.duration.record(elapsed.as_secs_f64());
        self.requests.increment(1);
        self.lookup.increment(1);
    }
}

/// A header value formatted on the stack, then copied once into the value
/// (no temporary `String`). `None` when it is longer than 128 bytes or not
/// a valid header value.
pub fn header_value(args: std::fmt::Arguments<'_>) -> Option<HeaderValue> {
    struct Buf {
        bytes: [u8; 128],
        len: usize,
    }
    impl std::fmt::Write for Buf {
        fn write_str(&mut self, s: &str) -> std::fmt::Result {
            let end = self.len + s.len();
            let slot = self.bytes.get_mut(self.len..end).ok_or(std::fmt::Error)?;
            slot.copy_from_slice(s.as_bytes());
            self.len = end;
            Ok(())
        }
    }
    let mut buf = Buf {
        bytes: [0; 128],
        len: 0,
    };
    std::fmt::write(&mut buf, args).ok()?;
    HeaderValue::from_bytes(&buf.bytes[..buf.len]).ok()
}

/// Makes `x-request-id` values: random (version 4) UUIDs drawn from the
/// thread-local generator.
#[derive(Debug, Clone, Copy, Default)]
pub struct FastRequestUuid;

impl MakeRequestId for FastRequestUuid {
    fn make_request_id<B>(&mut self, _request: &Request<B>) -> Option<RequestId> {
        let id = uuid::Builder::from_random_bytes(rand::random()).into_uuid();
        let mut buf = [0u8; uuid::fmt::Hyphenated::LENGTH];
        let text = id.hyphenated().encode_lower(&mut buf);
        HeaderValue::from_str(text).ok().map(RequestId::new)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_values_on_the_stack() {
        let v = header_value(format_args!("private, max-age={}", 42)).unwrap();
        assert_eq!(v, "private, max-age=42");
        assert!(header_value(format_args!("{}", "x".repeat(129))).is_none());
        assert!(header_value(format_args!("a\nb")).is_none());
    }

    #[test]
    fn request_ids_are_distinct_v4_uuids() {
        let request = Request::new(axum::body::Body::empty());
        let mut make = FastRequestUuid;
        let a = make.make_request_id(&request).unwrap();
        let b = make.make_request_id(&request).unwrap();
        let a = uuid::Uuid::parse_str(a.header_value().to_str().unwrap()).unwrap();
        let b = uuid::Uuid::parse_str(b.header_value().to_str().unwrap()).unwrap();
        assert_ne!(a, b);
        assert_eq!(a.get_version_num(), 4);
        assert_eq!(b.get_version(), Some(uuid::Version::Random));
    }
}

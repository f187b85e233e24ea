//! Operations endpoints: liveness (`/healthz`), readiness (`/readyz`),
//! Prometheus metrics (`/metrics`) and cache administration (`/admin/cache`).

use axum::Json;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, SecondsFormat, Utc};
use http::{HeaderMap, HeaderValue, StatusCode, header};
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use utoipa::{IntoParams, ToSchema};

use crate::api::problem::Problem;
use crate::state::AppState;
use crate::upstream::Endpoint;

/// Liveness and readiness answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    /// `ok` or `ready`.
    #[schema(example = "ok")]
    pub status: String,
}

/// The process is alive (no upstream call).
#[utoipa::path(get, path = "/healthz", tag = "operations", operation_id = "healthz",
    responses((status = 200, description = "Alive", body = Health)))]
pub async fn healthz() -> Json<Health> {
    Json(Health {
        status: "ok".into(),
    })
}

/// Ready to serve: a valid upstream token is held, or there is cached data to serve.
///
/// Never calls the upstream: a background task keeps the token fresh.
#[utoipa::path(get, path = "/readyz", tag = "operations", operation_id = "readyz",
    responses(
        (status = 200, description = "Ready", body = Health),
        (status = 503, description = "Not ready, with the reason", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn readyz(State(state): State<AppState>) -> Response {
    let upstream = state.gateway.upstream();
    let has_token = upstream.tokens().has_valid_token();
    // moka counts entries only after its pending maintenance: run it, or a
    // freshly cached answer would not count.
    let (entries, _) = state.gateway.cache().usage().await;
    if has_token || entries > 0 {
        return Json(Health {
            status: "ready".into(),
        })
        .into_response();
    }
    Problem::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "not-ready",
        "Not ready",
        "No valid upstream access token yet and nothing cached to serve: the gateway is still obtaining a token, or the token endpoint is refusing it (see the logs).",
    )
    .at("/readyz")
    .retry_after(5)
    .into_response()
}

/// Prometheus metrics in the text exposition format.
#[utoipa::path(get, path = "/metrics", tag = "operations", operation_id = "metrics",
    responses((status = 200, description = "Prometheus text format", body = String, content_type = "text/plain; version=0.0.4")))]
pub async fn metrics(State(state): State<AppState>) -> Response {
    // Runs moka's pending maintenance so the cache gauges count recent inserts.
    state.gateway.cache().usage().await;
    crate::telemetry::update_gauges(&state);
    let mut response = state.metrics.render().into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
    );
    response
}

/// Checks the admin bearer token (constant time); admin routes answer 404 when disabled.
fn authorize(state: &AppState, headers: &HeaderMap, path: &str) -> Result<(), Response> {
    let Some(expected) = &state.admin_token else {
        return Err(Problem::new(
            StatusCode::NOT_FOUND,
            "admin-disabled",
            "Admin API disabled",
            "The admin API is disabled: set SOG_ADMIN_TOKEN (or SOG_ADMIN_TOKEN_FILE) to enable it.",
        )
        .at(path)
        .into_response());
    };
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .unwrap_or_default();
    // Compare digests so neither length nor content leaks through timing.
    let a = Sha256::digest(given.trim().as_bytes());
    let b = Sha256::digest(expected.expose_secret().as_bytes());
    if bool::from(a.ct_eq(&b)) && !given.is_empty() {
        Ok(())
    } else {
        Err(Problem::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "Unauthorized",
            "The admin API needs `Authorization: Bearer <SOG_ADMIN_TOKEN>`.",
        )
        .at(path)
        .challenge("Bearer realm=\"service-order-gateway-admin\"")
        .into_response())
    }
}

/// One stored entry, as the admin API shows it (no customer data: keys hold only the caller's filters).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EntrySummary {
    /// The cache key.
    #[schema(example = "service-orders?serviceName=uno")]
    pub key: String,
    /// When it was fetched (RFC 3339).
    pub fetched_at: String,
    /// Until when it is fresh (RFC 3339).
    pub fresh_until: String,
    /// Body size in bytes.
    pub bytes: usize,
}

/// Per-endpoint cache usage.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EndpointCache {
    /// Endpoint name.
    #[schema(example = "service-orders")]
    pub endpoint: String,
    /// Entries stored.
    pub entries: usize,
    /// Bytes charged (keys, bodies, bookkeeping).
    pub bytes: u64,
    /// The entry fetched longest ago.
    pub oldest: Option<EntrySummary>,
    /// The entry fetched most recently.
    pub newest: Option<EntrySummary>,
}

/// The cache as a whole.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CacheReport {
    /// Entries stored.
    pub entries: u64,
    /// Bytes charged.
    pub bytes: u64,
    /// The configured bound.
    pub max_bytes: u64,
    /// Per endpoint.
    pub endpoints: Vec<EndpointCache>,
}

fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// Cache contents summary.
#[utoipa::path(get, path = "/admin/cache", tag = "admin", operation_id = "getCache",
    security(("adminToken" = [])),
    responses(
        (status = 200, description = "Usage per endpoint", body = CacheReport),
        (status = 401, description = "Missing or wrong admin token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Admin API disabled", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn get_cache(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if let Err(r) = authorize(&state, &headers, "/admin/cache") {
        return r;
    }
    let cache = state.gateway.cache();
    let (entries, bytes) = cache.usage().await;
    let all = cache.entries();
    let summary = |e: &crate::cache::Entry| EntrySummary {
        key: e.key().to_owned(),
        fetched_at: rfc3339(e.fetched_at),
        fresh_until: rfc3339(e.fresh_until),
        bytes: e.body().len(),
    };
    let endpoints = Endpoint::ALL
        .iter()
        .map(|ep| {
            let mine: Vec<_> = all.iter().filter(|e| e.endpoint == *ep).collect();
            EndpointCache {
                endpoint: ep.label().into(),
                entries: mine.len(),
                bytes: mine.iter().map(|e| e.weight() as u64).sum(),
                oldest: mine.iter().min_by_key(|e| e.fetched_at).map(|e| summary(e)),
                newest: mine.iter().max_by_key(|e| e.fetched_at).map(|e| summary(e)),
            }
        })
        .collect();
    Json(CacheReport {
        entries,
        bytes,
        max_bytes: cache.settings().max_bytes,
        endpoints,
    })
    .into_response()
}

/// What to purge.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PurgeParams {
    /// Only this endpoint's entries.
    #[param(example = "service-orders")]
    pub endpoint: Option<String>,
    /// Only this key (as shown by GET /admin/cache).
    #[param(example = "service-orders?serviceName=uno")]
    pub key: Option<String>,
}

/// How much was purged.
#[derive(Debug, Serialize, ToSchema)]
pub struct PurgeReport {
    /// Entries removed.
    pub purged: usize,
}

/// Purge the whole cache, one endpoint (`?endpoint=`) or one key (`?key=`).
#[utoipa::path(delete, path = "/admin/cache", tag = "admin", operation_id = "purgeCache",
    security(("adminToken" = [])),
    params(PurgeParams),
    responses(
        (status = 200, description = "Purged", body = PurgeReport),
        (status = 400, description = "Unknown endpoint", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing or wrong admin token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Admin API disabled", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn purge_cache(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(params): Query<PurgeParams>,
) -> Response {
    if let Err(r) = authorize(&state, &headers, "/admin/cache") {
        return r;
    }
    use crate::shared::PurgeScope;
    let gateway = &state.gateway;
    let purged = match (params.key, params.endpoint) {
        (Some(key), _) => gateway.purge(PurgeScope::Key(key)).await,
        (None, Some(name)) => match Endpoint::ALL.iter().find(|e| e.label() == name) {
            Some(ep) => gateway.purge(PurgeScope::Endpoint(*ep)).await,
            None => {
                return Problem::invalid_query(vec![crate::api::problem::InvalidParam {
                    name: "endpoint".into(),
                    reason: "must be service-orders or service-order-details".into(),
                }])
                .at("/admin/cache")
                .into_response();
            }
        },
        (None, None) => gateway.purge(PurgeScope::All).await,
    };
    tracing::info!(purged, "cache purged by an admin");
    Json(PurgeReport { purged }).into_response()
}

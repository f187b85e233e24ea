//! The HTTP client for NTT's API: one `reqwest` client (rustls, gzip,
//! timeouts, a User-Agent naming the gateway), bearer tokens, bounded bodies,
//! retries with jittered backoff inside the rate budget and the caller's
//! deadline, and classification of every failure into [`UpstreamError`].

use std::sync::Arc;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use rand::Rng;
use tokio::time::Instant;
use url::Url;

use crate::clock::SharedClock;
use crate::config::{UpstreamSettings, join};

use super::limiter::{DEFAULT_429_BACKOFF, UpstreamLimiter};
use super::token::TokenSource;
use super::{Endpoint, UpstreamError, summarise_error_body};

/// The largest upstream body accepted (a month of details is far smaller).
pub const MAX_BODY_BYTES: usize = 32 * 1024 * 1024;
/// Retries after the first attempt, for connect errors and 5xx.
pub const MAX_RETRIES: u32 = 2;
/// The User-Agent sent upstream.
pub const USER_AGENT: &str = concat!("service-order-gateway/", env!("CARGO_PKG_VERSION"));

/// Per-call context from the caller's request.
#[derive(Debug, Clone)]
pub struct CallContext {
    /// The request id, sent upstream as `x-request-id`.
    pub request_id: Option<String>,
    /// When the caller stops waiting: no retry starts after it.
    pub deadline: Instant,
    /// The authenticated caller's name: its line in the limiter's fair
    /// queue (`None`: the anonymous line).
    pub caller: Option<Arc<str>>,
}

/// Namespace for turning transport errors into [`UpstreamError`].
pub(crate) struct HttpExchange;

impl HttpExchange {
    /// Classifies a `reqwest` failure.
    pub(crate) fn classify(e: reqwest::Error) -> UpstreamError {
        if e.is_timeout() {
            UpstreamError::Timeout(Duration::ZERO)
        } else if e.is_connect() {
            UpstreamError::Connect("connection refused or failed".into())
        } else if e.is_body() || e.is_decode() {
            UpstreamError::Undecodable("the body could not be read".into())
        } else {
            UpstreamError::Connect("the connection failed".into())
        }
    }
}

/// Reads a response body, refusing more than `limit` bytes.
pub(crate) async fn read_limited(
    mut response: reqwest::Response,
    limit: usize,
) -> Result<Bytes, UpstreamError> {
    if response.content_length().is_some_and(|n| n > limit as u64) {
        return Err(UpstreamError::TooLarge { limit });
    }
    let mut body = BytesMut::new();
    while let Some(chunk) = response.chunk().await.map_err(HttpExchange::classify)? {
        if body.len() + chunk.len() > limit {
            return Err(UpstreamError::TooLarge { limit });
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}

/// The `Retry-After` header as a duration (delta-seconds or an HTTP date).
pub(crate) fn retry_after(headers: &http::HeaderMap) -> Option<Duration> {
    let value = headers
        .get(http::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs.min(86_400)));
    }
    let when = chrono::DateTime::parse_from_rfc2822(value).ok()?;
    let secs = (when.with_timezone(&chrono::Utc) - chrono::Utc::now()).num_seconds();
    Some(Duration::from_secs(secs.clamp(0, 86_400) as u64))
}

/// Records one upstream exchange in the metrics.
pub(crate) fn record_call(endpoint: &'static str, status: u16, elapsed: Duration) {
    let class = match status {
        200..=299 => "2xx",
        300..=399 => "3xx",
        400..=499 => "4xx",
        500..=599 => "5xx",
        _ => "error",
    };
    metrics::counter!("sog_upstream_requests_total", "endpoint" => endpoint, "status_class" => class).increment(1);
    metrics::histogram!("sog_upstream_request_duration_seconds", "endpoint" => endpoint)
        .record(elapsed.as_secs_f64());
}

/// Builds the one `reqwest` client of the process.
pub fn http_client(settings: &UpstreamSettings) -> Result<reqwest::Client, reqwest::Error> {
    reqwest::Client::builder()
        .user_agent(USER_AGENT)
        .connect_timeout(settings.timeout.min(Duration::from_secs(5)))
        .timeout(settings.timeout)
        .gzip(true)
        .pool_idle_timeout(Duration::from_secs(60))
        .redirect(reqwest::redirect::Policy::none())
        .build()
}

/// Calls NTT's API on behalf of the whole gateway.
#[derive(Debug)]
pub struct UpstreamClient {
    http: reqwest::Client,
    base_url: Url,
    tokens: TokenSource,
    limiter: Arc<UpstreamLimiter>,
    timeout: Duration,
    queue_timeout: Duration,
}

impl UpstreamClient {
    /// A client for the configured upstream.
    pub fn new(settings: &UpstreamSettings, clock: SharedClock) -> Result<Self, reqwest::Error> {
        Self::with_shared(settings, clock, None)
    }

    /// A client whose budget is shared with the other replicas through Redis
    /// (the global rate and burst), falling back to this replica's share.
    pub fn with_shared(
        settings: &UpstreamSettings,
        clock: SharedClock,
        shared: Option<Arc<crate::shared::Shared>>,
    ) -> Result<Self, reqwest::Error> {
        let http = http_client(settings)?;
        let mut limiter = UpstreamLimiter::new(settings.rate, settings.burst);
        let shared_for_tokens = shared.clone();
        if let Some(shared) = shared {
            limiter = limiter.with_global(crate::shared::limiter::GlobalBudget::new(
                shared,
                settings.global_rate,
                settings.global_burst,
            ));
        }
        let limiter = Arc::new(limiter);
        let mut tokens = TokenSource::new(
            http.clone(),
            settings.token_url.clone(),
            settings.client_id.clone(),
            settings.client_secret.clone(),
            clock,
            limiter.clone(),
            settings.queue_timeout,
        );
        if let Some(shared) = shared_for_tokens {
            tokens = tokens.with_shared(shared);
        }
        Ok(Self {
            http,
            base_url: settings.base_url.clone(),
            tokens,
            limiter,
            timeout: settings.timeout,
            queue_timeout: settings.queue_timeout,
        })
    }

    /// The credential.
    pub fn tokens(&self) -> &TokenSource {
        &self.tokens
    }

    /// The bandwidth limiter.
    pub fn limiter(&self) -> &UpstreamLimiter {
        &self.limiter
    }

    /// GETs `endpoint` with `query`, retrying what can be retried, and
    /// returns the raw body of a 2xx answer.
    #[tracing::instrument(name = "upstream", skip_all, fields(endpoint = endpoint.label()))]
    pub async fn get(
        &self,
        endpoint: Endpoint,
        query: &[(&str, String)],
        ctx: &CallContext,
    ) -> Result<Bytes, UpstreamError> {
        let mut url = join(&self.base_url, endpoint.path());
        if !query.is_empty() {
            url.query_pairs_mut()
                .extend_pairs(query.iter().map(|(k, v)| (*k, v.as_str())));
        }
        let mut attempt = 0;
        let mut reauthenticated = false;
        loop {
            let wait = self
                .queue_timeout
                .min(ctx.deadline.saturating_duration_since(Instant::now()));
            let line = ctx.caller.as_deref().unwrap_or(super::limiter::ANONYMOUS);
            self.limiter.acquire_as(line, wait).await?;
            let token = self.tokens.token().await?;
            let result = self
                .attempt(endpoint, url.clone(), &token.bearer(), ctx)
                .await;
            let error = match result {
                Ok(body) => return Ok(body),
                Err(e) => e,
            };
            match &error {
                UpstreamError::Status { status: 401, .. } if !reauthenticated => {
                    // NTT answers 401 when a token is no longer valid: get a new one, once.
                    self.tokens.invalidate(&token);
                    reauthenticated = true;
                    continue;
                }
                UpstreamError::RateLimited { retry_after } => {
                    self.limiter
                        .pause(retry_after.unwrap_or(DEFAULT_429_BACKOFF));
                    tracing::warn!(retry_after = ?retry_after, "the upstream answered 429: pausing upstream calls");
                    return Err(error);
                }
                e if e.is_retryable() && attempt < MAX_RETRIES => {
                    let base = Duration::from_millis(100) * 2u32.pow(attempt);
                    let jitter = rand::rng().random_range(0.5..1.5);
                    let backoff = base.mul_f64(jitter);
                    if Instant::now() + backoff + Duration::from_millis(50) >= ctx.deadline {
                        return Err(error);
                    }
                    attempt += 1;
                    metrics::counter!("sog_upstream_retries_total", "endpoint" => endpoint.label())
                        .increment(1);
                    tracing::info!(error = %e, attempt, ?backoff, "retrying the upstream call");
                    tokio::time::sleep(backoff).await;
                }
                _ => return Err(error),
            }
        }
    }

    async fn attempt(
        &self,
        endpoint: Endpoint,
        url: Url,
        bearer: &str,
        ctx: &CallContext,
    ) -> Result<Bytes, UpstreamError> {
        let mut request = self
            .http
            .get(url)
            .header(http::header::AUTHORIZATION, bearer)
            .header(http::header::ACCEPT, "application/json");
        if let Some(id) = &ctx.request_id {
            request = request.header("x-request-id", id);
        }
        let started = std::time::Instant::now();
        let response = match request.send().await {
            Ok(r) => r,
            Err(e) => {
                record_call(endpoint.label(), 0, started.elapsed());
                return Err(match HttpExchange::classify(e) {
                    UpstreamError::Timeout(_) => UpstreamError::Timeout(self.timeout),
                    other => other,
                });
            }
        };
        let status = response.status();
        let headers = response.headers().clone();
        let body = read_limited(response, MAX_BODY_BYTES)
            .await
            .map_err(|e| match e {
                UpstreamError::Timeout(_) => UpstreamError::Timeout(self.timeout),
                other => other,
            });
        record_call(endpoint.label(), status.as_u16(), started.elapsed());
        let body = body?;
        if status.is_success() {
            return Ok(body);
        }
        let content_type = headers
            .get(http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok());
        let summary = summarise_error_body(content_type, &body);
        if status == http::StatusCode::TOO_MANY_REQUESTS {
            return Err(UpstreamError::RateLimited {
                retry_after: retry_after(&headers),
            });
        }
        Err(UpstreamError::Status {
            status: status.as_u16(),
            summary,
        })
    }
}

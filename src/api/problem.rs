//! RFC 9457 problem details: the one error body of the gateway, and the one
//! place that maps failures (bad input, upstream errors, closed hours) to
//! HTTP statuses.

use axum::response::{IntoResponse, Response};
use chrono::{DateTime, SecondsFormat, Utc};
use http::{HeaderValue, StatusCode, header};
use serde::Serialize;
use utoipa::ToSchema;

use crate::cache::CacheStatus;
use crate::gateway::ServeError;
use crate::upstream::UpstreamError;

/// The media type of every error body.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// One invalid query parameter.
#[derive(Debug, Clone, Serialize, ToSchema, PartialEq, Eq)]
pub struct InvalidParam {
    /// The parameter's name as sent.
    #[schema(example = "serviceName")]
    pub name: String,
    /// What is wrong with it.
    #[schema(
        example = "must be one of: uno, ucaas, sip-trunking, mss, 050plusbiz, ip-voice, smart-pbx, accs, bdp-e"
    )]
    pub reason: String,
}

/// An RFC 9457 problem details object.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({
    "type": "urn:service-order-gateway:problem:invalid-query",
    "title": "Invalid query",
    "status": 400,
    "detail": "serviceName is required: one of uno, ucaas, sip-trunking, mss, 050plusbiz, ip-voice, smart-pbx, accs, bdp-e",
    "instance": "/v1/business-process/service-orders",
    "invalidParams": [{"name": "serviceName", "reason": "is required"}]
}))]
pub struct Problem {
    /// A URI reference naming the problem type.
    #[serde(rename = "type")]
    pub problem_type: String,
    /// A short summary of the problem type.
    pub title: String,
    /// The HTTP status code.
    pub status: u16,
    /// What went wrong with this request, for a person.
    pub detail: String,
    /// The request path.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instance: Option<String>,
    /// Invalid query parameters, one entry each.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub invalid_params: Vec<InvalidParam>,
    /// The values a parameter accepts, when that helps.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allowed_values: Option<Vec<String>>,
    /// Seconds until a retry may succeed (also sent as `Retry-After`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<u64>,
    /// When the details endpoint next opens (RFC 3339, UTC).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_opening: Option<String>,
    /// What the upstream answered, summarised (never its raw body).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub upstream_status: Option<u16>,
    #[serde(skip)]
    cache_status: Option<CacheStatus>,
    #[serde(skip)]
    www_authenticate: Option<&'static str>,
}

impl Problem {
    /// A problem with a type slug, title, status and detail.
    pub fn new(status: StatusCode, slug: &str, title: &str, detail: impl Into<String>) -> Self {
        Self {
            problem_type: format!("urn:service-order-gateway:problem:{slug}"),
            title: title.to_owned(),
            status: status.as_u16(),
            detail: detail.into(),
            instance: None,
            invalid_params: Vec::new(),
            allowed_values: None,
            retry_after: None,
            next_opening: None,
            upstream_status: None,
            cache_status: None,
            www_authenticate: None,
        }
    }

    /// 400 for invalid query parameters.
    pub fn invalid_query(params: Vec<InvalidParam>) -> Self {
        let detail = params
            .iter()
            .map(|p| format!("{} {}", p.name, p.reason))
            .collect::<Vec<_>>()
            .join("; ");
        let mut p = Problem::new(
            StatusCode::BAD_REQUEST,
            "invalid-query",
            "Invalid query",
            detail,
        );
        p.invalid_params = params;
        p
    }

    /// The same problem about `path`.
    pub fn at(mut self, path: &str) -> Self {
        self.instance = Some(path.to_owned());
        self
    }

    /// With a `Retry-After`.
    pub fn retry_after(mut self, seconds: u64) -> Self {
        self.retry_after = Some(seconds.max(1));
        self
    }

    /// With a `WWW-Authenticate` challenge (for 401s).
    pub fn challenge(mut self, value: &'static str) -> Self {
        self.www_authenticate = Some(value);
        self
    }

    /// With the values a parameter accepts.
    pub fn allowed(mut self, values: Vec<String>) -> Self {
        self.allowed_values = Some(values);
        self
    }

    /// The HTTP status.
    pub fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    /// The problem for a generic status (404, 405, 413, ...).
    pub fn for_status(status: StatusCode, path: &str) -> Self {
        let (slug, detail) = match status {
            StatusCode::NOT_FOUND => (
                "not-found",
                format!(
                    "There is nothing at {path}. The API lives under /v1/business-process/; see /docs."
                ),
            ),
            StatusCode::METHOD_NOT_ALLOWED => (
                "method-not-allowed",
                "This resource only answers GET (and HEAD); it is read-only.".to_owned(),
            ),
            StatusCode::PAYLOAD_TOO_LARGE => (
                "payload-too-large",
                "The request body is too large.".to_owned(),
            ),
            StatusCode::URI_TOO_LONG => ("uri-too-long", "The request URI is too long.".to_owned()),
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE => (
                "headers-too-large",
                "The request headers are too large.".to_owned(),
            ),
            StatusCode::REQUEST_TIMEOUT => (
                "timeout",
                "The request took too long and was abandoned.".to_owned(),
            ),
            StatusCode::SERVICE_UNAVAILABLE => (
                "overloaded",
                "The gateway is handling as many requests as it allows; retry shortly.".to_owned(),
            ),
            StatusCode::UNSUPPORTED_MEDIA_TYPE => (
                "unsupported-media-type",
                "Unsupported media type.".to_owned(),
            ),
            StatusCode::BAD_REQUEST => (
                "bad-request",
                "The request could not be understood.".to_owned(),
            ),
            _ => (
                "error",
                status.canonical_reason().unwrap_or("Error").to_owned(),
            ),
        };
        let title = status.canonical_reason().unwrap_or("Error");
        Problem::new(status, slug, title, detail).at(path)
    }

    /// Attaches the `Cache-Status` the response should carry.
    pub fn with_cache_status(mut self, status: CacheStatus) -> Self {
        self.cache_status = Some(status);
        self
    }

    /// The problem for a failed upstream call with nothing cached to serve.
    pub fn from_upstream(error: &UpstreamError) -> Self {
        let (status, slug, title) = match error {
            UpstreamError::Timeout(_) => (
                StatusCode::GATEWAY_TIMEOUT,
                "upstream-timeout",
                "Upstream timeout",
            ),
            UpstreamError::RateLimited { .. } => (
                StatusCode::SERVICE_UNAVAILABLE,
                "upstream-rate-limited",
                "Upstream bandwidth exceeded",
            ),
            UpstreamError::BudgetExhausted { .. } => (
                StatusCode::SERVICE_UNAVAILABLE,
                "upstream-budget-exhausted",
                "Upstream budget exhausted",
            ),
            UpstreamError::TokenRejected { .. } => (
                StatusCode::BAD_GATEWAY,
                "upstream-credentials-rejected",
                "Upstream rejected the gateway's credentials",
            ),
            UpstreamError::Connect(_) => (
                StatusCode::BAD_GATEWAY,
                "upstream-unreachable",
                "Upstream unreachable",
            ),
            UpstreamError::Status { .. } => {
                (StatusCode::BAD_GATEWAY, "upstream-error", "Upstream error")
            }
            UpstreamError::Undecodable(_) | UpstreamError::TooLarge { .. } => (
                StatusCode::BAD_GATEWAY,
                "upstream-bad-response",
                "Upstream sent an unusable response",
            ),
            UpstreamError::ResultCode { .. } => (
                StatusCode::BAD_GATEWAY,
                "upstream-result-code",
                "Upstream reported an error",
            ),
        };
        let mut problem = Problem::new(status, slug, title, error.to_string());
        match error {
            UpstreamError::RateLimited { retry_after } => {
                problem.upstream_status = Some(429);
                problem = problem.retry_after(retry_after.map(|d| d.as_secs()).unwrap_or(5));
            }
            UpstreamError::BudgetExhausted { retry_after } => {
                problem = problem.retry_after(retry_after.as_secs_f64().ceil() as u64);
            }
            UpstreamError::Status { status, .. } => problem.upstream_status = Some(*status),
            UpstreamError::TokenRejected { status, .. } if *status > 0 => {
                problem.upstream_status = Some(*status)
            }
            _ => {}
        }
        problem
    }

    /// The problem for a request the gateway could not serve.
    pub fn from_serve_error(error: &ServeError) -> Self {
        match error {
            ServeError::Upstream { error, status } => {
                Problem::from_upstream(error).with_cache_status(*status)
            }
            ServeError::Closed {
                next_opening,
                retry_after,
                status,
            } => {
                let detail = match next_opening {
                    Some(at) => format!(
                        "The upstream service-order-details API is open 9:00-17:30 JST on Japanese business days only (as configured), and nothing is cached for this query. It opens next at {}.",
                        at.with_timezone(&crate::calendar::jst()).to_rfc3339_opts(SecondsFormat::Secs, false)
                    ),
                    None => "The upstream service-order-details API is configured as never open (--details-days none), and nothing is cached for this query.".to_owned(),
                };
                let mut p = Problem::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "details-closed",
                    "Details API closed",
                    detail,
                );
                p.next_opening = next_opening
                    .map(|t: DateTime<Utc>| t.to_rfc3339_opts(SecondsFormat::Secs, true));
                if let Some(s) = retry_after {
                    p = p.retry_after(*s);
                }
                p.with_cache_status(*status)
            }
        }
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = self.status_code();
        let body = serde_json::to_vec(&self).unwrap_or_else(|_| b"{}".to_vec());
        let mut response = (status, body).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        if let Some(seconds) = self.retry_after {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        if let Some(challenge) = self.www_authenticate {
            headers.insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static(challenge),
            );
        }
        if let Some(cache_status) = self.cache_status {
            if let Ok(v) = HeaderValue::from_str(&cache_status.header_value()) {
                headers.insert("cache-status", v);
            }
            response.extensions_mut().insert(cache_status);
        }
        response
    }
}

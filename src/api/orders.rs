//! `GET /v1/business-process/service-orders`: the order status list of one service.

use axum::Extension;
use axum::extract::{RawQuery, State};
use axum::response::{IntoResponse, Response};
use http::HeaderMap;
use serde::Deserialize;
use utoipa::IntoParams;

use crate::api::problem::Problem;
use crate::api::serve::answer;
use crate::auth::Caller;
use crate::model::{ServiceName, ServiceOrderList};
use crate::resources::ResourceRequest;
use crate::state::AppState;

/// Query parameters (documentation; parsing is strict, see `api::query`).
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct OrdersParams {
    /// The service whose orders to list.
    #[param(rename = "serviceName", example = "uno")]
    service_name: ServiceName,
}

pub(crate) const PATH: &str = "/v1/business-process/service-orders";

/// List the service orders of one service.
///
/// Answers from the gateway's cache when it can (see `Cache-Status`); the
/// upstream is asked at most once per key however many callers ask at once.
/// `orderType` and `orderStatus` are decoded per service from NTT's tables,
/// with the raw code kept beside the decoded name.
#[utoipa::path(
    get,
    path = "/v1/business-process/service-orders",
    tag = "service orders",
    operation_id = "listServiceOrders",
    security(("apiKey" = []), ("apiKeyHeader" = []), ()),
    params(OrdersParams),
    responses(
        (status = 200, description = "The orders (possibly from cache; see Cache-Status)", body = ServiceOrderList, content_type = "application/json",
            headers(
                ("Cache-Status" = String, description = "RFC 9211: what the cache did, e.g. `service-order-gateway; hit; ttl=42`; `detail=` says why stale data was served (revalidating, upstream-error, rate-limited)"),
                ("Age" = u64, description = "RFC 9111: seconds since the data was fetched from the upstream"),
                ("ETag" = String, description = "Strong validator of the body; send it back in If-None-Match"),
                ("Cache-Control" = String, description = "`public, max-age=N`: seconds the data stays fresh (0 when stale)"),
                ("x-request-id" = String, description = "The request id (yours, or generated)"),
            )),
        (status = 304, description = "Not modified: the ETag in If-None-Match still matches"),
        (status = 400, description = "Invalid query: unknown, repeated or missing parameters, invalid serviceName", body = Problem, content_type = "application/problem+json"),
        (status = 414, description = "The request URI is longer than 2048 bytes", body = Problem, content_type = "application/problem+json"),
        (status = 431, description = "More than 64 request headers or 16 KiB of headers", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Caller authentication is on (SOG_API_KEYS_FILE) and the API key is missing or not recognised", body = Problem, content_type = "application/problem+json",
            headers(("WWW-Authenticate" = String, description = "`Bearer realm=\"service-order-gateway\"`"))),
        (status = 403, description = "The caller's API key does not have this resource's scope", body = Problem, content_type = "application/problem+json"),
        (status = 502, description = "The upstream failed and nothing is cached", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "Upstream bandwidth exhausted or gateway overloaded, nothing cached; see Retry-After", body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds until a retry may succeed"))),
        (status = 504, description = "The upstream timed out and nothing is cached", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn service_orders(
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
    caller: Option<Extension<Caller>>,
    headers: HeaderMap,
) -> Response {
    let request = match crate::api::query::parse_orders(query.as_deref()) {
        Ok(r) => ResourceRequest::Orders(r),
        Err(problem) => return problem.at(PATH).into_response(),
    };
    answer(
        &state,
        &request,
        &headers,
        caller.as_ref().map(|c| &c.0),
        PATH,
    )
    .await
}

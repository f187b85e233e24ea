//! `GET /v1/business-process/service-order-details`: order details
//! (customer data), from an upstream that is open 9:00-17:30 JST on
//! business days only.

use axum::Extension;
use axum::extract::{RawQuery, State};
use axum::response::{IntoResponse, Response};
use http::HeaderMap;
use serde::Deserialize;
use utoipa::IntoParams;

use crate::api::problem::Problem;
use crate::api::serve::answer;
use crate::auth::Caller;
use crate::model::OrderDetailList;
use crate::resources::ResourceRequest;
use crate::state::AppState;

/// Query parameters (documentation; parsing is strict, see `api::query`).
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct DetailsParams {
    /// Web entry id (letters and digits, at most 32).
    #[param(pattern = "^[A-Za-z0-9]{1,32}$", example = "UN0000000001")]
    webentry_id: Option<String>,
    /// Contract line number (letters and digits, at most 32).
    #[param(pattern = "^[A-Za-z0-9]{1,32}$")]
    n_no: Option<String>,
    /// VPN group number (letters and digits, at most 32).
    #[param(pattern = "^[A-Za-z0-9]{1,32}$")]
    v_no: Option<String>,
    /// First update date included (YYYY-MM-DD). Default: one month before `data_update_date_to`.
    #[param(value_type = Option<String>, format = Date, example = "2026-11-01")]
    data_update_date_from: Option<String>,
    /// Last update date included (YYYY-MM-DD). Default: today in JST.
    #[param(value_type = Option<String>, format = Date, example = "2026-12-01")]
    data_update_date_to: Option<String>,
}

pub(crate) const PATH: &str = "/v1/business-process/service-order-details";

/// Get service order details (customer data).
///
/// The upstream answers only 9:00-17:30 JST on Japanese business days. At
/// other times the gateway never calls it: it serves the last answer it
/// cached for the same query (marked stale in `Cache-Status` with
/// `detail=details-closed`), or a 503 with `Retry-After` and the next
/// opening time when it has none. Without dates the range is the month up
/// to today (JST), stated in `dataUpdateDateFrom`/`dataUpdateDateTo`.
#[utoipa::path(
    get,
    path = "/v1/business-process/service-order-details",
    tag = "service orders",
    operation_id = "getServiceOrderDetails",
    security(("apiKey" = []), ("apiKeyHeader" = []), ()),
    params(DetailsParams),
    responses(
        (status = 200, description = "The details (possibly from cache; see Cache-Status)", body = OrderDetailList, content_type = "application/json",
            headers(
                ("Cache-Status" = String, description = "RFC 9211: what the cache did, e.g. `service-order-gateway; hit; ttl=-3600; detail=details-closed`"),
                ("Age" = u64, description = "RFC 9111: seconds since the data was fetched from the upstream"),
                ("ETag" = String, description = "Strong validator of the body; send it back in If-None-Match"),
                ("Cache-Control" = String, description = "`private, max-age=N`: seconds the data stays fresh (0 when stale)"),
                ("x-request-id" = String, description = "The request id (yours, or generated)"),
            )),
        (status = 304, description = "Not modified: the ETag in If-None-Match still matches"),
        (status = 400, description = "Invalid query: unknown or repeated parameters, invalid ids or dates, from after to", body = Problem, content_type = "application/problem+json"),
        (status = 414, description = "The request URI is longer than 2048 bytes", body = Problem, content_type = "application/problem+json"),
        (status = 431, description = "More than 64 request headers or 16 KiB of headers", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Caller authentication is on (SOG_API_KEYS_FILE) and the API key is missing or not recognised", body = Problem, content_type = "application/problem+json",
            headers(("WWW-Authenticate" = String, description = "`Bearer realm=\"service-order-gateway\"`"))),
        (status = 403, description = "The caller's API key does not have this resource's scope", body = Problem, content_type = "application/problem+json"),
        (status = 502, description = "The upstream failed and nothing is cached", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "Closed hours or upstream budget exhausted with nothing cached; see Retry-After and nextOpening", body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds until the details API opens (or budget returns)"))),
        (status = 504, description = "The upstream timed out and nothing is cached", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn service_order_details(
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
    caller: Option<Extension<Caller>>,
    headers: HeaderMap,
) -> Response {
    let now = state.gateway.clock().now();
    let request = match crate::api::query::parse_details_request(query.as_deref(), now) {
        Ok(r) => ResourceRequest::Details(r),
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

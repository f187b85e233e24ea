//! The HTTP surface: routes, handlers, query validation, problem details,
//! the OpenAPI document and Swagger UI, and the middleware stack.
//!
//! Handlers are thin: they validate the query into a typed request
//! ([`query`]), hand it to the [`Gateway`](crate::gateway::Gateway) and turn
//! the answer into a response ([`serve`]).

pub mod auth;
pub mod details;
pub mod hit_lane;
pub mod hot_path;
pub mod middleware;
pub mod openapi;
pub mod ops;
pub mod orders;
pub mod problem;
pub mod query;
pub mod serve;

use axum::Router;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use utoipa_swagger_ui::SwaggerUi;

use crate::state::AppState;

/// The routes split into (API routes, operations routes) and the generated document.
pub(crate) fn router_parts() -> (Router<AppState>, utoipa::openapi::OpenApi, Router<AppState>) {
    let (api, mut doc) = OpenApiRouter::with_openapi(openapi::ApiDoc::openapi())
        .routes(routes!(orders::service_orders))
        .routes(routes!(details::service_order_details))
        .split_for_parts();
    let (ops, ops_doc) = OpenApiRouter::new()
        .routes(routes!(ops::healthz))
        .routes(routes!(ops::readyz))
        .routes(routes!(ops::metrics))
        .routes(routes!(ops::get_cache, ops::purge_cache))
        .split_for_parts();
    doc.merge(ops_doc);
    (api, doc, ops)
}

/// The whole HTTP application for `state` as served: the [`router`]
/// behind the [hit lane](hit_lane) for fresh cache hits.
pub fn app(state: AppState) -> hit_lane::HitLane<Router> {
    hit_lane::HitLane::new(router(state.clone()), state)
}

/// The routes and the middleware stack for `state` (every request that is
/// not a fresh hit).
pub fn router(state: AppState) -> Router {
    let (api, doc, ops) = router_parts();
    // Only the business routes need a key; docs, health and metrics stay open.
    let api = match state.api_keys.clone() {
        Some(keys) => api.route_layer(axum::middleware::from_fn_with_state(
            keys,
            auth::require_api_key,
        )),
        None => api,
    };
    let api = api
        .merge(SwaggerUi::new("/docs").url("/openapi.json", doc))
        .with_state(state.clone());
    let api = middleware::protect(api, state.max_concurrent_requests, state.request_timeout);
    let app = api
        .merge(ops.with_state(state))
        .fallback(middleware::not_found);
    middleware::stack(app)
}

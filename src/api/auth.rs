//! The authentication layer of the two business routes: finds the caller's
//! key (`Authorization: Bearer <key>` or `x-api-key: <key>`), checks it
//! against the [`ApiKeyStore`], and checks the caller's scope for the route.
//!
//! A missing or unknown key gets a 401 problem with a `WWW-Authenticate`
//! challenge; a caller without the route's scope gets a 403 problem. The
//! authenticated [`Caller`] goes into the request's extensions (handlers
//! pass it to the upstream limiter) and the response's (the access log
//! names it). Without a keys file this layer is not installed and every
//! request is anonymous.

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http::{HeaderMap, StatusCode, header};

use crate::api::problem::Problem;
use crate::auth::{ApiKeyStore, Caller, Scope};

/// The challenge sent with a 401 when no key was presented.
pub const CHALLENGE: &str = "Bearer realm=\"service-order-gateway\"";
/// The challenge sent with a 401 when the key was not recognised (RFC 6750).
pub const CHALLENGE_INVALID: &str =
    "Bearer realm=\"service-order-gateway\", error=\"invalid_token\"";

/// The key the request presents, if any: a bearer token, else `x-api-key`.
pub(crate) fn presented_key(headers: &HeaderMap) -> Option<&str> {
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            let (scheme, rest) = v.trim().split_once(' ')?;
            scheme.eq_ignore_ascii_case("bearer").then(|| rest.trim())
        });
    bearer.or_else(|| {
        headers
            .get("x-api-key")
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
    })
}

/// The scope a path needs.
pub(crate) fn scope_for(path: &str) -> Scope {
    if path.ends_with("service-order-details") {
        Scope::Details
    } else {
        Scope::Orders
    }
}

/// Middleware: authenticates the request or answers 401/403.
pub async fn require_api_key(
    State(store): State<ApiKeyStore>,
    mut request: Request,
    next: Next,
) -> Response {
    let path = request.uri().path().to_owned();
    let caller = match presented_key(request.headers()) {
        None => {
            return Problem::new(
                StatusCode::UNAUTHORIZED,
                "unauthenticated",
                "Authentication required",
                "This gateway requires an API key: send it as `Authorization: Bearer <key>` or `x-api-key: <key>`.",
            )
            .challenge(CHALLENGE)
            .at(&path)
            .into_response();
        }
        Some(key) => match store.keys().authenticate(key) {
            Some(caller) => caller,
            None => {
                return Problem::new(
                    StatusCode::UNAUTHORIZED,
                    "invalid-api-key",
                    "Invalid API key",
                    "The API key is not recognised (it may have been revoked).",
                )
                .challenge(CHALLENGE_INVALID)
                .at(&path)
                .into_response();
            }
        },
    };
    let scope = scope_for(&path);
    if !caller.may(scope) {
        let allowed = caller
            .scopes()
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join(", ");
        let mut response = Problem::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "Not allowed",
            format!(
                "The caller {} may not use this resource (needs scope {}; has: {}).",
                caller.name,
                scope.as_str(),
                if allowed.is_empty() { "none" } else { &allowed }
            ),
        )
        .at(&path)
        .into_response();
        response.extensions_mut().insert(caller);
        return response;
    }
    request.extensions_mut().insert(caller.clone());
    let mut response = next.run(request).await;
    response.extensions_mut().insert(caller);
    response
}

/// The caller label of a response for logs and metrics: the caller's name,
/// `anonymous` without authentication.
pub fn caller_label(response: &Response) -> std::borrow::Cow<'_, str> {
    match response.extensions().get::<Caller>() {
        Some(c) => std::borrow::Cow::Borrowed(&*c.name),
        None if response.status() == StatusCode::UNAUTHORIZED => "unauthenticated".into(),
        None => "anonymous".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    #[test]
    fn finds_bearer_then_x_api_key() {
        let mut h = HeaderMap::new();
        assert_eq!(presented_key(&h), None);
        h.insert("x-api-key", HeaderValue::from_static(" k2 "));
        assert_eq!(presented_key(&h), Some("k2"));
        h.insert(header::AUTHORIZATION, HeaderValue::from_static("bearer k1"));
        assert_eq!(presented_key(&h), Some("k1"));
        h.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Basic dXNlcjpwYXNz"),
        );
        assert_eq!(presented_key(&h), Some("k2"));
    }
}

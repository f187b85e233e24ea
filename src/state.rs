//! The application state shared by every handler: cheap to clone, every
//! part documented.

use std::time::Duration;

use secrecy::SecretString;

use crate::auth::ApiKeyStore;
use crate::gateway::Gateway;

/// What handlers share.
#[derive(Clone)]
pub struct AppState {
    /// The request path: cache, calendar, upstream.
    pub gateway: Gateway,
    /// Renders `/metrics`.
    pub metrics: crate::telemetry::Metrics,
    /// The admin bearer token; admin routes are off without it.
    pub admin_token: Option<SecretString>,
    /// How long one request may take (also the upstream deadline).
    pub request_timeout: Duration,
    /// Requests handled at once before shedding.
    pub max_concurrent_requests: usize,
    /// Whether the upstream is the built-in simulator.
    pub demo: bool,
    /// The callers' API keys; caller authentication is off without them.
    pub api_keys: Option<ApiKeyStore>,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("gateway", &self.gateway)
            .field("admin_enabled", &self.admin_token.is_some())
            .field("request_timeout", &self.request_timeout)
            .field("demo", &self.demo)
            .field("api_keys", &self.api_keys.is_some())
            .finish()
    }
}

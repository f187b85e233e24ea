//! Everything that talks to NTT: the HTTP client and its error
//! classification ([`client`], [`error`]), the single OAuth credential
//! ([`token`]) and bandwidth control ([`limiter`], with its per-caller
//! [`fair_queue`]).
//!
//! Nothing here knows about the HTTP surface the gateway offers; the API
//! layer maps [`UpstreamError`] to statuses in one place.

pub mod client;
pub mod error;
pub mod fair_queue;
pub mod limiter;
pub mod token;

pub use client::{CallContext, UpstreamClient};
pub use error::{UpstreamError, summarise_error_body};

/// One of the two upstream resources.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Endpoint {
    /// `GET /v1/business-process/service-orders`.
    Orders,
    /// `GET /v1/business-process/service-order-details`.
    Details,
}

impl Endpoint {
    /// Both endpoints.
    pub const ALL: [Endpoint; 2] = [Endpoint::Orders, Endpoint::Details];

    /// The path, relative to the API's base URL (and the gateway's).
    pub fn path(self) -> &'static str {
        match self {
            Endpoint::Orders => "v1/business-process/service-orders",
            Endpoint::Details => "v1/business-process/service-order-details",
        }
    }

    /// A short label for metrics, logs and cache keys.
    pub fn label(self) -> &'static str {
        match self {
            Endpoint::Orders => "service-orders",
            Endpoint::Details => "service-order-details",
        }
    }
}

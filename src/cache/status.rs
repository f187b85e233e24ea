//! The RFC 9211 `Cache-Status` header: what the cache did for one request.
//!
//! Examples: `service-order-gateway; hit; ttl=42`,
//! `service-order-gateway; fwd=miss; stored; ttl=300`,
//! `service-order-gateway; fwd=miss; collapsed; ttl=300`,
//! `service-order-gateway; hit; ttl=-3600; detail=details-closed` (stale,
//! not forwarded because the details endpoint is closed),
//! `service-order-gateway; fwd=stale; fwd-status=503; ttl=-20; detail=upstream-error`.

/// The cache's name in `Cache-Status`.
pub const CACHE_NAME: &str = "service-order-gateway";

/// What the cache did, in RFC 9211 terms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CacheResult {
    /// Served from cache without going upstream (fresh, or stale with a reason).
    Hit,
    /// Not in cache: forwarded (`fwd=miss`).
    Miss,
    /// In cache but the caller's `Cache-Control` did not allow it (`fwd=request`).
    Request,
    /// In cache but stale: forwarded (`fwd=stale`).
    Stale,
    /// Not answered from cache nor forwarded (closed hours, budget spent).
    None,
}

/// Why stale data was served.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StaleReason {
    /// Fresh data is being fetched in the background.
    Revalidating,
    /// The details endpoint is closed now.
    DetailsClosed,
    /// The upstream failed.
    UpstreamError,
    /// The upstream budget is spent (or a 429 pause is in force).
    RateLimited,
}

impl StaleReason {
    /// The `detail` token.
    pub fn as_str(self) -> &'static str {
        match self {
            StaleReason::Revalidating => "revalidating",
            StaleReason::DetailsClosed => "details-closed",
            StaleReason::UpstreamError => "upstream-error",
            StaleReason::RateLimited => "rate-limited",
        }
    }
}

/// One request's `Cache-Status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CacheStatus {
    /// hit, fwd=miss, ...
    pub result: CacheResult,
    /// Whether the response was stored.
    pub stored: bool,
    /// Whether this request waited on another request's upstream call.
    pub collapsed: bool,
    /// Freshness left in seconds (negative when stale), when an entry is involved.
    pub ttl: Option<i64>,
    /// The upstream's status when forwarded and it failed.
    pub fwd_status: Option<u16>,
    /// Why stale data was served (or why nothing was).
    pub stale: Option<StaleReason>,
}

impl CacheStatus {
    /// A status with only `result` set.
    pub fn new(result: CacheResult) -> Self {
        Self {
            result,
            stored: false,
            collapsed: false,
            ttl: None,
            fwd_status: None,
            stale: None,
        }
    }

    /// The header value.
    pub fn header_value(&self) -> String {
        self.to_string()
    }

    /// A low-cardinality label for metrics and logs.
    pub fn label(&self) -> &'static str {
        match (self.result, self.stale, self.collapsed) {
            (_, Some(_), _)
                if self.result == CacheResult::Hit || self.result == CacheResult::Stale =>
            {
                "stale"
            }
            (CacheResult::Hit, _, _) => "hit",
            (_, _, true) => "collapsed",
            (CacheResult::Miss, _, _) => "miss",
            (CacheResult::Request, _, _) => "refresh",
            (CacheResult::Stale, _, _) => "expired",
            (CacheResult::None, _, _) => "none",
        }
    }
}

/// Writes the header value (without allocating).
impl std::fmt::Display for CacheStatus {
    fn fmt(&self, s: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        s.write_str(CACHE_NAME)?;
        match self.result {
            CacheResult::Hit => s.write_str("; hit")?,
            CacheResult::Miss => s.write_str("; fwd=miss")?,
            CacheResult::Request => s.write_str("; fwd=request")?,
            CacheResult::Stale => s.write_str("; fwd=stale")?,
            CacheResult::None => {}
        }
        if let Some(status) = self.fwd_status {
            write!(s, "; fwd-status={status}")?;
        }
        if self.stored {
            s.write_str("; stored")?;
        }
        if self.collapsed {
            s.write_str("; collapsed")?;
        }
        if let Some(ttl) = self.ttl {
            write!(s, "; ttl={ttl}")?;
        }
        if let Some(reason) = self.stale {
            write!(s, "; detail={}", reason.as_str())?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_values() {
        let mut s = CacheStatus::new(CacheResult::Hit);
        s.ttl = Some(42);
        assert_eq!(s.header_value(), "service-order-gateway; hit; ttl=42");
        let mut s = CacheStatus::new(CacheResult::Stale);
        s.fwd_status = Some(503);
        s.ttl = Some(-20);
        s.stale = Some(StaleReason::UpstreamError);
        assert_eq!(
            s.header_value(),
            "service-order-gateway; fwd=stale; fwd-status=503; ttl=-20; detail=upstream-error"
        );
        assert_eq!(s.label(), "stale");
        let mut s = CacheStatus::new(CacheResult::Miss);
        s.collapsed = true;
        s.ttl = Some(60);
        assert_eq!(
            s.header_value(),
            "service-order-gateway; fwd=miss; collapsed; ttl=60"
        );
    }
}

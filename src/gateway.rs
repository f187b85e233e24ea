//! The request path between the HTTP surface and the upstream, for both
//! resources: cache lookup, the caller's `Cache-Control`, the details
//! endpoint's opening hours, single-flight fetches, stale-while-revalidate
//! and stale-if-error.
//!
//! ```text
//! lookup ─ fresh & allowed ──────────────────────────────▶ hit
//!        ─ details closed ─ usable entry ────────────────▶ stale (details-closed)
//!                         └ nothing ─────────────────────▶ 503 + Retry-After
//!        ─ stale entry, caller allows ─ background refresh ▶ stale (revalidating)
//!        ─ otherwise: join the key's flight ─ ok ────────▶ miss / collapsed
//!                                          └ error ─ usable entry ▶ stale (upstream-error | rate-limited)
//!                                                   └ nothing ─────▶ 502/503/504
//! ```
//!
//! With Redis ([`crate::shared`]), a lookup that finds nothing fresh in moka
//! asks Redis (the second tier) before going on; the flight leader takes a
//! per-key lease before calling the upstream (a replica that finds the lease
//! taken waits for the entry to appear in Redis), and writes what it fetched
//! to both tiers.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::cache::flight::FlightFuture;
use crate::cache::{
    CacheKey, CacheResult, CacheStatus, Entry, Flights, ResponseCache, StaleReason,
};
use crate::calendar::BusinessCalendar;
use crate::clock::SharedClock;
use crate::resources::ResourceRequest;
use crate::shared::{LeaseOutcome, PurgeScope, Shared};
use crate::upstream::{CallContext, Endpoint, UpstreamClient, UpstreamError};

/// What the caller's `Cache-Control` asks of the cache.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CallerDirectives {
    /// `no-cache`: do not answer from cache without asking the upstream.
    pub no_cache: bool,
    /// `max-age=N`: do not accept an answer older than N seconds.
    pub max_age: Option<u64>,
}

/// An answer for the caller.
#[derive(Debug, Clone)]
pub struct Served {
    /// The entry whose bytes are the body.
    pub entry: Arc<Entry>,
    /// What the cache did.
    pub status: CacheStatus,
}

impl Served {
    /// A fresh hit on `entry` at `now`.
    pub fn hit(entry: Arc<Entry>, now: DateTime<Utc>) -> Served {
        let mut status = CacheStatus::new(CacheResult::Hit);
        status.ttl = Some(entry.ttl(now));
        Served { entry, status }
    }

    /// Stale data from `entry` at `now`, served for `reason`.
    pub fn stale(entry: Arc<Entry>, reason: StaleReason, now: DateTime<Utc>) -> Served {
        let mut served = Served::hit(entry, now);
        served.status.stale = Some(reason);
        served
    }
}

/// Why there is no answer.
#[derive(Debug, Clone)]
pub enum ServeError {
    /// The upstream failed and nothing usable is cached.
    Upstream {
        /// The failure.
        error: UpstreamError,
        /// What the cache did.
        status: CacheStatus,
    },
    /// The details endpoint is closed and nothing usable is cached.
    Closed {
        /// When it opens next (None: never, with `--details-days none`).
        next_opening: Option<DateTime<Utc>>,
        /// Seconds until then.
        retry_after: Option<u64>,
        /// What the cache did.
        status: CacheStatus,
    },
}

/// The shared request path.
#[derive(Debug, Clone)]
pub struct Gateway {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    cache: ResponseCache,
    flights: Flights,
    calendar: BusinessCalendar,
    upstream: Arc<UpstreamClient>,
    clock: SharedClock,
    /// Deadline given to background refreshes.
    background_deadline: Duration,
    /// When a key's last background refresh failed: no new one for
    /// [`REFRESH_COOLDOWN`], so a failing upstream is not hammered by every
    /// request for a stale key.
    failed_refreshes: std::sync::Mutex<std::collections::HashMap<CacheKey, tokio::time::Instant>>,
    /// Redis shared with the other replicas, if configured.
    shared: Option<Arc<Shared>>,
    /// How long to wait for another replica's refresh of a key.
    lease_wait: Duration,
}

/// How long after a failed background refresh of a key no new one starts.
pub const REFRESH_COOLDOWN: Duration = Duration::from_secs(5);

impl Gateway {
    /// Assembles the request path.
    pub fn new(
        cache: ResponseCache,
        calendar: BusinessCalendar,
        upstream: Arc<UpstreamClient>,
        clock: SharedClock,
    ) -> Self {
        Self::with_shared(cache, calendar, upstream, clock, None, Duration::ZERO)
    }

    /// Assembles the request path with Redis as the second tier; a replica
    /// waits at most `lease_wait` for another replica's refresh of a key.
    pub fn with_shared(
        cache: ResponseCache,
        calendar: BusinessCalendar,
        upstream: Arc<UpstreamClient>,
        clock: SharedClock,
        shared: Option<Arc<Shared>>,
        lease_wait: Duration,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                cache,
                flights: Flights::default(),
                calendar,
                upstream,
                clock,
                background_deadline: Duration::from_secs(60),
                failed_refreshes: Default::default(),
                shared,
                lease_wait,
            }),
        }
    }

    /// Redis shared with the other replicas, if configured.
    pub fn shared(&self) -> Option<&Arc<Shared>> {
        self.inner.shared.as_ref()
    }

    /// Purges `scope` here, in Redis and (through pub/sub) on every other
    /// replica; returns how many entries this replica's moka held.
    pub async fn purge(&self, scope: PurgeScope) -> usize {
        let purged = scope.apply(&self.inner.cache).await;
        if let Some(shared) = &self.inner.shared {
            if !shared.purge(&scope).await {
                tracing::warn!("Redis is unreachable: the purge applies to this replica only");
            }
        }
        purged
    }

    /// The entry for `key` in Redis if it is newer than `than`, copied into moka.
    async fn second_tier_entry(
        &self,
        key: &CacheKey,
        than: Option<&Arc<Entry>>,
        now: DateTime<Utc>,
    ) -> Option<Arc<Entry>> {
        let shared = self.inner.shared.as_ref()?;
        let entry = shared.get_entry(key, now).await?;
        if than.is_some_and(|c| c.fetched_at >= entry.fetched_at) {
            return None;
        }
        metrics::counter!("sog_cache_second_tier_hits_total").increment(1);
        let entry = Arc::new(entry);
        self.inner.cache.insert(entry.clone()).await;
        Some(entry)
    }

    /// The cache.
    pub fn cache(&self) -> &ResponseCache {
        &self.inner.cache
    }

    /// The calendar.
    pub fn calendar(&self) -> &BusinessCalendar {
        &self.inner.calendar
    }

    /// The upstream client.
    pub fn upstream(&self) -> &UpstreamClient {
        &self.inner.upstream
    }

    /// The clock.
    pub fn clock(&self) -> &SharedClock {
        &self.inner.clock
    }

    /// Whether the upstream endpoint may be called now.
    pub fn is_open(&self, endpoint: Endpoint, now: DateTime<Utc>) -> bool {
        endpoint == Endpoint::Orders || self.inner.calendar.is_open(now)
    }

    /// The cached answer for `request` at `now` that takes no waiting: the
    /// [hit lane](crate::api::hit_lane)'s lookup. It is the answer
    /// [`serve`](Self::serve) would give: a fresh entry is a hit; a stale
    /// one (within `stale-max-age`) is served stale while the details
    /// endpoint is closed, or while a background refresh runs (which this
    /// starts, as `serve` does). `None` when this replica's memory has no
    /// entry, the lookup would have to wait, or the entry is stale and a
    /// second tier is configured (it may hold a fresher answer, and asking
    /// takes waiting): `serve` then decides, as for any request. Callers
    /// must not use it for requests whose `Cache-Control` asks something
    /// of the cache.
    pub fn answer_at_once(&self, request: ResourceRequest, now: DateTime<Utc>) -> Option<Served> {
        use futures::FutureExt;
        let key = request.cache_key();
        let entry = self.inner.cache.get(&key, now).now_or_never()??;
        if entry.is_fresh(now) {
            entry.touch(now);
            return Some(Served::hit(entry, now));
        }
        if self.inner.shared.is_some() {
            return None;
        }
        entry.touch(now);
        let reason = if self.is_open(request.endpoint(), now) {
            self.refresh_in_background(&key, request);
            StaleReason::Revalidating
        } else {
            StaleReason::DetailsClosed
        };
        Some(Served::stale(entry, reason, now))
    }

    /// Answers one request.
    pub async fn serve(
        &self,
        request: &ResourceRequest,
        directives: CallerDirectives,
        ctx: CallContext,
    ) -> Result<Served, ServeError> {
        let inner = &self.inner;
        let now = inner.clock.now();
        let key = request.cache_key();
        let endpoint = request.endpoint();
        let mut cached = inner.cache.get(&key, now).await;
        if cached.as_ref().is_none_or(|e| !e.is_fresh(now)) {
            // Second tier: another replica may have fetched it (or fresher).
            if let Some(entry) = self.second_tier_entry(&key, cached.as_ref(), now).await {
                cached = Some(entry);
            }
        }
        if let Some(entry) = &cached {
            entry.touch(now);
        }
        // Entries the caller accepts at all (its max-age).
        let acceptable = cached
            .clone()
            .filter(|e| directives.max_age.is_none_or(|max| e.age(now) <= max));

        if let Some(entry) = &acceptable {
            if entry.is_fresh(now) && !directives.no_cache {
                return Ok(Served::hit(entry.clone(), now));
            }
        }

        if !self.is_open(endpoint, now) {
            // Never call the details endpoint while it is closed.
            let latest = match request.latest_key() {
                Some(alias) if acceptable.is_none() => {
                    let mut latest = inner.cache.get_latest(request, now).await;
                    if latest.is_none() {
                        if let Some(key) = match &inner.shared {
                            Some(shared) => shared.get_latest(&alias).await,
                            None => None,
                        } {
                            // Stored in this replica's cache too, where
                            // the next lookup finds it by its key.
                            latest = self.second_tier_entry(&key, None, now).await;
                        }
                    }
                    latest.filter(|e| directives.max_age.is_none_or(|max| e.age(now) <= max))
                }
                _ => None,
            };
            return match acceptable
                .or(latest)
                .or_else(|| cached.filter(|_| directives.no_cache && directives.max_age.is_none()))
            {
                Some(entry) if entry.is_fresh(now) && !directives.no_cache => {
                    Ok(Served::hit(entry, now))
                }
                Some(entry) => Ok(Served::stale(entry, StaleReason::DetailsClosed, now)),
                None => {
                    let next_opening = inner.calendar.next_opening(now);
                    let mut status = CacheStatus::new(CacheResult::None);
                    status.stale = Some(StaleReason::DetailsClosed);
                    Err(ServeError::Closed {
                        next_opening,
                        retry_after: next_opening.map(|t| (t - now).num_seconds().max(1) as u64),
                        status,
                    })
                }
            };
        }

        if let Some(entry) = &acceptable {
            if !directives.no_cache {
                // Stale-while-revalidate: answer now, refresh in the background.
                self.refresh_in_background(&key, request.clone());
                return Ok(Served::stale(entry.clone(), StaleReason::Revalidating, now));
            }
        }

        let forwarded_as = match (&cached, &acceptable) {
            (None, _) => CacheResult::Miss,
            (Some(e), Some(_)) if e.is_fresh(now) => CacheResult::Request,
            (Some(_), _) => CacheResult::Stale,
        };
        let (flight, leader) = self.flight(request.clone(), ctx);
        match flight.await {
            Ok(entry) => {
                let now = inner.clock.now();
                let mut status = CacheStatus::new(forwarded_as);
                status.stored = leader;
                status.collapsed = !leader;
                status.ttl = Some(entry.ttl(now));
                Ok(Served { entry, status })
            }
            Err(error) => {
                let now = inner.clock.now();
                let fallback = acceptable.or(cached).filter(|_| stale_allowed(&error));
                // A spent budget (or a 429 pause) means nothing went upstream.
                let forwarded = !matches!(error, UpstreamError::BudgetExhausted { .. });
                let mut status = CacheStatus::new(if forwarded {
                    forwarded_as
                } else {
                    CacheResult::None
                });
                status.collapsed = !leader;
                status.fwd_status = fwd_status(&error);
                if !forwarded {
                    status.stale = Some(StaleReason::RateLimited);
                }
                match fallback {
                    Some(entry) if directives.max_age.is_none_or(|max| entry.age(now) <= max) => {
                        status.result = if !forwarded {
                            CacheResult::Hit
                        } else if forwarded_as == CacheResult::Miss {
                            CacheResult::Stale
                        } else {
                            forwarded_as
                        };
                        status.ttl = Some(entry.ttl(now));
                        status.stale = Some(match error {
                            UpstreamError::RateLimited { .. }
                            | UpstreamError::BudgetExhausted { .. } => StaleReason::RateLimited,
                            _ => StaleReason::UpstreamError,
                        });
                        tracing::warn!(error = %error, key_endpoint = endpoint.label(), "serving stale data: the upstream call failed");
                        Ok(Served { entry, status })
                    }
                    _ => Err(ServeError::Upstream { error, status }),
                }
            }
        }
    }

    /// Joins (or starts) the upstream fetch for `request`.
    fn flight(&self, request: ResourceRequest, ctx: CallContext) -> (FlightFuture, bool) {
        let key = request.cache_key();
        let this = self.clone();
        self.inner.flights.join(&key, move || async move {
            this.fetch_and_store(&request, &ctx).await
        })
    }

    async fn fetch_and_store(
        &self,
        request: &ResourceRequest,
        ctx: &CallContext,
    ) -> Result<Arc<Entry>, UpstreamError> {
        let inner = &self.inner;
        let endpoint = request.endpoint();
        let key = request.cache_key();
        let mut lease = None;
        if let Some(shared) = &inner.shared {
            match self.lease_or_wait(shared, request, ctx).await {
                Ok(entry) => return Ok(entry),
                Err(held) => lease = held,
            }
        }
        let raw = inner
            .upstream
            .get(endpoint, &request.upstream_query(), ctx)
            .await;
        let raw = match raw {
            Ok(raw) => raw,
            Err(e) => {
                if let (Some(shared), Some(lease)) = (&inner.shared, lease) {
                    shared.release(lease).await;
                }
                return Err(e);
            }
        };
        let fetched_at = inner.clock.now();
        let body = request.normalise(&raw)?;
        let entry = inner
            .cache
            .store_new(endpoint, &key, body, fetched_at)
            .await;
        if let Some(shared) = &inner.shared {
            shared.put_entry(&entry, fetched_at).await;
            if let Some(alias) = request.latest_key() {
                shared.set_latest(&alias, &key).await;
            }
            if let Some(lease) = lease {
                shared.release(lease).await;
            }
        }
        Ok(entry)
    }

    /// Before going upstream for `request`: takes the key's lease
    /// (`Err(Some(lease))`: go), or, while another replica holds it, waits
    /// for a fresh answer fetched since to appear in Redis (`Ok(entry)`). Gives up waiting
    /// after the queue timeout and goes upstream anyway (`Err(None)`), as it
    /// does when Redis is unavailable.
    async fn lease_or_wait(
        &self,
        shared: &Shared,
        request: &ResourceRequest,
        ctx: &CallContext,
    ) -> Result<Arc<Entry>, Option<crate::shared::Lease>> {
        let key = request.cache_key();
        let until = ctx
            .deadline
            .min(tokio::time::Instant::now() + self.inner.lease_wait);
        // Only answers fetched since this flight started count (not one a
        // `no-cache` request is refusing).
        let started = self.inner.clock.now();
        let mut waited = false;
        loop {
            let lease = match shared.try_key_lease(&key).await {
                LeaseOutcome::Acquired(lease) => Some(lease),
                LeaseOutcome::Unavailable => return Err(None),
                LeaseOutcome::Held => None,
            };
            // Another replica may have just stored a fresh answer.
            let now = self.inner.clock.now();
            if let Some(entry) = shared
                .get_entry(&key, now)
                .await
                .filter(|e| e.is_fresh(now) && e.fetched_at >= started)
            {
                if let Some(lease) = lease {
                    shared.release(lease).await;
                }
                if waited {
                    metrics::counter!("sog_cache_lease_waits_total", "outcome" => "answered")
                        .increment(1);
                }
                let entry = Arc::new(entry);
                self.inner.cache.insert(entry.clone()).await;
                return Ok(entry);
            }
            if lease.is_some() {
                return Err(lease);
            }
            if tokio::time::Instant::now() >= until {
                metrics::counter!("sog_cache_lease_waits_total", "outcome" => "gave-up")
                    .increment(1);
                tracing::info!(
                    "another replica's refresh of this key is taking long: calling the upstream"
                );
                return Err(None);
            }
            waited = true;
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Runs forever: shortly before the details endpoint closes each
    /// business day, refreshes (once, within the rate budget) every details
    /// entry a caller used that day, so the night's stale data is as fresh
    /// as it can be. `lead` is how long before closing to start.
    pub async fn refresh_before_closing(self, lead: Duration) {
        let mut done_for: Option<chrono::NaiveDate> = None;
        loop {
            let now = self.inner.clock.now();
            let today = BusinessCalendar::today_jst(now);
            let closes_soon = self
                .inner
                .calendar
                .closes_at(now)
                .is_some_and(|close| (close - now).to_std().unwrap_or_default() <= lead);
            if closes_soon && done_for != Some(today) {
                done_for = Some(today);
                let mut keys: Vec<CacheKey> = self
                    .inner
                    .cache
                    .entries()
                    .into_iter()
                    .filter(|e| e.endpoint == Endpoint::Details)
                    .filter(|e| BusinessCalendar::today_jst(e.last_used()) == today)
                    .map(|e| CacheKey::from(e.key()))
                    .collect();
                if let Some(shared) = &self.inner.shared {
                    // One replica refreshes what every replica's callers used today.
                    shared.record_used(today, &keys).await;
                    let lease = format!("pre-closing:{today}");
                    match shared
                        .try_lease(&lease, Duration::from_secs(6 * 3600))
                        .await
                    {
                        LeaseOutcome::Held => {
                            tracing::info!("another replica does today's pre-closing refresh");
                            metrics::counter!("sog_details_prefetch_runs_total", "role" => "left-to-another-replica")
                                .increment(1);
                            continue;
                        }
                        LeaseOutcome::Acquired(_) => {
                            // Let the other replicas record their keys.
                            tokio::time::sleep(Duration::from_secs(2)).await;
                            keys.extend(shared.used(today).await);
                            keys.sort();
                            keys.dedup();
                        }
                        LeaseOutcome::Unavailable => {}
                    }
                }
                let used_today: Vec<ResourceRequest> = keys
                    .iter()
                    .filter_map(|k| ResourceRequest::from_cache_key(k))
                    .collect();
                tracing::info!(
                    entries = used_today.len(),
                    "refreshing today's details entries before closing"
                );
                metrics::counter!("sog_details_prefetch_runs_total", "role" => "refreshed")
                    .increment(1);
                for request in used_today {
                    let ctx = CallContext {
                        request_id: None,
                        deadline: tokio::time::Instant::now() + self.inner.background_deadline,
                        caller: None,
                    };
                    let (flight, _) = self.flight(request, ctx);
                    // One at a time: the limiter paces them; callers keep priority in its queue.
                    if let Err(e) = flight.await {
                        tracing::warn!(error = %e, "pre-closing refresh failed for one entry");
                    }
                }
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    }

    /// Runs forever: every 10 minutes, frees the cache's entries older than
    /// `stale-max-age` ([`ResponseCache::sweep`]).
    pub async fn sweep_forever(self) {
        loop {
            tokio::time::sleep(Duration::from_secs(600)).await;
            let swept = self.inner.cache.sweep(self.inner.clock.now()).await;
            if swept > 0 {
                tracing::info!(entries = swept, "freed entries older than stale-max-age");
            }
        }
    }

    /// Starts one background refresh of `request`, whose cache key is
    /// `key`, unless one is running or the last one failed moments ago.
    fn refresh_in_background(&self, key: &str, request: ResourceRequest) {
        if self.inner.flights.is_in_flight(key) || self.cooling_down(key) {
            return;
        }
        let key = CacheKey::from(key);
        let ctx = CallContext {
            request_id: None,
            deadline: tokio::time::Instant::now() + self.inner.background_deadline,
            caller: None,
        };
        let (flight, _) = self.flight(request, ctx);
        let this = self.clone();
        tokio::spawn(async move {
            let result = flight.await;
            let mut failed = this
                .inner
                .failed_refreshes
                .lock()
                .unwrap_or_else(|e| e.into_inner());
            match result {
                Ok(_) => {
                    failed.remove(&key);
                }
                Err(e) => {
                    tracing::warn!(error = %e, "background refresh failed; stale data stays in use");
                    let now = tokio::time::Instant::now();
                    failed.retain(|_, at| now.duration_since(*at) < REFRESH_COOLDOWN);
                    failed.insert(key, now);
                }
            }
        });
    }

    fn cooling_down(&self, key: &str) -> bool {
        let failed = self
            .inner
            .failed_refreshes
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        failed
            .get(key)
            .is_some_and(|at| at.elapsed() < REFRESH_COOLDOWN)
    }
}

/// Whether a failure may be hidden by serving stale data.
fn stale_allowed(error: &UpstreamError) -> bool {
    match error {
        // The upstream says our request is wrong: stale data would hide a real problem.
        UpstreamError::Status { status, .. } => !matches!(status, 400 | 404 | 405 | 410 | 422),
        _ => true,
    }
}

fn fwd_status(error: &UpstreamError) -> Option<u16> {
    match error {
        UpstreamError::Status { status, .. } | UpstreamError::TokenRejected { status, .. }
            if *status > 0 =>
        {
            Some(*status)
        }
        UpstreamError::RateLimited { .. } => Some(429),
        _ => None,
    }
}

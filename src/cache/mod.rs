//! The response cache: normalised answers stored as the exact bytes a hit
//! serves, with their freshness metadata, in a byte-bounded `moka` cache;
//! single-flight coalescing of upstream fetches per key ([`flight`]); and the
//! RFC 9211 `Cache-Status` vocabulary ([`status`]).
//!
//! Freshness is judged with the gateway's [`Clock`](crate::clock::Clock), not
//! moka's, so tests can move time. moka only bounds the memory (a weigher);
//! [`ResponseCache::sweep`] (every 10 minutes, see
//! [`Gateway::sweep_forever`](crate::gateway::Gateway::sweep_forever)) frees
//! entries older than `stale-max-age`, which can no longer be served. (A
//! moka `time_to_live` would do it too, but costs a node per entry.)

pub mod flight;
pub mod status;
mod writer;

use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use chrono::{DateTime, Utc};
use http::HeaderValue;
use sha2::{Digest, Sha256};

use crate::config::CacheSettings;
use crate::resources::ResourceRequest;
use crate::upstream::Endpoint;

pub use flight::Flights;
pub use status::{CacheResult, CacheStatus, StaleReason};

/// A cache key: the endpoint and the canonical query (parameters sorted,
/// defaults resolved), e.g. `service-orders?serviceName=uno`. Keys never
/// hold response data; details keys hold only the caller's filter values.
pub type CacheKey = Arc<str>;

/// Bytes of bookkeeping counted per entry besides key and body: what an
/// entry really costs in resident memory beyond them, so that resident
/// memory stays under `cache-max-bytes` plus a fixed base.
///
/// Measured: `examples/cache_memory` (the cache alone, 100,000 entries)
/// finds about 530 B per entry beyond key and body: moka's nodes and hash
/// table (~330 B), the `Entry` (~100 B), the body block's header and the
/// ETag's digest in it (~30 B), the key's header (~30 B), the latest alias
/// (~35 B). The running server (`BENCH_ONLY=memory bench/run`, scenario 5:
/// RSS growth per entry minus the body, from a base taken after 1,000
/// other keys) finds about 550 B beyond key and body at 100,000 entries.
/// Under eviction the cache's arena (see [`writer`]) also keeps the holes
/// of evicted entries (glibc `malloc_stats`, before the entries shrank:
/// 760 B each beyond key and body after 300,000 keys through a 64 MiB
/// bound). 800 covers both; RSS growth for 100,000 keys through a 64 MiB
/// bound is 68 MiB.
pub const ENTRY_OVERHEAD_BYTES: usize = 800;

/// An entry's ETag is 12 bytes of the body's SHA-256, kept raw at the start
/// of its block (12 bytes, not the 26 of the header's text).
const DIGEST_LEN: usize = 12;

/// Length of an entry's ETag header value: the digest in hex, with quotes.
const ETAG_LEN: usize = 2 * DIGEST_LEN + 2;

/// One stored answer.
#[derive(Debug)]
pub struct Entry {
    /// Which endpoint it answers.
    pub endpoint: Endpoint,
    /// Its key.
    pub key: CacheKey,
    /// The ETag's digest (a strong validator derived from the body; see
    /// [`Entry::etag`]) followed by the normalised JSON exactly as served, in one
    /// exactly-sized allocation (see [`Entry::body`] and [`Entry::etag`]).
    /// A plain box, not `Bytes`: a response borrows it through the entry's
    /// own reference count ([`Entry::body_bytes`]), so an entry costs no
    /// second shared header.
    block: Box<[u8]>,
    /// When the upstream produced it.
    pub fetched_at: DateTime<Utc>,
    /// Until when it is fresh.
    pub fresh_until: DateTime<Utc>,
    /// When a caller last asked for it (unix seconds), for the pre-closing refresh.
    last_used: AtomicI64,
}

impl Entry {
    /// A new entry fetched at `fetched_at` and fresh for `ttl`.
    pub fn new(
        endpoint: Endpoint,
        key: CacheKey,
        body: Bytes,
        fetched_at: DateTime<Utc>,
        ttl: Duration,
    ) -> Self {
        // The ETag's digest and the body share one exactly-sized allocation, made
        // here: the caller's body (often grown while it was serialised,
        // next to the request's temporaries) is dropped, so what the cache
        // keeps for days is one compact block.
        let digest = Sha256::digest(&body);
        let mut block = Vec::with_capacity(DIGEST_LEN + body.len());
        block.extend_from_slice(&digest[..DIGEST_LEN]);
        block.extend_from_slice(&body);
        drop(body);
        let ttl = chrono::Duration::from_std(ttl).unwrap_or(chrono::Duration::MAX);
        Self {
            endpoint,
            key,
            block: block.into_boxed_slice(),
            fetched_at,
            fresh_until: fetched_at
                .checked_add_signed(ttl)
                .unwrap_or(DateTime::<Utc>::MAX_UTC),
            last_used: AtomicI64::new(fetched_at.timestamp()),
        }
    }

    /// The normalised JSON, exactly as served.
    pub fn body(&self) -> &[u8] {
        &self.block[DIGEST_LEN..]
    }

    /// The body as bytes for a response, without a copy: they hold the
    /// entry (a reference count) until the response is written.
    pub fn body_bytes(self: &Arc<Self>) -> Bytes {
        Bytes::from_owner(BodyOf(self.clone()))
    }

    /// Strong validator derived from the body, with quotes.
    pub fn etag(&self) -> HeaderValue {
        let mut text = [b'"'; ETAG_LEN];
        let _ = hex::encode_to_slice(&self.block[..DIGEST_LEN], &mut text[1..ETAG_LEN - 1]);
        HeaderValue::from_bytes(&text).unwrap_or_else(|_| HeaderValue::from_static("\"0\""))
    }

    /// Seconds since the upstream produced it (never negative).
    pub fn age(&self, now: DateTime<Utc>) -> u64 {
        (now - self.fetched_at).num_seconds().max(0) as u64
    }

    /// Whether it is still fresh at `now`.
    pub fn is_fresh(&self, now: DateTime<Utc>) -> bool {
        now < self.fresh_until
    }

    /// Seconds of freshness left (negative: how long it has been stale).
    pub fn ttl(&self, now: DateTime<Utc>) -> i64 {
        let ms = (self.fresh_until - now).num_milliseconds();
        if ms >= 0 {
            ms / 1000
        } else {
            -((-ms + 999) / 1000)
        }
    }

    /// Notes that a caller used it at `now`.
    pub fn touch(&self, now: DateTime<Utc>) {
        // Written only when the second changes: a hot entry's cache line
        // is not dirtied by every hit.
        let second = now.timestamp();
        if self.last_used.load(Ordering::Relaxed) != second {
            self.last_used.store(second, Ordering::Relaxed);
        }
    }

    /// When a caller last used it.
    pub fn last_used(&self) -> DateTime<Utc> {
        DateTime::from_timestamp(self.last_used.load(Ordering::Relaxed), 0)
            .unwrap_or(self.fetched_at)
    }

    /// The bytes it is charged in the cache's budget.
    pub fn weight(&self) -> usize {
        self.key.len() + self.body().len() + ENTRY_OVERHEAD_BYTES
    }
}

/// An entry seen as its body (what [`Entry::body_bytes`] lends out).
struct BodyOf(Arc<Entry>);

impl AsRef<[u8]> for BodyOf {
    fn as_ref(&self) -> &[u8] {
        self.0.body()
    }
}

/// Gives each [`ResponseCache`] its id.
static NEXT_CACHE_ID: AtomicU64 = AtomicU64::new(0);

/// The byte-bounded store of entries.
#[derive(Clone)]
pub struct ResponseCache {
    store: moka::future::Cache<CacheKey, Arc<Entry>>,
    /// The latest-answer aliases (see [`ResponseCache::set_latest`]).
    latest: Arc<Mutex<Aliases>>,
    settings: CacheSettings,
    /// Bumped by every insert and removal: what a lookup remembered is
    /// still what the cache holds while it has not moved (see [`Self::epoch`]).
    epoch: Arc<AtomicU64>,
    /// Tells this cache from others in the process (see [`Self::epoch`]).
    id: u64,
    /// Makes the entries' long-lived allocations ([`writer`]).
    writer: writer::Writer,
}

/// Alias -> the key of the latest entry stored for it, held as a keyed
/// hash of the alias and a second reference to the entry's own key: about
/// 40 bytes per alias instead of a copy of the alias and a second moka
/// cache's nodes (about 450 bytes). A hash can collide: [`ResponseCache::get_latest`]
/// only answers with a key whose own alias is the one asked for, so a
/// collision can lose an alias, never serve another query's answer.
#[derive(Default)]
struct Aliases {
    hasher: RandomState,
    map: HashMap<u64, CacheKey>,
}

impl Aliases {
    fn hash(&self, alias: &str) -> u64 {
        self.hasher.hash_one(alias)
    }
}

impl std::fmt::Debug for ResponseCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResponseCache")
            .field("entries", &self.store.entry_count())
            .field("bytes", &self.store.weighted_size())
            .finish()
    }
}

impl ResponseCache {
    /// An empty cache with these limits.
    pub fn new(settings: CacheSettings) -> Self {
        let store = moka::future::Cache::builder()
            .max_capacity(settings.max_bytes)
            .weigher(|_key: &CacheKey, entry: &Arc<Entry>| u32::try_from(entry.weight()).unwrap_or(u32::MAX))
            .eviction_listener(|_key, _value, cause| {
                if cause.was_evicted() {
                    metrics::counter!("sog_cache_evictions_total", "cause" => format!("{cause:?}").to_lowercase())
                        .increment(1);
                }
            })
            .build();
        Self {
            store,
            latest: Default::default(),
            settings,
            epoch: Arc::new(AtomicU64::new(0)),
            id: NEXT_CACHE_ID.fetch_add(1, Ordering::Relaxed),
            writer: writer::Writer::start(),
        }
    }

    fn aliases(&self) -> std::sync::MutexGuard<'_, Aliases> {
        self.latest.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Records that `key` holds the latest answer for `alias`: a details
    /// query without dates (whose key changes every day), `alias` being
    /// its [`ResourceRequest::latest_key`] and `key` its cache key.
    ///
    /// Aliases whose entry has left the cache are dropped once they
    /// outnumber the entries, so they never cost more than the entries
    /// they point to (whose weight includes them).
    pub fn set_latest(&self, alias: CacheKey, key: CacheKey) {
        let mut aliases = self.aliases();
        let hash = aliases.hash(&alias);
        aliases.map.insert(hash, key);
        let live = usize::try_from(self.store.entry_count()).unwrap_or(usize::MAX);
        if aliases.map.len() > live.saturating_mul(2).saturating_add(1024) {
            aliases.map.retain(|_, key| self.store.contains_key(key));
        }
    }

    /// The latest entry recorded for `alias`, if still stored and usable at `now`.
    pub async fn get_latest(&self, alias: &str, now: DateTime<Utc>) -> Option<Arc<Entry>> {
        let key = {
            let aliases = self.aliases();
            aliases.map.get(&aliases.hash(alias))?.clone()
        };
        // Another alias with the same hash may have replaced it.
        let own_alias = ResourceRequest::latest_alias_of_key(&key)?;
        if *own_alias != *alias {
            return None;
        }
        self.get(&key, now).await
    }

    /// The settings it was built with.
    pub fn settings(&self) -> &CacheSettings {
        &self.settings
    }

    /// Freshness lifetime for an endpoint.
    pub fn ttl_for(&self, endpoint: Endpoint) -> Duration {
        match endpoint {
            Endpoint::Orders => self.settings.orders_ttl,
            Endpoint::Details => self.settings.details_ttl,
        }
    }

    /// The entry for `key`, if stored and not older than `stale-max-age` at `now`.
    pub async fn get(&self, key: &str, now: DateTime<Utc>) -> Option<Arc<Entry>> {
        let entry = self.store.get(key).await?;
        let max = chrono::Duration::from_std(self.settings.stale_max_age)
            .unwrap_or(chrono::Duration::MAX);
        if now - entry.fetched_at > max {
            return None;
        }
        Some(entry)
    }

    /// Stores an entry, replacing any older one.
    pub async fn insert(&self, entry: Arc<Entry>) {
        let store = self.store.clone();
        let job_entry = entry.clone();
        let job =
            move || futures::executor::block_on(store.insert(job_entry.key.clone(), job_entry));
        if self.writer.run(job).await.is_none() {
            self.store.insert(entry.key.clone(), entry).await;
        }
        self.epoch.fetch_add(1, Ordering::Release);
    }

    /// Makes the entry for an answer to `key` fetched at `fetched_at` (fresh
    /// for the endpoint's TTL) and stores it, replacing any older one.
    /// Its key, body and moka's nodes are allocated on the cache's writer
    /// thread, packed away from the request path's temporaries ([`writer`]).
    pub async fn store_new(
        &self,
        endpoint: Endpoint,
        key: &CacheKey,
        body: Bytes,
        fetched_at: DateTime<Utc>,
    ) -> Arc<Entry> {
        let ttl = self.ttl_for(endpoint);
        let store = self.store.clone();
        let (job_key, job_body) = (key.clone(), body.clone());
        let job = move || {
            // Copied here, so that the key lives in the writer's arena too.
            let key = CacheKey::from(&*job_key);
            let entry = Arc::new(Entry::new(endpoint, key, job_body, fetched_at, ttl));
            futures::executor::block_on(store.insert(entry.key.clone(), entry.clone()));
            entry
        };
        let entry = match self.writer.run(job).await {
            Some(entry) => entry,
            None => {
                let entry = Arc::new(Entry::new(endpoint, key.clone(), body, fetched_at, ttl));
                self.store.insert(entry.key.clone(), entry.clone()).await;
                entry
            }
        };
        self.epoch.fetch_add(1, Ordering::Release);
        entry
    }

    /// Removes one key; returns whether it was there.
    pub async fn remove(&self, key: &str) -> bool {
        let removed = self.store.remove(key).await.is_some();
        self.epoch.fetch_add(1, Ordering::Release);
        removed
    }

    /// (this cache's id, a number that changes whenever an entry is stored
    /// or removed, but not when one is evicted for space or age): while it
    /// stays the same, a key's lookup finds the entry it found before, if
    /// that is still alive. The id is unique in the process, so epochs of
    /// two caches (two gateways in one test) never compare equal.
    pub fn epoch(&self) -> (u64, u64) {
        (self.id, self.epoch.load(Ordering::Acquire))
    }

    /// Removes every entry of an endpoint (all entries when `None`); returns how many.
    pub async fn purge(&self, endpoint: Option<Endpoint>) -> usize {
        let victims: Vec<CacheKey> = self
            .store
            .iter()
            .filter(|(_, e)| endpoint.is_none_or(|ep| e.endpoint == ep))
            .map(|(k, _)| (*k).clone())
            .collect();
        for key in &victims {
            self.store.invalidate(key).await;
        }
        self.store.run_pending_tasks().await;
        self.epoch.fetch_add(1, Ordering::Release);
        self.aliases()
            .map
            .retain(|_, key| self.store.contains_key(key));
        victims.len()
    }

    /// Frees the entries older than `stale-max-age` at `now` (never served
    /// again) and the aliases left without an entry; returns how many entries.
    pub async fn sweep(&self, now: DateTime<Utc>) -> usize {
        let max = chrono::Duration::from_std(self.settings.stale_max_age)
            .unwrap_or(chrono::Duration::MAX);
        let old: Vec<CacheKey> = self
            .store
            .iter()
            .filter(|(_, e)| now - e.fetched_at > max)
            .map(|(k, _)| (*k).clone())
            .collect();
        for key in &old {
            self.store.invalidate(key).await;
        }
        self.store.run_pending_tasks().await;
        self.aliases()
            .map
            .retain(|_, key| self.store.contains_key(key));
        old.len()
    }

    /// A snapshot of all entries (for the admin API and the pre-closing refresh).
    pub fn entries(&self) -> Vec<Arc<Entry>> {
        self.store.iter().map(|(_, e)| e).collect()
    }

    /// Entry count and weighted bytes (after pending maintenance).
    pub async fn usage(&self) -> (u64, u64) {
        self.store.run_pending_tasks().await;
        (self.store.entry_count(), self.store.weighted_size())
    }

    /// Entry count and bytes without running maintenance (for metrics scrapes).
    pub fn usage_estimate(&self) -> (u64, u64) {
        (self.store.entry_count(), self.store.weighted_size())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::{DetailsRequest, ResourceRequest};
    use chrono::NaiveDate;

    fn cache() -> ResponseCache {
        ResponseCache::new(CacheSettings {
            max_bytes: 1 << 30,
            orders_ttl: Duration::from_secs(60),
            details_ttl: Duration::from_secs(300),
            stale_max_age: Duration::from_secs(86_400),
            prefetch_lead: Duration::from_secs(600),
        })
    }

    fn details(id: &str) -> ResourceRequest {
        ResourceRequest::Details(DetailsRequest {
            webentry_id: Some(id.into()),
            n_no: None,
            v_no: None,
            from: NaiveDate::from_ymd_opt(2026, 11, 3).unwrap(),
            to: NaiveDate::from_ymd_opt(2026, 12, 3).unwrap(),
            default_range: true,
        })
    }

    #[test]
    fn the_etag_and_the_body_share_one_block() {
        let body = Bytes::from_static(b"{\"a\":1}");
        let e = Arc::new(Entry::new(
            Endpoint::Details,
            "k".into(),
            body.clone(),
            Utc::now(),
            Duration::from_secs(1),
        ));
        assert_eq!(e.body(), &body[..]);
        let lent = e.body_bytes();
        assert_eq!(lent, body);
        assert_eq!(Arc::strong_count(&e), 2, "the bytes hold the entry");
        drop(lent);
        assert_eq!(Arc::strong_count(&e), 1);
        let etag = e.etag();
        let etag = etag.to_str().unwrap();
        assert_eq!(etag.len(), ETAG_LEN);
        assert!(etag.starts_with('"') && etag.ends_with('"'));
        assert!(etag[1..25].bytes().all(|b| b.is_ascii_hexdigit()));
        assert_eq!(e.weight(), 1 + body.len() + ENTRY_OVERHEAD_BYTES);
    }

    #[tokio::test]
    async fn an_alias_answers_only_with_an_entry_for_its_own_filters() {
        let cache = cache();
        let now = Utc::now();
        let (a, b) = (details("A1"), details("B2"));
        let entry = cache
            .store_new(
                Endpoint::Details,
                &a.cache_key(),
                Bytes::from_static(b"[]"),
                now,
            )
            .await;
        cache.set_latest(a.latest_key().unwrap(), entry.key.clone());
        let got = cache.get_latest(&a.latest_key().unwrap(), now).await;
        assert_eq!(got.unwrap().key, a.cache_key());
        // An alias recorded against another query's key (as a hash
        // collision would) is not answered.
        cache.set_latest(b.latest_key().unwrap(), a.cache_key());
        assert!(
            cache
                .get_latest(&b.latest_key().unwrap(), now)
                .await
                .is_none()
        );
        assert!(
            cache
                .get_latest("service-order-details?latest&webentry_id=C3", now)
                .await
                .is_none()
        );
    }

    #[tokio::test]
    async fn the_sweep_frees_entries_older_than_stale_max_age_and_their_aliases() {
        let cache = cache();
        let then = Utc::now() - chrono::Duration::days(2);
        let now = Utc::now();
        let (old, new) = (details("OLD1"), details("NEW1"));
        for (request, at) in [(&old, then), (&new, now)] {
            let entry = cache
                .store_new(
                    Endpoint::Details,
                    &request.cache_key(),
                    Bytes::from_static(b"[]"),
                    at,
                )
                .await;
            cache.set_latest(request.latest_key().unwrap(), entry.key.clone());
        }
        assert_eq!(cache.sweep(now).await, 1);
        assert_eq!(cache.usage().await.0, 1);
        assert!(cache.get(&new.cache_key(), now).await.is_some());
        assert!(
            cache
                .get_latest(&new.latest_key().unwrap(), now)
                .await
                .is_some()
        );
        assert_eq!(cache.aliases().map.len(), 1);
    }
}

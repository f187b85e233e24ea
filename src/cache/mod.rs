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
//!
//! moka is keyed by a keyed 64-bit hash of the cache key ([`KeyHash`]); the
//! key's text lives in the entry's own block, and every lookup checks it, so
//! two keys with one hash can cost a miss, never another query's answer.
//! An entry is two allocations besides moka's nodes: the `Entry` and its
//! block (ETag digest, key, body).

pub mod flight;
pub mod status;
mod writer;

use std::hash::{BuildHasher, BuildHasherDefault, Hasher, RandomState};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
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
/// Measured: `examples/cache_memory` (the cache alone) finds about 440 B
/// per entry beyond key and body at 100,000 entries (460 at 10,000):
/// moka's nodes and hash table (~315 B), the `Entry` (80 B), the block's
/// allocation header and the ETag's digest (~25 B). The running server
/// (`BENCH_ONLY=memory bench/run`, scenario 5) finds about 435 B beyond key
/// and body at 100,000 entries. Under eviction the cache's arena (see
/// [`writer`]) also keeps the holes evicted entries leave: 300,000 and
/// 600,000 keys through a 64 MiB bound both grow resident memory by
/// 67 MiB (the request path's few MiB of working memory included), 300,000
/// through 256 MiB by 248 MiB. 600 covers it.
pub const ENTRY_OVERHEAD_BYTES: usize = 600;

/// An entry's ETag is 12 bytes of the body's SHA-256, kept raw at the start
/// of its block (12 bytes, not the 26 of the header's text).
const DIGEST_LEN: usize = 12;

/// Length of an entry's ETag header value: the digest in hex, with quotes.
const ETAG_LEN: usize = 2 * DIGEST_LEN + 2;

/// One stored answer.
#[derive(Debug)]
pub struct Entry {
    /// The ETag's digest (a strong validator derived from the body; see
    /// [`Entry::etag`]), the entry's cache key and the normalised JSON
    /// exactly as served, in one exactly-sized allocation (see
    /// [`Entry::key`] and [`Entry::body`]). A plain box, not `Bytes`: a
    /// response borrows it through the entry's own reference count
    /// ([`Entry::body_bytes`]), so an entry costs no second shared header.
    block: Box<[u8]>,
    /// When the upstream produced it.
    pub fetched_at: DateTime<Utc>,
    /// Until when it is fresh.
    pub fresh_until: DateTime<Utc>,
    /// When a caller last asked for it (unix seconds), for the pre-closing refresh.
    last_used: AtomicI64,
    /// Length of the key in `block` (keys are at most a URI long).
    key_len: u32,
    /// Which endpoint it answers.
    pub endpoint: Endpoint,
}

impl Entry {
    /// A new entry for the cache key `key`, fetched at `fetched_at` and fresh for `ttl`.
    pub fn new(
        endpoint: Endpoint,
        key: &str,
        body: Bytes,
        fetched_at: DateTime<Utc>,
        ttl: Duration,
    ) -> Self {
        // Digest, key and body share one exactly-sized allocation, made
        // here: the caller's body (often grown while it was serialised,
        // next to the request's temporaries) is dropped, so what the cache
        // keeps for days is one compact block. (A key longer than 4 GiB
        // cannot come from a request; cut, it would only never be found.)
        let key = &key.as_bytes()[..key.len().min(u32::MAX as usize)];
        let digest = Sha256::digest(&body);
        let mut block = Vec::with_capacity(DIGEST_LEN + key.len() + body.len());
        block.extend_from_slice(&digest[..DIGEST_LEN]);
        block.extend_from_slice(key);
        block.extend_from_slice(&body);
        drop(body);
        let ttl = chrono::Duration::from_std(ttl).unwrap_or(chrono::Duration::MAX);
        Self {
            block: block.into_boxed_slice(),
            fetched_at,
            fresh_until: fetched_at
                .checked_add_signed(ttl)
                .unwrap_or(DateTime::<Utc>::MAX_UTC),
            last_used: AtomicI64::new(fetched_at.timestamp()),
            key_len: key.len() as u32,
            endpoint,
        }
    }

    fn key_bytes(&self) -> &[u8] {
        &self.block[DIGEST_LEN..DIGEST_LEN + self.key_len as usize]
    }

    /// Its cache key (see [`CacheKey`]).
    pub fn key(&self) -> &str {
        // Valid UTF-8: copied from a `&str`. (Only a key cut at 4 GiB,
        // which no request can carry, could end mid-character: it reads
        // as empty and matches nothing.)
        std::str::from_utf8(self.key_bytes()).unwrap_or_default()
    }

    /// The normalised JSON, exactly as served.
    pub fn body(&self) -> &[u8] {
        &self.block[DIGEST_LEN + self.key_len as usize..]
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
        self.key_len as usize + self.body().len() + ENTRY_OVERHEAD_BYTES
    }
}

/// An entry seen as its body (what [`Entry::body_bytes`] lends out).
struct BodyOf(Arc<Entry>);

impl AsRef<[u8]> for BodyOf {
    fn as_ref(&self) -> &[u8] {
        self.0.body()
    }
}

/// What moka is keyed by: a keyed SipHash of the cache key (the
/// process's own random key, so callers cannot aim two queries at one
/// hash). 8 bytes instead of a second copy or reference of the text; the
/// entry's own key is compared on every lookup ([`ResponseCache::get`]).
type KeyHash = u64;

/// moka's hasher for [`KeyHash`]es: they are hashes already, so it passes
/// them through instead of hashing each lookup a second time.
#[derive(Default)]
struct PassThrough(u64);

impl Hasher for PassThrough {
    fn write(&mut self, bytes: &[u8]) {
        // Not used for `u64` keys; a fold, should anything else be hashed.
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(b);
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

/// Gives each [`ResponseCache`] its id.
static NEXT_CACHE_ID: AtomicU64 = AtomicU64::new(0);

/// The byte-bounded store of entries.
#[derive(Clone)]
pub struct ResponseCache {
    store: moka::future::Cache<KeyHash, Arc<Entry>, BuildHasherDefault<PassThrough>>,
    /// Hashes cache keys into [`KeyHash`]es.
    hasher: RandomState,
    settings: CacheSettings,
    /// Bumped by every insert and removal: what a lookup remembered is
    /// still what the cache holds while it has not moved (see [`Self::epoch`]).
    epoch: Arc<AtomicU64>,
    /// Tells this cache from others in the process (see [`Self::epoch`]).
    id: u64,
    /// Makes the entries' long-lived allocations ([`writer`]).
    writer: writer::Writer,
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
            .weigher(|_key: &KeyHash, entry: &Arc<Entry>| {
                u32::try_from(entry.weight()).unwrap_or(u32::MAX)
            })
            .eviction_listener(|_key, _value, cause| {
                if cause.was_evicted() {
                    metrics::counter!("sog_cache_evictions_total", "cause" => format!("{cause:?}").to_lowercase())
                        .increment(1);
                }
            })
            .build_with_hasher(BuildHasherDefault::default());
        Self {
            store,
            hasher: RandomState::new(),
            settings,
            epoch: Arc::new(AtomicU64::new(0)),
            id: NEXT_CACHE_ID.fetch_add(1, Ordering::Relaxed),
            writer: writer::Writer::start(),
        }
    }

    fn hash(&self, key: &str) -> KeyHash {
        self.hasher.hash_one(key)
    }

    /// The latest entry for a details query without dates, if one is
    /// stored and usable at `now`: the answer for the same filters whose
    /// default range ended most recently (today's range first), so that
    /// after midnight on a closed day the last answer can still be served
    /// (its body states the range it covers). Looks back no further than
    /// `stale-max-age` allows an answer to be served.
    pub async fn get_latest(
        &self,
        request: &ResourceRequest,
        now: DateTime<Utc>,
    ) -> Option<Arc<Entry>> {
        let days = self.settings.stale_max_age.as_secs() / 86_400 + 1;
        for key in request
            .earlier_default_ranges()
            .take(days.min(MAX_LATEST_DAYS) as usize + 1)
        {
            if let Some(entry) = self.get(&key, now).await {
                return Some(entry);
            }
        }
        None
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
        let entry = self
            .store
            .get(&self.hash(key))
            .await
            .filter(|e| e.key_bytes() == key.as_bytes())?;
        let max = chrono::Duration::from_std(self.settings.stale_max_age)
            .unwrap_or(chrono::Duration::MAX);
        if now - entry.fetched_at > max {
            return None;
        }
        Some(entry)
    }

    /// Stores an entry, replacing any older one.
    pub async fn insert(&self, entry: Arc<Entry>) {
        let (store, hash) = (self.store.clone(), self.hash(entry.key()));
        let job_entry = entry.clone();
        let job = move || futures::executor::block_on(store.insert(hash, job_entry));
        if self.writer.run(job).await.is_none() {
            self.store.insert(hash, entry).await;
        }
        self.epoch.fetch_add(1, Ordering::Release);
    }

    /// Makes the entry for an answer to `key` fetched at `fetched_at` (fresh
    /// for the endpoint's TTL) and stores it, replacing any older one.
    /// Its block and moka's nodes are allocated on the cache's writer
    /// thread, packed away from the request path's temporaries ([`writer`]).
    pub async fn store_new(
        &self,
        endpoint: Endpoint,
        key: &CacheKey,
        body: Bytes,
        fetched_at: DateTime<Utc>,
    ) -> Arc<Entry> {
        let ttl = self.ttl_for(endpoint);
        let (store, hash) = (self.store.clone(), self.hash(key));
        let (job_key, job_body) = (key.clone(), body.clone());
        let job = move || {
            let entry = Arc::new(Entry::new(endpoint, &job_key, job_body, fetched_at, ttl));
            futures::executor::block_on(store.insert(hash, entry.clone()));
            entry
        };
        let entry = match self.writer.run(job).await {
            Some(entry) => entry,
            None => {
                let entry = Arc::new(Entry::new(endpoint, key, body, fetched_at, ttl));
                self.store.insert(hash, entry.clone()).await;
                entry
            }
        };
        self.epoch.fetch_add(1, Ordering::Release);
        entry
    }

    /// Removes one key; returns whether it was there.
    pub async fn remove(&self, key: &str) -> bool {
        let hash = self.hash(key);
        let removed = match self.store.get(&hash).await {
            Some(e) if e.key_bytes() == key.as_bytes() => self.store.remove(&hash).await.is_some(),
            _ => false,
        };
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

    /// Removes the entries `victim` picks, then runs moka's maintenance; returns how many.
    async fn remove_where(&self, victim: impl Fn(&Entry) -> bool) -> usize {
        let victims: Vec<KeyHash> = self
            .store
            .iter()
            .filter(|(_, e)| victim(e))
            .map(|(k, _)| *k)
            .collect();
        for hash in &victims {
            self.store.invalidate(hash).await;
        }
        self.store.run_pending_tasks().await;
        victims.len()
    }

    /// Removes every entry of an endpoint (all entries when `None`); returns how many.
    pub async fn purge(&self, endpoint: Option<Endpoint>) -> usize {
        let purged = self
            .remove_where(|e| endpoint.is_none_or(|ep| e.endpoint == ep))
            .await;
        self.epoch.fetch_add(1, Ordering::Release);
        purged
    }

    /// Frees the entries older than `stale-max-age` at `now` (never served
    /// again); returns how many.
    pub async fn sweep(&self, now: DateTime<Utc>) -> usize {
        let max = chrono::Duration::from_std(self.settings.stale_max_age)
            .unwrap_or(chrono::Duration::MAX);
        self.remove_where(|e| now - e.fetched_at > max).await
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

/// The most days [`ResponseCache::get_latest`] looks back, however long
/// `stale-max-age` is (a year: a lookup per day, only when closed).
const MAX_LATEST_DAYS: u64 = 366;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::{DetailsRequest, ResourceRequest};
    use chrono::NaiveDate;

    fn cache_keeping(stale_days: u64) -> ResponseCache {
        ResponseCache::new(CacheSettings {
            max_bytes: 1 << 30,
            orders_ttl: Duration::from_secs(60),
            details_ttl: Duration::from_secs(300),
            stale_max_age: Duration::from_secs(stale_days * 86_400),
            prefetch_lead: Duration::from_secs(600),
        })
    }

    fn day(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 12, 1).unwrap() + chrono::Days::new(u64::from(d) - 1)
    }

    /// A details query for `id` with the default range ending on December `to`.
    fn details_to(id: &str, to: u32) -> ResourceRequest {
        ResourceRequest::Details(DetailsRequest {
            webentry_id: Some(id.into()),
            n_no: None,
            v_no: None,
            from: DetailsRequest::default_from(day(to)),
            to: day(to),
            default_range: true,
        })
    }

    async fn store(
        cache: &ResponseCache,
        request: &ResourceRequest,
        body: &'static str,
        at: DateTime<Utc>,
    ) {
        cache
            .store_new(
                Endpoint::Details,
                &request.cache_key(),
                Bytes::from_static(body.as_bytes()),
                at,
            )
            .await;
    }

    #[test]
    fn the_etag_the_key_and_the_body_share_one_block() {
        let body = Bytes::from_static(b"{\"a\":1}");
        let e = Arc::new(Entry::new(
            Endpoint::Details,
            "service-orders?serviceName=uno",
            body.clone(),
            Utc::now(),
            Duration::from_secs(1),
        ));
        assert_eq!(e.key(), "service-orders?serviceName=uno");
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
        assert_eq!(e.weight(), 30 + body.len() + ENTRY_OVERHEAD_BYTES);
    }

    #[tokio::test]
    async fn a_lookup_answers_only_with_the_entry_of_its_own_key() {
        let cache = cache_keeping(1);
        let now = Utc::now();
        let (a, b) = (
            details_to("A1", 3).cache_key(),
            details_to("B2", 3).cache_key(),
        );
        let entry = Arc::new(Entry::new(
            Endpoint::Details,
            &a,
            Bytes::from_static(b"[]"),
            now,
            Duration::from_secs(300),
        ));
        // What two keys with one hash look like: A's entry where B's hash leads.
        cache.store.insert(cache.hash(&b), entry).await;
        assert!(
            cache.get(&b, now).await.is_none(),
            "never another key's answer"
        );
        assert!(!cache.remove(&b).await, "nor removes it as B's");
        assert_eq!(cache.usage().await.0, 1);
        assert!(
            cache.get(&a, now).await.is_none(),
            "A's own hash leads nowhere"
        );
    }

    #[tokio::test]
    async fn the_latest_answer_is_the_default_range_that_ended_last() {
        let cache = cache_keeping(10);
        let now = Utc::now();
        store(&cache, &details_to("A1", 1), "[1]", now).await;
        store(&cache, &details_to("A1", 2), "[2]", now).await;
        store(&cache, &details_to("B2", 3), "[b]", now).await;
        let latest = cache.get_latest(&details_to("A1", 4), now).await.unwrap();
        assert_eq!(latest.body(), b"[2]");
        assert_eq!(latest.key(), details_to("A1", 2).cache_key().as_ref());
        // Today's own range, when stored, comes first.
        store(&cache, &details_to("A1", 4), "[4]", now).await;
        assert_eq!(
            cache
                .get_latest(&details_to("A1", 4), now)
                .await
                .unwrap()
                .body(),
            b"[4]"
        );
        // Only queries without dates have a latest answer.
        let ResourceRequest::Details(mut dated) = details_to("A1", 4) else {
            unreachable!()
        };
        dated.default_range = false;
        assert!(
            cache
                .get_latest(&ResourceRequest::Details(dated), now)
                .await
                .is_none()
        );
        assert!(cache.get_latest(&details_to("C3", 4), now).await.is_none());
    }

    #[tokio::test]
    async fn the_latest_answer_is_looked_for_as_far_back_as_stale_max_age_allows() {
        let cache = cache_keeping(2);
        let now = Utc::now();
        // Ranges that ended 3 and 4 days before the 10th; stored now (as an
        // explicit range would be), so only the look-back limits them.
        store(&cache, &details_to("A1", 7), "[7]", now).await;
        store(&cache, &details_to("B2", 6), "[6]", now).await;
        assert_eq!(
            cache
                .get_latest(&details_to("A1", 10), now)
                .await
                .unwrap()
                .body(),
            b"[7]"
        );
        assert!(cache.get_latest(&details_to("B2", 10), now).await.is_none());
    }

    #[tokio::test]
    async fn the_sweep_frees_entries_older_than_stale_max_age() {
        let cache = cache_keeping(1);
        let then = Utc::now() - chrono::Duration::days(2);
        let now = Utc::now();
        let (old, new) = (details_to("OLD1", 3), details_to("NEW1", 3));
        store(&cache, &old, "[]", then).await;
        store(&cache, &new, "[]", now).await;
        assert_eq!(cache.sweep(now).await, 1);
        assert_eq!(cache.usage().await.0, 1);
        assert!(cache.get(&new.cache_key(), now).await.is_some());
        assert!(cache.get(&old.cache_key(), now).await.is_none());
    }
}

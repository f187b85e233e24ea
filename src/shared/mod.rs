//! State shared by replicas through Redis: the second-tier cache
//! ([`Shared::get_entry`], [`Shared::put_entry`]), encrypted at rest
//! ([`codec`]); one upstream budget for all replicas ([`limiter`]); leases
//! so one replica refreshes a key ([`Shared::try_lease`]); and purges
//! broadcast on a pub/sub channel ([`Shared::run_purge_listener`]); and
//! the upstream access token, encrypted, so replicas do not each fetch one.
//!
//! Redis is an optimisation, never a dependency: every operation has a short
//! timeout, and after a failure Redis is skipped for a second (callers fall
//! back to moka alone and the local limiter); the connection manager
//! reconnects by itself when Redis returns.

pub mod codec;
pub mod limiter;

use std::sync::Mutex;
use std::time::Duration;

use chrono::{DateTime, NaiveDate, Utc};
use futures::StreamExt;
use redis::AsyncCommands;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use sha2::{Digest, Sha256};
use tokio::time::Instant;

use crate::cache::{CacheKey, Entry, ResponseCache};
use crate::config::RedisSettings;
use crate::upstream::Endpoint;

pub use codec::{CodecError, EntryCodec};

/// How long one Redis operation may take before it counts as a failure.
pub const OP_TIMEOUT: Duration = Duration::from_millis(500);
/// How long Redis is skipped after a failure.
pub const RETRY_AFTER_FAILURE: Duration = Duration::from_secs(1);

/// Redis is not usable right now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("Redis is unavailable")]
pub struct Unavailable;

/// What purging removes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PurgeScope {
    /// Everything.
    All,
    /// One endpoint's entries.
    Endpoint(Endpoint),
    /// One cache key.
    Key(String),
}

impl PurgeScope {
    fn encode(&self) -> String {
        match self {
            PurgeScope::All => "all".into(),
            PurgeScope::Endpoint(e) => format!("endpoint:{}", e.label()),
            PurgeScope::Key(k) => format!("key:{k}"),
        }
    }

    fn decode(s: &str) -> Option<PurgeScope> {
        if s == "all" {
            return Some(PurgeScope::All);
        }
        if let Some(label) = s.strip_prefix("endpoint:") {
            return Endpoint::ALL
                .into_iter()
                .find(|e| e.label() == label)
                .map(PurgeScope::Endpoint);
        }
        s.strip_prefix("key:")
            .map(|k| PurgeScope::Key(k.to_owned()))
    }

    /// Applies the purge to this replica's moka cache; returns how many entries went.
    pub async fn apply(&self, cache: &ResponseCache) -> usize {
        match self {
            PurgeScope::All => cache.purge(None).await,
            PurgeScope::Endpoint(e) => cache.purge(Some(*e)).await,
            PurgeScope::Key(k) => usize::from(cache.remove(k).await),
        }
    }
}

/// A held lease: release it when done (it expires anyway).
#[derive(Debug)]
pub struct Lease {
    key: String,
    token: String,
}

/// The outcome of asking for a lease.
#[derive(Debug)]
pub enum LeaseOutcome {
    /// This replica holds it.
    Acquired(Lease),
    /// Another replica holds it.
    Held,
    /// Redis is unavailable: act alone.
    Unavailable,
}

/// The connection to Redis and what is stored there.
pub struct Shared {
    conn: ConnectionManager,
    client: redis::Client,
    codec: EntryCodec,
    settings: RedisSettings,
    /// Identifies this replica in leases and purge messages.
    replica_id: String,
    stale_max_age: Duration,
    down_until: Mutex<Option<Instant>>,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared")
            .field("url", &self.settings.url)
            .field("codec", &self.codec)
            .field("replica_id", &self.replica_id)
            .finish()
    }
}

/// A short digest naming a cache key in Redis without revealing it.
fn digest(text: &str) -> String {
    hex::encode(&Sha256::digest(text.as_bytes())[..16])
}

impl Shared {
    /// Prepares the connection (lazily: start-up does not wait for Redis).
    pub fn new(
        settings: RedisSettings,
        stale_max_age: Duration,
    ) -> Result<Self, redis::RedisError> {
        let client = redis::Client::open(settings.url.expose())?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(Duration::from_millis(300)))
            .set_response_timeout(Some(OP_TIMEOUT))
            .set_number_of_retries(1)
            .set_min_delay(Duration::from_millis(50))
            .set_max_delay(Duration::from_millis(500));
        let conn = ConnectionManager::new_lazy_with_config(client.clone(), config)?;
        tracing::info!(url = %settings.url, encrypted = settings.cache_key.is_some(), "sharing cache, rate limit and refreshes through Redis");
        metrics::gauge!("sog_redis_up").set(1.0);
        if settings.cache_key.is_none() {
            tracing::warn!(
                "cache entries are stored in Redis UNENCRYPTED (SOG_REDIS_ALLOW_PLAINTEXT)"
            );
        }
        Ok(Self {
            conn,
            client,
            codec: EntryCodec::new(settings.cache_key.as_ref().map(|k| &k.0)),
            settings,
            replica_id: uuid::Uuid::new_v4().to_string(),
            stale_max_age,
            down_until: Mutex::new(None),
        })
    }

    /// The codec of stored values.
    pub fn codec(&self) -> &EntryCodec {
        &self.codec
    }

    /// This replica's id.
    pub fn replica_id(&self) -> &str {
        &self.replica_id
    }

    /// Whether Redis answered the last time it was asked (or has not been asked).
    pub fn is_available(&self) -> bool {
        self.skip_until().is_none()
    }

    fn skip_until(&self) -> Option<Instant> {
        let down = self.down_until.lock().unwrap_or_else(|e| e.into_inner());
        down.filter(|until| *until > Instant::now())
    }

    /// Runs one Redis operation with the timeout and failure bookkeeping.
    pub(crate) async fn run<T, F, Fut>(&self, op: F) -> Result<T, Unavailable>
    where
        F: FnOnce(ConnectionManager) -> Fut,
        Fut: std::future::Future<Output = redis::RedisResult<T>>,
    {
        if self.skip_until().is_some() {
            return Err(Unavailable);
        }
        let result = tokio::time::timeout(OP_TIMEOUT, op(self.conn.clone())).await;
        let mut down = self.down_until.lock().unwrap_or_else(|e| e.into_inner());
        match result {
            Ok(Ok(value)) => {
                if down.take().is_some() {
                    tracing::info!("Redis is reachable again: shared cache and rate limit resumed");
                    metrics::gauge!("sog_redis_up").set(1.0);
                }
                Ok(value)
            }
            Ok(Err(e))
                if !e.is_io_error()
                    && !e.is_timeout()
                    && !e.is_connection_dropped()
                    && !e.is_connection_refusal() =>
            {
                // Redis answered with an error: it is up, the command was wrong.
                tracing::warn!(error = %e, "a Redis command failed");
                Err(Unavailable)
            }
            failure => {
                if down.is_none() {
                    let why = match failure {
                        Ok(Err(e)) => e.to_string(),
                        _ => "timed out".into(),
                    };
                    tracing::warn!(error = %why, "Redis is unreachable: using this replica's cache and local rate limit until it returns");
                }
                metrics::counter!("sog_redis_failures_total").increment(1);
                metrics::gauge!("sog_redis_up").set(0.0);
                *down = Some(Instant::now() + RETRY_AFTER_FAILURE);
                Err(Unavailable)
            }
        }
    }

    fn key(&self, parts: &[&str]) -> String {
        let mut k = self.settings.prefix.clone();
        k.push_str(&parts.join(":"));
        k
    }

    /// The Redis key of the entry for a cache key: the endpoint, then a digest.
    pub fn entry_key(&self, key: &str) -> String {
        let endpoint = key.split_once('?').map_or(key, |(e, _)| e);
        self.key(&["entry", endpoint, &digest(key)])
    }

    /// The entry for `key` in Redis, if there and younger than `stale-max-age` at `now`.
    pub async fn get_entry(&self, key: &CacheKey, now: DateTime<Utc>) -> Option<Entry> {
        let rkey = self.entry_key(key);
        let value: Option<Vec<u8>> = self
            .run(|mut c| async move { c.get(rkey).await })
            .await
            .ok()
            .flatten();
        let entry = match self.codec.decode_entry(key, &value?) {
            Ok(e) => e,
            Err(e) => {
                tracing::warn!(error = %e, "ignoring an unreadable cache entry in Redis");
                return None;
            }
        };
        let max = chrono::Duration::from_std(self.stale_max_age).unwrap_or(chrono::Duration::MAX);
        (now - entry.fetched_at <= max).then_some(entry)
    }

    /// Stores `entry` until it is `stale-max-age` old.
    pub async fn put_entry(&self, entry: &Entry, now: DateTime<Utc>) {
        let left = self
            .stale_max_age
            .saturating_sub(Duration::from_secs(entry.age(now)));
        if left.is_zero() {
            return;
        }
        let rkey = self.entry_key(entry.key());
        let value = self.codec.encode_entry(entry);
        let ms = left.as_millis().min(u64::MAX as u128) as u64;
        let _ = self
            .run(|mut c| async move { c.pset_ex::<_, _, ()>(rkey, value, ms).await })
            .await;
    }

    /// Records (encrypted) that `key` holds the latest answer for `alias`.
    pub async fn set_latest(&self, alias: &str, key: &str) {
        let rkey = self.key(&["latest", &digest(alias)]);
        let value = self.codec.seal(alias.as_bytes(), key.as_bytes());
        let ms = self.stale_max_age.as_millis().min(u64::MAX as u128) as u64;
        let _ = self
            .run(|mut c| async move { c.pset_ex::<_, _, ()>(rkey, value, ms).await })
            .await;
    }

    /// The key recorded as the latest answer for `alias`.
    pub async fn get_latest(&self, alias: &str) -> Option<CacheKey> {
        let rkey = self.key(&["latest", &digest(alias)]);
        let value: Option<Vec<u8>> = self
            .run(|mut c| async move { c.get(rkey).await })
            .await
            .ok()
            .flatten();
        let plain = self.codec.open(alias.as_bytes(), &value?).ok()?;
        String::from_utf8(plain).ok().map(CacheKey::from)
    }

    /// Stores `plain` encrypted (when a key is set) under `name` for `ttl`.
    pub async fn put_sealed(&self, name: &str, plain: &[u8], ttl: Duration) {
        let key = self.key(&[name]);
        let value = self.codec.seal(key.as_bytes(), plain);
        let ms = ttl.as_millis().clamp(1, u64::MAX as u128) as u64;
        let _ = self
            .run(|mut c| async move { c.pset_ex::<_, _, ()>(key, value, ms).await })
            .await;
    }

    /// What [`Shared::put_sealed`] stored under `name`, if still there.
    pub async fn get_sealed(&self, name: &str) -> Option<Vec<u8>> {
        let key = self.key(&[name]);
        let k = key.clone();
        let value: Option<Vec<u8>> = self
            .run(|mut c| async move { c.get(k).await })
            .await
            .ok()
            .flatten();
        self.codec.open(key.as_bytes(), &value?).ok()
    }

    /// Deletes what is stored under `name`.
    pub async fn delete(&self, name: &str) {
        let key = self.key(&[name]);
        let _ = self
            .run(|mut c| async move { c.del::<_, ()>(key).await })
            .await;
    }

    /// A name for `text` that does not reveal it.
    pub fn digest(text: &str) -> String {
        digest(text)
    }

    /// Asks for the lease `name` for `ttl` (`SET NX PX`).
    pub async fn try_lease(&self, name: &str, ttl: Duration) -> LeaseOutcome {
        let key = self.key(&["lease", name]);
        let token = format!("{}:{}", self.replica_id, uuid::Uuid::new_v4());
        let (k, t) = (key.clone(), token.clone());
        let ms = ttl.as_millis().max(1) as u64;
        let set: Result<Option<String>, _> = self
            .run(|mut c| async move {
                redis::cmd("SET")
                    .arg(k)
                    .arg(t)
                    .arg("NX")
                    .arg("PX")
                    .arg(ms)
                    .query_async(&mut c)
                    .await
            })
            .await;
        match set {
            Ok(Some(_)) => LeaseOutcome::Acquired(Lease { key, token }),
            Ok(None) => LeaseOutcome::Held,
            Err(Unavailable) => LeaseOutcome::Unavailable,
        }
    }

    /// The lease for refreshing cache key `key`.
    pub async fn try_key_lease(&self, key: &str) -> LeaseOutcome {
        self.try_lease(&digest(key), self.settings.lease).await
    }

    /// Releases a lease if this replica still holds it.
    pub async fn release(&self, lease: Lease) {
        static RELEASE: std::sync::LazyLock<redis::Script> = std::sync::LazyLock::new(|| {
            redis::Script::new(
                "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end",
            )
        });
        let _ = self
            .run(|mut c| async move {
                RELEASE
                    .key(lease.key)
                    .arg(lease.token)
                    .invoke_async::<i64>(&mut c)
                    .await
            })
            .await;
    }

    /// Adds the cache keys used on `day` to the day's shared list (for the pre-closing refresh).
    pub async fn record_used(&self, day: NaiveDate, keys: &[CacheKey]) {
        if keys.is_empty() {
            return;
        }
        let name = self.key(&["used", &day.to_string()]);
        let aad = name.clone();
        let values: Vec<Vec<u8>> = keys
            .iter()
            .map(|k| self.codec.seal(aad.as_bytes(), k.as_bytes()))
            .collect();
        let _ = self
            .run(|mut c| async move {
                redis::pipe()
                    .rpush(&name, values)
                    .ignore()
                    .expire(&name, 2 * 86_400)
                    .ignore()
                    .query_async::<()>(&mut c)
                    .await
            })
            .await;
    }

    /// The cache keys any replica used on `day`.
    pub async fn used(&self, day: NaiveDate) -> Vec<CacheKey> {
        let name = self.key(&["used", &day.to_string()]);
        let n = name.clone();
        let values: Vec<Vec<u8>> = self
            .run(|mut c| async move { c.lrange(n, 0, -1).await })
            .await
            .unwrap_or_default();
        let mut keys: Vec<CacheKey> = values
            .iter()
            .filter_map(|v| self.codec.open(name.as_bytes(), v).ok())
            .filter_map(|p| String::from_utf8(p).ok())
            .map(CacheKey::from)
            .collect();
        keys.sort();
        keys.dedup();
        keys
    }

    fn purge_channel(&self) -> String {
        self.key(&["purge"])
    }

    /// Deletes the scope's entries from Redis and tells every replica to
    /// purge its own cache. Returns whether Redis took it.
    pub async fn purge(&self, scope: &PurgeScope) -> bool {
        let pattern = match scope {
            PurgeScope::All => Some(self.key(&["entry", "*"])),
            PurgeScope::Endpoint(e) => Some(self.key(&["entry", e.label(), "*"])),
            PurgeScope::Key(_) => None,
        };
        let deleted = match (scope, pattern) {
            (PurgeScope::Key(k), _) => {
                let rkey = self.entry_key(k);
                self.run(|mut c| async move { c.del::<_, ()>(rkey).await })
                    .await
            }
            (_, Some(pattern)) => {
                self.run(|mut c| async move {
                    let keys: Vec<String> = {
                        let mut iter = c.scan_match::<_, String>(pattern).await?;
                        let mut keys = Vec::new();
                        while let Some(k) = iter.next_item().await {
                            keys.push(k?);
                        }
                        keys
                    };
                    for chunk in keys.chunks(500) {
                        c.unlink::<_, ()>(chunk).await?;
                    }
                    Ok(())
                })
                .await
            }
            _ => Ok(()),
        };
        let message = format!("{}\n{}", self.replica_id, scope.encode());
        let channel = self.purge_channel();
        let published = self
            .run(|mut c| async move { c.publish::<_, _, ()>(channel, message).await })
            .await;
        deleted.is_ok() && published.is_ok()
    }

    /// Runs forever: applies purges published by other replicas to `cache`,
    /// resubscribing after Redis outages.
    pub async fn run_purge_listener(self: std::sync::Arc<Self>, cache: ResponseCache) {
        let channel = self.purge_channel();
        loop {
            match self.client.get_async_pubsub().await {
                Ok(mut pubsub) => {
                    if pubsub.subscribe(&channel).await.is_ok() {
                        let mut messages = pubsub.on_message();
                        while let Some(msg) = messages.next().await {
                            let Ok(text) = msg.get_payload::<String>() else {
                                continue;
                            };
                            let Some((from, scope)) = text.split_once('\n') else {
                                continue;
                            };
                            if from == self.replica_id {
                                continue;
                            }
                            if let Some(scope) = PurgeScope::decode(scope) {
                                let purged = scope.apply(&cache).await;
                                tracing::info!(
                                    purged,
                                    "cache purged by another replica's admin request"
                                );
                            }
                        }
                    }
                }
                Err(e) => tracing::debug!(error = %e, "cannot subscribe to purges yet"),
            }
            tokio::time::sleep(RETRY_AFTER_FAILURE).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn purge_scopes_round_trip() {
        for scope in [
            PurgeScope::All,
            PurgeScope::Endpoint(Endpoint::Details),
            PurgeScope::Key("service-orders?serviceName=uno".into()),
        ] {
            assert_eq!(PurgeScope::decode(&scope.encode()), Some(scope));
        }
        assert_eq!(PurgeScope::decode("endpoint:nope"), None);
        assert_eq!(PurgeScope::decode("bogus"), None);
    }

    #[test]
    fn redis_keys_do_not_reveal_cache_keys() {
        let settings = RedisSettings {
            url: crate::config::RedisUrl::new("redis://:pw@127.0.0.1:1"),
            cache_key: None,
            lease: Duration::from_secs(5),
            prefix: "sog:".into(),
        };
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let _guard = rt.enter();
        let shared = Shared::new(settings, Duration::from_secs(60)).unwrap();
        let k = shared.entry_key("service-order-details?n_no=N123");
        assert!(k.starts_with("sog:entry:service-order-details:"), "{k}");
        assert!(!k.contains("N123"));
        assert!(!format!("{shared:?}").contains("pw"));
    }
}

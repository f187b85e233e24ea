//! The single OAuth credential: one access token for the whole process.
//!
//! NTT's token endpoint takes a JSON body (`grantType`, `clientId`,
//! `clientSecret`) and answers with every field a string; the expiry is
//! `issuedAt` (epoch ms) + `expiresIn` (s). The token is refreshed ahead of
//! expiry; concurrent callers that need a new token wait for one request
//! (single flight) instead of each making their own. The secret and the token
//! are [`SecretString`]s: never logged, never `Debug`-printed.

use std::sync::{Arc, RwLock};
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use subtle::ConstantTimeEq;
use url::Url;

use crate::clock::SharedClock;
use crate::config::SecretSource;

use super::client::{HttpExchange, read_limited};
use super::limiter::{TOKEN_QUEUE, UpstreamLimiter};
use super::{UpstreamError, summarise_error_body};

/// An access token and when it stops working.
pub struct AccessToken {
    value: SecretString,
    /// When the upstream will stop accepting it.
    pub expires_at: DateTime<Utc>,
    /// When we start fetching a replacement.
    pub refresh_at: DateTime<Utc>,
}

impl std::fmt::Debug for AccessToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccessToken")
            .field("value", &"[REDACTED]")
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

impl AccessToken {
    /// The `Authorization` header value. Only the HTTP client calls this.
    pub(crate) fn bearer(&self) -> String {
        format!("Bearer {}", self.value.expose_secret())
    }

    fn same_as(&self, other: &AccessToken) -> bool {
        self.value.expose_secret() == other.value.expose_secret()
    }
}

/// The token endpoint's answer: documented as all strings; numbers tolerated.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct TokenResponse {
    access_token: Option<String>,
    expires_in: Option<serde_json::Value>,
    issued_at: Option<serde_json::Value>,
}

fn as_u64(v: &Option<serde_json::Value>) -> Option<u64> {
    match v.as_ref()? {
        serde_json::Value::String(s) => s.trim().parse().ok(),
        serde_json::Value::Number(n) => n.as_u64(),
        _ => None,
    }
}

/// Where tokens come from; one per process.
#[derive(Debug)]
pub struct TokenSource {
    http: reqwest::Client,
    url: Url,
    client_id: String,
    secret: SecretSource,
    /// The last secret read successfully from the file, if the secret is a file.
    last_file_secret: RwLock<Option<SecretString>>,
    current: RwLock<Option<Arc<AccessToken>>>,
    refresh: tokio::sync::Mutex<()>,
    clock: SharedClock,
    limiter: Arc<UpstreamLimiter>,
    queue_timeout: Duration,
    /// Redis, to share one token among the replicas.
    shared: Option<Arc<crate::shared::Shared>>,
    /// The last token the upstream rejected: never adopted from Redis again.
    rejected: RwLock<Option<SecretString>>,
}

impl TokenSource {
    /// A token source for these credentials.
    pub fn new(
        http: reqwest::Client,
        url: Url,
        client_id: String,
        secret: SecretSource,
        clock: SharedClock,
        limiter: Arc<UpstreamLimiter>,
        queue_timeout: Duration,
    ) -> Self {
        Self {
            http,
            url,
            client_id,
            secret,
            last_file_secret: RwLock::new(None),
            current: RwLock::new(None),
            refresh: tokio::sync::Mutex::new(()),
            clock,
            limiter,
            queue_timeout,
            shared: None,
            rejected: RwLock::new(None),
        }
    }

    /// Shares the token with the other replicas through Redis (encrypted).
    pub fn with_shared(mut self, shared: Arc<crate::shared::Shared>) -> Self {
        self.shared = Some(shared);
        self
    }

    /// The Redis name of this credential's token.
    fn shared_name(&self) -> String {
        let id = crate::shared::Shared::digest(&format!("{}\n{}", self.url, self.client_id));
        format!("token:{id}")
    }

    /// A token another replica stored in Redis that is not yet due for refresh.
    async fn shared_token(&self, now: DateTime<Utc>) -> Option<AccessToken> {
        let plain = self
            .shared
            .as_ref()?
            .get_sealed(&self.shared_name())
            .await?;
        if plain.len() < 16 {
            return None;
        }
        let ms = |b: &[u8]| {
            let arr: [u8; 8] = b.try_into().ok()?;
            DateTime::<Utc>::from_timestamp_millis(i64::from_be_bytes(arr))
        };
        let token = AccessToken {
            expires_at: ms(&plain[0..8])?,
            refresh_at: ms(&plain[8..16])?,
            value: SecretString::from(String::from_utf8(plain[16..].to_vec()).ok()?),
        };
        let rejected = self.rejected.read().unwrap_or_else(|e| e.into_inner());
        if rejected
            .as_ref()
            .is_some_and(|r| r.expose_secret() == token.value.expose_secret())
        {
            return None;
        }
        (now < token.refresh_at).then_some(token)
    }

    /// Stores `token` in Redis until it expires.
    async fn share(&self, token: &AccessToken) {
        let Some(shared) = &self.shared else { return };
        let ttl = (token.expires_at - self.clock.now())
            .to_std()
            .unwrap_or_default();
        if ttl.is_zero() {
            return;
        }
        let mut plain = Vec::with_capacity(16 + token.value.expose_secret().len());
        plain.extend_from_slice(&token.expires_at.timestamp_millis().to_be_bytes());
        plain.extend_from_slice(&token.refresh_at.timestamp_millis().to_be_bytes());
        plain.extend_from_slice(token.value.expose_secret().as_bytes());
        shared.put_sealed(&self.shared_name(), &plain, ttl).await;
    }

    /// Fetches a token, or with Redis: adopts one another replica fetched,
    /// or takes the token lease and fetches (others wait for it).
    async fn fetch_or_adopt(&self) -> Result<AccessToken, UpstreamError> {
        let Some(shared) = self.shared.clone() else {
            return self.fetch().await;
        };
        let lease_name = format!("{}:refresh", self.shared_name());
        let until = tokio::time::Instant::now() + self.queue_timeout;
        loop {
            if let Some(token) = self.shared_token(self.clock.now()).await {
                tracing::debug!("using the access token another replica obtained");
                return Ok(token);
            }
            match shared.try_lease(&lease_name, Duration::from_secs(10)).await {
                crate::shared::LeaseOutcome::Held if tokio::time::Instant::now() < until => {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                outcome => {
                    let token = self.fetch().await;
                    if let Ok(token) = &token {
                        self.share(token).await;
                    }
                    if let crate::shared::LeaseOutcome::Acquired(lease) = outcome {
                        shared.release(lease).await;
                    }
                    return token;
                }
            }
        }
    }

    fn cached(&self) -> Option<Arc<AccessToken>> {
        self.current
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// A valid token, fetching one if needed (one fetch however many callers).
    pub async fn token(&self) -> Result<Arc<AccessToken>, UpstreamError> {
        let now = self.clock.now();
        if let Some(token) = self.cached().filter(|t| now < t.refresh_at) {
            return Ok(token);
        }
        let _flight = self.refresh.lock().await;
        // Someone else may have refreshed while we waited for the flight.
        let now = self.clock.now();
        let existing = self.cached();
        if let Some(token) = existing.clone().filter(|t| now < t.refresh_at) {
            return Ok(token);
        }
        match self.fetch_or_adopt().await {
            Ok(token) => {
                let token = Arc::new(token);
                *self.current.write().unwrap_or_else(|e| e.into_inner()) = Some(token.clone());
                metrics::counter!("sog_token_refreshes_total").increment(1);
                tracing::info!(expires_at = %token.expires_at, "obtained a new upstream access token");
                Ok(token)
            }
            Err(e) => {
                metrics::counter!("sog_token_failures_total", "kind" => e.kind()).increment(1);
                tracing::warn!(error = %e, "could not obtain an upstream access token");
                // A token inside its refresh margin still works: keep using it.
                match existing.filter(|t| now < t.expires_at) {
                    Some(token) => Ok(token),
                    None => Err(e),
                }
            }
        }
    }

    /// Forgets `rejected` (the upstream answered 401 to it), unless it was already replaced.
    pub fn invalidate(&self, rejected: &AccessToken) {
        let mut current = self.current.write().unwrap_or_else(|e| e.into_inner());
        if current.as_ref().is_some_and(|t| t.same_as(rejected)) {
            *current = None;
            if let Some(shared) = self.shared.clone() {
                *self.rejected.write().unwrap_or_else(|e| e.into_inner()) =
                    Some(rejected.value.clone());
                // Other replicas must not adopt it either (unless one already replaced it).
                let name = self.shared_name();
                let value = rejected.value.clone();
                if let Ok(runtime) = tokio::runtime::Handle::try_current() {
                    runtime.spawn(async move {
                        let stored = shared.get_sealed(&name).await;
                        if stored
                            .is_some_and(|p| p.get(16..) == Some(value.expose_secret().as_bytes()))
                        {
                            shared.delete(&name).await;
                        }
                    });
                }
            }
            tracing::info!("the upstream rejected the access token; it will be replaced");
        }
    }

    /// Seconds until the current token expires (negative if expired), if there is one.
    pub fn seconds_until_expiry(&self) -> Option<f64> {
        let token = self.cached()?;
        Some((token.expires_at - self.clock.now()).num_milliseconds() as f64 / 1000.0)
    }

    /// Whether a token that is still valid is held.
    pub fn has_valid_token(&self) -> bool {
        let now = self.clock.now();
        self.cached().is_some_and(|t| now < t.expires_at)
    }

    /// The client secret: read from its file each time a token is fetched
    /// (so a rotated Kubernetes secret is picked up without a restart),
    /// falling back to the last good value if the file is briefly unreadable.
    fn secret(&self) -> Result<SecretString, UpstreamError> {
        match &self.secret {
            SecretSource::Value(s) => Ok(s.clone()),
            SecretSource::File(path) => match std::fs::read_to_string(path) {
                Ok(text) => {
                    let secret = SecretString::from(text.trim().to_owned());
                    *self
                        .last_file_secret
                        .write()
                        .unwrap_or_else(|e| e.into_inner()) = Some(secret.clone());
                    Ok(secret)
                }
                Err(e) => {
                    tracing::warn!(path = %path.display(), error = %e, "cannot read the client secret file; using the last value read");
                    self.last_file_secret
                        .read()
                        .unwrap_or_else(|e| e.into_inner())
                        .clone()
                        .ok_or_else(|| UpstreamError::TokenRejected {
                            status: 0,
                            summary: Some("the client secret file cannot be read".into()),
                        })
                }
            },
        }
    }

    /// Re-reads the client secret file now (SIGHUP), keeping the last value
    /// read if the file cannot be read. Never logs the secret.
    pub fn reload_secret(&self) {
        let SecretSource::File(path) = &self.secret else {
            return;
        };
        match std::fs::read_to_string(path) {
            Ok(text) if !text.trim().is_empty() => {
                *self
                    .last_file_secret
                    .write()
                    .unwrap_or_else(|e| e.into_inner()) =
                    Some(SecretString::from(text.trim().to_owned()));
                tracing::info!(path = %path.display(), "client secret reloaded");
            }
            Ok(_) => {
                tracing::error!(path = %path.display(), "the client secret file is empty; keeping the last secret read")
            }
            Err(e) => {
                tracing::error!(path = %path.display(), error = %e, "cannot read the client secret file; keeping the last secret read")
            }
        }
    }

    /// Requests a token. When the endpoint answers 401 and the secret comes
    /// from a file whose content has changed since it was read (a rotation
    /// racing the request), retries once at once with the new secret;
    /// retrying an unchanged secret would only spend budget.
    async fn fetch(&self) -> Result<AccessToken, UpstreamError> {
        self.limiter
            .acquire_as(TOKEN_QUEUE, self.queue_timeout)
            .await?;
        let secret = self.secret()?;
        let rejected = match self.request_token(&secret).await {
            Err(e @ UpstreamError::TokenRejected { status: 401, .. })
                if matches!(self.secret, SecretSource::File(_)) =>
            {
                e
            }
            other => return other,
        };
        let fresh = self.secret()?;
        let unchanged = fresh
            .expose_secret()
            .as_bytes()
            .ct_eq(secret.expose_secret().as_bytes());
        if bool::from(unchanged) {
            return Err(rejected);
        }
        tracing::info!(
            "the token endpoint rejected the client secret and the secret file has changed: retrying with the new secret"
        );
        self.limiter
            .acquire_as(TOKEN_QUEUE, self.queue_timeout)
            .await?;
        self.request_token(&fresh).await
    }

    /// One token request with `secret`.
    async fn request_token(&self, secret: &SecretString) -> Result<AccessToken, UpstreamError> {
        let body = serde_json::json!({
            "grantType": "client_credentials",
            "clientId": self.client_id,
            "clientSecret": secret.expose_secret(),
        });
        let request = self
            .http
            .post(self.url.clone())
            .header(
                http::header::CONTENT_TYPE,
                "application/json; charset=utf-8",
            )
            .body(body.to_string());
        let started = std::time::Instant::now();
        let response = request.send().await.map_err(HttpExchange::classify)?;
        let status = response.status();
        let content_type = response
            .headers()
            .get(http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let retry_after = super::client::retry_after(response.headers());
        let bytes = read_limited(response, 64 * 1024).await?;
        super::client::record_call("token", status.as_u16(), started.elapsed());
        let received_at = self.clock.now();

        if status == http::StatusCode::TOO_MANY_REQUESTS {
            self.limiter
                .pause(retry_after.unwrap_or(super::limiter::DEFAULT_429_BACKOFF));
            return Err(UpstreamError::RateLimited { retry_after });
        }
        if status.is_server_error() {
            return Err(UpstreamError::Status {
                status: status.as_u16(),
                summary: summarise_error_body(content_type.as_deref(), &bytes),
            });
        }
        if !status.is_success() {
            return Err(UpstreamError::TokenRejected {
                status: status.as_u16(),
                summary: summarise_error_body(content_type.as_deref(), &bytes),
            });
        }
        let parsed: TokenResponse = serde_json::from_slice(&bytes).map_err(|_| {
            UpstreamError::Undecodable("the token response is not the documented JSON".into())
        })?;
        let value = parsed
            .access_token
            .filter(|t| !t.trim().is_empty())
            .ok_or_else(|| {
                UpstreamError::Undecodable("the token response has no accessToken".into())
            })?;
        let expires_in = as_u64(&parsed.expires_in)
            .filter(|s| *s > 0)
            .ok_or_else(|| {
                UpstreamError::Undecodable("the token response has no valid expiresIn".into())
            })?;
        Ok(token_from(
            value,
            expires_in,
            as_u64(&parsed.issued_at),
            received_at,
        ))
    }
}

/// Computes a token's expiry from `issuedAt` (ms) and `expiresIn` (s),
/// falling back to the time we received it when `issuedAt` is missing or
/// absurd (more than ten minutes away from our clock).
fn token_from(
    value: String,
    expires_in: u64,
    issued_at_ms: Option<u64>,
    received_at: DateTime<Utc>,
) -> AccessToken {
    let lifetime = chrono::Duration::seconds(expires_in.min(365 * 86_400) as i64);
    let issued_at = issued_at_ms
        .and_then(|ms| i64::try_from(ms).ok())
        .and_then(|ms| Utc.timestamp_millis_opt(ms).single())
        .filter(|t| (*t - received_at).num_seconds().abs() <= 600)
        .unwrap_or(received_at);
    // Never trust an expiry later than what the lifetime allows from receipt.
    let expires_at = (issued_at + lifetime).min(received_at + lifetime);
    let margin =
        (lifetime / 10).clamp(chrono::Duration::seconds(1), chrono::Duration::seconds(300));
    AccessToken {
        value: SecretString::from(value),
        expires_at,
        refresh_at: expires_at - margin,
    }
}

/// Keeps the shared token fresh in the background, so requests rarely wait
/// for one and `/readyz` can answer without calling the upstream. Fetches
/// at start, then shortly before each refresh time; retries failures every
/// 30 seconds (each attempt spends upstream budget like any call).
pub async fn keep_fresh(client: Arc<super::UpstreamClient>, clock: SharedClock) {
    loop {
        let pause = match client.tokens().token().await {
            Ok(token) => {
                let until_refresh = (token.refresh_at - clock.now())
                    .to_std()
                    .unwrap_or_default();
                until_refresh.clamp(Duration::from_secs(1), Duration::from_secs(60))
            }
            Err(_) => Duration::from_secs(30),
        };
        tokio::time::sleep(pause).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(ms: i64) -> DateTime<Utc> {
        Utc.timestamp_millis_opt(ms).unwrap()
    }

    #[test]
    fn expiry_is_issued_at_plus_expires_in() {
        let now = 1_800_000_000_000;
        let t = token_from("x".into(), 3599, Some((now - 2_000) as u64), at(now));
        assert_eq!(t.expires_at, at(now - 2_000 + 3_599_000));
        assert_eq!(t.refresh_at, t.expires_at - chrono::Duration::seconds(300));
    }

    #[test]
    fn absurd_or_missing_issued_at_falls_back_to_receipt() {
        let now = 1_800_000_000_000;
        let missing = token_from("x".into(), 60, None, at(now));
        assert_eq!(missing.expires_at, at(now + 60_000));
        let in_1970 = token_from("x".into(), 60, Some(1_000), at(now));
        assert_eq!(in_1970.expires_at, at(now + 60_000));
        let future = token_from("x".into(), 60, Some((now + 86_400_000) as u64), at(now));
        assert_eq!(future.expires_at, at(now + 60_000));
    }

    #[test]
    fn debug_never_shows_the_token() {
        let t = token_from("very-secret-token".into(), 60, None, at(0));
        assert!(!format!("{t:?}").contains("very-secret-token"));
    }
}

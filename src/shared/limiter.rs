//! One upstream budget for every replica: GCRA in a Lua script that Redis
//! runs atomically (EVALSHA, loaded on first use), with Redis's own clock,
//! so the replicas' calls together stay within the contract's rate and
//! burst. The local queue and fallback live in
//! [`UpstreamLimiter`](crate::upstream::limiter::UpstreamLimiter).

use std::sync::Arc;
use std::time::Duration;

use crate::config::UpstreamRate;

use super::{Shared, Unavailable};

/// GCRA: KEYS[1] holds the theoretical arrival time (µs). ARGV: interval
/// (µs), burst. Returns 0 when a call may go now (and records it), else the
/// µs to wait.
const GCRA: &str = r#"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local interval = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
local allow_at = tat - (burst - 1) * interval
if now < allow_at then return allow_at - now end
local new_tat = tat + interval
redis.call('SET', KEYS[1], string.format('%.0f', new_tat), 'PX', math.ceil((new_tat - now) / 1000) + 1000)
return 0
"#;

/// Pushes the theoretical arrival time so no call is allowed for ARGV[1] µs
/// (an upstream 429 seen by one replica pauses them all). ARGV[2]: interval
/// (µs), ARGV[3]: burst.
const PAUSE: &str = r#"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local interval = tonumber(ARGV[2])
local new_tat = now + tonumber(ARGV[1]) + (tonumber(ARGV[3]) - 1) * interval
local tat = tonumber(redis.call('GET', KEYS[1]) or 0)
if new_tat > tat then
  redis.call('SET', KEYS[1], string.format('%.0f', new_tat), 'PX', math.ceil((new_tat - now) / 1000) + 1000)
end
return 0
"#;

/// The deployment-wide budget in Redis.
#[derive(Debug, Clone)]
pub struct GlobalBudget {
    shared: Arc<Shared>,
    key: String,
    interval_us: u64,
    burst: u32,
}

static SCRIPT: std::sync::LazyLock<redis::Script> =
    std::sync::LazyLock::new(|| redis::Script::new(GCRA));
static PAUSE_SCRIPT: std::sync::LazyLock<redis::Script> =
    std::sync::LazyLock::new(|| redis::Script::new(PAUSE));

impl GlobalBudget {
    /// The budget `rate` with `burst`, shared through `shared`.
    pub fn new(shared: Arc<Shared>, rate: UpstreamRate, burst: std::num::NonZeroU32) -> Self {
        let key = format!("{}gcra:upstream", shared.settings.prefix);
        Self {
            shared,
            key,
            interval_us: (rate.interval().as_micros() as u64).max(1),
            burst: burst.get(),
        }
    }

    /// The steady-state time between two calls.
    pub fn interval(&self) -> Duration {
        Duration::from_micros(self.interval_us)
    }

    /// Takes one call from the budget: `Ok(None)` when taken, `Ok(Some(wait))`
    /// when the budget is spent for `wait`, `Err` when Redis is unavailable.
    pub async fn try_take(&self) -> Result<Option<Duration>, Unavailable> {
        let (key, interval, burst) = (self.key.clone(), self.interval_us, self.burst);
        let wait: i64 = self
            .shared
            .run(|mut c| async move {
                SCRIPT
                    .key(key)
                    .arg(interval)
                    .arg(burst)
                    .invoke_async(&mut c)
                    .await
            })
            .await?;
        Ok((wait > 0).then(|| Duration::from_micros(wait as u64)))
    }

    /// Lets no replica call for `duration` (after an upstream 429).
    pub async fn pause(&self, duration: Duration) -> Result<(), Unavailable> {
        let (key, interval, burst) = (self.key.clone(), self.interval_us, self.burst);
        let us = duration.as_micros() as u64;
        self.shared
            .run(|mut c| async move {
                PAUSE_SCRIPT
                    .key(key)
                    .arg(us)
                    .arg(interval)
                    .arg(burst)
                    .invoke_async::<i64>(&mut c)
                    .await
            })
            .await
            .map(|_| ())
    }

    /// Whether Redis is currently answering.
    pub fn is_available(&self) -> bool {
        self.shared.is_available()
    }
}

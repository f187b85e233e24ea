//! Bandwidth control: the one budget every upstream call spends, token
//! requests included.
//!
//! A GCRA limiter (`governor`) enforces `rate` with `burst`. Requests that
//! find the budget spent queue for at most their own timeout in a
//! [`FairQueue`]: one line per caller (the authenticated caller's name,
//! [`ANONYMOUS`] without one, [`TOKEN_QUEUE`] for token requests), served
//! round-robin, so one caller flooding uncached keys gets its share and no
//! more while the others' requests still reach the upstream. Within one
//! caller, first come first served. An upstream 429 pauses all calls until
//! its `Retry-After` (or a backoff when it sends none).
//!
//! With Redis ([`GlobalBudget`]), the caller at the head of the local queue
//! takes budget from Redis (the deployment's whole rate and burst); while
//! Redis is unreachable the local limiter, built with this replica's share
//! (`rate / SOG_REPLICAS`), takes over, until Redis answers again.

use std::num::NonZeroU32;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use governor::clock::{Clock as _, DefaultClock};
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use tokio::time::Instant;

use crate::config::UpstreamRate;
use crate::shared::limiter::GlobalBudget;

use super::UpstreamError;
use super::fair_queue::FairQueue;

/// The queue of requests without an authenticated caller (and of background refreshes).
pub const ANONYMOUS: &str = "anonymous";
/// The queue of token requests (parentheses: no caller name can collide).
pub const TOKEN_QUEUE: &str = "(token)";

/// How long to pause after a 429 that carries no `Retry-After`.
pub const DEFAULT_429_BACKOFF: Duration = Duration::from_secs(5);

/// The upstream call budget of this process.
#[derive(Debug)]
pub struct UpstreamLimiter {
    limiter: DefaultDirectRateLimiter,
    clock: DefaultClock,
    interval: Duration,
    /// Callers waiting for budget: round-robin between callers, FIFO within one.
    queue: FairQueue,
    waiting: AtomicUsize,
    paused_until: Mutex<Option<Instant>>,
    /// The deployment-wide budget in Redis, when configured.
    global: Option<GlobalBudget>,
}

impl UpstreamLimiter {
    /// A limiter allowing `rate` with bursts of `burst`.
    pub fn new(rate: UpstreamRate, burst: NonZeroU32) -> Self {
        let interval = rate.interval().max(Duration::from_nanos(1));
        let quota = Quota::with_period(interval)
            .unwrap_or_else(|| Quota::per_second(NonZeroU32::MIN))
            .allow_burst(burst);
        let clock = DefaultClock::default();
        Self {
            limiter: RateLimiter::direct_with_clock(quota, clock.clone()),
            clock,
            interval,
            queue: FairQueue::new(),
            waiting: AtomicUsize::new(0),
            paused_until: Mutex::new(None),
            global: None,
        }
    }

    /// Takes budget from `global` (Redis) first, this limiter being the fallback.
    pub fn with_global(mut self, global: GlobalBudget) -> Self {
        self.global = Some(global);
        self
    }

    /// Whether calls currently take budget from Redis (false: local limiter).
    pub fn is_global(&self) -> bool {
        self.global.as_ref().is_some_and(|g| g.is_available())
    }

    /// Takes one unit of budget in the [`ANONYMOUS`] line, waiting at most `max_wait`.
    pub async fn acquire(&self, max_wait: Duration) -> Result<(), UpstreamError> {
        self.acquire_as(ANONYMOUS, max_wait).await
    }

    /// Takes one unit of budget in `caller`'s line, waiting at most `max_wait`.
    pub async fn acquire_as(&self, caller: &str, max_wait: Duration) -> Result<(), UpstreamError> {
        let deadline = Instant::now() + max_wait;
        self.waiting.fetch_add(1, Ordering::Relaxed);
        // Counted down even when the request is cancelled while waiting.
        let _waiting = Waiting(&self.waiting);
        let result = self.acquire_until(caller, deadline).await;
        match &result {
            Ok(waited) if *waited => {
                metrics::counter!("sog_upstream_limiter_waits_total").increment(1)
            }
            Ok(_) => {}
            Err(_) => metrics::counter!("sog_upstream_limiter_rejections_total").increment(1),
        }
        result.map(|_| ())
    }

    /// Returns whether the caller had to wait.
    async fn acquire_until(&self, caller: &str, deadline: Instant) -> Result<bool, UpstreamError> {
        let Ok(_turn) = tokio::time::timeout_at(deadline, self.queue.turn(caller)).await else {
            return Err(self.exhausted());
        };
        let mut waited = false;
        loop {
            let now = Instant::now();
            if let Some(until) = self.paused_until() {
                if until > deadline {
                    return Err(UpstreamError::BudgetExhausted {
                        retry_after: until - now,
                    });
                }
                waited = true;
                tokio::time::sleep_until(until).await;
                continue;
            }
            if let Some(global) = &self.global {
                match global.try_take().await {
                    Ok(None) => return Ok(waited),
                    Ok(Some(wait)) => {
                        if Instant::now() + wait > deadline {
                            return Err(UpstreamError::BudgetExhausted {
                                retry_after: wait + global.interval() * self.queued() as u32,
                            });
                        }
                        waited = true;
                        tokio::time::sleep(wait).await;
                        continue;
                    }
                    // Redis is unreachable: this replica's share, locally.
                    Err(_) => {}
                }
            }
            match self.limiter.check() {
                Ok(()) => return Ok(waited),
                Err(not_until) => {
                    let wait = not_until.wait_time_from(self.clock.now());
                    if now + wait > deadline {
                        return Err(UpstreamError::BudgetExhausted {
                            retry_after: wait + self.interval * self.queued() as u32,
                        });
                    }
                    waited = true;
                    tokio::time::sleep(wait).await;
                }
            }
        }
    }

    /// Stops all upstream calls for `duration` (after a 429), on every
    /// replica when the budget is shared through Redis.
    pub fn pause(&self, duration: Duration) {
        if let Some(global) = self.global.clone() {
            if let Ok(runtime) = tokio::runtime::Handle::try_current() {
                runtime.spawn(async move {
                    let _ = global.pause(duration).await;
                });
            }
        }
        let until = Instant::now() + duration;
        let mut paused = self.paused_until.lock().unwrap_or_else(|e| e.into_inner());
        if paused.is_none_or(|p| p < until) {
            *paused = Some(until);
        }
    }

    /// When the current 429 pause ends, if one is in force.
    pub fn paused_until(&self) -> Option<Instant> {
        let mut paused = self.paused_until.lock().unwrap_or_else(|e| e.into_inner());
        match *paused {
            Some(until) if until > Instant::now() => Some(until),
            Some(_) => {
                *paused = None;
                None
            }
            None => None,
        }
    }

    /// How long until a call could be made now (0 when budget is available).
    pub fn time_until_budget(&self) -> Duration {
        let pause = self
            .paused_until()
            .map(|until| until.saturating_duration_since(Instant::now()))
            .unwrap_or_default();
        let budget = self.interval * self.queued() as u32;
        pause.max(budget)
    }

    fn queued(&self) -> usize {
        self.waiting.load(Ordering::Relaxed)
    }

    fn exhausted(&self) -> UpstreamError {
        UpstreamError::BudgetExhausted {
            retry_after: self.time_until_budget().max(self.interval),
        }
    }
}

/// Decrements the waiting count when dropped.
struct Waiting<'a>(&'a AtomicUsize);

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limiter(rate: &str, burst: u32) -> UpstreamLimiter {
        UpstreamLimiter::new(rate.parse().unwrap(), NonZeroU32::new(burst).unwrap())
    }

    #[tokio::test]
    async fn burst_then_refusal_within_short_wait() {
        let l = limiter("1/s", 3);
        for _ in 0..3 {
            l.acquire(Duration::ZERO).await.unwrap();
        }
        let err = l.acquire(Duration::from_millis(10)).await.unwrap_err();
        match err {
            UpstreamError::BudgetExhausted { retry_after } => {
                assert!(retry_after > Duration::from_millis(500), "{retry_after:?}")
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[tokio::test]
    async fn waiters_are_served_in_order_of_arrival() {
        let l = std::sync::Arc::new(limiter("50/s", 1));
        l.acquire(Duration::ZERO).await.unwrap();
        let order = std::sync::Arc::new(Mutex::new(Vec::new()));
        let mut tasks = Vec::new();
        for i in 0..5 {
            let (l, order) = (l.clone(), order.clone());
            tasks.push(tokio::spawn(async move {
                l.acquire(Duration::from_secs(2)).await.unwrap();
                order.lock().unwrap().push(i);
            }));
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        for t in tasks {
            t.await.unwrap();
        }
        assert_eq!(*order.lock().unwrap(), vec![0, 1, 2, 3, 4]);
    }

    #[tokio::test]
    async fn a_pause_blocks_calls_until_it_ends() {
        let l = limiter("100/s", 10);
        l.pause(Duration::from_secs(30));
        let err = l.acquire(Duration::from_millis(20)).await.unwrap_err();
        assert!(
            matches!(err, UpstreamError::BudgetExhausted { retry_after } if retry_after > Duration::from_secs(20))
        );
        assert!(l.time_until_budget() > Duration::from_secs(20));
    }
}

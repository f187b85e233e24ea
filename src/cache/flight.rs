//! Single flight: however many requests need the same key from the
//! upstream at once, one upstream call is made and every waiter gets its
//! result (or its error).
//!
//! The call runs in its own task, so it completes (and fills the cache) even
//! if the caller that started it goes away.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};

use futures::FutureExt;
use futures::future::{BoxFuture, Shared};

use super::{CacheKey, Entry};
use crate::upstream::UpstreamError;

/// What a flight ends with.
pub type FlightResult = Result<Arc<Entry>, UpstreamError>;
/// A flight's shared result.
pub type FlightFuture = Shared<BoxFuture<'static, FlightResult>>;

/// The upstream fetches in progress, by key.
#[derive(Clone, Default)]
pub struct Flights {
    in_flight: Arc<Mutex<HashMap<CacheKey, FlightFuture>>>,
}

impl std::fmt::Debug for Flights {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Flights")
            .field("in_flight", &self.len())
            .finish()
    }
}

impl Flights {
    /// Joins the flight for `key`, starting it with `fetch` if there is none.
    /// Returns the shared result future and whether this caller started it.
    ///
    /// `fetch` must store a successful result in the cache before it
    /// returns, so that a request arriving after the flight is removed finds
    /// the entry.
    pub fn join<F>(&self, key: &CacheKey, fetch: impl FnOnce() -> F) -> (FlightFuture, bool)
    where
        F: Future<Output = FlightResult> + Send + 'static,
    {
        let mut flights = self.in_flight.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(existing) = flights.get(key) {
            return (existing.clone(), false);
        }
        let registry = self.in_flight.clone();
        let owned_key = key.clone();
        let work = fetch();
        let task = tokio::spawn(async move {
            let result = work.await;
            registry
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .remove(&owned_key);
            result
        });
        let shared = async move {
            match task.await {
                Ok(result) => result,
                Err(_) => Err(UpstreamError::Connect(
                    "the upstream call was aborted".into(),
                )),
            }
        }
        .boxed()
        .shared();
        flights.insert(key.clone(), shared.clone());
        (shared, true)
    }

    /// Whether a flight for `key` is in progress.
    pub fn is_in_flight(&self, key: &str) -> bool {
        self.in_flight
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .contains_key(key)
    }

    /// How many flights are in progress.
    pub fn len(&self) -> usize {
        self.in_flight
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .len()
    }

    /// Whether no flight is in progress.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

//! A fair queue for one turn at a time: waiters line up per caller, and the
//! turn passes between callers round-robin (deficit round-robin with every
//! turn costing one unit), first come first served within one caller.
//!
//! The limiter holds the turn while it waits for budget, so whichever caller
//! floods the queue, each other caller with a waiter gets every n-th unit of
//! budget (n = callers waiting) instead of queueing behind the flood.
//!
//! A turn is a [`Turn`] value: dropping it hands the turn to the next waiter.
//! A waiter that gives up (timeout, cancelled request) simply drops its
//! receiver; a turn sent to it is then dropped with the channel and passes on.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use tokio::sync::oneshot;

#[derive(Debug, Default)]
struct State {
    /// Whether some task holds the turn.
    busy: bool,
    /// Waiters per caller, first come first served.
    waiters: HashMap<Arc<str>, VecDeque<oneshot::Sender<Turn>>>,
    /// Callers with waiters, in round-robin order: the front goes next.
    ring: VecDeque<Arc<str>>,
}

/// The fair queue. Cheap to clone (one shared state).
#[derive(Debug, Clone, Default)]
pub struct FairQueue {
    state: Arc<Mutex<State>>,
}

/// The right to go next. Dropping it passes the turn on.
#[derive(Debug)]
pub struct Turn {
    queue: Option<FairQueue>,
}

impl Drop for Turn {
    fn drop(&mut self) {
        if let Some(queue) = self.queue.take() {
            queue.pass_on();
        }
    }
}

impl FairQueue {
    /// An empty queue.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Waits for the turn as `caller`. Cancel-safe: dropping the future
    /// gives up the place in line (or the turn, if it had just arrived).
    pub async fn turn(&self, caller: &str) -> Turn {
        let rx = {
            let mut state = self.lock();
            if !state.busy {
                state.busy = true;
                return Turn {
                    queue: Some(self.clone()),
                };
            }
            let (tx, rx) = oneshot::channel();
            let key: Arc<str> = Arc::from(caller);
            let line = state.waiters.entry(key.clone()).or_default();
            // Forget waiters that gave up, so a flood of timeouts does not pile up.
            line.retain(|w| !w.is_closed());
            if line.is_empty() && !state.ring.contains(&key) {
                state.ring.push_back(key.clone());
            }
            if let Some(line) = state.waiters.get_mut(&key) {
                line.push_back(tx);
            }
            rx
        };
        match rx.await {
            Ok(turn) => turn,
            // The sender is only dropped unsent when the queue itself is gone;
            // nobody else can hold the turn then.
            Err(_) => Turn { queue: None },
        }
    }

    /// How many callers have someone waiting.
    pub fn callers_waiting(&self) -> usize {
        let state = self.lock();
        state
            .waiters
            .values()
            .filter(|line| line.iter().any(|w| !w.is_closed()))
            .count()
    }

    /// Hands the turn to the next live waiter, round-robin over callers, or
    /// marks the queue idle.
    fn pass_on(&self) {
        loop {
            let next = {
                let mut state = self.lock();
                let mut next = None;
                while let Some(caller) = state.ring.pop_front() {
                    let Some(line) = state.waiters.get_mut(&caller) else {
                        continue;
                    };
                    while let Some(waiter) = line.pop_front() {
                        if !waiter.is_closed() {
                            next = Some(waiter);
                            break;
                        }
                    }
                    if line.is_empty() {
                        state.waiters.remove(&caller);
                    } else {
                        state.ring.push_back(caller);
                    }
                    if next.is_some() {
                        break;
                    }
                }
                match next {
                    Some(waiter) => waiter,
                    None => {
                        state.busy = false;
                        return;
                    }
                }
            };
            // Sent outside the lock: a refused turn is disarmed and offered
            // to the next waiter instead of re-entering here.
            match next.send(Turn {
                queue: Some(self.clone()),
            }) {
                Ok(()) => return,
                Err(mut refused) => {
                    refused.queue = None;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    /// Queues `callers` (in this order, one waiter each) behind a held turn,
    /// then releases it and returns the order in which they got the turn.
    async fn order_of(callers: &[&'static str]) -> Vec<&'static str> {
        let q = FairQueue::new();
        let held = q.turn("holder").await;
        let order = Arc::new(Mutex::new(Vec::new()));
        let mut tasks = Vec::new();
        for &c in callers {
            let (q, order) = (q.clone(), order.clone());
            tasks.push(tokio::spawn(async move {
                let _turn = q.turn(c).await;
                order.lock().unwrap().push(c);
            }));
            // Let the task enqueue before the next one.
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        drop(held);
        for t in tasks {
            t.await.unwrap();
        }
        Arc::try_unwrap(order).unwrap().into_inner().unwrap()
    }

    #[tokio::test]
    async fn one_caller_is_first_come_first_served() {
        assert_eq!(order_of(&["a", "a", "a"]).await, ["a", "a", "a"]);
    }

    #[tokio::test]
    async fn a_flood_does_not_delay_another_caller_by_more_than_one_turn() {
        let order = order_of(&["a", "a", "a", "a", "a", "b", "c", "b"]).await;
        // a arrived first, so it goes first; then b and c each get every
        // other turn instead of waiting behind all of a's waiters.
        assert_eq!(order, ["a", "b", "c", "a", "b", "a", "a", "a"]);
    }

    #[tokio::test]
    async fn a_waiter_that_gives_up_passes_the_turn_on() {
        let q = FairQueue::new();
        let held = q.turn("x").await;
        let gives_up = {
            let q = q.clone();
            tokio::spawn(async move {
                tokio::time::timeout(Duration::from_millis(5), q.turn("a"))
                    .await
                    .is_err()
            })
        };
        let waits = {
            let q = q.clone();
            tokio::spawn(async move {
                let _t = q.turn("b").await;
            })
        };
        assert!(gives_up.await.unwrap());
        drop(held);
        tokio::time::timeout(Duration::from_secs(1), waits)
            .await
            .expect("b gets the turn")
            .unwrap();
        // And the queue is idle again.
        let _t = tokio::time::timeout(Duration::from_millis(100), q.turn("c"))
            .await
            .expect("idle queue");
        assert_eq!(q.callers_waiting(), 0);
    }
}

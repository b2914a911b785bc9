//! One adaptive limit on requests in flight for a whole [`Transport`](crate::transport::Transport).
//!
//! Every attempt of every call takes a slot before it is sent and gives it back when its answer
//! is read, whichever task sent it: a sync's group reads, its vault reads and a bulk action share
//! one budget. The budget adapts (additive increase, multiplicative decrease):
//!
//! * until the first sign of overload, each healthy answer raises the limit by one (it doubles
//!   every round of answers, as TCP's slow start); after that, each raises it by `1 / limit`
//!   (about one more slot per round of answers); never above the configured ceiling;
//! * a 429 tells how many requests the server accepts at once: the number in flight when it
//!   came, less one. The limit drops to that (at most once per [`DECREASE_SPACING`], so that
//!   one burst of refusals counts once), and does not grow past it again for
//!   [`REMEMBER_REFUSAL`]: a refusal makes every task wait out the
//!   server's `X-Rate-Limit-Retry-In` (not only the one refused), so probing the server's
//!   limit often would cost more than it could gain;
//! * a 502/503/504, or an answer that took far longer than the fastest answer seen from the
//!   same endpoint (more than twice it plus [`LATENCY_SLACK`]: the server is queueing), cuts it
//!   to 80 %. Per endpoint, because a large answer (the account with 10,000 people) takes
//!   longer than a small one for its size alone, and must not be taken for queueing.
//!
//! The limit never goes below one: progress is always possible.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use tokio::sync::Notify;

/// The shortest time between two decreases.
pub const DECREASE_SPACING: Duration = Duration::from_millis(200);

/// How much slower than twice the fastest answer an answer must be to count as a sign of
/// queueing (so that jitter on loopback, where answers take a millisecond, is not taken for
/// overload).
pub const LATENCY_SLACK: Duration = Duration::from_millis(250);

/// How long the number in flight at a 429 caps the limit.
pub const REMEMBER_REFUSAL: Duration = Duration::from_secs(30);

/// The limits of the adaptive concurrency: where it starts and how high it may go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Concurrency {
    /// Requests in flight at the start. Default 8.
    pub initial: usize,
    /// Most requests in flight ever. Default 32.
    pub ceiling: usize,
}

impl Default for Concurrency {
    fn default() -> Self {
        Self {
            initial: 8,
            ceiling: 32,
        }
    }
}

impl Concurrency {
    /// Starts at `initial` (at least 1) and never exceeds `ceiling` (at least `initial`).
    pub fn new(initial: usize, ceiling: usize) -> Self {
        let initial = initial.max(1);
        Self {
            initial,
            ceiling: ceiling.max(initial),
        }
    }

    /// Exactly `n` in flight, never adapted upwards (a fixed budget; still cut on overload).
    pub fn fixed(n: usize) -> Self {
        Self::new(n, n)
    }
}

/// How an attempt ended, as far as the limit cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Signal {
    /// An answer (success or an ordinary error) that took this long.
    Answered {
        /// The endpoint's name ([`Endpoint::name`](crate::endpoints::Endpoint::name)).
        endpoint: &'static str,
        /// How long the attempt took, from sending to its answer read.
        took: Duration,
    },
    /// HTTP 429, with the server's wait when it gave one.
    RateLimited(Option<Duration>),
    /// HTTP 502/503/504.
    Overloaded,
    /// No answer (a transport error or timeout): says nothing about load.
    Failed,
}

struct State {
    limit: f64,
    in_flight: usize,
    /// Nobody is let through before this (a 429's `X-Rate-Limit-Retry-In`).
    paused_until: Option<Instant>,
    fastest: HashMap<&'static str, Duration>,
    last_decrease: Option<Instant>,
    /// The most in flight the server accepted at its last 429, and when that was.
    accepted: Option<(f64, Instant)>,
    /// No sign of overload yet: grow by one per healthy answer.
    slow_start: bool,
}

/// The shared limit (see the module documentation).
pub(crate) struct Limiter {
    ceiling: usize,
    state: Mutex<State>,
    freed: Notify,
}

/// A slot, given back when dropped.
pub(crate) struct Slot<'a> {
    limiter: &'a Limiter,
}

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        {
            let mut state = self.limiter.lock();
            state.in_flight = state.in_flight.saturating_sub(1);
        }
        self.limiter.freed.notify_waiters();
    }
}

impl Limiter {
    pub fn new(config: Concurrency) -> Self {
        let config = Concurrency::new(config.initial, config.ceiling);
        Self {
            ceiling: config.ceiling,
            state: Mutex::new(State {
                limit: config.initial as f64,
                in_flight: 0,
                paused_until: None,
                fastest: HashMap::new(),
                last_decrease: None,
                accepted: None,
                slow_start: true,
            }),
            freed: Notify::new(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The current limit, rounded down (at least 1).
    pub fn limit(&self) -> usize {
        (self.lock().limit as usize).max(1)
    }

    /// Waits for a slot: until no pause is in force and fewer than the limit are in flight.
    pub async fn acquire(&self) -> Slot<'_> {
        loop {
            let notified = self.freed.notified();
            tokio::pin!(notified);
            // Registered before looking, so that a slot freed in between is not missed.
            notified.as_mut().enable();
            let pause = {
                let mut state = self.lock();
                let now = Instant::now();
                match state.paused_until {
                    Some(until) if until > now => Some(until - now),
                    _ => {
                        if state.in_flight < (state.limit as usize).max(1) {
                            state.in_flight += 1;
                            return Slot { limiter: self };
                        }
                        None
                    }
                }
            };
            match pause {
                Some(wait) => tokio::time::sleep(wait).await,
                None => notified.await,
            }
        }
    }

    /// Adapts the limit to how an attempt ended.
    pub fn record(&self, signal: Signal) {
        let now = Instant::now();
        let mut state = self.lock();
        let may_decrease = state
            .last_decrease
            .is_none_or(|at| now.duration_since(at) >= DECREASE_SPACING);
        let cut = |state: &mut State, factor: f64| {
            state.slow_start = false;
            if may_decrease {
                state.limit = (state.limit * factor).max(1.0);
                state.last_decrease = Some(now);
            }
        };
        match signal {
            Signal::Answered { endpoint, took } => {
                let fastest = *state.fastest.entry(endpoint).or_insert(took);
                if took < fastest {
                    state.fastest.insert(endpoint, took);
                }
                if took > fastest * 2 + LATENCY_SLACK {
                    cut(&mut state, 0.8);
                } else {
                    let mut cap = self.ceiling as f64;
                    if let Some((accepted, at)) = state.accepted {
                        if now.duration_since(at) < REMEMBER_REFUSAL {
                            cap = cap.min(accepted);
                        } else {
                            state.accepted = None;
                        }
                    }
                    let limit = state.limit;
                    let step = if state.slow_start { 1.0 } else { 1.0 / limit };
                    state.limit = (limit + step).min(cap).max(1.0);
                }
            }
            Signal::RateLimited(wait) => {
                state.slow_start = false;
                // The refused request still holds its slot: the others in flight were accepted.
                let accepted = state.in_flight.saturating_sub(1).max(1) as f64;
                // Each further refusal of the same burst is one request fewer the server took.
                let accepted = match state.accepted {
                    Some((earlier, _)) if !may_decrease => (earlier - 1.0).max(1.0),
                    _ => accepted,
                };
                state.limit = state.limit.min(accepted).max(1.0);
                state.accepted = Some((accepted, now));
                if may_decrease {
                    state.last_decrease = Some(now);
                }
                if let Some(wait) = wait {
                    let until = now + wait;
                    state.paused_until = Some(state.paused_until.map_or(until, |u| u.max(until)));
                }
            }
            Signal::Overloaded => cut(&mut state, 0.8),
            Signal::Failed => {}
        }
        drop(state);
        self.freed.notify_waiters();
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    fn answered(ms: u64) -> Signal {
        Signal::Answered {
            endpoint: "a listing",
            took: Duration::from_millis(ms),
        }
    }

    #[test]
    fn a_large_answer_is_judged_against_its_own_endpoint() {
        let limiter = Limiter::new(Concurrency::new(10, 10));
        limiter.record(answered(50));
        limiter.record(Signal::Answered {
            endpoint: "the account",
            took: Duration::from_millis(900),
        });
        assert_eq!(
            limiter.limit(),
            10,
            "the account's first answer is its own baseline"
        );
        limiter.record(Signal::Answered {
            endpoint: "the account",
            took: Duration::from_millis(2_500),
        });
        assert_eq!(
            limiter.limit(),
            8,
            "far slower than the account's fastest: queueing"
        );
    }

    #[test]
    fn grows_to_the_ceiling_and_a_429_caps_it_at_what_the_server_took() {
        let limiter = Limiter::new(Concurrency::new(4, 10));
        assert_eq!(limiter.limit(), 4);
        for _ in 0..200 {
            limiter.record(answered(5));
        }
        assert_eq!(limiter.limit(), 10, "capped at the ceiling");
        // A 429 while 6 were in flight: the server took 5.
        let slots: Vec<_> = (0..6).map(|_| limiter.take_slot_for_test()).collect();
        limiter.record(Signal::RateLimited(None));
        assert_eq!(limiter.limit(), 5);
        drop(slots);
        // A second refusal of the same burst: the server took one fewer.
        let one = limiter.take_slot_for_test();
        limiter.record(Signal::RateLimited(None));
        drop(one);
        assert_eq!(limiter.limit(), 4);
        // Healthy answers do not raise it past what the server accepted.
        for _ in 0..200 {
            limiter.record(answered(5));
        }
        assert_eq!(limiter.limit(), 4, "remembered for a while");
        for _ in 0..100 {
            limiter.record(Signal::Overloaded);
        }
        assert_eq!(limiter.limit(), 4, "no second cut within the spacing");
        std::thread::sleep(DECREASE_SPACING + Duration::from_millis(10));
        limiter.record(Signal::Overloaded);
        assert_eq!(limiter.limit(), 3, "4 x 0.8, rounded down");
    }

    impl Limiter {
        /// A slot taken without waiting (tests only).
        fn take_slot_for_test(&self) -> Slot<'_> {
            self.lock().in_flight += 1;
            Slot { limiter: self }
        }
    }

    #[test]
    fn slow_start_until_the_first_sign_of_overload() {
        let limiter = Limiter::new(Concurrency::new(4, 100));
        for _ in 0..4 {
            limiter.record(answered(5));
        }
        assert_eq!(limiter.limit(), 8, "one more per healthy answer at first");
        limiter.record(Signal::Overloaded);
        assert_eq!(limiter.limit(), 6, "8 x 0.8");
        for _ in 0..3 {
            limiter.record(answered(5));
        }
        assert_eq!(limiter.limit(), 6, "then about one per round of answers");
        for _ in 0..7 {
            limiter.record(answered(5));
        }
        assert_eq!(limiter.limit(), 7, "6.4 and ten times about 1/7");
    }

    #[test]
    fn a_slow_answer_is_a_sign_of_queueing() {
        let limiter = Limiter::new(Concurrency::new(10, 10));
        limiter.record(answered(50));
        limiter.record(answered(80));
        assert_eq!(limiter.limit(), 10, "jitter is not overload");
        limiter.record(answered(600));
        assert_eq!(limiter.limit(), 8);
    }

    #[test]
    fn never_below_one() {
        let limiter = Limiter::new(Concurrency::new(1, 1));
        limiter.record(Signal::RateLimited(None));
        assert_eq!(limiter.limit(), 1);
        assert_eq!(Concurrency::new(0, 0), Concurrency::new(1, 1));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn at_most_the_limit_in_flight_and_a_429_holds_everyone() {
        let limiter = Arc::new(Limiter::new(Concurrency::fixed(3)));
        let now = Arc::new(AtomicUsize::new(0));
        let most = Arc::new(AtomicUsize::new(0));
        let tasks: Vec<_> = (0..20)
            .map(|_| {
                let (limiter, now, most) = (limiter.clone(), now.clone(), most.clone());
                tokio::spawn(async move {
                    let _slot = limiter.acquire().await;
                    let n = now.fetch_add(1, Ordering::SeqCst) + 1;
                    most.fetch_max(n, Ordering::SeqCst);
                    tokio::time::sleep(Duration::from_millis(5)).await;
                    now.fetch_sub(1, Ordering::SeqCst);
                })
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
        assert_eq!(most.load(Ordering::SeqCst), 3);

        limiter.record(Signal::RateLimited(Some(Duration::from_millis(300))));
        let started = Instant::now();
        let _slot = limiter.acquire().await;
        assert!(
            started.elapsed() >= Duration::from_millis(250),
            "the wait the server asked for holds every caller"
        );
    }
}

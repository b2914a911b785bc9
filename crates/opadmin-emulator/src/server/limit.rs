//! The emulator's rate limit ([`crate::config::RateLimit`]): requests in flight and requests per
//! second, checked when a request arrives, before anything else is done with it.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use crate::config::RateLimit;

/// Counts requests in flight and in the current one-second window, and the ones refused.
#[derive(Default)]
pub(crate) struct Limiter {
    in_flight: Arc<AtomicUsize>,
    /// Start of the current window and the requests admitted in it.
    window: Mutex<Option<(Instant, u32)>>,
    refused: AtomicU64,
}

/// Held while an admitted request is answered; lets the next one in when dropped.
pub(crate) struct InFlight(Arc<AtomicUsize>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

impl Limiter {
    /// Admits a request under `limit` (always, without one), or refuses it with the seconds to
    /// announce in `X-Rate-Limit-Retry-In`.
    pub fn admit(&self, limit: Option<&RateLimit>) -> Result<InFlight, u64> {
        let now_in_flight = self.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        let guard = InFlight(Arc::clone(&self.in_flight));
        let Some(limit) = limit else {
            return Ok(guard);
        };
        let over_in_flight = limit.max_in_flight.is_some_and(|max| now_in_flight > max);
        let over_rate = !over_in_flight
            && limit.per_second.is_some_and(|max| {
                let mut window = self.window.lock().unwrap_or_else(|p| p.into_inner());
                let now = Instant::now();
                let (start, count) = match *window {
                    Some((start, count)) if now.duration_since(start).as_secs() < 1 => {
                        (start, count)
                    }
                    _ => (now, 0),
                };
                if count >= max {
                    *window = Some((start, count));
                    true
                } else {
                    *window = Some((start, count + 1));
                    false
                }
            });
        if over_in_flight || over_rate {
            self.refused.fetch_add(1, Ordering::Relaxed);
            return Err(limit.retry_in_secs);
        }
        Ok(guard)
    }

    /// Requests refused so far.
    pub fn refused(&self) -> u64 {
        self.refused.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn in_flight_limit_refuses_the_one_over_and_frees_on_drop() {
        let limiter = Limiter::default();
        let limit = RateLimit::in_flight(2).retry_in(3);
        let a = limiter.admit(Some(&limit)).ok();
        let b = limiter.admit(Some(&limit)).ok();
        assert!(a.is_some() && b.is_some());
        assert_eq!(limiter.admit(Some(&limit)).err(), Some(3));
        drop(a);
        assert!(limiter.admit(Some(&limit)).is_ok());
        assert_eq!(limiter.refused(), 1);
    }

    #[test]
    fn per_second_limit_counts_a_window() {
        let limiter = Limiter::default();
        let limit = RateLimit::per_second(3);
        let admitted = (0..5)
            .filter(|_| limiter.admit(Some(&limit)).is_ok())
            .count();
        assert_eq!(admitted, 3);
        assert_eq!(limiter.refused(), 2);
        // Without a limit everything is admitted.
        assert!((0..100).all(|_| limiter.admit(None).is_ok()));
    }
}

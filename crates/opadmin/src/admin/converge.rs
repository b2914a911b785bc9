//! Converging on the server's state after a change failed in a way that may have come after
//! the server applied it.
//!
//! The transport does not repeat such a change (a 5xx, a connection broken after sending, a
//! timeout): a repeat is not answered like the first call (a repeated deletion is "not found",
//! a repeated suspension is refused, a repeated grant may be applied twice), so the answer to a
//! blind repeat would misreport a change that worked. Instead it returns
//! [`Error::MaybeApplied`], and [`Admin::converge`] reads the state the change was to reach:
//!
//! * reached: the change is reported as done, marked as applied despite the failure, and not
//!   sent again;
//! * not reached: the change was not applied, so sending it again cannot apply it twice; it is
//!   sent again, at most as many times in all as the transport's retry policy allows attempts;
//! * the read itself fails: the change's failure is returned as it is
//!   ([`Error::MaybeApplied`]), since nothing settles it.
//!
//! Every other failure of the change is returned at once.

use std::future::Future;

use super::Admin;
use crate::error::{Error, Result};

/// How a change reached its target state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Converged<T> {
    /// The server answered the change (on the first sending or a later one): its answer.
    Sent(T),
    /// A sending failed after it may have been applied, and reading the state showed the
    /// change in place.
    DespiteFailure,
}

impl Admin {
    /// Sends a change with `send` until the server answers it, reading the state with
    /// `reached` after every failure that may have come after the change was applied (see the
    /// module documentation), within the transport's retry policy's attempts. `operation`
    /// names the change in logs.
    ///
    /// `reached` answers whether the state the change was to reach is in place.
    pub(super) async fn converge<T, S, SF, R, RF>(
        &self,
        operation: &'static str,
        send: S,
        reached: R,
    ) -> Result<Converged<T>>
    where
        S: FnMut() -> SF,
        SF: Future<Output = Result<T>>,
        R: FnMut() -> RF,
        RF: Future<Output = Result<bool>>,
    {
        let attempts = self.client().transport().config().retry.max_attempts;
        converge(attempts, operation, send, reached).await
    }
}

/// The loop of [`Admin::converge`], with the number of sendings allowed (at least 1).
async fn converge<T, S, SF, R, RF>(
    attempts: u32,
    operation: &'static str,
    mut send: S,
    mut reached: R,
) -> Result<Converged<T>>
where
    S: FnMut() -> SF,
    SF: Future<Output = Result<T>>,
    R: FnMut() -> RF,
    RF: Future<Output = Result<bool>>,
{
    let mut attempt = 1;
    loop {
        let failure = match send().await {
            Ok(answer) => return Ok(Converged::Sent(answer)),
            Err(e @ Error::MaybeApplied { .. }) => e,
            Err(other) => return Err(other),
        };
        match reached().await {
            Ok(true) => {
                tracing::warn!(
                    operation,
                    attempt,
                    "a change failed after it was sent, and reading the state shows it in place: \
                     reported as done, not sent again"
                );
                return Ok(Converged::DespiteFailure);
            }
            Ok(false) if attempt < attempts.max(1) => {
                tracing::info!(
                    operation,
                    attempt,
                    "a change failed after it was sent, and reading the state shows it was not \
                     applied: sending it again"
                );
                attempt += 1;
            }
            Ok(false) => return Err(failure),
            Err(read) => {
                tracing::warn!(
                    operation,
                    error = %read,
                    "a change failed after it was sent, and reading the state failed too"
                );
                return Err(failure);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;

    use super::*;

    fn maybe_applied() -> Error {
        Error::MaybeApplied {
            endpoint: "people.suspend",
            source: Box::new(Error::Timeout),
        }
    }

    /// Runs `converge` on a test double: `outcomes` are the answers of successive sendings,
    /// `states` the answers of successive reads. Returns the result and (sendings, reads).
    fn run(
        outcomes: Vec<Result<u8>>,
        states: Vec<Result<bool>>,
        attempts: u32,
    ) -> (Result<Converged<u8>>, usize, usize) {
        let sent = Cell::new(0);
        let read = Cell::new(0);
        let result = futures::executor::block_on(converge(
            attempts,
            "test",
            || {
                let i = sent.get();
                sent.set(i + 1);
                let answer = outcomes.get(i).cloned().unwrap_or(Ok(0));
                async move { answer }
            },
            || {
                let i = read.get();
                read.set(i + 1);
                let state = states.get(i).cloned().unwrap_or(Ok(false));
                async move { state }
            },
        ));
        (result, sent.get(), read.get())
    }

    #[test]
    fn a_change_found_in_place_is_done_and_not_sent_again() {
        let (r, sent, read) = run(vec![Err(maybe_applied())], vec![Ok(true)], 4);
        assert_eq!(r.ok(), Some(Converged::DespiteFailure));
        assert_eq!((sent, read), (1, 1));
    }

    #[test]
    fn a_change_not_in_place_is_sent_again_within_the_attempts() {
        let (r, sent, read) = run(
            vec![Err(maybe_applied()), Err(maybe_applied()), Ok(7)],
            vec![Ok(false), Ok(false)],
            4,
        );
        assert_eq!(r.ok(), Some(Converged::Sent(7)));
        assert_eq!((sent, read), (3, 2));

        let (r, sent, read) = run(vec![Err(maybe_applied()); 5], vec![Ok(false); 5], 2);
        assert!(matches!(r, Err(Error::MaybeApplied { .. })));
        assert_eq!((sent, read), (2, 2));
    }

    #[test]
    fn other_failures_and_failed_reads_are_returned_as_they_are() {
        let (r, sent, read) = run(vec![Err(Error::NotFound { what: "x".into() })], vec![], 4);
        assert!(matches!(r, Err(Error::NotFound { .. })));
        assert_eq!((sent, read), (1, 0));

        let (r, sent, read) = run(vec![Err(maybe_applied())], vec![Err(Error::Timeout)], 4);
        assert!(matches!(r, Err(Error::MaybeApplied { .. })));
        assert_eq!((sent, read), (1, 1));
    }
}

//! Lazy pages of a listing.
//!
//! The b5 listings this crate reads have no paging cursor (docs/decisions.md, decision 5): each
//! answers everything the signed-in user may see in one response. A [`Pages`] is therefore a
//! queue of requests known in advance, sent one at a time as pages are asked for. What one page
//! is, per listing:
//!
//! * [`Client::users`](crate::Client::users): one `GET /api/v3/users` request; several when an
//!   email filter is too long for one URL (emails are split into chunks of at most 350
//!   characters, as the web client does);
//! * [`Client::vaults`](crate::Client::vaults), [`Client::invitations`](crate::Client::invitations),
//!   [`Client::groups`](crate::Client::groups): one page holding the whole answer.
//!
//! Nothing is sent until [`Pages::next_page`], [`Pages::collect_all`] or the stream asks.

use std::collections::VecDeque;
use std::fmt;

use futures::future::BoxFuture;
use futures::stream::{self, Stream};

use crate::error::Result;

type Fetch<T> = Box<dyn FnOnce() -> BoxFuture<'static, Result<Vec<T>>> + Send>;

/// A lazy, finite sequence of pages of `T`.
pub struct Pages<T> {
    pending: VecDeque<Fetch<T>>,
}

impl<T> fmt::Debug for Pages<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pages")
            .field("remaining_pages", &self.pending.len())
            .finish()
    }
}

impl<T: Send + 'static> Pages<T> {
    /// Pages from requests known in advance; each closure fetches one page when called.
    pub(crate) fn from_fetches(fetches: Vec<Fetch<T>>) -> Self {
        Self {
            pending: fetches.into(),
        }
    }

    /// One page from one request.
    pub(crate) fn single(fetch: Fetch<T>) -> Self {
        Self::from_fetches(vec![fetch])
    }

    /// How many pages have not been fetched yet.
    pub fn remaining_pages(&self) -> usize {
        self.pending.len()
    }

    /// Fetches the next page; `None` when there are no more.
    pub async fn next_page(&mut self) -> Result<Option<Vec<T>>> {
        match self.pending.pop_front() {
            Some(fetch) => fetch().await.map(Some),
            None => Ok(None),
        }
    }

    /// Fetches every remaining page and joins them (stops at the first error).
    pub async fn collect_all(mut self) -> Result<Vec<T>> {
        let mut all = Vec::new();
        while let Some(page) = self.next_page().await? {
            all.extend(page);
        }
        Ok(all)
    }

    /// The items one by one, fetching pages as needed; an error ends the stream.
    pub fn into_stream(self) -> impl Stream<Item = Result<T>> + Send {
        stream::unfold(
            (self, VecDeque::<T>::new(), false),
            |(mut pages, mut buffer, mut failed)| async move {
                loop {
                    if failed {
                        return None;
                    }
                    if let Some(item) = buffer.pop_front() {
                        return Some((Ok(item), (pages, buffer, failed)));
                    }
                    match pages.next_page().await {
                        Ok(Some(page)) => buffer.extend(page),
                        Ok(None) => return None,
                        Err(e) => {
                            failed = true;
                            return Some((Err(e), (pages, buffer, failed)));
                        }
                    }
                }
            },
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::{FutureExt, StreamExt};

    fn page(items: Vec<u32>) -> Fetch<u32> {
        Box::new(move || async move { Ok(items) }.boxed())
    }

    #[tokio::test]
    async fn pages_are_lazy_and_collect() {
        let mut pages = Pages::from_fetches(vec![page(vec![1, 2]), page(vec![]), page(vec![3])]);
        assert_eq!(pages.remaining_pages(), 3);
        assert_eq!(pages.next_page().await.unwrap(), Some(vec![1, 2]));
        assert_eq!(pages.collect_all().await.unwrap(), vec![3]);

        let pages = Pages::from_fetches(vec![page(vec![1]), page(vec![2, 3])]);
        let items: Vec<u32> = pages
            .into_stream()
            .map(|r| r.unwrap())
            .collect::<Vec<_>>()
            .await;
        assert_eq!(items, vec![1, 2, 3]);
    }
}

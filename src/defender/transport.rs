//! The seam between the scheduler and HTTP: one [`Call`] is exactly one request, so the
//! scheduler can put every page of a paged answer through the budget.

use std::future::Future;
use std::pin::Pin;

use super::error::ApiError;
use super::key::{FetchKey, FetchValue};

/// One HTTP request: the first page of `key`, or the page at `next_link`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Call {
    pub key: FetchKey,
    /// A [`Next::Follow`] link from the previous page; the transport checks it again.
    pub next_link: Option<String>,
}

impl Call {
    pub fn first(key: FetchKey) -> Self {
        Self {
            key,
            next_link: None,
        }
    }
}

/// One page of an answer; the scheduler joins pages with [`FetchValue::append`].
#[derive(Debug, Clone, PartialEq)]
pub struct Page {
    pub value: FetchValue,
    /// What the API said about a further page, already judged by the transport.
    pub next: Option<Next>,
}

impl Page {
    /// The last (or only) page of an answer.
    pub fn last(value: FetchValue) -> Self {
        Self { value, next: None }
    }
}

/// An `@odata.nextLink`, judged: the scheduler follows only [`Next::Follow`], and says why it
/// stopped otherwise.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Next {
    /// Same origin and same endpoint path: worth a call.
    Follow(String),
    /// It leads back to the answer's first page.
    Loop,
    /// It points elsewhere (another origin or path, user-info, unreadable): not followed.
    Refused { link: String, why: String },
}

pub type CallFuture = Pin<Box<dyn Future<Output = Result<Page, ApiError>> + Send + 'static>>;

/// Something that performs calls: the reqwest client, or a fake in scheduler tests.
pub trait Transport: Send + Sync + 'static {
    fn call(&self, call: Call) -> CallFuture;
}

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
    /// An `@odata.nextLink` from the previous page; the transport refuses other origins.
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
    pub next_link: Option<String>,
}

pub type CallFuture = Pin<Box<dyn Future<Output = Result<Page, ApiError>> + Send + 'static>>;

/// Something that performs calls: the reqwest client, or a fake in scheduler tests.
pub trait Transport: Send + Sync + 'static {
    fn call(&self, call: Call) -> CallFuture;
}

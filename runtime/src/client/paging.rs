//! Lists that come in pages, as one [`Stream`] of items: DingTalk's new API pages with
//! `nextToken` and `hasMore`, the old one with `offset` (or `cursor`) and `next_cursor`.
//!
//! ```no_run
//! # async fn demo(corp: dingscope::client::Principal) -> Result<(), dingscope::Error> {
//! use dingscope::client::Paging;
//! // GET /v1.0/hrm/employees/dismissions?nextToken=..&maxResults=50
//! //   -> {"userIdList": [...], "nextToken": 50, "hasMore": true}
//! let ids: Vec<String> = corp
//!     .get("/v1.0/hrm/employees/dismissions")
//!     .query("maxResults", 50)
//!     .pages(Paging::next_token("userIdList"))
//!     .collect_all()
//!     .await?;
//! // POST /topapi/smartwork/hrm/employee/querydimission {"offset": .., "size": 50}
//! //   -> {"errcode": 0, "result": {"data_list": [...], "next_cursor": 50}}
//! let mut old = corp
//!     .post("/topapi/smartwork/hrm/employee/querydimission")
//!     .json(&serde_json::json!({"size": 50}))
//!     .pages::<String>(Paging::next_cursor("result.data_list"));
//! while let Some(id) = old.next_item().await {
//!     println!("{}", id?);
//! }
//! # Ok(()) }
//! ```
//!
//! [`Pages`] is a [`Stream`]: `futures::StreamExt` and `tokio_stream::StreamExt` work on it.
//! Each page is one [`send`](super::RequestBuilder::send), with its pre-call check, token,
//! retries and typed errors; an error ends the stream after it is yielded.

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_core::Stream;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::RequestBuilder;
use crate::Error;
use crate::error::ApiError;

/// How a list API pages: where its items and its next cursor are in an answer, and which
/// request parameter carries the cursor back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Paging {
    items: String,
    next: String,
    has_more: Option<String>,
    param: String,
    place: Option<Place>,
    max_pages: usize,
}

/// Where the cursor goes in the request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Place {
    Query,
    Body,
}

impl Paging {
    /// The new API's form: items at `items` (a dotted path, `"userIdList"` or
    /// `"result.list"`), the cursor in `nextToken`, sent back as `nextToken`, and
    /// `hasMore: false` (or no `nextToken`) on the last page.
    pub fn next_token(items: &str) -> Paging {
        Paging {
            items: items.to_owned(),
            next: "nextToken".into(),
            has_more: Some("hasMore".into()),
            param: "nextToken".into(),
            place: None,
            max_pages: 100_000,
        }
    }

    /// The old API's form: items at `items` (`"result.data_list"`), the cursor in
    /// `result.next_cursor`, sent back as `offset` (see [`param`](Self::param) for
    /// `cursor`), and no `next_cursor` on the last page.
    pub fn next_cursor(items: &str) -> Paging {
        Paging {
            items: items.to_owned(),
            next: "result.next_cursor".into(),
            has_more: Some("result.has_more".into()),
            param: "offset".into(),
            place: None,
            max_pages: 100_000,
        }
    }

    /// The request parameter that carries the cursor back (`cursor`, say).
    pub fn param(mut self, name: &str) -> Paging {
        self.param = name.to_owned();
        self
    }

    /// Where the answer holds the next cursor (a dotted path).
    pub fn next(mut self, path: &str) -> Paging {
        self.next = path.to_owned();
        self
    }

    /// Where the answer says whether more pages follow (a dotted path); `None`: only the
    /// cursor's absence ends the list.
    pub fn has_more(mut self, path: Option<&str>) -> Paging {
        self.has_more = path.map(str::to_owned);
        self
    }

    /// Sends the cursor in the query string. By default a `GET` does, and other methods
    /// send it in the JSON body.
    pub fn in_query(mut self) -> Paging {
        self.place = Some(Place::Query);
        self
    }

    /// Sends the cursor in the JSON body.
    pub fn in_body(mut self) -> Paging {
        self.place = Some(Place::Body);
        self
    }

    /// At most this many pages (100,000 by default); more is a [`Error::Protocol`].
    pub fn max_pages(mut self, pages: usize) -> Paging {
        self.max_pages = pages.max(1);
        self
    }

    /// Reads one page: its items, and the cursor of the next page if there is one.
    fn read(&self, answer: &Value, sent: Option<&Value>) -> Result<Page, String> {
        let items = match at(answer, &self.items) {
            Some(Value::Array(items)) => items.clone(),
            // An empty list is sometimes left out.
            None | Some(Value::Null) => Vec::new(),
            Some(_) => return Err(format!("`{}` is not a list", self.items)),
        };
        let more = match self.has_more.as_deref().and_then(|p| at(answer, p)) {
            Some(Value::Bool(b)) => Some(*b),
            None | Some(Value::Null) => None,
            Some(_) => return Err("`hasMore` is not true or false".into()),
        };
        let next = match at(answer, &self.next) {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) if s.is_empty() => None,
            Some(v @ (Value::String(_) | Value::Number(_))) => Some(v.clone()),
            Some(_) => return Err(format!("`{}` is not a string or a number", self.next)),
        };
        let next = match (more, next) {
            (Some(false), _) | (_, None) => None,
            (_, Some(n)) if sent == Some(&n) => {
                return Err(format!(
                    "`{}` repeats the cursor just sent, which would page forever",
                    self.next
                ));
            }
            (_, Some(n)) => Some(n),
        };
        Ok(Page { items, next })
    }
}

struct Page {
    items: Vec<Value>,
    next: Option<Value>,
}

/// The value at a dotted path.
fn at<'a>(v: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.')
        .filter(|s| !s.is_empty())
        .try_fold(v, |v, key| v.get(key))
}

type Fetch = Pin<Box<dyn Future<Output = Result<Value, Error>> + Send>>;

/// The items of every page of a list, fetched one page at a time as they are read:
/// [`RequestBuilder::pages`].
#[must_use = "a list is fetched only as it is read"]
pub struct Pages<T> {
    request: RequestBuilder,
    paging: Paging,
    /// Whether the cursor goes in the query string (else in the JSON body).
    in_query: bool,
    endpoint: String,
    buffer: VecDeque<Value>,
    /// The cursor sent for the page being fetched, or to send for the next.
    cursor: Option<Value>,
    fetching: Option<Fetch>,
    pages: usize,
    done: bool,
    _item: std::marker::PhantomData<fn() -> T>,
}

impl<T> std::fmt::Debug for Pages<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pages")
            .field("endpoint", &self.endpoint)
            .field("pages", &self.pages)
            .field("buffered", &self.buffer.len())
            .field("done", &self.done)
            .finish_non_exhaustive()
    }
}

impl<T: DeserializeOwned> Pages<T> {
    pub(super) fn new(
        request: RequestBuilder,
        paging: Paging,
        is_get: bool,
        endpoint: String,
    ) -> Pages<T> {
        let in_query = paging.place.map_or(is_get, |p| p == Place::Query);
        Pages {
            request,
            paging,
            in_query,
            endpoint,
            buffer: VecDeque::new(),
            cursor: None,
            fetching: None,
            pages: 0,
            done: false,
            _item: std::marker::PhantomData,
        }
    }

    /// The next item, or `None` after the last.
    pub async fn next_item(&mut self) -> Option<Result<T, Error>> {
        std::future::poll_fn(|cx| Pin::new(&mut *self).poll_next(cx)).await
    }

    /// Every item of every page, or the first error.
    pub async fn collect_all(mut self) -> Result<Vec<T>, Error> {
        let mut all = Vec::new();
        while let Some(item) = self.next_item().await {
            all.push(item?);
        }
        Ok(all)
    }

    fn protocol(&mut self, message: &str) -> Error {
        self.done = true;
        self.buffer.clear();
        Error::Protocol(ApiError::new(&self.endpoint, 200, "", message, None, 1))
    }

    fn start_fetch(&mut self) -> Result<(), Error> {
        if self.pages >= self.paging.max_pages {
            let max = self.paging.max_pages;
            return Err(self.protocol(&format!("more than {max} pages")));
        }
        self.pages += 1;
        let request = self
            .request
            .with_cursor(&self.paging.param, self.cursor.as_ref(), self.in_query)
            .inspect_err(|_| self.done = true)?;
        self.fetching = Some(Box::pin(request.send::<Value>()));
        Ok(())
    }
}

impl<T: DeserializeOwned> Stream for Pages<T> {
    type Item = Result<T, Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        loop {
            if let Some(item) = this.buffer.pop_front() {
                return Poll::Ready(Some(serde_json::from_value(item).map_err(|e| {
                    let message = format!("an item is not what was expected: {e}");
                    this.protocol(&message)
                })));
            }
            if this.done {
                return Poll::Ready(None);
            }
            if this.fetching.is_none()
                && let Err(e) = this.start_fetch()
            {
                return Poll::Ready(Some(Err(e)));
            }
            let Some(fetch) = this.fetching.as_mut() else {
                return Poll::Ready(None);
            };
            let answer = match fetch.as_mut().poll(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(answer) => answer,
            };
            this.fetching = None;
            let answer = match answer {
                Ok(a) => a,
                Err(e) => {
                    this.done = true;
                    return Poll::Ready(Some(Err(e)));
                }
            };
            match this.paging.read(&answer, this.cursor.as_ref()) {
                Ok(page) => {
                    this.buffer.extend(page.items);
                    this.done = page.next.is_none();
                    this.cursor = page.next;
                }
                Err(message) => return Poll::Ready(Some(Err(this.protocol(&message)))),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    proptest::proptest! {
        /// Any answer, in any shape, reads as a page or a message: never a panic.
        #[test]
        fn any_answer_reads_without_panicking(
            text in "\\PC{0,200}",
            n in proptest::num::i64::ANY,
            more in proptest::option::of(proptest::bool::ANY),
        ) {
            let shapes = [
                json!({"userIdList": [text.clone()], "nextToken": n, "hasMore": more}),
                json!({"userIdList": text.clone(), "nextToken": text.clone()}),
                json!({"result": {"data_list": [n], "next_cursor": text.clone()}}),
                json!([text.clone()]),
                json!(text.clone()),
            ];
            for answer in &shapes {
                for paging in [Paging::next_token("userIdList"), Paging::next_cursor("result.data_list")] {
                    let _ = paging.read(answer, None);
                    let _ = paging.read(answer, Some(&json!(n)));
                }
            }
            if let Ok(v) = serde_json::from_str::<Value>(&text) {
                let _ = Paging::next_token("a.b.c").read(&v, Some(&v));
            }
        }
    }

    #[test]
    fn pages_end_and_bad_ones_are_refused() {
        let new = Paging::next_token("userIdList");
        let p = new
            .read(
                &json!({"userIdList": ["a"], "nextToken": 1, "hasMore": true}),
                None,
            )
            .unwrap();
        assert_eq!((p.items.len(), p.next), (1, Some(json!(1))));
        // hasMore false ends it, whatever the token says; so does no token.
        for last in [
            json!({"userIdList": ["a"], "nextToken": 2, "hasMore": false}),
            json!({"userIdList": []}),
            json!({"nextToken": ""}),
        ] {
            assert_eq!(new.read(&last, None).unwrap().next, None, "{last}");
        }
        // A server that answers the cursor it was sent would loop forever.
        let e = new
            .read(
                &json!({"userIdList": [], "nextToken": "t", "hasMore": true}),
                Some(&json!("t")),
            )
            .err()
            .unwrap();
        assert!(e.contains("repeats"), "{e}");
        for bad in [
            json!({"userIdList": "a"}),
            json!({"userIdList": [], "hasMore": "yes"}),
            json!({"userIdList": [], "nextToken": {}}),
        ] {
            assert!(new.read(&bad, None).is_err(), "{bad}");
        }
        let old = Paging::next_cursor("result.data_list");
        let p = old
            .read(
                &json!({"errcode": 0, "result": {"data_list": ["x", "y"], "next_cursor": 2}}),
                None,
            )
            .unwrap();
        assert_eq!((p.items.len(), p.next), (2, Some(json!(2))));
        let last = old
            .read(&json!({"errcode": 0, "result": {"data_list": ["z"]}}), None)
            .unwrap();
        assert_eq!(last.next, None);
    }
}

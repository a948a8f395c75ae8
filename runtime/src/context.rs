//! The ambient grant: which grant the annotated functions on this thread check against.
//!
//! Like a `tracing` span, a grant is *entered* for the length of a closure
//! ([`Grant::run`]) or of each poll of a future ([`WithGrantExt::with_grant`]). Entering
//! nests: the innermost grant wins, and the outer one is back when the inner ends,
//! even on panic. A task spawned inside does not inherit the grant by itself: pass it on
//! with [`WithGrantExt::with_current_grant`].

use std::cell::Cell;
use std::future::Future;
use std::pin::Pin;
use std::ptr;
use std::task::{Context, Poll};

use crate::grant::{Grant, GrantInner};
use crate::requirement::Requirement;

thread_local! {
    static CURRENT: Cell<*const GrantInner> = const { Cell::new(ptr::null()) };
    /// The requirement of the innermost annotated function running on this thread.
    static REQUIREMENT: Cell<Option<&'static Requirement>> = const { Cell::new(None) };
}

/// The requirement of the innermost annotated function now running, if any: the client
/// compares DingTalk's denials with it.
pub fn current_requirement() -> Option<&'static Requirement> {
    REQUIREMENT.with(Cell::get)
}

/// Marks `req` as the running function's requirement until dropped.
#[doc(hidden)]
pub struct InRequirement {
    prev: Option<&'static Requirement>,
}

impl InRequirement {
    #[doc(hidden)]
    #[inline]
    pub fn enter(req: &'static Requirement) -> InRequirement {
        InRequirement {
            prev: REQUIREMENT.with(|r| r.replace(Some(req))),
        }
    }
}

impl Drop for InRequirement {
    #[inline]
    fn drop(&mut self) {
        REQUIREMENT.with(|r| r.set(self.prev));
    }
}

/// An annotated `async fn`'s body, with its requirement marked during every poll.
#[doc(hidden)]
pub struct InRequirementFuture<F> {
    req: &'static Requirement,
    inner: F,
}

impl<F> InRequirementFuture<F> {
    #[doc(hidden)]
    #[inline]
    pub fn new(req: &'static Requirement, inner: F) -> Self {
        InRequirementFuture { req, inner }
    }
}

impl<F: Future> Future for InRequirementFuture<F> {
    type Output = F::Output;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        // SAFETY: `inner` is structurally pinned, as in `WithGrant::poll`.
        let this = unsafe { self.get_unchecked_mut() };
        let _entered = InRequirement::enter(this.req);
        unsafe { Pin::new_unchecked(&mut this.inner) }.poll(cx)
    }
}

/// Restores the previous ambient grant when dropped.
struct Entered {
    prev: *const GrantInner,
}

impl Entered {
    /// The caller keeps `grant` alive for as long as the returned guard lives.
    fn new(grant: &Grant) -> Entered {
        Entered {
            prev: CURRENT.with(|c| c.replace(grant.as_ptr())),
        }
    }
}

impl Drop for Entered {
    fn drop(&mut self) {
        CURRENT.with(|c| c.set(self.prev));
    }
}

/// Calls `f` with a reference to the ambient grant, or `None` outside any.
#[inline(always)]
pub(crate) fn with_current<R>(f: impl FnOnce(Option<&GrantInner>) -> R) -> R {
    CURRENT.with(|c| {
        let p = c.get();
        // SAFETY: a non-null pointer was stored by `Entered::new` from a grant that the
        // entering scope (`Grant::run` or `WithGrant::poll`) keeps alive until its guard
        // restores the previous value, and this reference does not outlive this call,
        // which runs inside that scope on the same thread.
        f(unsafe { p.as_ref() })
    })
}

/// The grant entered on this thread, if any.
pub fn current() -> Option<Grant> {
    CURRENT.with(|c| {
        let p = c.get();
        // SAFETY: as in `with_current`: a non-null pointer points into a live grant.
        (!p.is_null()).then(|| unsafe { Grant::clone_from_ptr(p) })
    })
}

impl Grant {
    /// Runs `f` with this grant entered: annotated functions called inside check against it.
    ///
    /// ```
    /// use dingscope::{Grant, requires_scope};
    ///
    /// #[requires_scope("Contact.User.Read")]
    /// fn read_user() -> Result<&'static str, dingscope::Error> {
    ///     Ok("user001")
    /// }
    ///
    /// let grant = Grant::application(["Contact.User.Read"]);
    /// assert_eq!(grant.run(read_user).unwrap(), "user001");
    /// assert!(read_user().is_err()); // no grant entered: fails closed
    /// ```
    pub fn run<R>(&self, f: impl FnOnce() -> R) -> R {
        let _entered = Entered::new(self);
        f()
    }
}

/// Enters a grant around a future; see [`WithGrantExt`].
#[derive(Debug)]
#[must_use = "futures do nothing unless polled"]
pub struct WithGrant<F> {
    inner: F,
    grant: Option<Grant>,
}

impl<F: Future> Future for WithGrant<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        // SAFETY: `inner` is structurally pinned: it is never moved out of `self`, and
        // `WithGrant` implements neither `Drop` nor `Unpin` by hand. `grant` is not pinned.
        let this = unsafe { self.get_unchecked_mut() };
        let inner = unsafe { Pin::new_unchecked(&mut this.inner) };
        match &this.grant {
            Some(grant) => {
                let _entered = Entered::new(grant);
                inner.poll(cx)
            }
            None => {
                let _entered = Entered {
                    prev: CURRENT.with(|c| c.replace(ptr::null())),
                };
                inner.poll(cx)
            }
        }
    }
}

/// Runs futures with a grant entered.
///
/// ```
/// # async fn demo() {
/// use dingscope::{Grant, WithGrantExt, requires_scope};
///
/// #[requires_scope("qyapi_hrm_read_user")]
/// async fn list_dismissed() -> Result<Vec<String>, dingscope::Error> {
///     Ok(vec!["user001".into()])
/// }
///
/// let grant = Grant::application(["qyapi_hrm_read_user"]);
/// let ids = list_dismissed().with_grant(&grant).await.unwrap();
/// # assert_eq!(ids, ["user001"]);
/// # }
/// ```
pub trait WithGrantExt: Future + Sized {
    /// Enters `grant` during every poll of this future.
    fn with_grant(self, grant: &Grant) -> WithGrant<Self> {
        WithGrant {
            inner: self,
            grant: Some(grant.clone()),
        }
    }

    /// Carries the grant entered now (or its absence) into this future, for example
    /// before handing it to `tokio::spawn`.
    fn with_current_grant(self) -> WithGrant<Self> {
        WithGrant {
            inner: self,
            grant: current(),
        }
    }
}

impl<F: Future> WithGrantExt for F {}

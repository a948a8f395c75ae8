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

use crate::error::Error;
use crate::grant::{Grant, GrantInner};
use crate::requirement::Requirement;
use crate::site::Site;

/// What this thread is running under: one thread-local, so entering a task's context
/// costs one lookup.
#[repr(C)]
struct Ctx {
    /// The entered grant.
    grant: Cell<*const GrantInner>,
    /// The innermost annotated function running.
    req: Cell<Option<Site>>,
}

thread_local! {
    static CTX: Ctx = const {
        Ctx {
            grant: Cell::new(ptr::null()),
            req: Cell::new(None),
        }
    };
}

/// The requirement of the innermost annotated function now running, if any: the client
/// compares DingTalk's denials with it.
pub fn current_requirement() -> Option<&'static Requirement> {
    CTX.with(|c| c.req.get()).map(Site::requirement)
}

/// The mark that an annotated function is running ([`mark`]), until dropped. An annotated
/// function takes one once its check has passed and holds it for its whole body; in an
/// `async fn` it lives across awaits, and [`WithGrant`] keeps each task's marker to itself
/// by saving and restoring it around every poll.
#[doc(hidden)]
pub struct InRequirement {
    prev: Option<Site>,
}

/// Whether the ambient grant covers the requirement `spec`, encoded as
/// `dingscope_catalog::spec` says: the check an annotated function runs first (through
/// `__private`). Fails closed: no grant entered, or bytes that are not a requirement, are
/// not covered.
///
/// ```
/// let grant = dingscope::Grant::application(["qyapi_hrm_read_user"]);
/// // Empty bytes are not a requirement.
/// assert!(!grant.run(|| dingscope::__private::covered(b"")));
/// ```
#[doc(hidden)]
#[cfg_attr(debug_assertions, inline(never))]
#[cfg_attr(not(debug_assertions), inline)]
pub fn covered(spec: &[u8]) -> bool {
    with_current(|grant| grant.is_some_and(|g| crate::site::covers(spec, g)))
}

/// Marks `site` as the running function's requirement.
#[cfg_attr(debug_assertions, inline(never))]
#[cfg_attr(not(debug_assertions), inline)]
pub(crate) fn mark(site: Site) -> InRequirement {
    InRequirement {
        prev: CTX.with(|c| c.req.replace(Some(site))),
    }
}

/// The denial of `site` by the ambient grant: which codes are missing and how to ask for
/// them.
#[cold]
#[inline(never)]
pub(crate) fn denial(site: Site) -> Error {
    let req = site.requirement();
    with_current(|grant| crate::check::denial(req, grant))
}

impl Drop for InRequirement {
    #[cfg_attr(debug_assertions, inline(never))]
    #[cfg_attr(not(debug_assertions), inline)]
    fn drop(&mut self) {
        CTX.with(|c| c.req.set(self.prev));
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
            prev: CTX.with(|c| c.grant.replace(grant.as_ptr())),
        }
    }
}

impl Drop for Entered {
    fn drop(&mut self) {
        CTX.with(|c| c.grant.set(self.prev));
    }
}

/// Calls `f` with a reference to the ambient grant, or `None` outside any.
#[inline(always)]
pub(crate) fn with_current<R>(f: impl FnOnce(Option<&GrantInner>) -> R) -> R {
    let p = CTX.with(|c| c.grant.get());
    // SAFETY: a non-null pointer was stored by `Entered::new` from a grant that the
    // entering scope (`Grant::run` or `WithGrant::poll`) keeps alive until its guard
    // restores the previous value, and this reference does not outlive this call, which
    // runs inside that scope on the same thread.
    f(unsafe { p.as_ref() })
}

/// The grant entered on this thread, if any.
pub fn current() -> Option<Grant> {
    CTX.with(|c| {
        let p = c.grant.get();
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
    /// The running annotated function of this task between polls.
    requirement: Option<Site>,
}

impl<F: Future> Future for WithGrant<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        // SAFETY: `inner` is structurally pinned: it is never moved out of `self`, and
        // `WithGrant` implements neither `Drop` nor `Unpin` by hand. The other fields are
        // not pinned.
        let this = unsafe { self.get_unchecked_mut() };
        let inner = unsafe { Pin::new_unchecked(&mut this.inner) };
        let grant = this.grant.as_ref().map_or(ptr::null(), Grant::as_ptr);
        let _task = TaskGuard {
            prev: CTX.with(|c| (c.grant.replace(grant), c.req.replace(this.requirement))),
            slot: &mut this.requirement,
        };
        inner.poll(cx)
    }
}

/// A task's context entered for one poll: restores the thread's on drop (also on panic),
/// keeping the task's running-function marker for its next poll.
struct TaskGuard<'a> {
    prev: (*const GrantInner, Option<Site>),
    slot: &'a mut Option<Site>,
}

impl Drop for TaskGuard<'_> {
    #[inline]
    fn drop(&mut self) {
        CTX.with(|c| {
            *self.slot = c.req.replace(self.prev.1);
            c.grant.set(self.prev.0);
        });
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
            requirement: None,
        }
    }

    /// Carries the grant entered now (or its absence) into this future, for example
    /// before handing it to `tokio::spawn`.
    fn with_current_grant(self) -> WithGrant<Self> {
        WithGrant {
            inner: self,
            grant: current(),
            requirement: None,
        }
    }
}

impl<F: Future> WithGrantExt for F {}

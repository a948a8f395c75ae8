//! What a corp (application authorization) or a user (delegated) has granted.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use crate::ambient;
use crate::callsite::Callsite;
use crate::granted::Granted;
use crate::mask::Mask;
use crate::scope::AuthType;

/// The set of permission codes that one token's holder has been granted.
///
/// Cheap to clone (one reference count). Catalogued codes are kept as bits, so checking
/// a requirement against a grant costs a few instructions; other codes are kept as text.
///
/// ```
/// use dingscope::{AuthType, Grant};
///
/// let grant = Grant::application(["qyapi_hrm_read_user", "Contact.User.Read"]);
/// assert!(grant.contains("Contact.User.Read"));
/// assert_eq!(grant.auth_type(), AuthType::Application);
/// ```
#[derive(Clone)]
pub struct Grant {
    inner: Arc<Granted>,
}

impl Grant {
    /// A grant of `codes` of the given kind. Blank strings are ignored; other strings are
    /// kept as they are, so that codes a server reports are never lost.
    pub fn new<I>(auth: AuthType, codes: I) -> Grant
    where
        I: IntoIterator,
        I::Item: AsRef<str>,
    {
        let mut mask = Mask::EMPTY;
        let mut extra: Vec<Box<str>> = Vec::new();
        for code in codes {
            let code = code.as_ref().trim();
            if code.is_empty() {
                continue;
            }
            match dingscope_catalog::index_of(code) {
                Some(i) => mask = mask.with(i),
                None => extra.push(code.into()),
            }
        }
        extra.sort();
        extra.dedup();
        Grant {
            inner: Arc::new(Granted {
                auth,
                mask,
                extra: extra.into_boxed_slice(),
                #[cfg(feature = "client")]
                owner: None,
            }),
        }
    }

    /// An application (corp-wide, openAuth type 1) grant.
    pub fn application<I>(codes: I) -> Grant
    where
        I: IntoIterator,
        I::Item: AsRef<str>,
    {
        Grant::new(AuthType::Application, codes)
    }

    /// A delegated (per-user, openAuth type 0) grant.
    pub fn delegated<I>(codes: I) -> Grant
    where
        I: IntoIterator,
        I::Item: AsRef<str>,
    {
        Grant::new(AuthType::Delegated, codes)
    }

    /// A grant of nothing.
    pub fn empty(auth: AuthType) -> Grant {
        Grant::new(auth, std::iter::empty::<&str>())
    }

    /// Who granted it.
    pub fn auth_type(&self) -> AuthType {
        self.inner.auth
    }

    /// Whether `code` is granted.
    pub fn contains(&self, code: &str) -> bool {
        self.inner.contains(code)
    }

    /// Whether nothing is granted.
    pub fn is_empty(&self) -> bool {
        self.inner.mask == Mask::EMPTY && self.inner.extra.is_empty()
    }

    /// The granted codes: catalogued ones in catalog order, then the others sorted.
    pub fn codes(&self) -> impl Iterator<Item = &str> + '_ {
        self.inner
            .mask
            .iter()
            .map(|i| dingscope_catalog::SCOPES[i].code)
            .chain(self.inner.extra.iter().map(|c| &**c))
    }

    /// This grant plus `codes`.
    pub fn with<I>(&self, codes: I) -> Grant
    where
        I: IntoIterator,
        I::Item: AsRef<str>,
    {
        let mine: Vec<String> = self.codes().map(str::to_owned).collect();
        let theirs: Vec<String> = codes.into_iter().map(|c| c.as_ref().to_owned()).collect();
        self.same_owner(Grant::new(
            self.auth_type(),
            mine.iter().chain(theirs.iter()),
        ))
    }

    /// This grant less `codes` (a server denial says they are not granted after all).
    pub fn without<I>(&self, codes: I) -> Grant
    where
        I: IntoIterator,
        I::Item: AsRef<str>,
    {
        let drop: Vec<String> = codes
            .into_iter()
            .map(|c| c.as_ref().trim().to_owned())
            .collect();
        self.same_owner(Grant::new(
            self.auth_type(),
            self.codes().filter(|c| !drop.iter().any(|d| d == c)),
        ))
    }

    /// `grant`, belonging to whom this one belongs.
    fn same_owner(&self, grant: Grant) -> Grant {
        #[cfg(feature = "client")]
        return grant.owned_by(self.inner.owner.clone());
        #[cfg(not(feature = "client"))]
        grant
    }

    /// This grant, naming the corp or user it belongs to.
    #[cfg(feature = "client")]
    pub(crate) fn owned_by(mut self, owner: Option<Arc<str>>) -> Grant {
        if let Some(inner) = Arc::get_mut(&mut self.inner) {
            inner.owner = owner;
            self
        } else {
            Grant {
                inner: Arc::new(Granted {
                    auth: self.inner.auth,
                    mask: self.inner.mask,
                    extra: self.inner.extra.clone(),
                    owner,
                }),
            }
        }
    }

    /// The corp or user this grant belongs to, if the client made it.
    #[cfg(feature = "client")]
    pub(crate) fn owner(&self) -> Option<&str> {
        self.inner.owner.as_deref()
    }

    pub(crate) fn inner(&self) -> &Granted {
        &self.inner
    }

    /// # Safety
    /// `ptr` must come from [`Grant::as_ptr`] of a grant that is still alive.
    pub(crate) unsafe fn clone_from_ptr(ptr: *const Granted) -> Grant {
        // SAFETY: the caller guarantees that an `Arc<Granted>` owning `ptr` is alive, so
        // adding a strong count and adopting it is sound.
        unsafe {
            Arc::increment_strong_count(ptr);
            Grant {
                inner: Arc::from_raw(ptr),
            }
        }
    }
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
        let _entered = ambient::enter(&self.inner);
        f()
    }
}

/// The grant entered on this thread or task, if any.
///
/// ```
/// use dingscope::{Grant, current_grant};
///
/// let grant = Grant::application(["Contact.User.Read"]);
/// assert_eq!(grant.run(current_grant), Some(grant.clone()));
/// assert_eq!(current_grant(), None);
/// ```
pub fn current_grant() -> Option<Grant> {
    let p = ambient::current_ptr();
    // SAFETY: a non-null pointer from the ambient state points into a grant that the
    // entering scope keeps alive while it is entered, which includes this call.
    (!p.is_null()).then(|| unsafe { Grant::clone_from_ptr(p) })
}

/// The grant entered on this thread or task, if any.
#[deprecated(
    since = "0.1.0",
    note = "renamed `current_grant`, which says what it returns"
)]
pub fn current() -> Option<Grant> {
    current_grant()
}

/// Enters a grant around a future; see [`WithGrantExt`].
#[derive(Debug)]
#[must_use = "futures do nothing unless polled"]
pub struct WithGrant<F> {
    inner: F,
    grant: Option<Grant>,
    /// The running annotated function of this task between polls.
    running: Option<Callsite>,
}

impl<F: Future> Future for WithGrant<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        // SAFETY: `inner` is structurally pinned: it is never moved out of `self`, and
        // `WithGrant` implements neither `Drop` nor `Unpin` by hand. The other fields are
        // not pinned.
        let this = unsafe { self.get_unchecked_mut() };
        let inner = unsafe { Pin::new_unchecked(&mut this.inner) };
        let _task = ambient::enter_task(this.grant.as_ref().map(|g| &*g.inner), &mut this.running);
        inner.poll(cx)
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
            running: None,
        }
    }

    /// Carries the grant entered now (or its absence) into this future, for example
    /// before handing it to `tokio::spawn`.
    fn with_current_grant(self) -> WithGrant<Self> {
        WithGrant {
            inner: self,
            grant: current_grant(),
            running: None,
        }
    }
}

impl<F: Future> WithGrantExt for F {}

impl PartialEq for Grant {
    fn eq(&self, other: &Grant) -> bool {
        self.inner.auth == other.inner.auth
            && self.inner.mask == other.inner.mask
            && self.inner.extra == other.inner.extra
    }
}

impl Eq for Grant {}

impl fmt::Debug for Grant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Grant")
            .field("auth", &self.inner.auth)
            .field("codes", &self.codes().collect::<Vec<_>>())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contains_catalogued_and_other_codes() {
        let g = Grant::application([
            " Contact.User.Read ",
            "Custom.Thing.Read",
            "",
            "Custom.Thing.Read",
        ]);
        assert!(g.contains("Contact.User.Read"));
        assert!(g.contains("Custom.Thing.Read"));
        assert!(!g.contains("qyapi_get_member"));
        assert_eq!(
            g.codes().collect::<Vec<_>>(),
            ["Contact.User.Read", "Custom.Thing.Read"]
        );
    }

    #[test]
    fn with_and_without() {
        let g = Grant::delegated(["Contact.User.Read"]);
        let more = g.with(["snsapi_base", "X.Y.Z"]);
        assert!(more.contains("snsapi_base") && more.contains("X.Y.Z"));
        let less = more.without(["Contact.User.Read", "X.Y.Z"]);
        assert_eq!(less.codes().collect::<Vec<_>>(), ["snsapi_base"]);
        assert_eq!(less.auth_type(), AuthType::Delegated);
        assert!(Grant::empty(AuthType::Delegated).is_empty());
    }
}

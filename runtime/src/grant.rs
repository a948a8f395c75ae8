//! What a corp (application authorization) or a user (delegated) has granted.

use std::fmt;
use std::sync::Arc;

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
    inner: Arc<GrantInner>,
}

pub(crate) struct GrantInner {
    pub(crate) auth: AuthType,
    pub(crate) mask: Mask,
    /// Codes outside the catalog, sorted and de-duplicated.
    pub(crate) extra: Box<[Box<str>]>,
}

impl GrantInner {
    pub(crate) fn contains(&self, code: &str) -> bool {
        match dingscope_catalog::index_of(code) {
            Some(i) => self.mask.contains(i),
            None => self.extra.binary_search_by(|c| (**c).cmp(code)).is_ok(),
        }
    }
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
            inner: Arc::new(GrantInner {
                auth,
                mask,
                extra: extra.into_boxed_slice(),
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
        Grant::new(self.auth_type(), mine.iter().chain(theirs.iter()))
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
        Grant::new(
            self.auth_type(),
            self.codes().filter(|c| !drop.iter().any(|d| d == c)),
        )
    }

    pub(crate) fn inner(&self) -> &GrantInner {
        &self.inner
    }

    pub(crate) fn as_ptr(&self) -> *const GrantInner {
        Arc::as_ptr(&self.inner)
    }

    /// # Safety
    /// `ptr` must come from [`Grant::as_ptr`] of a grant that is still alive.
    pub(crate) unsafe fn clone_from_ptr(ptr: *const GrantInner) -> Grant {
        // SAFETY: the caller guarantees that an `Arc<GrantInner>` owning `ptr` is alive, so
        // adding a strong count and adopting it is sound.
        unsafe {
            Arc::increment_strong_count(ptr);
            Grant {
                inner: Arc::from_raw(ptr),
            }
        }
    }
}

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

//! The codes a grant holds, as the check reads them: catalogued codes as bits, the others
//! as sorted text.

use crate::mask::Mask;
use crate::scope::AuthType;

/// What one [`Grant`](crate::Grant) holds, behind its reference count. The ambient state
/// points at one of these while a grant is entered. `repr(C)`: what the check reads, the
/// authorization type and the mask, comes first, on the first cache line.
#[repr(C)]
pub(crate) struct Granted {
    pub(crate) auth: AuthType,
    pub(crate) mask: Mask,
    /// Codes outside the catalog, sorted and de-duplicated.
    pub(crate) extra: Box<[Box<str>]>,
    /// The corp or user whose grant this is, for grants the client keeps: a request on
    /// behalf of another is refused while this grant is entered.
    #[cfg(feature = "client")]
    pub(crate) owner: Option<std::sync::Arc<str>>,
}

impl Granted {
    /// Whether `code` is granted.
    pub(crate) fn contains(&self, code: &str) -> bool {
        match dingscope_catalog::index_of(code) {
            Some(i) => self.mask.contains(i),
            None => self.extra.binary_search_by(|c| (**c).cmp(code)).is_ok(),
        }
    }
}

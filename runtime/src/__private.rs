//! What `#[requires_scope]` expands to. Not public API.

pub use crate::context::InRequirement;
pub use crate::requirement::{Group, Requirement};
pub use crate::scope::AuthType;
pub use core::any::type_name_of_val;
pub use inventory;

/// One annotated function, as compiled: collected at run time by [`crate::registry`].
pub struct Registered(pub &'static Requirement);

inventory::collect!(Registered);
pub use core::result::Result::Err;

/// Return types that can carry a permission denial out of an annotated function.
#[diagnostic::on_unimplemented(
    message = "`#[requires_scope]` cannot return a permission denial as `{Self}`",
    label = "this return type cannot carry a `dingscope::Error`",
    note = "return `Result<T, E>` where `E: From<dingscope::Error>`, such as `Result<T, dingscope::Error>`",
    note = "the check runs before the body, and a denial is returned from the function"
)]
pub trait CarriesDenial {
    /// Wraps the error.
    fn from_denial(error: crate::Error) -> Self;
}

impl<T, E: From<crate::Error>> CarriesDenial for Result<T, E> {
    #[inline]
    fn from_denial(error: crate::Error) -> Self {
        Err(E::from(error))
    }
}

/// Checks `req` against the ambient grant.
#[inline(always)]
pub fn check(req: &'static Requirement) -> Result<(), crate::Error> {
    req.check()
}

/// Converts a denial into the function's return type, which is inferred.
#[inline]
pub fn deny<R: CarriesDenial>(error: crate::Error) -> R {
    R::from_denial(error)
}

/// Turns `path::to::f::__dingscope_fn` (or `path::to::f::{{closure}}::__dingscope_fn`,
/// inside an `async fn`) into `path::to::f`.
pub fn function_name(marker: &'static str) -> &'static str {
    let mut name = marker.strip_suffix("::__dingscope_fn").unwrap_or(marker);
    while let Some(outer) = name.strip_suffix("::{{closure}}") {
        name = outer;
    }
    name
}

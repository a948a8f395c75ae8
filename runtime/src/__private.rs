//! What `#[requires_scope]` expands to. Not public API.

pub use crate::context::enter_checked;
pub use crate::requirement::{Group, Requirement};
pub use crate::scope::AuthType;
pub use dingscope_catalog::FINGERPRINT;
#[cfg(feature = "registry")]
pub use inventory;

/// One annotated function, as compiled: collected at run time by `dingscope::registry`.
#[cfg(feature = "registry")]
pub struct Registered(pub &'static Requirement);

#[cfg(feature = "registry")]
inventory::collect!(Registered);

/// Registers an annotated function's requirement in `dingscope::registry`, with the
/// `registry` feature; without it, expands to nothing, so that builds that do not list
/// requirements at run time pay nothing for it.
#[cfg(feature = "registry")]
#[doc(hidden)]
#[macro_export]
macro_rules! __register {
    ($req:ident) => {
        $crate::__private::inventory::submit! {
            $crate::__private::Registered(&$req)
        }
    };
}

#[cfg(not(feature = "registry"))]
#[doc(hidden)]
#[macro_export]
macro_rules! __register {
    ($req:ident) => {};
}

pub use crate::__register as register;

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

/// Converts a denial into the function's return type, which is inferred.
#[inline]
pub fn deny<R: CarriesDenial>(error: crate::Error) -> R {
    R::from_denial(error)
}

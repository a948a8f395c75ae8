//! What `#[requires_scope]` expands to. Not public API.

pub use crate::ambient::Running;
pub use crate::check::covered;
#[cfg(feature = "registry")]
pub use inventory;

use crate::callsite::Callsite;
#[cfg(feature = "registry")]
use crate::requirement::Requirement;

/// One annotated function, as compiled: collected at run time by `dingscope::registry`.
#[cfg(feature = "registry")]
#[derive(Debug)]
pub struct Registered {
    /// Its requirement, encoded by the macro.
    pub spec: &'static [u8],
    /// `module_path!()`.
    pub module: &'static str,
}

#[cfg(feature = "registry")]
impl Registered {
    pub(crate) fn requirement(&self) -> &'static Requirement {
        Callsite {
            bytes: self.spec,
            module: self.module,
        }
        .requirement()
    }
}

#[cfg(feature = "registry")]
inventory::collect!(Registered);

/// What an annotated function runs once its check has passed: [`mark`] with the
/// function's module, and with the `registry` feature, the function's entry in
/// `dingscope::registry`. Without that feature nothing is registered, so that builds that
/// do not list requirements at run time pay nothing for it. A `macro_rules!` macro, so
/// that it follows this crate's features.
#[cfg(feature = "registry")]
#[doc(hidden)]
#[macro_export]
macro_rules! __entry {
    ($key:literal, $spec:literal) => {{
        $crate::__private::inventory::submit! {
            $crate::__private::Registered { spec: $spec, module: ::core::module_path!() }
        }
        $crate::__private::mark::<$key>($spec, ::core::module_path!())
    }};
}

#[cfg(not(feature = "registry"))]
#[doc(hidden)]
#[macro_export]
macro_rules! __entry {
    ($key:literal, $spec:literal) => {
        $crate::__private::mark::<$key>($spec, ::core::module_path!())
    };
}

pub use crate::__entry as entry;

/// Marks the function whose requirement is `spec` as running, until the returned guard
/// drops. `KEY` is the [`dingscope_catalog::wire::KEY`] the macro was built with.
///
/// ```
/// let guard = dingscope::__private::mark::<{ dingscope::catalog::wire::KEY }>(b"", "app");
/// assert!(dingscope::current_requirement().is_some());
/// drop(guard);
/// assert!(dingscope::current_requirement().is_none());
/// ```
///
/// A macro built with another catalog or layout does not compile:
///
/// ```compile_fail
/// let _ = dingscope::__private::mark::<1>(b"", "app");
/// ```
// `#[inline]` only in optimised builds: in a debug build an `#[inline]` function is
// compiled again in every codegen unit that calls it, which is most of the crate's.
#[cfg_attr(not(debug_assertions), inline)]
pub fn mark<const KEY: u64>(spec: &'static [u8], module: &'static str) -> Running {
    const {
        assert!(
            KEY == dingscope_catalog::wire::KEY,
            "dingscope-macros was built with another permission catalog or requirement format than dingscope; use the same version of both"
        )
    };
    crate::ambient::mark(Callsite {
        bytes: spec,
        module,
    })
}

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

/// The denial of the requirement `spec`, as the function's return type, which is
/// inferred.
#[cold]
#[inline(never)]
pub fn deny<R: CarriesDenial>(spec: &'static [u8], module: &'static str) -> R {
    R::from_denial(crate::check::denial_at(Callsite {
        bytes: spec,
        module,
    }))
}

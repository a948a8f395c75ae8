//! Declare the DingTalk permissions (权限点) each API call needs, in one place: the code.
//!
//! `#[requires_scope]` on a function declares the permission codes it needs. The
//! declaration is checked when the crate compiles (grammar, typos against DingTalk's
//! catalog, the app's applied-for list in `dingscope.toml`, the API paths the body
//! names), and again at every call: the function runs only if the grant entered on
//! the current thread or task covers it. Otherwise the caller gets a [`Denied`] that names
//! the missing codes and the openAuth parameters that ask for exactly those.
//!
//! ```
//! use dingscope::{Grant, WithGrantExt, requires_scope};
//!
//! #[requires_scope("Pro.HrmDismission.ReadWrite")]
//! async fn list_dismissed() -> Result<Vec<String>, dingscope::Error> {
//!     // ... call GET /v1.0/hrm/employees/dismissions ...
//!     Ok(vec!["user001".to_owned()])
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! let granted = Grant::application(["Pro.HrmDismission.ReadWrite"]);
//! assert!(list_dismissed().with_grant(&granted).await.is_ok());
//!
//! let err = list_dismissed().with_grant(&Grant::application(["Contact.User.Read"])).await.unwrap_err();
//! let denied = err.as_denied().unwrap();
//! assert_eq!(denied.open_auth().rpc_scope, "Pro.HrmDismission.ReadWrite");
//! assert_eq!(denied.open_auth().auth_type.open_auth_type(), 1);
//! # }
//! ```
//!
//! # Where the grant comes from
//!
//! The grant is *ambient*, like a `tracing` span: enter it around a closure with
//! [`Grant::run`] or around a future with [`WithGrantExt::with_grant`], and every
//! annotated function called inside, at any depth, checks against it. An `async fn`
//! checks when it is first polled. A task spawned inside does not inherit the grant:
//! carry it over with [`WithGrantExt::with_current_grant`]. With no grant entered, every
//! check fails closed.
//!
//! # Features
//!
//! - `client` (default): `dingscope::client`, the DingTalk client: tokens, grants, API calls.
//! - `redis`: a Redis store for services that run several instances.
//! - `registry`: `dingscope::registry`, every annotated function compiled into the
//!   program, and `manifest::agreement`, which compares it with the build-time manifest.
//!   Meant for tests: enable it in `[dev-dependencies]`, as each annotated function then
//!   registers itself, which costs compile time.

mod ambient;
mod callsite;
mod check;
#[cfg(feature = "client")]
pub mod client;
mod error;
mod grant;
mod granted;
pub mod manifest;
mod mask;
mod openauth;
#[cfg(feature = "registry")]
pub mod registry;
mod requirement;
mod scope;
mod secret;
#[cfg(feature = "serde")]
pub mod wire;

pub use ambient::current_requirement;
#[cfg(feature = "client")]
pub use error::{ApiError, StoreError};
pub use error::{Denied, DenyReason, Error};
#[allow(deprecated)]
pub use grant::current;
pub use grant::{Grant, WithGrant, WithGrantExt, current_grant};
pub use openauth::{OpenAuthRequest, OpenAuthStatus, UnknownStatus};
pub use requirement::{Group, Requirement};
pub use scope::{AuthType, InvalidScope, Kind, Scope, ScopeInfo};
pub use secret::Secret;

/// DingTalk's catalog of permission codes and API endpoints.
pub use dingscope_catalog as catalog;

#[doc(inline)]
pub use dingscope_macros::requires_scope;

#[doc(hidden)]
pub mod __private;

//! The `#[requires_scope]` attribute of [dingscope](https://docs.rs/dingscope).
//!
//! Use it through the `dingscope` crate, which re-exports it; this crate is an
//! implementation detail whose version is pinned to dingscope's.

#![warn(missing_docs)]

mod endpoints;
mod expand;
mod item;
mod validate;

use proc_macro::TokenStream;

/// Declares the DingTalk permission codes (权限点 Code) a function needs.
///
/// The function runs only if the grant entered when it is called covers every
/// requirement; otherwise it returns a [`dingscope::Error`] that names the missing codes
/// and the openAuth parameters that would grant them. An `async fn` checks when it is
/// first polled. The signature stays exactly as written.
///
/// # Arguments
///
/// | argument | meaning |
/// |---|---|
/// | `"Contact.User.Read"` | a required rpc code (openAuth `rpcScope`); several are all required |
/// | `any("qyapi_hrm_read_user", "Pro.HrmDismission.ReadWrite")` | any one of these codes, in order of preference |
/// | `field("Contact.User.mobile")` | a required field code (openAuth `fieldScope`); `field(any(...))` for alternatives |
/// | `auth = delegated` | needs a user's grant (openAuth `type: 0`, a user token) |
/// | `auth = application` | needs an admin's grant for the corp (`type: 1`, an app token) |
/// | `endpoint_check = false` | skip the endpoint check below for this function |
///
/// ```
/// use dingscope::requires_scope;
///
/// #[requires_scope("qyapi_hrm_read_user")]
/// async fn list_dismissed() -> Result<Vec<String>, dingscope::Error> {
///     Ok(vec![])
/// }
///
/// #[requires_scope(
///     any("Contact.User.Read", "qyapi_get_member"),
///     field("Contact.User.mobile"),
///     auth = delegated,
/// )]
/// fn read_profile(union_id: &str) -> Result<String, dingscope::Error> {
///     Ok(union_id.to_owned())
/// }
/// ```
///
/// # Checks when the crate compiles
///
/// Every mistake is reported at once, each at its own literal:
///
/// - the grammar of each code: dotted `Resource.Operation[.Constraint]` of 3 or 4
///   letter-only segments, or lower snake case; no white space or commas;
/// - duplicates, and a field code used as an rpc code or the reverse;
/// - a code not in DingTalk's catalog but close to one: "did you mean ...?" (a code far
///   from every catalogued one is accepted, as the catalog is not exhaustive);
/// - with a `dingscope.toml` beside `Cargo.toml` (or the file named by the
///   `DINGSCOPE_APPLIED` environment variable), every code must be listed there as
///   applied for; a code listed there is trusted even if the catalog does not know it:
///
///   ```toml
///   [applied]
///   application = ["qyapi_hrm_read_user"]   # organisational codes
///   delegated = ["Contact.User.Read"]       # personal codes
///   field = ["Contact.User.mobile"]
///   ```
///
/// - a string literal in the body that names a DingTalk API path
///   (`"/v1.0/hrm/employees/dismissions"`, a full URL, or a format string with `{}`
///   segments) must be covered by the declaration: a compile error at the literal names
///   the missing code. `endpoint_check = false` opts one function out. An `any(...)`
///   group covers an API only if the API accepts every alternative, since each
///   alternative alone passes the function's check; the error names the ones it does not.
///
/// The return type must be able to carry the denial: `Result<T, E>` where
/// `E: From<dingscope::Error>`.
///
/// The function's documentation gains a "Required DingTalk permissions" section.
///
/// [`dingscope::Error`]: https://docs.rs/dingscope/latest/dingscope/enum.Error.html
#[proc_macro_attribute]
pub fn requires_scope(attr: TokenStream, item: TokenStream) -> TokenStream {
    expand::requires_scope(attr.into(), item.into()).into()
}

//! DingTalk's permission codes (权限点 Code) and API endpoints, as data.
//!
//! This crate is shared by the `#[requires_scope]` macro (compile-time checks) and the
//! `dingscope` runtime (bit indices, names, endpoints), so the two always agree. The
//! tables come from `data/scopes.tsv` and `data/endpoints.tsv`; `data/README.md` says
//! where those come from. Neither is exhaustive: code outside the catalog still works
//! everywhere, it is only not checked for typos.

#![warn(missing_docs)]

mod grammar;
mod matching;
pub mod wire;

/// The former name of [`wire`].
#[deprecated(since = "0.1.0", note = "renamed `wire`")]
#[doc(hidden)]
pub mod spec {
    pub use crate::wire::*;
}

pub use grammar::{CodeForm, GrammarError, check_grammar};
pub use matching::{
    Suggestion, all_endpoints, edit_distance, endpoints_needing, match_path, suggest,
};

/// Whether a code guards an API (`rpcScope`) or a field (`fieldScope`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    /// Guards an API; requested in openAuth's `rpcScope`.
    Rpc,
    /// Guards a field of an API's answer (`Contact.User.mobile`); requested in `fieldScope`.
    Field,
}

impl Kind {
    /// The kind of `code`: from the catalog, else from its form. A code outside the
    /// catalog is a field code when it is dotted and its last segment starts in lower
    /// case (`Contact.User.mobile`), as every catalogued field code is.
    pub fn of(code: &str) -> Kind {
        match lookup(code) {
            Some(info) => info.kind,
            None => match code.rsplit_once('.') {
                Some((_, last)) if last.starts_with(|c: char| c.is_ascii_lowercase()) => {
                    Kind::Field
                }
                _ => Kind::Rpc,
            },
        }
    }

    /// `"rpc"` or `"field"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Kind::Rpc => "rpc",
            Kind::Field => "field",
        }
    }
}

/// openAuth's `type`: who grants a permission.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AuthType {
    /// Delegated (委托) authorization, per user: openAuth `type: 0`, a user access token.
    Delegated,
    /// Application (应用) authorization, granted by an admin for the whole corp:
    /// openAuth `type: 1`, an app or corp access token.
    Application,
}

impl AuthType {
    /// The value of openAuth's `type` parameter: 0 or 1.
    pub const fn open_auth_type(self) -> u8 {
        match self {
            AuthType::Delegated => 0,
            AuthType::Application => 1,
        }
    }

    /// `"delegated"` or `"application"`, as the attribute and `dingscope.toml` write it.
    pub const fn as_str(self) -> &'static str {
        match self {
            AuthType::Delegated => "delegated",
            AuthType::Application => "application",
        }
    }

    /// The auth type named `name` (`"delegated"` or `"application"`).
    pub fn parse(name: &str) -> Option<AuthType> {
        match name {
            "delegated" => Some(AuthType::Delegated),
            "application" => Some(AuthType::Application),
            _ => None,
        }
    }
}

impl std::fmt::Display for AuthType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a catalogued code was seen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Status {
    /// On a current API page.
    Documented,
    /// In DingTalk's documentation, not on an API page.
    DocumentedElsewhere,
    /// Only inside an error text returned by DingTalk.
    MentionedInErrorText,
    /// Only in public code.
    SeenInPublicCode,
    /// Only as an example; possibly retired (`Pro.HrmDismission.ReadWrite`).
    ExampleOnly,
}

/// One catalogued permission code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScopeInfo {
    /// The code as DingTalk spells it.
    pub code: &'static str,
    /// The official (Chinese) name.
    pub name: &'static str,
    /// rpc or field.
    pub kind: Kind,
    /// Where it was seen.
    pub status: Status,
    /// How many documented APIs need it.
    pub api_count: u32,
}

/// HTTP method of a catalogued endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[allow(missing_docs)]
pub enum Method {
    Get,
    Post,
    Put,
    Delete,
    Patch,
}

impl Method {
    /// The method named `name` (upper case, as HTTP writes it).
    pub fn parse(name: &str) -> Option<Method> {
        Some(match name {
            "GET" => Method::Get,
            "POST" => Method::Post,
            "PUT" => Method::Put,
            "DELETE" => Method::Delete,
            "PATCH" => Method::Patch,
            _ => return None,
        })
    }

    /// The method's name, upper case.
    pub const fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Delete => "DELETE",
            Method::Patch => "PATCH",
        }
    }
}

/// Which DingTalk host serves an endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Host {
    /// `https://api.dingtalk.com`, the new API (token in `x-acs-dingtalk-access-token`).
    Api,
    /// `https://oapi.dingtalk.com`, the old API (token in the `access_token` query).
    Oapi,
}

impl Host {
    /// The host's base URL.
    pub const fn base_url(self) -> &'static str {
        match self {
            Host::Api => "https://api.dingtalk.com",
            Host::Oapi => "https://oapi.dingtalk.com",
        }
    }
}

/// Kind of app an endpoint is documented for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AppType {
    /// An internal (enterprise self-built) app.
    Internal,
    /// A third-party (ISV) enterprise app.
    Isv,
    /// A third-party personal app.
    IsvPersonal,
}

/// One catalogued API endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Endpoint {
    /// HTTP method.
    pub method: Method,
    /// Host.
    pub host: Host,
    /// Path template, e.g. `/v1.0/contact/users/{unionId}`.
    pub path: &'static str,
    /// The codes that guard it; any one of them suffices.
    pub scopes: &'static [&'static str],
    /// The app types it is documented for.
    pub app_types: &'static [AppType],
    /// Official title.
    pub title: &'static str,
    /// Slug of its documentation page.
    pub doc_slug: &'static str,
}

include!(concat!(env!("OUT_DIR"), "/catalog.rs"));

/// The codes that guard `method path` (any one suffices), if the catalog knows the API:
/// the one endpoint lookup of the macro, the runtime, the mock and the command. `path` is
/// a path or URL as [`match_path`] takes it.
pub fn required_for(method: Method, path: &str) -> Option<&'static [&'static str]> {
    match_path(path)
        .into_iter()
        .find(|e| e.method == method)
        .map(|e| e.scopes)
}

/// How many `u64` words a bit set over [`SCOPES`] takes (one bit a code, by index).
pub const MASK_WORDS: usize = SCOPES.len().div_ceil(64);

/// The bit set of the given [`SCOPES`] indices.
pub fn mask_of(indices: impl IntoIterator<Item = usize>) -> [u64; MASK_WORDS] {
    let mut words = [0; MASK_WORDS];
    for i in indices {
        words[i / 64] |= 1 << (i % 64);
    }
    words
}

/// Index of `code` in [`SCOPES`], if catalogued. Usable in constant evaluation.
pub const fn index_of(code: &str) -> Option<usize> {
    let code = code.as_bytes();
    let (mut lo, mut hi) = (0, SCOPES.len());
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        match cmp_bytes(SCOPES[mid].code.as_bytes(), code) {
            core::cmp::Ordering::Less => lo = mid + 1,
            core::cmp::Ordering::Greater => hi = mid,
            core::cmp::Ordering::Equal => return Some(mid),
        }
    }
    None
}

/// The catalog entry for `code`, if any.
pub fn lookup(code: &str) -> Option<&'static ScopeInfo> {
    index_of(code).map(|i| &SCOPES[i])
}

const fn cmp_bytes(a: &[u8], b: &[u8]) -> core::cmp::Ordering {
    let mut i = 0;
    while i < a.len() && i < b.len() {
        if a[i] < b[i] {
            return core::cmp::Ordering::Less;
        }
        if a[i] > b[i] {
            return core::cmp::Ordering::Greater;
        }
        i += 1;
    }
    if a.len() < b.len() {
        core::cmp::Ordering::Less
    } else if a.len() > b.len() {
        core::cmp::Ordering::Greater
    } else {
        core::cmp::Ordering::Equal
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_have_the_documented_sizes() {
        assert_eq!(SCOPES.len(), 261);
        assert_eq!(ENDPOINTS.len(), 1148);
        assert_eq!(EXTRA_ENDPOINTS.len(), 2);
    }

    #[test]
    fn scopes_are_sorted_and_indexable() {
        for (i, s) in SCOPES.iter().enumerate() {
            assert_eq!(index_of(s.code), Some(i), "{}", s.code);
        }
        assert_eq!(index_of("Nope.Not.There"), None);
        assert_eq!(index_of(""), None);
    }

    #[test]
    fn every_catalogued_code_passes_the_grammar() {
        for s in SCOPES {
            assert!(check_grammar(s.code).is_ok(), "{}", s.code);
        }
    }

    #[test]
    fn required_for_covers_catalog_and_extras() {
        assert_eq!(
            required_for(Method::Get, "/v1.0/hrm/employees/dismissions?nextToken=0"),
            Some(&["qyapi_hrm_read_user"][..])
        );
        assert_eq!(
            required_for(Method::Get, "/v1.0/contact/users/me"),
            Some(&["Contact.User.Read"][..])
        );
        assert_eq!(
            required_for(Method::Post, "/v1.0/hrm/employees/dismissions"),
            None
        );
        assert_eq!(required_for(Method::Get, "/nowhere/at/all"), None);
    }

    #[test]
    fn the_kind_of_a_code() {
        assert_eq!(Kind::of("Contact.User.mobile"), Kind::Field);
        assert_eq!(Kind::of("Contact.User.email"), Kind::Field);
        assert_eq!(Kind::of("Contact.User.Read"), Kind::Rpc);
        assert_eq!(Kind::of("qyapi_get_member"), Kind::Rpc);
        assert_eq!(Kind::of("Custom.Thing.Read"), Kind::Rpc);
    }

    #[test]
    fn seed_codes_are_known() {
        let s = lookup("qyapi_hrm_read_user").unwrap();
        assert_eq!(s.kind, Kind::Rpc);
        assert_eq!(lookup("Contact.User.mobile").unwrap().kind, Kind::Field);
        assert_eq!(
            lookup("Pro.HrmDismission.ReadWrite").unwrap().status,
            Status::ExampleOnly
        );
    }
}

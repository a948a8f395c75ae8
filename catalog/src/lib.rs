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
pub mod spec;

pub use grammar::{CodeForm, GrammarError, check_grammar};
pub use matching::{Suggestion, edit_distance, match_path, suggest};

/// Whether a code guards an API (`rpcScope`) or a field (`fieldScope`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    /// Guards an API; requested in openAuth's `rpcScope`.
    Rpc,
    /// Guards a field of an API's answer (`Contact.User.mobile`); requested in `fieldScope`.
    Field,
}

impl Kind {
    /// `"rpc"` or `"field"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Kind::Rpc => "rpc",
            Kind::Field => "field",
        }
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

/// APIs that `data/endpoints.tsv` lacks but this project serves or calls, with the codes
/// their documentation pages name (`shared/dingtalk/README.md`: the dismission details
/// "same permission" as the list; `/v1.0/contact/users/me` needs `Contact.User.Read`; the
/// old `querydimission` the HRM read code).
pub const EXTRA_ENDPOINTS: &[(Method, &str, &[&str])] = &[
    (
        Method::Get,
        "/v1.0/hrm/employees/dimissionInfos",
        &["qyapi_hrm_read_user"],
    ),
    (
        Method::Get,
        "/v1.0/contact/users/me",
        &["Contact.User.Read"],
    ),
    (
        Method::Post,
        "/topapi/smartwork/hrm/employee/querydimission",
        &["qyapi_hrm_read_user"],
    ),
];

/// The codes that guard `method path` (any one suffices), if the catalog knows the API.
/// `path` is a path or URL as [`match_path`] takes it.
pub fn required_for(method: Method, path: &str) -> Option<&'static [&'static str]> {
    let bare = path.split(['?', '#']).next().unwrap_or("");
    if let Some((_, _, codes)) = EXTRA_ENDPOINTS
        .iter()
        .find(|(m, p, _)| *m == method && *p == bare)
    {
        return Some(codes);
    }
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

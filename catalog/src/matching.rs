//! Matching string literals against endpoint paths, and near-miss suggestions.

use std::collections::HashMap;
use std::sync::OnceLock;

use crate::{ENDPOINTS, EXTRA_ENDPOINTS, Endpoint, Host, SCOPES, ScopeInfo};

/// Every endpoint a lookup searches: the catalog's and the extra ones.
pub fn all_endpoints() -> impl Iterator<Item = &'static Endpoint> {
    ENDPOINTS.iter().chain(EXTRA_ENDPOINTS)
}

/// The endpoints that `code` guards, alone or as one of their alternatives.
pub fn endpoints_needing(code: &str) -> impl Iterator<Item = &'static Endpoint> + '_ {
    all_endpoints().filter(move |e| e.scopes.contains(&code))
}

/// The catalogued endpoints whose path `literal` names.
///
/// `literal` may be a full URL (`https://api.dingtalk.com/v1.0/...`), a bare path
/// (`/v1.0/...`, matched on both hosts) or a format string: a `{...}` segment on either
/// side matches any one segment. A query string is ignored. Where several templates
/// match, only those with the most literal (non-placeholder) segments in common are
/// returned, so `/v1.0/contact/users/me` does not also name `/v1.0/contact/users/{id}`.
/// Several endpoints are returned when one path serves several methods.
pub fn match_path(literal: &str) -> Vec<&'static Endpoint> {
    let Some((host, path)) = split_url(literal) else {
        return Vec::new();
    };
    let want: Vec<&str> = segments(path).collect();
    if want.len() < 2 {
        return Vec::new();
    }
    let mut best = 0usize;
    let mut found: Vec<&'static Endpoint> = Vec::new();
    for ep in candidates(&want) {
        if host.is_some_and(|h| h != ep.host) {
            continue;
        }
        let Some(score) = score(&want, ep.path) else {
            continue;
        };
        if score > best {
            best = score;
            found.clear();
        }
        if score == best {
            found.push(ep);
        }
    }
    found
}

type Index = HashMap<(usize, &'static str), Vec<&'static Endpoint>>;

/// Endpoints by segment count and second segment (`/v1.0/hrm/...` files under `hrm`);
/// a template whose second segment is a placeholder is filed under `"{}"`. Built once,
/// so a lookup scores a handful of templates instead of all 1,148.
fn index() -> &'static Index {
    static INDEX: OnceLock<Index> = OnceLock::new();
    INDEX.get_or_init(|| {
        let mut map: Index = HashMap::new();
        for ep in all_endpoints() {
            let segs: Vec<&'static str> = segments(ep.path).collect();
            let second = match segs.get(1) {
                Some(s) if !is_placeholder(s) => s,
                _ => "{}",
            };
            map.entry((segs.len(), second)).or_default().push(ep);
        }
        map
    })
}

fn candidates<'a>(want: &'a [&'a str]) -> Box<dyn Iterator<Item = &'static Endpoint> + 'a> {
    let n = want.len();
    let idx = index();
    let wild = idx.get(&(n, "{}")).into_iter().flatten().copied();
    match want.get(1) {
        Some(s) if !is_placeholder(s) => {
            Box::new(idx.get(&(n, *s)).into_iter().flatten().copied().chain(wild))
        }
        // The literal's second segment is itself a placeholder: any template of that length.
        _ => Box::new(
            idx.iter()
                .filter(move |((len, _), _)| *len == n)
                .flat_map(|(_, v)| v.iter().copied()),
        ),
    }
}

fn split_url(literal: &str) -> Option<(Option<Host>, &str)> {
    let s = literal.trim();
    let s = s.split(['?', '#']).next().unwrap_or("");
    for (prefix, host) in [
        ("https://api.dingtalk.com", Host::Api),
        ("http://api.dingtalk.com", Host::Api),
        ("https://oapi.dingtalk.com", Host::Oapi),
        ("http://oapi.dingtalk.com", Host::Oapi),
    ] {
        if let Some(rest) = s.strip_prefix(prefix) {
            return rest.starts_with('/').then_some((Some(host), rest));
        }
    }
    s.starts_with('/').then_some((None, s))
}

fn segments(path: &str) -> impl Iterator<Item = &str> {
    path.trim_end_matches('/').split('/').skip(1)
}

fn is_placeholder(seg: &str) -> bool {
    seg.starts_with('{') && seg.ends_with('}')
}

/// The number of segments matched letter for letter, if `want` matches `template`.
fn score(want: &[&str], template: &str) -> Option<usize> {
    let mut n = 0;
    let mut exact = 0;
    for (i, t) in segments(template).enumerate() {
        let w = want.get(i)?;
        if w.is_empty() {
            return None;
        }
        if is_placeholder(t) || is_placeholder(w) {
        } else if *w == t {
            exact += 1;
        } else {
            return None;
        }
        n += 1;
    }
    (n == want.len()).then_some(exact)
}

/// A catalogued code close to a code that is not catalogued.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Suggestion {
    /// The catalogued code.
    pub scope: &'static ScopeInfo,
    /// Edit distance, ignoring case (0: the two differ only in case).
    pub distance: usize,
}

/// The catalogued code nearest to `code`, if it is within a small edit distance.
///
/// The threshold grows with length: 1 edit up to 8 characters, 2 up to 20, 3 beyond.
/// A code far from every catalogued one gets no suggestion: the catalog is not exhaustive.
pub fn suggest(code: &str) -> Option<Suggestion> {
    let limit = match code.chars().count() {
        0..=8 => 1,
        9..=20 => 2,
        _ => 3,
    };
    let lower = code.to_ascii_lowercase();
    let mut best: Option<Suggestion> = None;
    for scope in SCOPES {
        if scope.code == code {
            return None;
        }
        let d = edit_distance(&lower, &scope.code.to_ascii_lowercase());
        if d <= limit && best.is_none_or(|b| d < b.distance) {
            best = Some(Suggestion { scope, distance: d });
        }
    }
    best
}

/// Optimal-string-alignment distance: insertions, deletions, substitutions and
/// transpositions of adjacent characters each cost one.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let w = b.len() + 1;
    let mut d = vec![0usize; (a.len() + 1) * w];
    for i in 0..=a.len() {
        d[i * w] = i;
    }
    for (j, cell) in d.iter_mut().enumerate().take(w) {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut v = (d[(i - 1) * w + j] + 1)
                .min(d[i * w + j - 1] + 1)
                .min(d[(i - 1) * w + j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                v = v.min(d[(i - 2) * w + j - 2] + 1);
            }
            d[i * w + j] = v;
        }
    }
    d[a.len() * w + b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_the_seed_endpoint_in_every_spelling() {
        for lit in [
            "/v1.0/hrm/employees/dismissions",
            "https://api.dingtalk.com/v1.0/hrm/employees/dismissions",
            "/v1.0/hrm/employees/dismissions?nextToken=0&maxResults=30",
            "/v1.0/hrm/employees/dismissions/",
        ] {
            let m = match_path(lit);
            assert_eq!(m.len(), 1, "{lit}");
            assert_eq!(m[0].scopes, &["qyapi_hrm_read_user"]);
        }
    }

    #[test]
    fn templates_and_placeholders_match_one_segment() {
        let m = match_path("/v1.0/aiot/products/p1/devices/d1/properties");
        assert_eq!(m.len(), 1);
        assert_eq!(m[0].scopes, &["Device.AIoT.Write"]);
        let m = match_path("/v1.0/aiot/products/{}/devices/{name}/properties");
        assert_eq!(m.len(), 1);
        assert!(match_path("/v1.0/aiot/products/p1/devices/properties").is_empty());
    }

    /// The extra endpoints are found by the same lookup, and a literal path beats a
    /// template: `/v1.0/contact/users/me` is not `/v1.0/contact/users/{unionId}`.
    #[test]
    fn extra_endpoints_are_matched_like_the_others() {
        let m = match_path("/v1.0/contact/users/me");
        assert_eq!(m.len(), 1);
        assert_eq!(m[0].scopes, &["Contact.User.Read"]);
        let m =
            match_path("https://oapi.dingtalk.com/topapi/smartwork/hrm/employee/querydimission");
        assert_eq!(m.len(), 1);
        assert_eq!(m[0].scopes, &["qyapi_hrm_read_user"]);
    }

    #[test]
    fn host_is_respected() {
        assert!(match_path("https://oapi.dingtalk.com/v1.0/hrm/employees/dismissions").is_empty());
        assert!(match_path("https://example.com/v1.0/hrm/employees/dismissions").is_empty());
    }

    /// The index finds what a scan of every endpoint finds, for every catalogued path.
    #[test]
    fn index_agrees_with_a_full_scan() {
        for ep in all_endpoints() {
            let want: Vec<&str> = segments(ep.path).collect();
            let m = match_path(ep.path);
            assert!(m.contains(&ep), "{} not found", ep.path);
            let best = all_endpoints()
                .filter_map(|e| score(&want, e.path))
                .max()
                .unwrap();
            let expected = all_endpoints()
                .filter(|e| score(&want, e.path) == Some(best))
                .count();
            assert_eq!(m.len(), expected, "{}", ep.path);
        }
    }

    #[test]
    fn ordinary_strings_match_nothing() {
        for lit in ["", "/", "hello", "/v1.0", "v1.0/hrm/employees/dismissions"] {
            assert!(match_path(lit).is_empty(), "{lit}");
        }
    }

    #[test]
    fn suggestions() {
        let s = suggest("Contact.User.Raed").unwrap();
        assert_eq!(s.scope.code, "Contact.User.Read");
        assert_eq!(suggest("contact.user.read").unwrap().distance, 0);
        assert_eq!(
            suggest("qyapi_hrm_read_usr").unwrap().scope.code,
            "qyapi_hrm_read_user"
        );
        assert!(suggest("Contact.User.Read").is_none());
        assert!(suggest("Totally.Different.Thing").is_none());
    }

    #[test]
    fn distance() {
        assert_eq!(edit_distance("abc", "abc"), 0);
        assert_eq!(edit_distance("abc", "acb"), 1);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
    }
}

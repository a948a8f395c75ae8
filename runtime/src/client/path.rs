//! The path of a request, checked before anything is sent: what the pre-call check sees
//! is exactly what goes on the wire.
//!
//! A path starts with `/` and is appended to the configured base of its host: the new
//! API's for `/v1.0/` and `/v2.0/` paths, the old API's for the others. DingTalk's full URL
//! form (`https://api.dingtalk.com/v1.0/...`, `https://oapi.dingtalk.com/topapi/...`), which
//! the attribute's endpoint check also reads, is mapped onto the configured base of its
//! host. Refused at once, raw or percent-encoded: `.` and `..` segments, `?`, `#`, `@`,
//! `\` and control characters. Query parameters go through
//! [`RequestBuilder::query`](super::RequestBuilder::query).

use dingscope_catalog::Host;

/// A checked path and the host it goes to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Route {
    pub(crate) host: Host,
    pub(crate) path: String,
}

/// Checks `path` (or DingTalk's full URL) and says which host serves it.
pub(crate) fn route(path: &str) -> Result<Route, String> {
    let (host, rest) = match strip_dingtalk_host(path) {
        Some((host, rest)) => (Some(host), rest),
        None => (None, path),
    };
    if !rest.starts_with('/') {
        return Err(format!(
            "the request path {:?} must start with `/` (a path of DingTalk's API, such as `/v1.0/contact/users/me`)",
            shown(path)
        ));
    }
    for segment in rest.split('/').skip(1) {
        let decoded = decode(segment).ok_or_else(|| {
            format!(
                "the request path {:?} has a `%` that starts no escape",
                shown(path)
            )
        })?;
        if let Some(b) = decoded
            .iter()
            .find(|&&b| matches!(b, b'?' | b'#' | b'@' | b'\\') || b < 0x20 || b == 0x7f)
        {
            let what = match b {
                b'?' | b'#' => "a query or fragment: pass parameters with `.query(name, value)`",
                b'@' => "an `@`",
                b'\\' => "a `\\`",
                _ => "a control character",
            };
            return Err(format!(
                "the request path {:?} holds {what}; nothing was sent",
                shown(path)
            ));
        }
        if decoded == b"." || decoded == b".." {
            return Err(format!(
                "the request path {:?} has a `.` or `..` segment; nothing was sent",
                shown(path)
            ));
        }
    }
    let host = host.unwrap_or(
        if rest.starts_with("/v1.0/") || rest.starts_with("/v2.0/") {
            Host::Api
        } else {
            Host::Oapi
        },
    );
    Ok(Route {
        host,
        path: rest.to_owned(),
    })
}

/// DingTalk's full URL form: its host and the path after it.
fn strip_dingtalk_host(url: &str) -> Option<(Host, &str)> {
    for host in [Host::Api, Host::Oapi] {
        let base = host.base_url();
        let bare = base.trim_start_matches("https://");
        for prefix in [base.to_owned(), format!("http://{bare}")] {
            if let Some(rest) = url.strip_prefix(prefix.as_str())
                && (rest.is_empty() || rest.starts_with(['/', '?', '#']))
            {
                return Some((host, rest));
            }
        }
    }
    None
}

/// The bytes of `segment` with its percent-escapes decoded; `None` for a bad escape.
fn decode(segment: &str) -> Option<Vec<u8>> {
    let bytes = segment.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes.get(i + 1..i + 3)?;
            let hex = std::str::from_utf8(hex).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    Some(out)
}

/// `path` for a message, cut short.
fn shown(path: &str) -> String {
    path.chars().take(120).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_paths_pass_and_pick_their_host() {
        let r = route("/v1.0/hrm/employees/dismissions").unwrap();
        assert_eq!(r.host, Host::Api);
        let r = route("/topapi/smartwork/hrm/employee/querydimission").unwrap();
        assert_eq!(r.host, Host::Oapi);
        let r = route("/v1.0/contact/users/%E5%BC%A0").unwrap();
        assert_eq!(r.path, "/v1.0/contact/users/%E5%BC%A0");
    }

    #[test]
    fn full_dingtalk_urls_map_onto_their_host() {
        let r = route("https://api.dingtalk.com/v1.0/contact/users/me").unwrap();
        assert_eq!(
            (r.host, r.path.as_str()),
            (Host::Api, "/v1.0/contact/users/me")
        );
        let r = route("https://oapi.dingtalk.com/topapi/v2/user/get").unwrap();
        assert_eq!(
            (r.host, r.path.as_str()),
            (Host::Oapi, "/topapi/v2/user/get")
        );
        assert!(route("https://api.dingtalk.com.evil.example/v1.0/x").is_err());
        assert!(route("https://example.com/v1.0/contact/users/me").is_err());
    }

    #[test]
    fn what_could_reach_another_path_or_host_is_refused() {
        for bad in [
            "v1.0/contact/users/me",
            "@evil.example/x",
            "/v1.0/contact/users/me/../../../hrm/employees/dismissions",
            "/v1.0/contact/users/me/%2e%2E/x",
            "/v1.0/contact/users/./me",
            "/v1.0/contact/users/me?x=1",
            "/v1.0/contact/users/me%3Fx=1",
            "/v1.0/contact/users/me#f",
            "/v1.0/contact/users/me%23f",
            "/v1.0/contact/users/a@b",
            "/v1.0/contact/users/a%40b",
            "/v1.0/contact/users/a\\b",
            "/v1.0/contact/users/a%5cb",
            "/v1.0/contact/users/a\nb",
            "/v1.0/contact/users/a%0Ab",
            "/v1.0/contact/users/a%zz",
            "/v1.0/contact/users/a%2",
            "",
        ] {
            assert!(route(bad).is_err(), "{bad:?} was accepted");
        }
    }
}

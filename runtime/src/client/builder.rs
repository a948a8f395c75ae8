//! The client's builder and its settings.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use super::grants::GrantCache;
use super::keys::Keys;
use super::seal::Sealer;
use super::store::{MemoryStore, Store};
use super::ticket::TicketSlot;
use super::token::TokenCache;
use super::transport::Http;
use super::{App, DingTalk, Inner};
use crate::Error;

/// How often and how long to retry throttling, timeouts and server failures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retry {
    /// Attempts in all, the first included (default 3).
    pub attempts: u32,
    /// Delay before the first retry; doubled each time, with ±50% jitter (default 200 ms).
    pub base_delay: Duration,
    /// Longest delay (default 5 s).
    pub max_delay: Duration,
}

impl Default for Retry {
    fn default() -> Retry {
        Retry {
            attempts: 3,
            base_delay: Duration::from_millis(200),
            max_delay: Duration::from_secs(5),
        }
    }
}

/// Builds a [`DingTalk`] client; [`DingTalk::builder`] makes one.
pub struct DingTalkBuilder {
    app: App,
    api_base: String,
    oapi_base: String,
    store: Arc<dyn Store>,
    margin: Duration,
    timeout: Duration,
    retry: Retry,
    applied: Vec<String>,
    max_answer: usize,
    allow_http: bool,
    key_prefix: String,
    throttle_wait: Duration,
    rate_limit: Option<u32>,
    memory: Duration,
    max_in_flight: usize,
    sealer: Sealer,
}

impl fmt::Debug for DingTalkBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DingTalkBuilder")
            .field("app", &self.app)
            .field("api_base", &self.api_base)
            .field("oapi_base", &self.oapi_base)
            .finish_non_exhaustive()
    }
}

impl DingTalkBuilder {
    /// The new API's base URL (default `https://api.dingtalk.com`).
    pub fn api_base(mut self, url: impl Into<String>) -> Self {
        self.api_base = url.into().trim_end_matches('/').to_owned();
        self
    }

    /// The old API's base URL (default `https://oapi.dingtalk.com`).
    pub fn oapi_base(mut self, url: impl Into<String>) -> Self {
        self.oapi_base = url.into().trim_end_matches('/').to_owned();
        self
    }

    /// Where tokens, tickets and grants are kept (default: this process's memory).
    pub fn store(mut self, store: Arc<dyn Store>) -> Self {
        self.store = store;
        self
    }

    /// How long before expiry a token is refreshed (default 10 minutes, DingTalk's
    /// advice). A token is always used for at least half its life.
    pub fn refresh_margin(mut self, margin: Duration) -> Self {
        self.margin = margin;
        self
    }

    /// How long to wait for an answer (default 3 s, after which DingTalk itself gives up).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Retries of throttling, timeouts and server failures.
    pub fn retry(mut self, retry: Retry) -> Self {
        self.retry = retry;
        self
    }

    /// The application codes applied for in the developer console: what an openAuth
    /// answer to `rpcScope: ".default"` grants.
    pub fn applied<I: IntoIterator<Item = S>, S: Into<String>>(mut self, codes: I) -> Self {
        self.applied = codes.into_iter().map(Into::into).collect();
        self
    }

    /// The longest answer read, in bytes (default 4 MiB). A longer one, by its
    /// `Content-Length` or as it arrives, fails the call with [`Error::Protocol`] and is
    /// not read further.
    pub fn max_answer_bytes(mut self, limit: usize) -> Self {
        self.max_answer = limit;
        self
    }

    /// Starts every store key with `prefix` and a `:` (default: none, keys start with
    /// `dingscope:`), so that several deployments share one store, each held to its own
    /// keys by the store's access rules (a Redis ACL user with `~prefix:*`).
    pub fn key_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.key_prefix = prefix.into();
        self
    }

    /// How long a call waits for a throttle deadline before it fails (default 2 s).
    ///
    /// DingTalk's throttled answers leave deadlines that every instance sharing the store
    /// respects before sending (see [`Error::Throttled`] and its
    /// [`retry_at`](crate::ApiError::retry_at)): `Retry-After` (at most a minute), the
    /// next minute for a per-minute limit, five minutes for the IP ban. A call waits out
    /// a deadline at most this far away and then sends; a later one fails it at once.
    /// `Duration::ZERO` always fails fast.
    pub fn throttle_wait(mut self, wait: Duration) -> Self {
        self.throttle_wait = wait;
        self
    }

    /// Limits the app's calls of each endpoint to `per_second`, across every instance
    /// sharing the store (default: no limit). DingTalk allows a standard corp's app 20
    /// calls per second per API; a fleet that stays under the limit is never throttled.
    /// Calls over the limit wait for the next second (within
    /// [`throttle_wait`](Self::throttle_wait)). The count is one store operation per call.
    pub fn rate_limit(mut self, per_second: u32) -> Self {
        self.rate_limit = Some(per_second);
        self
    }

    /// Seals the secrets written to the store (access tokens, refresh tokens, the suite
    /// ticket) with `key` (XChaCha20-Poly1305; each value bound to its store key), so that
    /// a copy of the store, a backup or a shared Redis does not give them away. Every
    /// instance needs the same key. Values written without it, or with another key, read
    /// as absent: tokens are fetched again, and users whose refresh token was stored in
    /// clear text authorize again. Grants, locks and throttle deadlines stay readable.
    #[cfg(feature = "store-encryption")]
    pub fn store_key(mut self, key: super::StoreKey) -> Self {
        self.sealer = Sealer::new(Some(key));
        self
    }

    /// The most requests of one corp's endpoint this process has in flight at once
    /// (default 32; at least 1); more wait their turn. When DingTalk starts to throttle,
    /// at most this many were sent before its first refusal came back, and the rest wait
    /// for the deadline it sets. DingTalk allows about 20 per second per endpoint, so this
    /// bound costs no throughput DingTalk would grant.
    pub fn max_in_flight(mut self, n: usize) -> Self {
        self.max_in_flight = n;
        self
    }

    /// How long this process keeps its copy of a corp's or user's grant after reading it
    /// from the store (default an hour). The copy serves while the store is down; older
    /// copies are dropped, so that memory follows the principals in use, not every one
    /// ever seen. Token slots go when their token has expired and no
    /// [`Principal`](super::Principal) holds them.
    pub fn memory(mut self, keep: Duration) -> Self {
        self.memory = keep;
        self
    }

    /// Allows `http://` bases on hosts other than the loopback (default: only
    /// `https://`, and `http://` on 127.0.0.0/8, `[::1]` and `localhost`, for mocks).
    /// Tokens and secrets then cross the network in clear text.
    pub fn allow_http(mut self, allow: bool) -> Self {
        self.allow_http = allow;
        self
    }

    /// The client.
    pub fn build(self) -> Result<DingTalk, Error> {
        for (name, url) in [("api_base", &self.api_base), ("oapi_base", &self.oapi_base)] {
            check_base(name, url, self.allow_http)?;
        }
        if self
            .key_prefix
            .chars()
            .any(|c| c.is_control() || c.is_whitespace())
        {
            return Err(Error::Config(format!(
                "the key prefix {:?} holds white space or control characters",
                self.key_prefix
            )));
        }
        let keys = Keys::new(&self.key_prefix);
        // DingTalk's APIs never redirect: a redirect would carry secrets and tokens to
        // another host, so none is followed, and no `Referer` is sent.
        let http = Http::new(self.timeout, self.max_answer)?;
        Ok(DingTalk {
            inner: Arc::new(Inner {
                http,
                tokens: TokenCache::new(self.margin, lock_ttl(&self.retry, self.timeout))
                    .with_keys(keys.clone())
                    .with_sealer(self.sealer.clone()),
                keys,
                grants: GrantCache::new(self.memory),
                ticket: TicketSlot::default(),
                app: self.app,
                api_base: self.api_base,
                oapi_base: self.oapi_base,
                store: self.store,
                retry: self.retry,
                applied: self.applied,
                pending_refresh: Default::default(),
                sealer: self.sealer,
                deadlines: Default::default(),
                stopped: Default::default(),
                throttle_wait: self.throttle_wait,
                rate_limit: self.rate_limit,
                #[cfg(feature = "stream")]
                allow_http: self.allow_http,
                max_in_flight: self.max_in_flight.max(1),
                in_flight: Default::default(),
            }),
        })
    }
}

impl DingTalk {
    /// A builder for `app`, aimed at DingTalk's real hosts until told otherwise.
    pub fn builder(app: App) -> DingTalkBuilder {
        DingTalkBuilder {
            app,
            api_base: "https://api.dingtalk.com".into(),
            oapi_base: "https://oapi.dingtalk.com".into(),
            store: Arc::new(MemoryStore::new()),
            margin: Duration::from_secs(600),
            timeout: Duration::from_secs(3),
            retry: Retry::default(),
            applied: Vec::new(),
            max_answer: 4 << 20,
            allow_http: false,
            key_prefix: String::new(),
            throttle_wait: Duration::from_secs(2),
            rate_limit: None,
            memory: Duration::from_secs(3600),
            max_in_flight: 32,
            sealer: Sealer::default(),
        }
    }
}

/// How long a token refresh lock is taken for: the slowest fetch these settings allow
/// (every attempt timing out, every pause at its longest), plus ten seconds for the store
/// and the suite ticket. It is extended while a fetch runs.
pub(crate) fn lock_ttl(retry: &Retry, timeout: Duration) -> Duration {
    let attempts = retry.attempts.max(1);
    let pauses = retry
        .max_delay
        .saturating_mul(attempts - 1)
        .saturating_mul(3)
        / 2;
    timeout
        .saturating_mul(attempts)
        .saturating_add(pauses)
        .saturating_add(Duration::from_secs(10))
}

/// A Stream endpoint must be `wss://`, or `ws://` on the loopback unless `allow_http`.
#[cfg(feature = "stream")]
pub(crate) fn check_ws(url: &str, allow_http: bool) -> Result<(), Error> {
    let as_http = if let Some(rest) = url.strip_prefix("wss://") {
        format!("https://{rest}")
    } else if let Some(rest) = url.strip_prefix("ws://") {
        format!("http://{rest}")
    } else {
        return Err(Error::Config(
            "the stream gateway answered an endpoint that is not a ws(s):// URL".into(),
        ));
    };
    check_base("the stream endpoint", &as_http, allow_http)
}

/// A base URL must be `https://`, or `http://` on the loopback unless `allow_http`.
fn check_base(name: &str, url: &str, allow_http: bool) -> Result<(), Error> {
    let parsed: http::Uri = url
        .parse()
        .map_err(|e| Error::Config(format!("{name} is not a URL ({e}): {url:?}")))?;
    let host = parsed.host().unwrap_or_default();
    let loopback = host.eq_ignore_ascii_case("localhost")
        || host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    match parsed.scheme_str().unwrap_or_default() {
        "https" if !host.is_empty() => Ok(()),
        "http" if loopback || allow_http => Ok(()),
        "http" => Err(Error::Config(format!(
            "{name} is `http://` on a host that is not the loopback ({url:?}): tokens and secrets would cross the network in clear text; use `https://`, or `allow_http(true)`"
        ))),
        _ => Err(Error::Config(format!(
            "{name} must be an http(s) URL, got {url:?}"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_is_for_the_loopback_unless_allowed() {
        for ok in [
            "https://api.dingtalk.com",
            "http://127.0.0.1:8787",
            "http://127.8.0.1",
            "http://[::1]:80",
            "http://localhost:1",
        ] {
            assert!(check_base("api_base", ok, false).is_ok(), "{ok}");
        }
        for bad in [
            "http://api.dingtalk.com",
            "http://10.0.0.1",
            "ftp://x",
            "nope",
        ] {
            assert!(check_base("api_base", bad, false).is_err(), "{bad}");
        }
        assert!(check_base("api_base", "http://10.0.0.1", true).is_ok());
    }
}

//! The client's builder and its settings.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use super::grants::GrantCache;
use super::store::{MemoryStore, Store};
use super::ticket::TicketSlot;
use super::token::TokenCache;
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

    /// The client.
    pub fn build(self) -> Result<DingTalk, Error> {
        // reqwest is built without a default crypto provider; ring is ours. Installing
        // fails only if the process installed one already, which is as good.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::Client::builder()
            .timeout(self.timeout)
            .build()
            .map_err(|e| {
                Error::Config(format!("cannot build the HTTP client: {}", e.without_url()))
            })?;
        for (name, url) in [("api_base", &self.api_base), ("oapi_base", &self.oapi_base)] {
            if !(url.starts_with("http://") || url.starts_with("https://")) {
                return Err(Error::Config(format!(
                    "{name} must be an http(s) URL, got {url:?}"
                )));
            }
        }
        Ok(DingTalk {
            inner: Arc::new(Inner {
                http,
                tokens: TokenCache::new(self.margin),
                grants: GrantCache::default(),
                ticket: TicketSlot::default(),
                app: self.app,
                api_base: self.api_base,
                oapi_base: self.oapi_base,
                store: self.store,
                retry: self.retry,
                applied: self.applied,
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
        }
    }
}

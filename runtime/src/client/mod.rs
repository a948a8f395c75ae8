//! The DingTalk client: tokens for every flow, grants, and API calls that are checked
//! before they are sent and whose denials come back as typed errors.
//!
//! ```no_run
//! # async fn demo() -> Result<(), dingscope::Error> {
//! use dingscope::client::{App, DingTalk};
//! use dingscope::{Secret, WithGrantExt};
//!
//! let dt = DingTalk::builder(App::isv("suite-key", Secret::new("suite-secret"))).build()?;
//! dt.set_suite_ticket(Secret::new("ticket pushed by DingTalk")).await?;
//! let corp = dt.corp("ding-corp-id");
//! let page: serde_json::Value = corp
//!     .get("/v1.0/hrm/employees/dismissions")
//!     .query("nextToken", "0")
//!     .query("maxResults", "30")
//!     .send()
//!     .await?;
//! # Ok(()) }
//! ```

mod answer;
#[cfg(feature = "redis")]
mod redis_store;
mod request;
pub mod store;
mod token;

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use serde::Deserialize;

pub use answer::{Verdict, classify_new, classify_old, codes_in_text};
#[cfg(feature = "redis")]
pub use redis_store::RedisStore;
pub use request::RequestBuilder;
pub use store::{BoxFuture, MemoryStore, Store, StoreError};

use crate::error::ApiError;
use crate::{AuthType, Error, Grant, OpenAuthRequest, Secret};
use token::{Fetched, TokenCache};

/// The app's credentials, which decide the token flow.
#[derive(Clone)]
pub enum App {
    /// An internal (self-built) app of one corp: `POST /v1.0/oauth2/accessToken`.
    Internal {
        /// AppKey (the client id).
        app_key: String,
        /// AppSecret.
        app_secret: Secret,
        /// The corp the app belongs to.
        corp_id: String,
    },
    /// A third-party (ISV) app: `POST /v1.0/oauth2/corpAccessToken` for each authorized
    /// corp, with the latest suite ticket from the store.
    Isv {
        /// SuiteKey (the client id).
        suite_key: String,
        /// SuiteSecret.
        suite_secret: Secret,
    },
    /// Any app through the unified endpoint `POST /v1.0/oauth2/{corpId}/token`.
    Unified {
        /// The client id.
        client_id: String,
        /// The client secret.
        client_secret: Secret,
    },
}

impl App {
    /// An internal app.
    pub fn internal(
        app_key: impl Into<String>,
        app_secret: Secret,
        corp_id: impl Into<String>,
    ) -> App {
        App::Internal {
            app_key: app_key.into(),
            app_secret,
            corp_id: corp_id.into(),
        }
    }

    /// An ISV app.
    pub fn isv(suite_key: impl Into<String>, suite_secret: Secret) -> App {
        App::Isv {
            suite_key: suite_key.into(),
            suite_secret,
        }
    }

    /// An app using the unified token endpoint.
    pub fn unified(client_id: impl Into<String>, client_secret: Secret) -> App {
        App::Unified {
            client_id: client_id.into(),
            client_secret,
        }
    }

    /// The client id (AppKey, SuiteKey), which openAuth's `clientId` takes.
    pub fn client_id(&self) -> &str {
        match self {
            App::Internal { app_key, .. } => app_key,
            App::Isv { suite_key, .. } => suite_key,
            App::Unified { client_id, .. } => client_id,
        }
    }

    fn secret(&self) -> &Secret {
        match self {
            App::Internal { app_secret, .. } => app_secret,
            App::Isv { suite_secret, .. } => suite_secret,
            App::Unified { client_secret, .. } => client_secret,
        }
    }
}

impl fmt::Debug for App {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self {
            App::Internal { .. } => "Internal",
            App::Isv { .. } => "Isv",
            App::Unified { .. } => "Unified",
        };
        f.debug_struct(kind)
            .field("client_id", &self.client_id())
            .field("secret", self.secret())
            .finish()
    }
}

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

/// Builds a [`DingTalk`] client.
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
                grants: RwLock::default(),
                ticket: RwLock::default(),
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

pub(crate) struct Inner {
    pub(crate) http: reqwest::Client,
    pub(crate) tokens: TokenCache,
    grants: RwLock<HashMap<String, (Grant, Instant)>>,
    /// The latest suite ticket, and whether the store still lacks it.
    ticket: RwLock<Option<(Secret, bool)>>,
    pub(crate) app: App,
    pub(crate) api_base: String,
    pub(crate) oapi_base: String,
    pub(crate) store: Arc<dyn Store>,
    pub(crate) retry: Retry,
    applied: Vec<String>,
}

/// How long a grant read from the store is trusted before it is read again, so that
/// instances sharing a store see each other's updates.
const GRANT_TTL: Duration = Duration::from_secs(30);

/// A DingTalk client for one app. Cheap to clone.
#[derive(Clone)]
pub struct DingTalk {
    pub(crate) inner: Arc<Inner>,
}

impl fmt::Debug for DingTalk {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DingTalk")
            .field("app", &self.inner.app)
            .field("api_base", &self.inner.api_base)
            .field("oapi_base", &self.inner.oapi_base)
            .finish_non_exhaustive()
    }
}

/// Whose grant a token carries.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum Who {
    Corp(String),
    User { corp: String, user: String },
}

impl Who {
    fn key(&self, app: &str) -> String {
        match self {
            Who::Corp(c) => format!("{app}:{c}"),
            Who::User { corp, user } => format!("{app}:{corp}:{user}"),
        }
    }

    fn auth_type(&self) -> AuthType {
        match self {
            Who::Corp(_) => AuthType::Application,
            Who::User { .. } => AuthType::Delegated,
        }
    }
}

/// What openAuth answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpenAuthStatus {
    /// Granted.
    Ok,
    /// Refused.
    Cancel,
    /// The user is no admin; a request went to one (type 1 only). Nothing is granted yet.
    ToAdmin,
    /// The component failed.
    Failed,
}

impl OpenAuthStatus {
    /// Parses openAuth's `status` (`ok`, `cancel`, `toAdmin`, `failed`).
    pub fn parse(s: &str) -> Result<OpenAuthStatus, Error> {
        match s {
            "ok" => Ok(OpenAuthStatus::Ok),
            "cancel" => Ok(OpenAuthStatus::Cancel),
            "toAdmin" => Ok(OpenAuthStatus::ToAdmin),
            "failed" => Ok(OpenAuthStatus::Failed),
            other => Err(Error::Config(format!(
                "unknown openAuth status {other:?}; expected ok, cancel, toAdmin or failed"
            ))),
        }
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

    /// The app's client id, for openAuth's `clientId`.
    pub fn client_id(&self) -> &str {
        self.inner.app.client_id()
    }

    /// Keeps the suite ticket DingTalk pushed (event `suite_ticket`), replacing the older
    /// one. It is stored with no expiry of its own. If the store is down, the ticket is
    /// kept in this process and written to the store as soon as it answers again.
    pub async fn set_suite_ticket(&self, ticket: Secret) -> Result<(), Error> {
        self.set_local_ticket(Some((ticket.clone(), true)));
        self.persist_ticket(&ticket).await;
        Ok(())
    }

    fn ticket_key(&self) -> String {
        format!("dingscope:ticket:{}", self.client_id())
    }

    fn set_local_ticket(&self, t: Option<(Secret, bool)>) {
        *self.inner.ticket.write().unwrap_or_else(|e| e.into_inner()) = t;
    }

    fn local_ticket(&self) -> Option<(Secret, bool)> {
        self.inner
            .ticket
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    async fn persist_ticket(&self, ticket: &Secret) {
        match self
            .inner
            .store
            .set(&self.ticket_key(), ticket.expose().to_owned(), None)
            .await
        {
            Ok(()) => {
                if self.local_ticket().is_some_and(|(t, _)| &t == ticket) {
                    self.set_local_ticket(Some((ticket.clone(), false)));
                }
            }
            Err(e) => {
                tracing::error!(error = %e, "could not store the suite ticket; keeping it in this process")
            }
        }
    }

    async fn suite_ticket(&self) -> Result<Secret, Error> {
        if let Some((t, true)) = self.local_ticket() {
            // Newer than the store's: write it now that the store may be back.
            self.persist_ticket(&t).await;
            return Ok(t);
        }
        match self.inner.store.get(&self.ticket_key()).await {
            Ok(Some(t)) => {
                let t = Secret::new(t);
                self.set_local_ticket(Some((t.clone(), false)));
                return Ok(t);
            }
            Ok(None) => {}
            Err(e) => {
                tracing::error!(error = %e, "suite ticket store unavailable; using this process's copy")
            }
        }
        self.local_ticket().map(|(t, _)| t).ok_or_else(|| {
            Error::Config(
                "no suite ticket yet: pass the one DingTalk pushes (event `suite_ticket`) to `set_suite_ticket`".into(),
            )
        })
    }

    /// A corp that authorized the app (application authorization).
    pub fn corp(&self, corp_id: impl Into<String>) -> Principal {
        self.principal(Who::Corp(corp_id.into()))
    }

    fn principal(&self, who: Who) -> Principal {
        let token_key = self.token_key(&who);
        Principal {
            dt: self.clone(),
            token_slot: self.inner.tokens.slot(&token_key),
            token_key,
            who,
        }
    }

    /// A user of `corp_id`, known to the app as `user` (a unionId, say), for delegated calls.
    pub fn user(&self, corp_id: impl Into<String>, user: impl Into<String>) -> Principal {
        self.principal(Who::User {
            corp: corp_id.into(),
            user: user.into(),
        })
    }

    pub(crate) async fn grant_of(&self, p: &Who) -> Result<Grant, Error> {
        let key = p.key(self.client_id());
        if let Some((g, at)) = self
            .inner
            .grants
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(&key)
            && at.elapsed() < GRANT_TTL
        {
            return Ok(g.clone());
        }
        let stored = match self
            .inner
            .store
            .get(&format!("dingscope:grant:{key}"))
            .await
        {
            Ok(v) => v,
            Err(e) => {
                // Keep working from this process's copy, however old.
                let local = self
                    .inner
                    .grants
                    .read()
                    .unwrap_or_else(|e| e.into_inner())
                    .get(&key)
                    .cloned();
                if let Some((g, _)) = local {
                    tracing::error!(error = %e, "grant store unavailable; using this process's copy");
                    return Ok(g);
                }
                return Err(Error::Store(e));
            }
        };
        let codes: Vec<String> = stored
            .and_then(|j| serde_json::from_str(&j).ok())
            .unwrap_or_default();
        let g = Grant::new(p.auth_type(), codes);
        self.cache_grant(&key, g.clone());
        Ok(g)
    }

    fn cache_grant(&self, key: &str, g: Grant) {
        self.inner
            .grants
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(key.to_owned(), (g, Instant::now()));
    }

    pub(crate) async fn set_grant(&self, p: &Who, g: Grant) -> Result<Grant, Error> {
        let key = p.key(self.client_id());
        let codes: Vec<&str> = g.codes().collect();
        let json = serde_json::to_string(&codes).map_err(|e| Error::Config(e.to_string()))?;
        self.cache_grant(&key, g.clone());
        if let Err(e) = self
            .inner
            .store
            .set(&format!("dingscope:grant:{key}"), json, None)
            .await
        {
            tracing::error!(error = %e, "could not store a grant; keeping it in this process");
        }
        Ok(g)
    }

    /// The access token for `p`, from the cache or its token endpoint.
    fn token_key(&self, p: &Who) -> Arc<str> {
        format!("{}:{}", p.key(self.client_id()), p.auth_type().as_str()).into()
    }

    /// The access token for `p` (whose cache key is `key`), from the cache or its endpoint.
    pub(crate) async fn token(&self, p: &Who, key: &str) -> Result<Secret, Error> {
        let store = self.inner.store.clone();
        match p {
            Who::Corp(corp) => {
                self.inner
                    .tokens
                    .get(key, &*store, || self.fetch_corp_token(corp))
                    .await
            }
            Who::User { corp, user } => {
                self.inner
                    .tokens
                    .get(key, &*store, || self.refresh_user_token(corp, user))
                    .await
            }
        }
    }

    pub(crate) async fn invalidate_token(&self, key: &str, bad: &Secret) {
        self.inner
            .tokens
            .invalidate(key, bad, &*self.inner.store)
            .await;
    }

    async fn fetch_corp_token(&self, corp: &str) -> Result<Fetched, Error> {
        #[derive(Deserialize)]
        struct Camel {
            #[serde(rename = "accessToken")]
            access_token: String,
            #[serde(rename = "expireIn")]
            expire_in: i64,
        }
        #[derive(Deserialize)]
        struct Snake {
            access_token: String,
            expires_in: i64,
        }
        let app = &self.inner.app;
        match app {
            App::Internal {
                app_key,
                app_secret,
                corp_id,
            } => {
                if corp_id != corp {
                    return Err(Error::Config(format!(
                        "an internal app of corp {corp_id} has no token for corp {corp}"
                    )));
                }
                let body = serde_json::json!({"appKey": app_key, "appSecret": app_secret.expose()});
                let t: Camel = self.token_call("/v1.0/oauth2/accessToken", body).await?;
                Ok(Fetched {
                    token: Secret::new(t.access_token),
                    expire_in: t.expire_in,
                })
            }
            App::Isv {
                suite_key,
                suite_secret,
            } => {
                let ticket = self.suite_ticket().await?;
                let body = serde_json::json!({
                    "suiteKey": suite_key,
                    "suiteSecret": suite_secret.expose(),
                    "authCorpId": corp,
                    "suiteTicket": ticket.expose(),
                });
                let t: Camel = self
                    .token_call("/v1.0/oauth2/corpAccessToken", body)
                    .await?;
                Ok(Fetched {
                    token: Secret::new(t.access_token),
                    expire_in: t.expire_in,
                })
            }
            App::Unified {
                client_id,
                client_secret,
            } => {
                let body = serde_json::json!({
                    "client_id": client_id,
                    "client_secret": client_secret.expose(),
                    "grant_type": "client_credentials",
                });
                let path = format!("/v1.0/oauth2/{corp}/token");
                let t: Snake = self.token_call(&path, body).await?;
                Ok(Fetched {
                    token: Secret::new(t.access_token),
                    expire_in: t.expires_in,
                })
            }
        }
    }

    async fn refresh_user_token(&self, corp: &str, user: &str) -> Result<Fetched, Error> {
        let key = format!("dingscope:refresh:{}:{corp}:{user}", self.client_id());
        let Some(refresh) = self.inner.store.get(&key).await.map_err(Error::Store)? else {
            return Err(Error::Config(format!(
                "no user token for {user}: exchange the openAuth authCode with `exchange_code` first"
            )));
        };
        self.user_token_call(
            corp,
            user,
            "refresh_token",
            "refreshToken",
            &Secret::new(refresh),
        )
        .await
    }

    pub(crate) async fn user_token_call(
        &self,
        corp: &str,
        user: &str,
        grant_type: &str,
        field: &str,
        value: &Secret,
    ) -> Result<Fetched, Error> {
        #[derive(Deserialize)]
        struct UserToken {
            #[serde(rename = "accessToken")]
            access_token: String,
            #[serde(rename = "refreshToken")]
            refresh_token: String,
            #[serde(rename = "expireIn")]
            expire_in: i64,
        }
        let body = serde_json::json!({
            "clientId": self.client_id(),
            "clientSecret": self.inner.app.secret().expose(),
            "grantType": grant_type,
            field: value.expose(),
        });
        let t: UserToken = self
            .token_call("/v1.0/oauth2/userAccessToken", body)
            .await?;
        // Refresh tokens rotate: keep the new one (30 days).
        let key = format!("dingscope:refresh:{}:{corp}:{user}", self.client_id());
        self.inner
            .store
            .set(
                &key,
                t.refresh_token,
                Some(Duration::from_secs(30 * 24 * 3600)),
            )
            .await
            .map_err(Error::Store)?;
        Ok(Fetched {
            token: Secret::new(t.access_token),
            expire_in: t.expire_in,
        })
    }

    async fn token_call<T: serde::de::DeserializeOwned>(
        &self,
        path: &str,
        body: serde_json::Value,
    ) -> Result<T, Error> {
        request::token_call(self, path, body).await
    }

    /// The grant that openAuth answering `status` to `requested` leaves.
    fn after_open_auth(
        &self,
        current: &Grant,
        requested: &OpenAuthRequest,
        status: OpenAuthStatus,
    ) -> Grant {
        if status != OpenAuthStatus::Ok {
            return current.clone();
        }
        let mut codes: Vec<String> = Vec::new();
        for list in [&requested.rpc_scope, &requested.field_scope] {
            for c in list.split(',').map(str::trim).filter(|c| !c.is_empty()) {
                if c == ".default" {
                    codes.extend(self.inner.applied.iter().cloned());
                } else {
                    codes.push(c.to_owned());
                }
            }
        }
        current.with(codes)
    }
}

/// Who calls DingTalk: a corp that authorized the app (application authorization,
/// [`DingTalk::corp`]) or one of its users (delegated, [`DingTalk::user`]). Holds the way
/// to its token and grant, and makes API calls with them.
#[derive(Clone)]
pub struct Principal {
    pub(crate) dt: DingTalk,
    pub(crate) who: Who,
    /// The token cache's key, computed once.
    pub(crate) token_key: Arc<str>,
    /// Its slot in the token cache, looked up once.
    token_slot: Arc<token::Slot>,
}

impl fmt::Debug for Principal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Principal")
            .field("who", &self.who)
            .finish_non_exhaustive()
    }
}

impl Principal {
    /// The corp id.
    pub fn corp_id(&self) -> &str {
        match &self.who {
            Who::Corp(c) | Who::User { corp: c, .. } => c,
        }
    }

    /// Application (a corp) or delegated (a user).
    pub fn auth_type(&self) -> AuthType {
        self.who.auth_type()
    }

    /// What is granted, as far as the app knows: from openAuth answers, the user grant
    /// query, configuration, and server denials.
    pub async fn grant(&self) -> Result<Grant, Error> {
        self.dt.grant_of(&self.who).await
    }

    /// The access token, from the cache or its token endpoint, for calls this client does
    /// not make itself. Never print it.
    pub async fn access_token(&self) -> Result<Secret, Error> {
        self.dt.token(&self.who, &self.token_key).await
    }

    /// The access token if this process holds a fresh one: no I/O, no waiting.
    pub fn cached_token(&self) -> Option<Secret> {
        self.token_slot.fresh()
    }

    /// Replaces the known grant (from configuration, say).
    pub async fn set_grant<I: IntoIterator<Item = S>, S: AsRef<str>>(
        &self,
        codes: I,
    ) -> Result<Grant, Error> {
        self.dt
            .set_grant(&self.who, Grant::new(self.auth_type(), codes))
            .await
    }

    /// Records what openAuth answered to `requested`: `ok` adds the codes (`.default`
    /// meaning every applied-for application code); other answers change nothing.
    pub async fn record_open_auth(
        &self,
        requested: &OpenAuthRequest,
        status: OpenAuthStatus,
    ) -> Result<Grant, Error> {
        if requested.auth_type != self.auth_type() {
            return Err(Error::Config(format!(
                "an openAuth answer of type {} cannot change a {} grant",
                requested.auth_type.open_auth_type(),
                self.auth_type()
            )));
        }
        let current = self.grant().await?;
        let next = self.dt.after_open_auth(&current, requested, status);
        self.dt.set_grant(&self.who, next).await
    }

    /// The openAuth parameters asking for whatever of `codes` is not granted yet.
    pub async fn open_auth_for<'a>(
        &self,
        codes: impl IntoIterator<Item = &'a str>,
    ) -> Result<OpenAuthRequest, Error> {
        let g = self.grant().await?;
        let missing: Vec<crate::Scope> = codes
            .into_iter()
            .filter(|c| !g.contains(c))
            .map(|c| {
                crate::Scope::parse(c).unwrap_or_else(|_| crate::Scope::from_static("invalid_code"))
            })
            .collect();
        Ok(OpenAuthRequest::for_codes(self.auth_type(), &missing))
    }

    /// Exchanges openAuth's one-time `authCode` (delegated, type 0) for this user's tokens.
    pub async fn exchange_code(&self, auth_code: Secret) -> Result<(), Error> {
        let Who::User { corp, user } = &self.who else {
            return Err(Error::Config(
                "authCode exchange is for a user: use `DingTalk::user`".into(),
            ));
        };
        let fetched = self
            .dt
            .user_token_call(corp, user, "authorization_code", "code", &auth_code)
            .await?;
        // Seed the cache with the fresh access token.
        let key = format!(
            "{}:{}",
            self.who.key(self.dt.client_id()),
            self.auth_type().as_str()
        );
        let store = self.dt.inner.store.clone();
        self.dt
            .inner
            .tokens
            .get(&key, &*store, || async { Ok::<_, Error>(fetched) })
            .await?;
        Ok(())
    }

    /// Reads the user's grant from `GET /v1.0/oauth2/authRules/user` and keeps it.
    pub async fn refresh_user_grant(&self) -> Result<Grant, Error> {
        #[derive(Deserialize)]
        struct Rules {
            result: Vec<Rule>,
        }
        #[derive(Deserialize)]
        struct Rule {
            resource: String,
            #[serde(rename = "authItems", default)]
            auth_items: Vec<String>,
        }
        if self.auth_type() != AuthType::Delegated {
            return Err(Error::Config(
                "the user grant query is for delegated (user) tokens".into(),
            ));
        }
        // This call learns the grant, so it cannot be checked against it first.
        let rules: Rules = self
            .get("/v1.0/oauth2/authRules/user")
            .without_precheck()
            .send()
            .await?;
        let mut codes: Vec<String> = Vec::new();
        for r in rules.result {
            for item in r.auth_items {
                if r.resource == "rpc_auth" {
                    codes.push(item);
                } else {
                    codes.push(format!("{}.{item}", r.resource));
                }
            }
        }
        self.dt
            .set_grant(&self.who, Grant::new(AuthType::Delegated, codes))
            .await
    }

    /// Runs `fut` with this corp's or user's grant entered, so the annotated functions it
    /// calls check against it.
    pub async fn run<F: std::future::Future>(&self, fut: F) -> Result<F::Output, Error> {
        use crate::WithGrantExt;
        let g = self.grant().await?;
        Ok(fut.with_grant(&g).await)
    }

    /// A `GET` of the new API.
    pub fn get(&self, path: &str) -> RequestBuilder {
        RequestBuilder::new(self.clone(), reqwest::Method::GET, path)
    }

    /// A `POST` of the new API, or of the old API for paths outside `/v1.0/`.
    pub fn post(&self, path: &str) -> RequestBuilder {
        RequestBuilder::new(self.clone(), reqwest::Method::POST, path)
    }

    /// A request with any method.
    pub fn request(&self, method: reqwest::Method, path: &str) -> RequestBuilder {
        RequestBuilder::new(self.clone(), method, path)
    }
}

pub(crate) fn api_error(
    endpoint: &str,
    status: u16,
    code: &str,
    message: &str,
    request_id: Option<String>,
    attempts: u32,
) -> Box<ApiError> {
    Box::new(ApiError {
        endpoint: endpoint.to_owned(),
        status,
        code: code.to_owned(),
        message: message.to_owned(),
        request_id,
        attempts,
    })
}

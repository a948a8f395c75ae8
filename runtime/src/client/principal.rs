//! Who calls DingTalk: a corp that authorized the app, or one of its users.

use std::fmt;
use std::sync::Arc;

use super::request::RequestBuilder;
use super::{DingTalk, token};
use crate::{AuthType, Error, Secret, WithGrantExt};

/// Whose grant a token carries.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum Who {
    Corp(String),
    User { corp: String, user: String },
}

impl Who {
    pub(crate) fn auth_type(&self) -> AuthType {
        match self {
            Who::Corp(_) => AuthType::Application,
            Who::User { .. } => AuthType::Delegated,
        }
    }

    /// Refuses ids that are empty or hold control characters: no DingTalk id does, and
    /// such an id (from a request, say) must not reach a store key or a log line.
    pub(crate) fn check(&self) -> Result<(), Error> {
        let ids: &[&str] = match self {
            Who::Corp(corp) => &[corp],
            Who::User { corp, user } => &[corp, user],
        };
        for id in ids {
            if id.is_empty() || id.chars().any(char::is_control) {
                return Err(Error::Config(format!(
                    "{id:?} is not a corp or user id: empty, or with control characters"
                )));
            }
        }
        Ok(())
    }
}

/// Who calls DingTalk: a corp that authorized the app (application authorization,
/// [`DingTalk::corp`]) or one of its users (delegated, [`DingTalk::user`]). Holds the way
/// to its token and grant, and makes API calls with them.
#[derive(Clone)]
pub struct Principal {
    pub(crate) dt: DingTalk,
    pub(crate) who: Who,
    /// The token cache's id, computed once.
    pub(crate) token_id: Arc<str>,
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

impl DingTalk {
    /// A corp that authorized the app (application authorization).
    pub fn corp(&self, corp_id: impl Into<String>) -> Principal {
        self.principal(Who::Corp(corp_id.into()))
    }

    /// A user of `corp_id`, known to the app as `user` (a unionId, say), for delegated calls.
    pub fn user(&self, corp_id: impl Into<String>, user: impl Into<String>) -> Principal {
        self.principal(Who::User {
            corp: corp_id.into(),
            user: user.into(),
        })
    }

    fn principal(&self, who: Who) -> Principal {
        let token_id: Arc<str> = super::keys::token_id(self.client_id(), &who).into();
        Principal {
            dt: self.clone(),
            token_slot: self.inner.tokens.slot(&token_id),
            token_id,
            who,
        }
    }
}

impl Principal {
    /// The corp id.
    pub fn corp_id(&self) -> &str {
        match &self.who {
            Who::Corp(c) | Who::User { corp: c, .. } => c,
        }
    }

    /// The user's id as the app knows it (the `unionId`, after [`DingTalk::sign_in`]), or
    /// `None` for a corp.
    pub fn user_id(&self) -> Option<&str> {
        match &self.who {
            Who::User { user, .. } => Some(user),
            Who::Corp(_) => None,
        }
    }

    /// Application (a corp) or delegated (a user).
    pub fn auth_type(&self) -> AuthType {
        self.who.auth_type()
    }

    /// The access token, from the cache or its token endpoint, for calls this client does
    /// not make itself. Never print it.
    pub async fn access_token(&self) -> Result<Secret, Error> {
        self.dt.token(&self.who, &self.token_id).await
    }

    /// The access token if this process holds a fresh one: no I/O, no waiting.
    pub fn cached_token(&self) -> Option<Secret> {
        self.token_slot.fresh()
    }

    /// Runs `fut` with this corp's or user's grant entered, so the annotated functions it
    /// calls check against it. The outer `Result` is the grant's lookup (the store may be
    /// down); for a future that answers `Result<T, Error>` itself, [`call`](Self::call)
    /// folds the two into one.
    pub async fn run<F: std::future::Future>(&self, fut: F) -> Result<F::Output, Error> {
        let g = self.grant().await?;
        Ok(fut.with_grant(&g).await)
    }

    /// Runs `fut`, an annotated function's future, with this corp's or user's grant
    /// entered: one `?` for the grant's lookup and the call alike.
    ///
    /// ```no_run
    /// # async fn demo(corp: dingscope::client::Principal) -> Result<(), dingscope::Error> {
    /// #[dingscope::requires_scope("qyapi_hrm_read_user")]
    /// async fn page(corp: &dingscope::client::Principal) -> Result<serde_json::Value, dingscope::Error> {
    ///     corp.get("/v1.0/hrm/employees/dismissions").query("maxResults", 50).send().await
    /// }
    /// let first = corp.call(page(&corp)).await?;
    /// # Ok(()) }
    /// ```
    pub async fn call<T>(
        &self,
        fut: impl std::future::Future<Output = Result<T, Error>>,
    ) -> Result<T, Error> {
        self.run(fut).await?
    }

    /// Records that an admin (application, type 1) or the user (delegated, type 0)
    /// answered `status` in openAuth to a request for `codes`, with no
    /// [`OpenAuthRequest`](crate::OpenAuthRequest) to build: the same rules as
    /// [`record_open_auth`](Self::record_open_auth).
    pub async fn record_answer<'a>(
        &self,
        codes: impl IntoIterator<Item = &'a str>,
        status: crate::OpenAuthStatus,
    ) -> Result<crate::Grant, Error> {
        let scopes = codes
            .into_iter()
            .map(crate::Scope::parse)
            .collect::<Result<Vec<_>, _>>()?;
        let request = crate::OpenAuthRequest::for_codes(self.auth_type(), &scopes);
        self.record_open_auth(&request, status).await
    }

    /// A `GET`. The path picks the API: `/v1.0/...` goes to the new API
    /// (`api.dingtalk.com`, the token in a header), any other path (`/topapi/...`) to the
    /// old one (`oapi.dingtalk.com`, the token in the query).
    pub fn get(&self, path: &str) -> RequestBuilder {
        RequestBuilder::new(self.clone(), http::Method::GET, path)
    }

    /// A `POST`, routed by its path as [`get`](Self::get) says.
    pub fn post(&self, path: &str) -> RequestBuilder {
        RequestBuilder::new(self.clone(), http::Method::POST, path)
    }

    /// A request with any method.
    pub fn request(&self, method: http::Method, path: &str) -> RequestBuilder {
        RequestBuilder::new(self.clone(), method, path)
    }
}

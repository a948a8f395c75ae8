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
    /// calls check against it.
    pub async fn run<F: std::future::Future>(&self, fut: F) -> Result<F::Output, Error> {
        let g = self.grant().await?;
        Ok(fut.with_grant(&g).await)
    }

    /// A `GET` of the new API.
    pub fn get(&self, path: &str) -> RequestBuilder {
        RequestBuilder::new(self.clone(), http::Method::GET, path)
    }

    /// A `POST` of the new API, or of the old API for paths outside `/v1.0/`.
    pub fn post(&self, path: &str) -> RequestBuilder {
        RequestBuilder::new(self.clone(), http::Method::POST, path)
    }

    /// A request with any method.
    pub fn request(&self, method: http::Method, path: &str) -> RequestBuilder {
        RequestBuilder::new(self.clone(), method, path)
    }
}

//! The token flows, one file each: an internal app's token, an ISV app's corp token with
//! the suite ticket, the unified endpoint, and a user's tokens from openAuth's `authCode`
//! and refresh-token rotation. The cache in front of them is [`super::token`].

mod internal;
mod isv;
mod unified;
mod user;

use serde::Deserialize;

use super::principal::Who;
use super::request::token_call;
use super::token::Fetched;
use super::{App, DingTalk};
use crate::{Error, Secret};

/// The new API's token answer: `{"accessToken", "expireIn"}`.
#[derive(Deserialize)]
struct CamelToken {
    #[serde(rename = "accessToken")]
    access_token: String,
    #[serde(rename = "expireIn")]
    expire_in: i64,
}

impl From<CamelToken> for Fetched {
    fn from(t: CamelToken) -> Fetched {
        Fetched {
            token: Secret::new(t.access_token),
            expire_in: t.expire_in,
        }
    }
}

impl DingTalk {
    /// The access token for `p`, whose token cache id is `id`: from the cache, the store,
    /// or its flow.
    pub(crate) async fn token(&self, p: &Who, id: &str) -> Result<Secret, Error> {
        p.check()?;
        let store = self.inner.store.clone();
        match p {
            Who::Corp(corp) => {
                self.inner
                    .tokens
                    .get(id, &*store, || self.fetch_corp_token(corp))
                    .await
            }
            Who::User { .. } => {
                self.inner
                    .tokens
                    .get(id, &*store, || self.refresh_user_token(p))
                    .await
            }
        }
    }

    /// Drops the token DingTalk refused, here and in the store, if it is still `bad`.
    pub(crate) async fn invalidate_token(&self, id: &str, bad: &Secret) {
        self.inner
            .tokens
            .invalidate(id, bad, &*self.inner.store)
            .await;
    }

    async fn fetch_corp_token(&self, corp: &str) -> Result<Fetched, Error> {
        match &self.inner.app {
            App::Internal {
                app_key,
                app_secret,
                corp_id,
            } => internal::fetch(self, app_key, app_secret, corp_id, corp).await,
            App::Isv {
                suite_key,
                suite_secret,
            } => isv::fetch(self, suite_key, suite_secret, corp).await,
            App::Unified {
                client_id,
                client_secret,
            } => unified::fetch(self, client_id, client_secret, corp).await,
        }
    }
}

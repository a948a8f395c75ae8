//! A user's tokens: `POST /v1.0/oauth2/userAccessToken`, first with openAuth's one-time
//! `authCode`, then with the refresh token, which rotates at every use.

use std::time::Duration;

use serde::Deserialize;

use super::super::principal::{Principal, Who};
use super::{DingTalk, Fetched, token_call};
use crate::{Error, Secret};

/// How long DingTalk keeps a refresh token (30 days).
const REFRESH_LIFETIME: Duration = Duration::from_secs(30 * 24 * 3600);

impl DingTalk {
    /// A new access token for the user `who`, with the refresh token in the store.
    pub(super) async fn refresh_user_token(&self, who: &Who) -> Result<Fetched, Error> {
        let key = self.inner.keys.refresh(self.client_id(), who);
        // A refresh token the store has not taken yet is newer than the store's.
        let pending = self.pending_refresh(&key);
        let stored = match pending {
            Some(token) => Some(token.expose().to_owned()),
            None => self.inner.store.get(&key).await.map_err(Error::Store)?,
        };
        let Some(refresh) = stored else {
            let user = match who {
                Who::User { user, .. } => user.as_str(),
                Who::Corp(corp) => corp.as_str(),
            };
            return Err(Error::Config(format!(
                "no user token for {user}: exchange the openAuth authCode with `exchange_code` first"
            )));
        };
        self.user_token_call(who, "refresh_token", "refreshToken", &Secret::new(refresh))
            .await
    }

    async fn user_token_call(
        &self,
        who: &Who,
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
            #[serde(rename = "corpId", default)]
            corp_id: Option<String>,
        }
        let body = serde_json::json!({
            "clientId": self.client_id(),
            "clientSecret": self.inner.app.secret().expose(),
            "grantType": grant_type,
            field: value.expose(),
        });
        let t: UserToken = token_call(self, "/v1.0/oauth2/userAccessToken", body).await?;
        // The tokens are the user's of the corp DingTalk names: never keep them for another.
        if let (Some(theirs), Who::User { corp, .. }) = (&t.corp_id, who)
            && theirs != corp
        {
            return Err(Error::Config(format!(
                "DingTalk issued these user tokens for corp {theirs:?}, not {corp:?}; they are not kept"
            )));
        }
        // Refresh tokens rotate, and the one just used is spent: the new one is never lost.
        // If the store refuses it, this process keeps it until the store takes it.
        let key = self.inner.keys.refresh(self.client_id(), who);
        let refresh = Secret::new(t.refresh_token);
        self.keep_refresh(&key, refresh).await;
        Ok(Fetched {
            token: Secret::new(t.access_token),
            expire_in: t.expire_in,
        })
    }
}

impl DingTalk {
    /// The refresh token this process keeps for `key` because the store refused it.
    fn pending_refresh(&self, key: &str) -> Option<Secret> {
        self.inner
            .pending_refresh
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(key)
            .cloned()
    }

    /// Writes a rotated refresh token to the store; while the store refuses it, this
    /// process keeps it (and the next refresh uses it, and tries the store again).
    async fn keep_refresh(&self, key: &str, refresh: Secret) {
        let written = self
            .inner
            .store
            .set(key, refresh.expose().to_owned(), Some(REFRESH_LIFETIME))
            .await;
        let mut pending = self
            .inner
            .pending_refresh
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        match written {
            Ok(()) => {
                pending.remove(key);
            }
            Err(e) => {
                tracing::error!(error = %e, "could not store a rotated refresh token; keeping it in this process");
                pending.insert(key.to_owned(), refresh);
            }
        }
    }
}

impl Principal {
    /// Exchanges openAuth's one-time `authCode` (delegated, type 0) for this user's tokens.
    pub async fn exchange_code(&self, auth_code: Secret) -> Result<(), Error> {
        if !matches!(self.who, Who::User { .. }) {
            return Err(Error::Config(
                "authCode exchange is for a user: use `DingTalk::user`".into(),
            ));
        }
        let fetched = self
            .dt
            .user_token_call(&self.who, "authorization_code", "code", &auth_code)
            .await?;
        // The token DingTalk just issued replaces any cached one: it carries the newest
        // grant (after an incremental authorization, say).
        let store = self.dt.inner.store.clone();
        self.dt
            .inner
            .tokens
            .put(&self.token_id, &*store, fetched)
            .await;
        Ok(())
    }
}

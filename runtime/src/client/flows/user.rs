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
            None => self
                .inner
                .store
                .get(&key)
                .await
                .map_err(Error::Store)?
                .and_then(|v| self.inner.sealer.open(&key, &v)),
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
        let corp = match who {
            Who::User { corp, .. } | Who::Corp(corp) => corp,
        };
        let issued = self
            .user_token_call(corp, "refresh_token", "refreshToken", &Secret::new(refresh))
            .await?;
        Ok(self.keep(who, issued).await)
    }

    /// Asks DingTalk for the tokens of a user of `corp` with `field: value`. Nothing is
    /// kept yet.
    async fn user_token_call(
        &self,
        corp: &str,
        grant_type: &str,
        field: &str,
        value: &Secret,
    ) -> Result<Issued, Error> {
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
        let t: UserToken = token_call(self, TOKEN_PATH, body).await?;
        // The tokens are the user's of the corp DingTalk names: never keep them for another.
        if let Some(theirs) = &t.corp_id
            && theirs != corp
        {
            return Err(Error::Mismatch(format!(
                "DingTalk issued these user tokens for corp {theirs:?}, not {corp:?}; they are not kept"
            )));
        }
        Ok(Issued {
            access: Fetched {
                token: Secret::new(t.access_token),
                expire_in: t.expire_in,
            },
            refresh: Secret::new(t.refresh_token),
        })
    }

    /// Keeps the refresh token of `issued` for `who` and hands back its access token.
    ///
    /// Refresh tokens rotate, and the one just used is spent: the new one is never lost.
    /// If the store refuses it, this process keeps it until the store takes it.
    async fn keep(&self, who: &Who, issued: Issued) -> Fetched {
        let key = self.inner.keys.refresh(self.client_id(), who);
        self.keep_refresh(&key, issued.refresh).await;
        issued.access
    }

    /// The user behind `token`, by `GET /v1.0/contact/users/me`: their `unionId`.
    async fn union_id_of(&self, token: &Secret) -> Result<String, Error> {
        #[derive(Deserialize)]
        struct Me {
            #[serde(rename = "unionId")]
            union_id: String,
        }
        let me: Me = self.raw_call(http::Method::GET, ME_PATH, token).await?;
        Ok(me.union_id)
    }
}

/// What the user token endpoint answered, not yet kept.
struct Issued {
    access: Fetched,
    refresh: Secret,
}

const TOKEN_PATH: &str = "/v1.0/oauth2/userAccessToken";
const ME_PATH: &str = "/v1.0/contact/users/me";

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
            .set(
                key,
                self.inner.sealer.seal(key, refresh.expose()),
                Some(REFRESH_LIFETIME),
            )
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

impl DingTalk {
    /// Signs a user of `corp_id` in with openAuth's one-time `authCode` (delegated, type
    /// 0): exchanges it for the user's tokens, learns who the user is from DingTalk
    /// (`GET /v1.0/contact/users/me`), and answers that user's [`Principal`], named by
    /// their `unionId`. The page never says who the user is; DingTalk does.
    ///
    /// The user's openAuth must grant `Contact.User.Read`, which `users/me` needs.
    pub async fn sign_in(&self, corp_id: &str, auth_code: Secret) -> Result<Principal, Error> {
        Who::Corp(corp_id.to_owned()).check()?;
        let issued = self
            .user_token_call(corp_id, "authorization_code", "code", &auth_code)
            .await?;
        let union_id = self.union_id_of(&issued.access.token).await?;
        let user = self.user(corp_id, union_id);
        user.who.check()?;
        user.keep_issued(issued).await;
        Ok(user)
    }
}

impl Principal {
    /// Exchanges openAuth's one-time `authCode` (delegated, type 0) for this user's tokens.
    ///
    /// The code must be this user's: DingTalk is asked whose it is
    /// (`GET /v1.0/contact/users/me`), and unless its `unionId` is the one this principal
    /// was made with, nothing is kept and the answer is [`Error::Mismatch`]. The user's
    /// openAuth must therefore grant `Contact.User.Read`. [`DingTalk::sign_in`] takes the
    /// user from DingTalk's answer instead.
    pub async fn exchange_code(&self, auth_code: Secret) -> Result<(), Error> {
        let Who::User { corp, user } = &self.who else {
            return Err(Error::Config(
                "authCode exchange is for a user: use `DingTalk::user`".into(),
            ));
        };
        self.who.check()?;
        let issued = self
            .dt
            .user_token_call(corp, "authorization_code", "code", &auth_code)
            .await?;
        let theirs = self.dt.union_id_of(&issued.access.token).await?;
        if &theirs != user {
            return Err(Error::Mismatch(format!(
                "the authCode is another user's than {user:?}; their tokens are not kept"
            )));
        }
        self.keep_issued(issued).await;
        Ok(())
    }

    /// Keeps freshly issued tokens: the refresh token in the store, and the access token
    /// in place of any cached one, since it carries the newest grant (after an
    /// incremental authorization, say).
    async fn keep_issued(&self, issued: Issued) {
        let fetched = self.dt.keep(&self.who, issued).await;
        let store = self.dt.inner.store.clone();
        self.dt
            .inner
            .tokens
            .put(&self.token_id, &*store, fetched)
            .await;
    }
}

//! Grants: what each corp and user has granted the app, as far as it knows. Learned from
//! openAuth answers, the user grant query, configuration and DingTalk's denials, and kept
//! in the store beside the tokens.

use std::collections::HashMap;
use std::sync::RwLock;
use std::time::{Duration, Instant};

use serde::Deserialize;

use super::DingTalk;
use super::principal::{Principal, Who};
use crate::{AuthType, Error, Grant, OpenAuthRequest, OpenAuthStatus, Scope};

/// How long a grant read from the store is trusted before it is read again, so that
/// instances sharing a store see each other's updates.
const GRANT_TTL: Duration = Duration::from_secs(30);

/// This process's copies of grants, by store key, with the time each was read. A copy
/// older than `keep` is dropped by a sweep that runs when the map has doubled since the
/// last one, so the map holds the principals of about the last `keep`.
pub(crate) struct GrantCache {
    /// The copies, and the size at which the next sweep runs.
    map: RwLock<(Copies, usize)>,
    keep: Duration,
}

/// Grants by store key, with when each was read.
type Copies = HashMap<String, (Grant, Instant)>;

impl GrantCache {
    /// Copies kept up to `keep` after they were read; they serve while the store is down.
    pub(crate) fn new(keep: Duration) -> GrantCache {
        GrantCache {
            map: RwLock::default(),
            keep,
        }
    }

    /// The copy of `key`, if it is younger than `max_age`.
    fn get(&self, key: &str, max_age: Option<Duration>) -> Option<Grant> {
        let map = self.map.read().unwrap_or_else(|e| e.into_inner());
        let (g, at) = map.0.get(key)?;
        max_age
            .is_none_or(|age| at.elapsed() < age)
            .then(|| g.clone())
    }

    fn put(&self, key: String, g: Grant) {
        let mut map = self.map.write().unwrap_or_else(|e| e.into_inner());
        let (entries, sweep_at) = &mut *map;
        if entries.len() >= (*sweep_at).max(1024) {
            entries.retain(|_, (_, at)| at.elapsed() < self.keep);
            *sweep_at = entries.len().saturating_mul(2);
        }
        entries.insert(key, (g, Instant::now()));
    }

    /// Drops the copy of `key`.
    pub(crate) fn forget(&self, key: &str) {
        self.map
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .0
            .remove(key);
    }

    /// Copies held now.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.map.read().unwrap_or_else(|e| e.into_inner()).0.len()
    }
}

impl DingTalk {
    pub(crate) async fn grant_of(&self, p: &Who) -> Result<Grant, Error> {
        p.check()?;
        let key = self.inner.keys.grant(self.client_id(), p);
        if let Some(g) = self.inner.grants.get(&key, Some(GRANT_TTL)) {
            return Ok(g);
        }
        let stored = match self.inner.store.get(&key).await {
            Ok(v) => v,
            Err(e) => {
                // Keep working from this process's copy, however old.
                if let Some(g) = self.inner.grants.get(&key, None) {
                    tracing::error!(error = %e, "grant store unavailable; using this process's copy");
                    return Ok(g);
                }
                return Err(Error::Store(e));
            }
        };
        let g = parse_grant(p, stored.as_deref()).owned_by(Some(key.as_str().into()));
        self.inner.grants.put(key, g.clone());
        Ok(g)
    }

    pub(crate) async fn set_grant(&self, p: &Who, g: Grant) -> Result<Grant, Error> {
        p.check()?;
        let key = self.inner.keys.grant(self.client_id(), p);
        let g = g.owned_by(Some(key.as_str().into()));
        let codes: Vec<&str> = g.codes().collect();
        let json = serde_json::to_string(&codes).map_err(Error::Encode)?;
        self.inner.grants.put(key.clone(), g.clone());
        if let Err(e) = self.inner.store.set(&key, json, None).await {
            tracing::error!(error = %e, "could not store a grant; keeping it in this process");
        }
        Ok(g)
    }

    /// Changes `p`'s grant with `change`, atomically in the store: the grant is read from
    /// the store, changed, and written back unless another instance wrote it meanwhile,
    /// in which case the change is made again on what that instance wrote. While the
    /// store is down, the change is made on this process's copy and kept here.
    pub(crate) async fn update_grant(
        &self,
        p: &Who,
        change: impl Fn(&Grant) -> Grant,
    ) -> Result<Grant, Error> {
        /// Rounds lost to other writers before giving up; each is one read and one write.
        const ROUNDS: usize = 64;
        p.check()?;
        let key = self.inner.keys.grant(self.client_id(), p);
        let owner: Option<std::sync::Arc<str>> = Some(key.as_str().into());
        for _ in 0..ROUNDS {
            let stored = match self.inner.store.get(&key).await {
                Ok(v) => v,
                Err(e) => {
                    let current = match self.inner.grants.get(&key, None) {
                        Some(g) => g,
                        None => return Err(Error::Store(e)),
                    };
                    tracing::error!(error = %e, "grant store unavailable; changing this process's copy");
                    let next = change(&current).owned_by(owner);
                    self.inner.grants.put(key, next.clone());
                    return Ok(next);
                }
            };
            let current = parse_grant(p, stored.as_deref()).owned_by(owner.clone());
            let next = change(&current).owned_by(owner.clone());
            if next == current {
                self.inner.grants.put(key, next.clone());
                return Ok(next);
            }
            let codes: Vec<&str> = next.codes().collect();
            let json = serde_json::to_string(&codes).map_err(Error::Encode)?;
            match self
                .inner
                .store
                .compare_and_set(&key, stored.as_deref(), json)
                .await
            {
                Ok(true) => {
                    self.inner.grants.put(key, next.clone());
                    return Ok(next);
                }
                Ok(false) => continue,
                Err(e) => {
                    tracing::error!(error = %e, "could not store a grant; keeping it in this process");
                    self.inner.grants.put(key, next.clone());
                    return Ok(next);
                }
            }
        }
        Err(Error::Store(crate::StoreError::new(
            "the grant kept changing under this update; not changed",
        )))
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

/// A grant as the store keeps it: a JSON list of codes. Anything else reads as nothing
/// granted, which fails closed.
fn parse_grant(p: &Who, stored: Option<&str>) -> Grant {
    let codes: Vec<String> = stored
        .and_then(|j| serde_json::from_str(j).ok())
        .unwrap_or_default();
    Grant::new(p.auth_type(), codes)
}

impl Principal {
    /// What is granted, as far as the app knows: from openAuth answers, the user grant
    /// query, configuration, and server denials.
    pub async fn grant(&self) -> Result<Grant, Error> {
        self.dt.grant_of(&self.who).await
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

    /// Records what openAuth answered to `requested`; answers other than `ok` change
    /// nothing. The answer comes from the front end, so it is not taken on its word alone:
    ///
    /// - **Delegated (type 0).** `ok` is confirmed with DingTalk before the grant widens:
    ///   the user's grant is read again from `GET /v1.0/oauth2/authRules/user` (the user's
    ///   token comes first, from [`exchange_code`](Principal::exchange_code)), and only
    ///   the codes DingTalk lists are kept. A forged `ok` adds nothing.
    /// - **Application (type 1).** No DingTalk API lists what an admin granted a corp, so
    ///   `ok` adds the requested codes (`.default` meaning every applied-for application
    ///   code) as an *advisory* grant: it lets calls through the pre-call check, and
    ///   DingTalk's answers confirm it. The first call DingTalk denies fails with
    ///   [`Error::Denied`] and takes the codes away again. Do not rest a side effect on
    ///   such a grant alone: let the DingTalk call that needs the permission come first.
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
        if requested.auth_type == AuthType::Delegated {
            if status != OpenAuthStatus::Ok {
                return self.grant().await;
            }
            return self.refresh_user_grant().await;
        }
        self.dt
            .update_grant(&self.who, |current| {
                self.dt.after_open_auth(current, requested, status)
            })
            .await
    }

    /// Records an openAuth answer that a page posted back (the JSON of
    /// [`wire::OpenAuthAnswer`](crate::wire::OpenAuthAnswer)): the rules of
    /// [`record_open_auth`](Self::record_open_auth), with one addition for a type 0 `ok`
    /// that carries openAuth's `authCode`. The code is first exchanged for this user's
    /// token ([`exchange_code`](Self::exchange_code): a code of another user keeps
    /// nothing, and fails with [`Error::Mismatch`]). DingTalk accepting a fresh code for
    /// this very user is the proof that the user answered; if the user's token cannot read
    /// the user's grant (`GET /v1.0/oauth2/authRules/user` needs `snsapi_base`), the
    /// requested codes are kept as an advisory grant, as for type 1, and DingTalk's
    /// answers confirm them. In axum, `OpenAuthAnswer` is an extractor:
    ///
    /// ```no_run
    /// # async fn demo(corp: dingscope::client::Principal, answer: dingscope::wire::OpenAuthAnswer) -> Result<(), dingscope::Error> {
    /// // async fn granted(answer: OpenAuthAnswer) -> Result<StatusCode, dingscope::Error>
    /// corp.record(&answer).await?;
    /// # Ok(()) }
    /// ```
    pub async fn record(&self, answer: &crate::wire::OpenAuthAnswer) -> Result<Grant, Error> {
        let requested = &answer.request;
        if answer.status != OpenAuthStatus::Ok
            || requested.auth_type != AuthType::Delegated
            || self.auth_type() != AuthType::Delegated
        {
            return self.record_open_auth(requested, answer.status).await;
        }
        let Some(code) = &answer.auth_code else {
            return self.record_open_auth(requested, answer.status).await;
        };
        self.exchange_code(code.clone()).await?;
        match self.refresh_user_grant().await {
            Err(Error::Denied(d)) if matches!(d.reason(), crate::DenyReason::Server { .. }) => {
                self.dt
                    .update_grant(&self.who, |current| {
                        self.dt.after_open_auth(current, requested, answer.status)
                    })
                    .await
            }
            other => other,
        }
    }

    /// The openAuth parameters asking for whatever of `codes` is not granted yet. A string
    /// that is not a permission code is an [`Error::InvalidScope`].
    pub async fn open_auth_for<'a>(
        &self,
        codes: impl IntoIterator<Item = &'a str>,
    ) -> Result<OpenAuthRequest, Error> {
        let g = self.grant().await?;
        let mut missing: Vec<Scope> = Vec::new();
        for c in codes {
            let scope = Scope::parse(c)?;
            if !g.contains(c) {
                missing.push(scope);
            }
        }
        Ok(OpenAuthRequest::for_codes(self.auth_type(), &missing))
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
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Copies older than `keep` go: the map follows the principals in use.
    #[test]
    fn old_grant_copies_are_dropped() {
        let cache = GrantCache::new(Duration::ZERO);
        for i in 0..5000 {
            cache.put(format!("corp{i}"), Grant::empty(AuthType::Application));
        }
        assert!(cache.len() <= 1024, "{}", cache.len());
        let kept = GrantCache::new(Duration::from_secs(3600));
        for i in 0..3000 {
            kept.put(format!("corp{i}"), Grant::empty(AuthType::Application));
        }
        assert_eq!(kept.len(), 3000);
    }
}

//! What DingTalk pushes to an ISV app, by Stream mode or SyncHTTP: the suite ticket, and
//! corps authorizing, changing and removing the app, or stopping and restoring it. Each
//! event is applied to the client ([`DingTalk::apply`]): the ticket is kept, a corp
//! registry follows the authorizations, a removed corp's tokens and grants go, and a
//! stopped app's calls for that corp fail before they are sent.

use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::DingTalk;
use super::principal::Who;
use crate::{Error, Secret};

/// An event DingTalk pushed.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Event {
    /// `suite_ticket`: the newest suite ticket, pushed about every five hours.
    SuiteTicket {
        /// The ticket.
        ticket: Secret,
        /// When DingTalk pushed it: an older push never replaces a newer ticket.
        pushed_at: SystemTime,
    },
    /// `org_suite_auth`: a corp authorized the app.
    CorpAuthorized(CorpInfo),
    /// `org_suite_change`: a corp changed its authorization.
    CorpChanged(CorpInfo),
    /// `org_suite_relieve`: a corp removed the app.
    CorpRemoved {
        /// The corp.
        corp_id: String,
    },
    /// `org_micro_app_stop`: a corp stopped the app.
    AppStopped {
        /// The corp.
        corp_id: String,
    },
    /// `org_micro_app_restore`: a corp restored the app.
    AppRestored {
        /// The corp.
        corp_id: String,
    },
    /// `org_micro_app_remove`: a corp removed the micro app.
    AppRemoved {
        /// The corp.
        corp_id: String,
    },
    /// Any other event type, as it came.
    Other(RawEvent),
}

/// An event as DingTalk pushed it: its type, corp, id, born time and data.
#[derive(Debug, Clone, PartialEq)]
pub struct RawEvent {
    /// `eventType`.
    pub event_type: String,
    /// `eventCorpId`, if any.
    pub corp_id: Option<String>,
    /// `eventId`, if any.
    pub event_id: Option<String>,
    /// `eventBornTime`, if any.
    pub born_at: Option<SystemTime>,
    /// The event's data.
    pub data: Value,
}

/// A corp that authorized the app, as the corp registry keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CorpInfo {
    /// The corp id.
    pub corp_id: String,
    /// The corp's name.
    pub corp_name: String,
    /// The app's agent ids in the corp.
    pub agent_ids: Vec<i64>,
    /// The authorization level, if DingTalk said.
    pub auth_level: Option<i64>,
    /// The user who authorized (an admin), if DingTalk said.
    pub authorized_by: Option<String>,
    /// When DingTalk reported this authorization, in milliseconds since the Unix epoch.
    pub at_ms: u64,
}

/// Why a pushed event could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventError(pub String);

impl std::fmt::Display for EventError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "unreadable event: {}", self.0)
    }
}

impl std::error::Error for EventError {}

impl Event {
    /// Reads an event from its raw form. A known type with missing fields is an error;
    /// an unknown type is [`Event::Other`].
    pub fn parse(raw: RawEvent) -> Result<Event, EventError> {
        let corp = |raw: &RawEvent| -> Result<String, EventError> {
            text(&raw.data, &["corpId", "corpid", "authCorpId", "CorpId"])
                .or_else(|| raw.corp_id.clone())
                .filter(|c| valid_id(c))
                .ok_or_else(|| EventError(format!("{}: no corp id", raw.event_type)))
        };
        let at = raw.born_at.unwrap_or_else(SystemTime::now);
        Ok(match raw.event_type.as_str() {
            "suite_ticket" => {
                let ticket = text(&raw.data, &["suiteTicket", "SuiteTicket"])
                    .filter(|t| !t.is_empty() && !t.chars().any(char::is_control))
                    .ok_or_else(|| EventError("suite_ticket: no suiteTicket".into()))?;
                Event::SuiteTicket {
                    ticket: Secret::new(ticket),
                    pushed_at: at,
                }
            }
            "org_suite_auth" | "org_suite_change" => {
                let info = corp_info(&raw, at)?;
                if raw.event_type == "org_suite_auth" {
                    Event::CorpAuthorized(info)
                } else {
                    Event::CorpChanged(info)
                }
            }
            "org_suite_relieve" => Event::CorpRemoved {
                corp_id: corp(&raw)?,
            },
            "org_micro_app_stop" => Event::AppStopped {
                corp_id: corp(&raw)?,
            },
            "org_micro_app_restore" => Event::AppRestored {
                corp_id: corp(&raw)?,
            },
            "org_micro_app_remove" => Event::AppRemoved {
                corp_id: corp(&raw)?,
            },
            _ => Event::Other(raw),
        })
    }
}

/// A corp or user id as DingTalk writes them: not empty, no control characters.
fn valid_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 256 && !id.chars().any(char::is_control)
}

/// The first of `names` in `v` that is a string or a number, as text.
fn text(v: &Value, names: &[&str]) -> Option<String> {
    names.iter().find_map(|n| match v.get(n)? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    })
}

fn corp_info(raw: &RawEvent, at: SystemTime) -> Result<CorpInfo, EventError> {
    let d = &raw.data;
    let corp = d
        .get("authCorpInfo")
        .or_else(|| d.get("auth_corp_info"))
        .unwrap_or(&Value::Null);
    let corp_id = text(corp, &["corpId", "corpid", "corp_id"])
        .or_else(|| raw.corp_id.clone())
        .filter(|c| valid_id(c))
        .ok_or_else(|| EventError(format!("{}: no authCorpInfo.corpId", raw.event_type)))?;
    let agents = d
        .get("authInfo")
        .or_else(|| d.get("auth_info"))
        .and_then(|a| a.get("agent"))
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    Ok(CorpInfo {
        corp_name: text(corp, &["corpName", "corp_name"]).unwrap_or_default(),
        agent_ids: agents
            .iter()
            .filter_map(|a| text(a, &["agentId", "agentid", "agent_id"]))
            .filter_map(|a| a.parse().ok())
            .collect(),
        auth_level: text(corp, &["authLevel", "auth_level"])
            .or_else(|| text(d, &["authLevel", "auth_level"]))
            .and_then(|l| l.parse().ok()),
        authorized_by: d
            .get("authUserInfo")
            .and_then(|u| text(u, &["userId", "userid"])),
        at_ms: millis(at),
        corp_id,
    })
}

fn millis(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_millis()
        .try_into()
        .unwrap_or(u64::MAX)
}

/// A time from milliseconds since the Unix epoch.
#[cfg(any(feature = "stream", test))]
pub(crate) fn from_millis(ms: u64) -> SystemTime {
    UNIX_EPOCH
        .checked_add(std::time::Duration::from_millis(ms))
        .unwrap_or(UNIX_EPOCH)
}

impl DingTalk {
    /// Applies a pushed event to this client:
    ///
    /// - a suite ticket is kept (in the store, with no expiry) unless a newer one is;
    /// - an authorization or its change updates the corp registry ([`corp_info`](Self::corp_info)),
    ///   keeping the latest, and lifts a removal;
    /// - a removal purges the corp's token, grant and registry entry, here and in the
    ///   store, and calls for the corp fail before sending until it authorizes again;
    /// - stopping or removing the micro app makes calls for the corp fail before sending
    ///   ([`Error::AppStopped`]) until it is restored.
    pub async fn apply(&self, event: &Event) -> Result<(), Error> {
        match event {
            Event::SuiteTicket { ticket, pushed_at } => {
                self.set_suite_ticket_pushed_at(ticket.clone(), *pushed_at)
                    .await?;
            }
            Event::CorpAuthorized(info) | Event::CorpChanged(info) => {
                let key = self.inner.keys.corp(self.client_id(), &info.corp_id);
                let json = serde_json::to_string(info).map_err(Error::Encode)?;
                let current = self.corp_info(&info.corp_id).await?;
                if current.is_none_or(|c| c.at_ms <= info.at_ms) {
                    self.inner
                        .store
                        .set(&key, json, None)
                        .await
                        .map_err(Error::Store)?;
                }
                self.set_stopped(&info.corp_id, None).await?;
            }
            Event::CorpRemoved { corp_id } => {
                self.purge(corp_id).await?;
                self.set_stopped(corp_id, Some("the corp removed the app"))
                    .await?;
            }
            Event::AppStopped { corp_id } => {
                self.set_stopped(corp_id, Some("the corp stopped the app"))
                    .await?;
            }
            Event::AppRemoved { corp_id } => {
                self.set_stopped(corp_id, Some("the corp removed the micro app"))
                    .await?;
            }
            Event::AppRestored { corp_id } => self.set_stopped(corp_id, None).await?,
            Event::Other(_) => {}
        }
        Ok(())
    }

    /// What the corp registry knows of `corp_id`: from `org_suite_auth` and
    /// `org_suite_change` events, kept in the store.
    pub async fn corp_info(&self, corp_id: &str) -> Result<Option<CorpInfo>, Error> {
        let key = self.inner.keys.corp(self.client_id(), corp_id);
        let stored = self.inner.store.get(&key).await.map_err(Error::Store)?;
        Ok(stored.and_then(|j| serde_json::from_str(&j).ok()))
    }

    /// Forgets a corp: its token, grant and registry entry, here and in the store.
    async fn purge(&self, corp_id: &str) -> Result<(), Error> {
        let who = Who::Corp(corp_id.to_owned());
        who.check()?;
        let app = self.client_id();
        let token_id = super::keys::token_id(app, &who);
        self.inner
            .tokens
            .forget(&token_id, &*self.inner.store)
            .await;
        let grant_key = self.inner.keys.grant(app, &who);
        self.inner.grants.forget(&grant_key);
        let corp_key = self.inner.keys.corp(app, corp_id);
        for key in [grant_key, corp_key] {
            self.inner.store.delete(&key).await.map_err(Error::Store)?;
        }
        Ok(())
    }

    /// Marks calls for `corp_id` as refused before sending (`Some(why)`), or lifts the
    /// mark (`None`), here and in the store.
    async fn set_stopped(&self, corp_id: &str, why: Option<&str>) -> Result<(), Error> {
        let key = self.inner.keys.stopped(self.client_id(), corp_id);
        self.inner.stopped.put(&key, why.map(str::to_owned));
        match why {
            Some(why) => self.inner.store.set(&key, why.to_owned(), None).await,
            None => self.inner.store.delete(&key).await.map(|_| ()),
        }
        .map_err(Error::Store)
    }

    /// Fails with [`Error::AppStopped`] if calls for `corp_id` are refused.
    pub(crate) async fn check_not_stopped(&self, corp_id: &str) -> Result<(), Error> {
        let key = self.inner.keys.stopped(self.client_id(), corp_id);
        let why = match self.inner.stopped.fresh(&key) {
            Some(known) => known,
            None => {
                let stored = match self.inner.store.get(&key).await {
                    Ok(v) => v,
                    Err(e) => {
                        tracing::warn!(error = %e, "store unavailable; using this process's view of stopped apps");
                        self.inner.stopped.last(&key).flatten()
                    }
                };
                self.inner.stopped.put(&key, stored.clone());
                stored
            }
        };
        match why {
            Some(why) => Err(Error::AppStopped(format!(
                "calls for corp {corp_id:?} are refused: {why}"
            ))),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn raw(event_type: &str, data: Value) -> RawEvent {
        RawEvent {
            event_type: event_type.into(),
            corp_id: Some("dingheader".into()),
            event_id: Some("e1".into()),
            born_at: Some(from_millis(1_700_000_000_000)),
            data,
        }
    }

    #[test]
    fn events_read_in_every_spelling() {
        match Event::parse(raw("suite_ticket", json!({"suiteTicket": "t1"}))).unwrap() {
            Event::SuiteTicket { ticket, pushed_at } => {
                assert_eq!(ticket.expose(), "t1");
                assert_eq!(pushed_at, from_millis(1_700_000_000_000));
            }
            e => panic!("{e:?}"),
        }
        assert!(Event::parse(raw("suite_ticket", json!({}))).is_err());
        let auth = json!({
            "authCorpInfo": {"corpid": "dingA", "corp_name": "甲公司", "authLevel": 1},
            "authInfo": {"agent": [{"agentid": 123}, {"agentId": "456"}]},
            "authUserInfo": {"userId": "admin1"},
        });
        match Event::parse(raw("org_suite_auth", auth)).unwrap() {
            Event::CorpAuthorized(info) => {
                assert_eq!(info.corp_id, "dingA");
                assert_eq!(info.corp_name, "甲公司");
                assert_eq!(info.agent_ids, [123, 456]);
                assert_eq!(info.auth_level, Some(1));
                assert_eq!(info.authorized_by.as_deref(), Some("admin1"));
            }
            e => panic!("{e:?}"),
        }
        match Event::parse(raw("org_suite_relieve", json!({}))).unwrap() {
            Event::CorpRemoved { corp_id } => assert_eq!(corp_id, "dingheader"),
            e => panic!("{e:?}"),
        }
        let mut bad = raw("org_micro_app_stop", json!({"corpId": "a\nb"}));
        bad.corp_id = None;
        assert!(Event::parse(bad).is_err());
        assert!(matches!(
            Event::parse(raw("user_add_org", json!({"x": 1}))).unwrap(),
            Event::Other(_)
        ));
    }
}

//! DingTalk's limits, respected by the whole fleet.
//!
//! A throttled answer leaves a *deadline* before which no call that it concerns is sent,
//! on any instance: in this process's memory and in the store, under a key that lasts
//! until the deadline.
//!
//! - `Retry-After` (capped at [`MAX_RETRY_AFTER`]) holds back the app's calls of that
//!   endpoint for that corp;
//! - a per-minute code (`Forbidden.AccessDenied.Qpm...`) holds them back until the next
//!   minute;
//! - the IP ban (an HTML page, or JSON such as `{"status":1111,"wait":5,"punish":"deny"}`)
//!   opens a breaker for the whole app, [`BAN`] long.
//!
//! Before each attempt a call looks at the deadlines that concern it, and at the optional
//! rate limiter ([`DingTalkBuilder::rate_limit`](super::DingTalkBuilder::rate_limit)): it
//! waits if the wait is at most
//! [`DingTalkBuilder::throttle_wait`](super::DingTalkBuilder::throttle_wait), and
//! otherwise fails at once with [`Error::Throttled`] naming the deadline
//! ([`ApiError::retry_at`]).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::DingTalk;
use super::answer::Verdict;
use crate::Error;
use crate::error::ApiError;

/// The longest `Retry-After` honoured.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(60);

/// How long DingTalk bans an IP address that made more than 10,000 calls in 20 s.
pub const BAN: Duration = Duration::from_secs(300);

/// How long this process trusts that a key held no deadline in the store before it
/// looks again: another instance's deadline is seen within this time.
const RECHECK: Duration = Duration::from_millis(200);

/// Entries kept in memory before the expired ones are swept.
const SWEEP_AT: usize = 4096;

/// This process's copies of values it read from the store (throttle deadlines, stopped
/// apps), by store key, with when each was read: trusted for [`RECHECK`], then read
/// again, so that another instance's writes are seen within that time.
pub(crate) struct Mirror<T>(Mutex<HashMap<String, (T, Instant)>>);

impl<T> Default for Mirror<T> {
    fn default() -> Self {
        Mirror(Mutex::default())
    }
}

/// A copied value that still matters after [`RECHECK`]: a deadline not passed yet, a mark.
pub(crate) trait Lasting {
    fn lasting(&self) -> bool;
}

impl Lasting for Option<SystemTime> {
    fn lasting(&self) -> bool {
        self.is_some_and(|u| u > SystemTime::now())
    }
}

impl Lasting for Option<String> {
    fn lasting(&self) -> bool {
        self.is_some()
    }
}

impl<T: Clone + Lasting> Mirror<T> {
    /// The copy of `key` if the store was read for it within [`RECHECK`].
    pub(crate) fn fresh(&self, key: &str) -> Option<T> {
        let map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        map.get(key)
            .filter(|(_, at)| at.elapsed() < RECHECK)
            .map(|(v, _)| v.clone())
    }

    /// The copy of `key` as last read, however long ago.
    pub(crate) fn last(&self, key: &str) -> Option<T> {
        let map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        map.get(key).map(|(v, _)| v.clone())
    }

    /// Keeps `value` as read now. When the map is full, copies past [`RECHECK`] that no
    /// longer matter are dropped first.
    pub(crate) fn put(&self, key: &str, value: T) {
        let mut map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() >= SWEEP_AT {
            map.retain(|_, (v, at)| v.lasting() || at.elapsed() < RECHECK);
        }
        map.insert(key.to_owned(), (value, Instant::now()));
    }

    /// How many keys this process remembers.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).len()
    }
}

/// The calls a deadline concerns: the app's calls of `endpoint` (`GET /v1.0/...`) for
/// `corp`.
pub(crate) struct Pacing<'a> {
    pub(crate) corp: &'a str,
    pub(crate) endpoint: &'a str,
}

/// How long a throttled answer holds back the calls it concerns, and which.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Hold {
    /// This endpoint for this corp, for this long.
    Endpoint(Duration),
    /// Every call of the app (the IP ban), for this long.
    App(Duration),
}

/// The hold a verdict asks for, if any; `retry_after` is the answer's header. A throttle
/// with neither a header nor a per-minute code is retried after the usual backoff.
pub(crate) fn hold_for(
    verdict: &Verdict,
    retry_after: Option<Duration>,
    now: SystemTime,
) -> Option<Hold> {
    match verdict {
        Verdict::Banned { .. } => Some(Hold::App(BAN)),
        Verdict::Throttled { code } if is_per_minute(code) => Some(Hold::Endpoint(
            retry_after
                .unwrap_or_else(|| to_next_minute(now))
                .min(MAX_RETRY_AFTER),
        )),
        Verdict::Throttled { .. } => retry_after.map(|d| Hold::Endpoint(d.min(MAX_RETRY_AFTER))),
        _ => None,
    }
}

/// DingTalk's per-minute limits: `Forbidden.AccessDenied.QpmLimitFor...`.
fn is_per_minute(code: &str) -> bool {
    code.starts_with("Forbidden.AccessDenied.Qpm")
}

/// The time from `now` to the start of the next minute (never zero).
fn to_next_minute(now: SystemTime) -> Duration {
    let since = now.duration_since(UNIX_EPOCH).unwrap_or_default();
    let into = Duration::from_nanos((since.as_nanos() % 60_000_000_000) as u64);
    Duration::from_secs(60) - into
}

/// A deadline as the store keeps it: milliseconds since the Unix epoch.
fn encode(t: SystemTime) -> String {
    t.duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_millis()
        .to_string()
}

fn decode(s: &str) -> Option<SystemTime> {
    let ms: u64 = s.trim().parse().ok()?;
    UNIX_EPOCH.checked_add(Duration::from_millis(ms))
}

/// The requests of one corp's endpoint in flight from this process, bounded: when
/// DingTalk starts refusing, at most that many were already sent. A semaphore leaves the
/// map when its last holder lets go.
#[derive(Default)]
pub(crate) struct InFlight(Mutex<HashMap<String, Arc<Semaphore>>>);

/// A request's place among those in flight; see [`InFlight`].
pub(crate) struct Permit<'a> {
    map: &'a InFlight,
    key: String,
    semaphore: Arc<Semaphore>,
    permit: Option<OwnedSemaphorePermit>,
}

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        self.permit.take();
        let mut map = self.map.0.lock().unwrap_or_else(|e| e.into_inner());
        // The map's reference and this one: nobody else holds or awaits it.
        if Arc::strong_count(&self.semaphore) == 2 {
            map.remove(&self.key);
        }
    }
}

/// The rate limiter's window: one second, as DingTalk's QPS limits count.
const WINDOW: Duration = Duration::from_secs(1);

impl DingTalk {
    /// A place among the requests in flight for the corp and endpoint of `pacing`; token
    /// calls (`None`) are single-flight already and need none.
    pub(crate) async fn in_flight(&self, pacing: Option<&Pacing<'_>>) -> Option<Permit<'_>> {
        let p = pacing?;
        let limit = self.inner.max_in_flight;
        let key = self
            .inner
            .keys
            .throttle(self.client_id(), p.corp, p.endpoint);
        let semaphore = self
            .inner
            .in_flight
            .0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(key.clone())
            .or_insert_with(|| Arc::new(Semaphore::new(limit)))
            .clone();
        let permit = semaphore.clone().acquire_owned().await.ok();
        Some(Permit {
            map: &self.inner.in_flight,
            key,
            semaphore,
            permit,
        })
    }

    /// Waits until nothing holds back a call of `endpoint` that `pacing` describes
    /// (`None` for token calls, which only the IP ban concerns), or fails with the deadline
    /// if the wait would be longer than the configured one.
    pub(crate) async fn pace(
        &self,
        endpoint: &str,
        pacing: Option<&Pacing<'_>>,
        attempt: u32,
    ) -> Result<(), Error> {
        let budget = self.inner.throttle_wait;
        let started = Instant::now();
        let app = self.client_id();
        loop {
            let mut until = self.deadline(&self.inner.keys.ban(app)).await;
            if let Some(p) = pacing {
                let key = self.inner.keys.throttle(app, p.corp, p.endpoint);
                until = until.max(self.deadline(&key).await);
                if until.is_none()
                    && let Some(limit) = self.inner.rate_limit
                {
                    until = self.rate_slot(p.endpoint, limit).await;
                }
            }
            let Some(until) = until else { return Ok(()) };
            let wait = until.duration_since(SystemTime::now()).unwrap_or_default();
            if started.elapsed() + wait > budget {
                return Err(Error::Throttled(held_back(endpoint, until, attempt)));
            }
            tracing::debug!(%endpoint, wait_ms = wait.as_millis() as u64, "held back by a throttle deadline");
            tokio::time::sleep(wait).await;
        }
    }

    /// The deadline under `key`, from this process's memory or the store.
    async fn deadline(&self, key: &str) -> Option<SystemTime> {
        let now = SystemTime::now();
        if let Some(until) = self
            .inner
            .deadlines
            .last(key)
            .flatten()
            .filter(|u| *u > now)
        {
            return Some(until);
        }
        if self.inner.deadlines.fresh(key).is_some() {
            return None;
        }
        let stored = match self.inner.store.get(key).await {
            Ok(v) => v.as_deref().and_then(decode),
            Err(e) => {
                // The store is down: this process's own deadlines still hold.
                tracing::warn!(error = %e, "throttle store unavailable; using this process's deadlines");
                None
            }
        };
        let until = stored.filter(|u| *u > now);
        self.inner.deadlines.put(key, until);
        until
    }

    /// Records that a throttled answer holds back calls: here at once, and in the store
    /// for every other instance.
    pub(crate) async fn hold(&self, hold: Hold, pacing: Option<&Pacing<'_>>) -> SystemTime {
        let app = self.client_id();
        let (key, length) = match (hold, pacing) {
            (Hold::Endpoint(d), Some(p)) => (self.inner.keys.throttle(app, p.corp, p.endpoint), d),
            // A token endpoint's throttle holds back the app's token calls, which only
            // the app-wide key concerns.
            (Hold::Endpoint(d), None) | (Hold::App(d), _) => (self.inner.keys.ban(app), d),
        };
        let until = SystemTime::now() + length;
        // A later deadline is never shortened by an earlier one.
        let kept = self.inner.deadlines.last(&key).flatten();
        self.inner
            .deadlines
            .put(&key, Some(kept.map_or(until, |k| k.max(until))));
        if let Err(e) = self
            .inner
            .store
            .set(&key, encode(until), Some(length))
            .await
        {
            tracing::warn!(error = %e, "could not share a throttle deadline; this process keeps it");
        }
        until
    }

    /// Takes a slot of the rate limiter for the app's calls of `endpoint`: `None` if this
    /// second has one left, else the start of the next second.
    async fn rate_slot(&self, endpoint: &str, limit: u32) -> Option<SystemTime> {
        let now = SystemTime::now();
        let since = now.duration_since(UNIX_EPOCH).unwrap_or_default();
        let second = since.as_secs();
        let key = self.inner.keys.rate(self.client_id(), endpoint, second);
        match self.inner.store.incr(&key, WINDOW * 2).await {
            Ok(n) if n <= u64::from(limit) => None,
            Ok(_) => Some(UNIX_EPOCH + Duration::from_secs(second + 1)),
            Err(e) => {
                tracing::warn!(error = %e, "rate limiter store unavailable; not limiting");
                None
            }
        }
    }
}

/// The error of a call held back past the configured wait.
pub(crate) fn held_back(endpoint: &str, until: SystemTime, attempts: u32) -> Box<ApiError> {
    let mut e = ApiError::new(
        endpoint,
        0,
        "",
        "held back by a throttle deadline; not sent",
        None,
        attempts.saturating_sub(1),
    );
    e.retry_at = Some(until);
    e
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn holds_by_kind() {
        let now = UNIX_EPOCH + Duration::from_secs(120 + 45);
        let qps = Verdict::Throttled {
            code: "Forbidden.AccessDenied.QpsLimitForAppkeyAndApi".into(),
        };
        let qpm = Verdict::Throttled {
            code: "Forbidden.AccessDenied.QpmLimitForAppkeyAndApi".into(),
        };
        let ban = Verdict::Banned {
            code: "ip-ban".into(),
        };
        assert_eq!(hold_for(&qps, None, now), None);
        assert_eq!(
            hold_for(&qps, Some(Duration::from_secs(1)), now),
            Some(Hold::Endpoint(Duration::from_secs(1)))
        );
        assert_eq!(
            hold_for(&qps, Some(Duration::from_secs(86_400)), now),
            Some(Hold::Endpoint(MAX_RETRY_AFTER))
        );
        assert_eq!(
            hold_for(&qpm, None, now),
            Some(Hold::Endpoint(Duration::from_secs(15)))
        );
        assert_eq!(hold_for(&ban, None, now), Some(Hold::App(BAN)));
        assert_eq!(
            hold_for(&Verdict::Ok, Some(Duration::from_secs(1)), now),
            None
        );
    }

    #[test]
    fn deadlines_round_trip() {
        let t = UNIX_EPOCH + Duration::from_millis(1_700_000_000_123);
        assert_eq!(decode(&encode(t)), Some(t));
        assert_eq!(decode("x"), None);
        let d = Mirror::<Option<SystemTime>>::default();
        d.put("k", Some(t));
        assert_eq!(d.fresh("k"), Some(Some(t)));
        assert_eq!(d.last("absent"), None);
        assert_eq!(d.len(), 1);
    }
}

//! The suite ticket of an ISV app: pushed by DingTalk, kept in the store, and kept in this
//! process too while the store is down.
//!
//! DingTalk pushes a new ticket about every five hours and pushes each one again after 10
//! and 30 seconds, so a delayed push of an older ticket can arrive after a newer one. Each
//! ticket is kept with its push time, and only a newer one replaces it, in this process and
//! in the store alike (an atomic compare in the store, so that instances cannot undo each
//! other's newer ticket).

use std::sync::RwLock;
use std::time::{SystemTime, UNIX_EPOCH};

use super::DingTalk;
use super::seal::Sealer;
use crate::{Error, Secret};

/// Digits of the push time at the front of a stored ticket, zero-padded so that the
/// stored values of two tickets compare as their push times do.
const RANK_DIGITS: usize = 17;

/// A ticket and its push time in microseconds since the Unix epoch.
#[derive(Clone)]
struct Ranked {
    ticket: Secret,
    pushed_us: u64,
}

impl Ranked {
    /// The stored form: `{push time in µs, 17 digits}:{ticket}`, the ticket sealed by
    /// `sealer` for the store key `key`.
    fn stored(&self, sealer: &Sealer, key: &str) -> String {
        format!(
            "{:0width$}:{}",
            self.pushed_us,
            sealer.seal(key, self.ticket.expose()),
            width = RANK_DIGITS
        )
    }

    /// A stored ticket, opened by `sealer` for the store key `key`; a bare ticket, as
    /// earlier versions stored it, ranks lowest. `None` if it does not open.
    fn parse(stored: String, sealer: &Sealer, key: &str) -> Option<Ranked> {
        let rank = stored
            .get(..RANK_DIGITS)
            .filter(|_| stored.as_bytes().get(RANK_DIGITS) == Some(&b':'))
            .and_then(|digits| digits.parse::<u64>().ok());
        Some(match rank {
            Some(pushed_us) => Ranked {
                ticket: Secret::new(sealer.open(key, &stored[RANK_DIGITS + 1..])?),
                pushed_us,
            },
            None => Ranked {
                ticket: Secret::new(sealer.open(key, &stored)?),
                pushed_us: 0,
            },
        })
    }
}

/// This process's copy of the latest suite ticket, and whether the store still lacks it.
#[derive(Default)]
pub(crate) struct TicketSlot(RwLock<Option<(Ranked, bool)>>);

impl TicketSlot {
    fn set(&self, t: Option<(Ranked, bool)>) {
        *self.0.write().unwrap_or_else(|e| e.into_inner()) = t;
    }

    fn get(&self) -> Option<(Ranked, bool)> {
        self.0.read().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

fn micros(at: SystemTime) -> u64 {
    at.duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_micros()).unwrap_or(u64::MAX))
        .min(10u64.pow(RANK_DIGITS as u32) - 1)
}

impl DingTalk {
    /// Keeps the suite ticket DingTalk pushed (event `suite_ticket`), as pushed now: see
    /// [`set_suite_ticket_pushed_at`](DingTalk::set_suite_ticket_pushed_at), which the
    /// event's own push time makes exact.
    pub async fn set_suite_ticket(&self, ticket: Secret) -> Result<(), Error> {
        self.set_suite_ticket_pushed_at(ticket, SystemTime::now())
            .await
            .map(|_| ())
    }

    /// Keeps the suite ticket DingTalk pushed at `pushed_at`, if it is newer than the one
    /// this process and the store hold; `true` if it was kept. A delayed push of an older
    /// ticket changes nothing. The ticket is stored with no expiry of its own. If the store
    /// is down, the ticket is kept in this process and written to the store as soon as it
    /// answers again.
    pub async fn set_suite_ticket_pushed_at(
        &self,
        ticket: Secret,
        pushed_at: SystemTime,
    ) -> Result<bool, Error> {
        let ranked = Ranked {
            ticket,
            pushed_us: micros(pushed_at),
        };
        if self
            .inner
            .ticket
            .get()
            .is_some_and(|(held, _)| held.pushed_us >= ranked.pushed_us)
        {
            return Ok(false);
        }
        self.inner.ticket.set(Some((ranked.clone(), true)));
        Ok(self.persist_ticket(&ranked).await)
    }

    /// Writes `ranked` to the store if it is newer than the store's; `false` if the store
    /// holds a newer one, which this process then takes.
    async fn persist_ticket(&self, ranked: &Ranked) -> bool {
        let key = self.inner.keys.ticket(self.client_id());
        let sealer = &self.inner.sealer;
        match self
            .inner
            .store
            .set_if_greater(&key, ranked.stored(sealer, &key))
            .await
        {
            Ok(true) => {
                if self
                    .inner
                    .ticket
                    .get()
                    .is_some_and(|(t, _)| t.pushed_us == ranked.pushed_us)
                {
                    self.inner.ticket.set(Some((ranked.clone(), false)));
                }
                true
            }
            Ok(false) => {
                if let Ok(Some(stored)) = self.inner.store.get(&key).await
                    && let Some(newer) = Ranked::parse(stored, sealer, &key)
                {
                    self.inner.ticket.set(Some((newer, false)));
                }
                false
            }
            Err(e) => {
                tracing::error!(error = %e, "could not store the suite ticket; keeping it in this process");
                true
            }
        }
    }

    /// The latest suite ticket: this process's if the store lacks it, else the store's.
    pub(crate) async fn suite_ticket(&self) -> Result<Secret, Error> {
        if let Some((t, true)) = self.inner.ticket.get() {
            // Newer than the store's: write it now that the store may be back.
            self.persist_ticket(&t).await;
            if let Some((t, _)) = self.inner.ticket.get() {
                return Ok(t.ticket);
            }
        }
        let key = self.inner.keys.ticket(self.client_id());
        match self.inner.store.get(&key).await {
            Ok(Some(t)) => {
                if let Some(t) = Ranked::parse(t, &self.inner.sealer, &key) {
                    self.inner.ticket.set(Some((t.clone(), false)));
                    return Ok(t.ticket);
                }
            }
            Ok(None) => {}
            Err(e) => {
                tracing::error!(error = %e, "suite ticket store unavailable; using this process's copy")
            }
        }
        self.inner.ticket.get().map(|(t, _)| t.ticket).ok_or_else(|| {
            Error::Config(
                "no suite ticket yet: pass the one DingTalk pushes (event `suite_ticket`) to `set_suite_ticket`".into(),
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_tickets_order_as_their_push_times() {
        let a = Ranked {
            ticket: Secret::new("a:b"),
            pushed_us: 999,
        };
        let b = Ranked {
            ticket: Secret::new("0"),
            pushed_us: 1_000,
        };
        let (plain, key) = (Sealer::default(), "dingscope:ticket:s");
        assert!(a.stored(&plain, key) < b.stored(&plain, key));
        assert_eq!(a.stored(&plain, key).find(':'), Some(RANK_DIGITS));
        let back = Ranked::parse(a.stored(&plain, key), &plain, key).unwrap();
        assert_eq!((back.ticket.expose(), back.pushed_us), ("a:b", 999));
        let bare = Ranked::parse("ticket-from-before".into(), &plain, key).unwrap();
        assert_eq!(
            (bare.ticket.expose(), bare.pushed_us),
            ("ticket-from-before", 0)
        );
    }
}

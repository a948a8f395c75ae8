//! The suite ticket of an ISV app: pushed by DingTalk, kept in the store, and kept in this
//! process too while the store is down.

use std::sync::RwLock;

use super::{DingTalk, keys};
use crate::{Error, Secret};

/// This process's copy of the latest suite ticket, and whether the store still lacks it.
#[derive(Default)]
pub(crate) struct TicketSlot(RwLock<Option<(Secret, bool)>>);

impl TicketSlot {
    fn set(&self, t: Option<(Secret, bool)>) {
        *self.0.write().unwrap_or_else(|e| e.into_inner()) = t;
    }

    fn get(&self) -> Option<(Secret, bool)> {
        self.0.read().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

impl DingTalk {
    /// Keeps the suite ticket DingTalk pushed (event `suite_ticket`), replacing the older
    /// one. It is stored with no expiry of its own. If the store is down, the ticket is
    /// kept in this process and written to the store as soon as it answers again.
    pub async fn set_suite_ticket(&self, ticket: Secret) -> Result<(), Error> {
        self.inner.ticket.set(Some((ticket.clone(), true)));
        self.persist_ticket(&ticket).await;
        Ok(())
    }

    async fn persist_ticket(&self, ticket: &Secret) {
        let key = keys::ticket(self.client_id());
        match self
            .inner
            .store
            .set(&key, ticket.expose().to_owned(), None)
            .await
        {
            Ok(()) => {
                if self.inner.ticket.get().is_some_and(|(t, _)| &t == ticket) {
                    self.inner.ticket.set(Some((ticket.clone(), false)));
                }
            }
            Err(e) => {
                tracing::error!(error = %e, "could not store the suite ticket; keeping it in this process")
            }
        }
    }

    /// The latest suite ticket: this process's if the store lacks it, else the store's.
    pub(crate) async fn suite_ticket(&self) -> Result<Secret, Error> {
        if let Some((t, true)) = self.inner.ticket.get() {
            // Newer than the store's: write it now that the store may be back.
            self.persist_ticket(&t).await;
            return Ok(t);
        }
        match self.inner.store.get(&keys::ticket(self.client_id())).await {
            Ok(Some(t)) => {
                let t = Secret::new(t);
                self.inner.ticket.set(Some((t.clone(), false)));
                return Ok(t);
            }
            Ok(None) => {}
            Err(e) => {
                tracing::error!(error = %e, "suite ticket store unavailable; using this process's copy")
            }
        }
        self.inner.ticket.get().map(|(t, _)| t).ok_or_else(|| {
            Error::Config(
                "no suite ticket yet: pass the one DingTalk pushes (event `suite_ticket`) to `set_suite_ticket`".into(),
            )
        })
    }
}

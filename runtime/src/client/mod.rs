//! The DingTalk client: tokens for every flow, grants, and API calls that are checked
//! before they are sent and whose denials come back as typed errors.
//!
//! ```no_run
//! # async fn demo() -> Result<(), dingscope::Error> {
//! use dingscope::client::{App, DingTalk};
//! use dingscope::{Secret, WithGrantExt};
//!
//! let dt = DingTalk::builder(App::isv("suite-key", Secret::new("suite-secret"))).build()?;
//! dt.set_suite_ticket(Secret::new("ticket pushed by DingTalk")).await?;
//! let corp = dt.corp("ding-corp-id");
//! let page: serde_json::Value = corp
//!     .get("/v1.0/hrm/employees/dismissions")
//!     .query("nextToken", "0")
//!     .query("maxResults", "30")
//!     .send()
//!     .await?;
//! # Ok(()) }
//! ```
//!
//! # TLS
//!
//! The client speaks HTTP/1.1 through hyper over rustls with ring and the platform's
//! certificate verifier, configured for this client alone: the process-wide rustls
//! provider stays the application's, and no TLS feature of any other HTTP client in the
//! program (reqwest's, say) is turned on by dingscope.

mod answer;
mod builder;
#[cfg(feature = "callback")]
pub mod callback;
mod credentials;
mod events;
mod flows;
mod grants;
mod keys;
pub mod paging;
mod path;
mod principal;
#[cfg(any(feature = "stream", feature = "callback"))]
mod recent;
#[cfg(feature = "redis")]
mod redis_store;
mod request;
mod retry;
mod seal;
pub mod store;
#[cfg(feature = "stream")]
pub mod stream;
mod throttle;
mod ticket;
mod token;
mod transport;

use std::fmt;
use std::sync::Arc;

use crate::Secret;

pub use answer::{MAX_CODES_IN_TEXT, Verdict, classify_new, classify_old, codes_in_text};
pub use builder::{DingTalkBuilder, Retry};
pub use credentials::App;
pub use events::{CorpInfo, Event, EventError, RawEvent};
pub use http::Method;
pub use paging::{Pages, Paging};
pub use principal::Principal;
#[cfg(feature = "redis")]
pub use redis_store::RedisStore;
pub use request::RequestBuilder;
#[cfg(feature = "store-encryption")]
pub use seal::StoreKey;
pub use store::{BoxFuture, MemoryStore, Store, StoreError};
pub use throttle::{BAN, MAX_RETRY_AFTER};

pub use crate::OpenAuthStatus;

use grants::GrantCache;
use ticket::TicketSlot;
use token::TokenCache;

/// A DingTalk client for one app. Cheap to clone.
///
/// [`DingTalk::builder`] makes one; [`DingTalk::corp`] and [`DingTalk::user`] give the
/// [`Principal`]s that call DingTalk with their tokens and grants.
#[derive(Clone)]
pub struct DingTalk {
    pub(crate) inner: Arc<Inner>,
}

/// What every clone of a client shares.
pub(crate) struct Inner {
    pub(crate) http: transport::Http,
    pub(crate) tokens: TokenCache,
    pub(crate) grants: GrantCache,
    pub(crate) ticket: TicketSlot,
    pub(crate) app: App,
    pub(crate) api_base: String,
    pub(crate) oapi_base: String,
    pub(crate) store: Arc<dyn Store>,
    pub(crate) retry: Retry,
    /// The application codes applied for: what `rpcScope: ".default"` grants.
    pub(crate) applied: Vec<String>,
    /// Where everything is kept in the store.
    pub(crate) keys: keys::Keys,
    /// Rotated refresh tokens the store refused, by store key, until it takes them.
    pub(crate) pending_refresh: std::sync::Mutex<std::collections::HashMap<String, Secret>>,
    /// Seals the secrets written to the store.
    pub(crate) sealer: seal::Sealer,
    /// Corps whose calls are refused (the app stopped or removed), as last read.
    pub(crate) stopped: throttle::Mirror<Option<String>>,
    /// Throttle deadlines this process knows.
    pub(crate) deadlines: throttle::Mirror<Option<std::time::SystemTime>>,
    /// How long a call waits for a throttle deadline.
    pub(crate) throttle_wait: std::time::Duration,
    /// The optional rate limit per endpoint, calls per second.
    pub(crate) rate_limit: Option<u32>,
    /// Whether `http://` (and `ws://`) may leave the loopback.
    #[cfg(feature = "stream")]
    pub(crate) allow_http: bool,
    /// Requests of one corp's endpoint in flight at once, at most.
    pub(crate) max_in_flight: usize,
    /// Those requests now.
    pub(crate) in_flight: throttle::InFlight,
}

impl fmt::Debug for DingTalk {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DingTalk")
            .field("app", &self.inner.app)
            .field("api_base", &self.inner.api_base)
            .field("oapi_base", &self.inner.oapi_base)
            .finish_non_exhaustive()
    }
}

impl DingTalk {
    /// The app's client id, for openAuth's `clientId`.
    pub fn client_id(&self) -> &str {
        self.inner.app.client_id()
    }
}

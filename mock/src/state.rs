//! What the mock remembers: apps, corps, tickets, tokens, grants, faults, counters.

use std::collections::{BTreeSet, HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Which token flow issued a token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TokenKind {
    /// `/v1.0/oauth2/accessToken` or the old `/gettoken`.
    App,
    /// `/v1.0/oauth2/corpAccessToken`.
    Corp,
    /// `/v1.0/oauth2/{corpId}/token`.
    Unified,
    /// `/v1.0/oauth2/userAccessToken`.
    User,
}

#[derive(Debug, Clone)]
pub(crate) struct Issued {
    pub corp_id: String,
    pub kind: TokenKind,
    pub user: Option<String>,
    pub expires_at: Instant,
}

/// One injected fault, applied to the next request it matches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// Wait this long before answering normally.
    Latency(Duration),
    /// Answer this HTTP status with a JSON error body.
    Status(u16),
    /// Answer 200 with a body that is not JSON.
    MalformedJson,
    /// Answer 403 `Forbidden.AccessDenied.QpsLimitForAppkeyAndApi`.
    Throttle,
    /// Answer 429 `system.busy`.
    TooManyRequests,
    /// Answer 504, as DingTalk does after 3 s without an answer.
    GatewayTimeout,
    /// Answer 403 with an HTML ban page (the 10,000-calls-per-20-s IP ban).
    BanPage,
    /// Answer this status (403 or 200) with the IP ban's JSON form,
    /// `{"status":1111,"wait":5,"source":"x5","punish":"deny"}`.
    BanJson(u16),
    /// Answer 429 `Forbidden.AccessDenied.QpsLimitForAppkeyAndApi` with `Retry-After`
    /// of this many seconds.
    RetryAfter(u64),
    /// Answer the per-minute limit: 403 `Forbidden.AccessDenied.QpmLimitForAppkeyAndApi`,
    /// on either API.
    PerMinute,
    /// Answer the corp's monthly quota: 403 `Forbidden.AccessDenied.ApiCountLimitForOrg`,
    /// or on the old API errcode 90020.
    MonthlyQuota,
    /// Answer 401 as if the token had expired, whatever it is.
    ExpiredToken,
    /// Token endpoints: report this `expireIn` (may be 0, negative or huge); the token
    /// itself lives as long as usual.
    ExpireIn(i64),
    /// Token endpoints: answer 400 `invalidClientIdOrSecret`.
    RejectCredentials,
}

/// How the mock words a permission denial on the new API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DenialShape {
    /// `accessdenieddetail.requiredScopes`, lower-case keys.
    #[default]
    Detail,
    /// The same with the SDK's upper-camel keys (`Code`, `AccessDeniedDetail`, `RequiredScopes`).
    DetailCamel,
    /// Codes only inside `message`, with the apply link.
    MessageOnly,
}

/// Which requests a fault applies to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// Every request.
    Any,
    /// Token endpoints only.
    Token,
    /// API endpoints only (not token endpoints).
    Api,
}

#[derive(Default)]
pub(crate) struct State {
    /// The Stream gateway.
    pub gateway: crate::stream::Gateway,
    /// `ws://127.0.0.1:PORT/gateway/ws`, answered by `connections/open`.
    pub ws_endpoint: String,
    /// Until when every API request is answered 429 with `Retry-After` of the seconds
    /// given ([`MockDingTalk::throttle_for`](crate::MockDingTalk::throttle_for)).
    pub throttle_window: Option<(std::time::Instant, u64)>,
    /// API requests refused inside that window.
    pub window_refusals: u64,
    pub apps: HashMap<String, App>,
    pub suites: HashMap<String, Suite>,
    pub tokens: HashMap<String, Issued>,
    /// Internal-app tokens: asking again within validity returns the same token.
    pub app_tokens: HashMap<(String, String), String>,
    /// Application grants per corp.
    pub corp_grants: HashMap<String, BTreeSet<String>>,
    /// Delegated grants per (corp, user).
    pub user_grants: HashMap<(String, String), BTreeSet<String>>,
    /// One-time auth codes from openAuth type 0: code -> (corp, user).
    pub auth_codes: HashMap<String, (String, String)>,
    /// Every refresh token ever issued, rotated away or not.
    pub issued_refresh: Vec<String>,
    /// Every auth code ever issued, used or not.
    pub issued_codes: Vec<String>,
    /// Refresh tokens: token -> (corp, user, client id).
    pub refresh_tokens: HashMap<String, (String, String, String)>,
    pub faults: VecDeque<(Target, Fault)>,
    pub denial_shape: DenialShape,
    pub expire_in: i64,
    pub counter: u64,
    pub token_requests: u64,
    /// API requests that carried a token the mock had issued but which had expired.
    pub expired_token_uses: u64,
    pub api_requests: HashMap<String, u64>,
    /// The Unix second of every API request, in order.
    pub api_seconds: Vec<u64>,
    pub dismissed: Vec<String>,
    /// Pages that may call `/mock/openAuth` across origins (the stand-in for openAuth).
    pub allowed_origins: BTreeSet<String>,
    /// Codes the mock treats as personal (type 0); `None`: no type check.
    pub personal_codes: Option<BTreeSet<String>>,
    /// Every `/mock/openAuth` request, as received.
    pub open_auth_log: Vec<serde_json::Value>,
}

pub(crate) struct App {
    pub secret: String,
    pub corp_id: String,
}

pub(crate) struct Suite {
    pub secret: String,
    pub ticket: Option<String>,
    pub corps: BTreeSet<String>,
}

impl State {
    pub(crate) fn new() -> State {
        State {
            expire_in: 7200,
            dismissed: (1..=120).map(|i| format!("user{i:03}")).collect(),
            ..State::default()
        }
    }

    pub(crate) fn next_id(&mut self, prefix: &str) -> String {
        self.counter += 1;
        format!(
            "{prefix}{:08x}{:04}",
            self.counter.wrapping_mul(2654435761),
            self.counter % 10000
        )
    }

    /// Takes the first queued fault that applies to this request.
    pub(crate) fn take_fault(&mut self, is_token: bool) -> Option<Fault> {
        let i = self.faults.iter().position(|(t, f)| {
            let token_only = matches!(f, Fault::ExpireIn(_) | Fault::RejectCredentials);
            match t {
                Target::Any => !token_only || is_token,
                Target::Token => is_token,
                Target::Api => !is_token && !token_only,
            }
        })?;
        self.faults.remove(i).map(|(_, f)| f)
    }
}

pub(crate) type Shared = std::sync::Arc<Mutex<State>>;

//! Errors: [`Error`], the permission denial [`Denied`], and what DingTalk answered.

use std::fmt;

use crate::openauth::{OpenAuthRequest, UnknownStatus};
use crate::scope::{AuthType, InvalidScope, Scope};

/// Everything that can go wrong in dingscope.
///
/// No variant holds a secret: tokens, app secrets and suite tickets never reach an error.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// Permission denied: by the check before the call (nothing was sent) or by DingTalk.
    Denied(Box<Denied>),
    /// A string that is not a permission code.
    InvalidScope(InvalidScope),
    /// An openAuth `status` that openAuth does not answer.
    UnknownStatus(UnknownStatus),
    /// A token endpoint refused (bad credentials, suite ticket or authorization).
    #[cfg(feature = "client")]
    Token(Box<ApiError>),
    /// DingTalk refused the token twice in a row, a fresh one included.
    #[cfg(feature = "client")]
    BadToken(Box<ApiError>),
    /// Throttled, still after the retries.
    #[cfg(feature = "client")]
    Throttled(Box<ApiError>),
    /// The corp's monthly call quota is used up; not retried, it lasts until the month ends.
    #[cfg(feature = "client")]
    QuotaExceeded(Box<ApiError>),
    /// No answer in time, still after the retries.
    #[cfg(feature = "client")]
    Timeout(Box<ApiError>),
    /// A server failure (5xx), still after the retries.
    #[cfg(feature = "client")]
    Unavailable(Box<ApiError>),
    /// Another error DingTalk reported.
    #[cfg(feature = "client")]
    Api(Box<ApiError>),
    /// An answer that is not what DingTalk sends (malformed JSON, say).
    #[cfg(feature = "client")]
    Protocol(Box<ApiError>),
    /// The connection failed.
    #[cfg(feature = "client")]
    Transport(Box<ApiError>),
    /// A request body could not be written as JSON; nothing was sent.
    #[cfg(feature = "client")]
    Encode(serde_json::Error),
    /// The token and grant store failed.
    #[cfg(feature = "client")]
    Store(StoreError),
    /// Tokens, a grant or an authCode that belong to another corp or user than the one
    /// the call was for: nothing of theirs was kept, and no request was sent with them.
    #[cfg(feature = "client")]
    Mismatch(String),
    /// The corp stopped or removed the app (a pushed event said so): no call for it is
    /// sent until it restores or authorizes it again.
    #[cfg(feature = "client")]
    AppStopped(String),
    /// The client is used or set up wrongly; the message says how.
    Config(String),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Denied(d) => fmt::Display::fmt(d, f),
            Error::InvalidScope(e) => fmt::Display::fmt(e, f),
            Error::UnknownStatus(e) => fmt::Display::fmt(e, f),
            #[cfg(feature = "client")]
            Error::Token(e) => write!(f, "token request refused: {e}"),
            #[cfg(feature = "client")]
            Error::BadToken(e) => write!(f, "access token refused: {e}"),
            #[cfg(feature = "client")]
            Error::Throttled(e) => write!(f, "throttled: {e}"),
            #[cfg(feature = "client")]
            Error::QuotaExceeded(e) => write!(f, "monthly call quota used up: {e}"),
            #[cfg(feature = "client")]
            Error::Timeout(e) => write!(f, "timed out: {e}"),
            #[cfg(feature = "client")]
            Error::Unavailable(e) => write!(f, "DingTalk unavailable: {e}"),
            #[cfg(feature = "client")]
            Error::Api(e) => write!(f, "DingTalk error: {e}"),
            #[cfg(feature = "client")]
            Error::Protocol(e) => write!(f, "unexpected answer: {e}"),
            #[cfg(feature = "client")]
            Error::Transport(e) => write!(f, "connection failed: {e}"),
            #[cfg(feature = "client")]
            Error::Encode(_) => f.write_str("cannot write the request body as JSON"),
            #[cfg(feature = "client")]
            Error::Store(e) => fmt::Display::fmt(e, f),
            #[cfg(feature = "client")]
            Error::Mismatch(m) => f.write_str(m),
            #[cfg(feature = "client")]
            Error::AppStopped(m) => f.write_str(m),
            Error::Config(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for Error {
    /// The cause, where `Display` has not printed it already: the JSON error of a body
    /// that could not be written, and the store's own error.
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            #[cfg(feature = "client")]
            Error::Encode(e) => Some(e),
            #[cfg(feature = "client")]
            Error::Store(e) => std::error::Error::source(e),
            _ => None,
        }
    }
}

impl From<InvalidScope> for Error {
    fn from(e: InvalidScope) -> Error {
        Error::InvalidScope(e)
    }
}

impl From<UnknownStatus> for Error {
    fn from(e: UnknownStatus) -> Error {
        Error::UnknownStatus(e)
    }
}

/// A store failed (the Redis server is down, say). Its cause, the store's own error, is
/// its [`source`](std::error::Error::source).
#[cfg(feature = "client")]
#[derive(Debug, Clone)]
pub struct StoreError {
    what: String,
    cause: Option<std::sync::Arc<dyn std::error::Error + Send + Sync>>,
}

#[cfg(feature = "client")]
impl StoreError {
    /// A store error saying `what` went wrong.
    pub fn new(what: impl Into<String>) -> StoreError {
        StoreError {
            what: what.into(),
            cause: None,
        }
    }

    /// A store error saying `what` went wrong, caused by `cause`.
    pub fn with_cause(
        what: impl Into<String>,
        cause: impl std::error::Error + Send + Sync + 'static,
    ) -> StoreError {
        StoreError {
            what: what.into(),
            cause: Some(std::sync::Arc::new(cause)),
        }
    }

    /// What went wrong, without the cause.
    pub fn what(&self) -> &str {
        &self.what
    }
}

#[cfg(feature = "client")]
impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "store error: {}", self.what)
    }
}

#[cfg(feature = "client")]
impl std::error::Error for StoreError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.cause
            .as_deref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}

/// What DingTalk answered (or failed to), for errors other than denials.
#[cfg(feature = "client")]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// `GET /v1.0/...`: method and path, never a token.
    pub endpoint: String,
    /// HTTP status (0 when there was no answer).
    pub status: u16,
    /// DingTalk's `code` or `errcode`.
    pub code: String,
    /// DingTalk's message, or what went wrong.
    pub message: String,
    /// DingTalk's request id, if any.
    pub request_id: Option<String>,
    /// Attempts made.
    pub attempts: u32,
    /// For a throttled call: the deadline before which no call it concerns is sent
    /// (`Retry-After`, the next minute for a per-minute limit, the end of an IP ban).
    pub retry_at: Option<std::time::SystemTime>,
}

#[cfg(feature = "client")]
impl ApiError {
    pub(crate) fn new(
        endpoint: &str,
        status: u16,
        code: &str,
        message: &str,
        request_id: Option<String>,
        attempts: u32,
    ) -> Box<ApiError> {
        Box::new(ApiError {
            endpoint: endpoint.to_owned(),
            status,
            code: code.to_owned(),
            message: message.to_owned(),
            request_id,
            attempts,
            retry_at: None,
        })
    }
}

#[cfg(feature = "client")]
impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.endpoint)?;
        if self.status != 0 {
            write!(f, " answered {}", self.status)?;
        }
        if !self.code.is_empty() {
            write!(f, " {}", self.code)?;
        }
        if !self.message.is_empty() {
            write!(f, ": {}", self.message)?;
        }
        if let Some(r) = &self.request_id {
            write!(f, " (request id {r})")?;
        }
        if self.attempts > 1 {
            write!(f, " after {} attempts", self.attempts)?;
        }
        if let Some(at) = self.retry_at {
            let wait = at
                .duration_since(std::time::SystemTime::now())
                .unwrap_or_default();
            write!(f, "; held back for {} ms more", wait.as_millis())?;
        }
        Ok(())
    }
}

impl From<Denied> for Error {
    fn from(d: Denied) -> Error {
        Error::Denied(Box::new(d))
    }
}

impl Error {
    /// The denial, if this is one.
    pub fn as_denied(&self) -> Option<&Denied> {
        match self {
            Error::Denied(d) => Some(d),
            _ => None,
        }
    }
}

/// Why a grant did not cover a requirement.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DenyReason {
    /// No grant was entered: see [`Grant::run`](crate::Grant::run) and
    /// [`WithGrantExt`](crate::WithGrantExt).
    NoGrant,
    /// The grant lacks some codes.
    Missing,
    /// The grant lacks every code DingTalk's catalog names for the API about to be
    /// called; the request was not sent.
    NotGranted {
        /// `GET /v1.0/...`.
        endpoint: String,
    },
    /// DingTalk denied the call.
    Server {
        /// `GET /v1.0/...`.
        endpoint: String,
        /// DingTalk's code or errcode.
        code: String,
        /// DingTalk's request id.
        request_id: Option<String>,
        /// Codes DingTalk requires that the calling function did not declare: its
        /// `#[requires_scope]` is wrong.
        undeclared: Vec<Scope>,
    },
    /// The function needs a grant of the other kind.
    WrongAuthType {
        /// What the function declares.
        required: AuthType,
        /// What was entered.
        granted: AuthType,
    },
}

/// A permission denial: which function, which codes are missing, and what to ask
/// openAuth for to fix it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Denied {
    pub(crate) function: String,
    pub(crate) location: Option<(&'static str, u32)>,
    pub(crate) reason: DenyReason,
    pub(crate) missing: Vec<Vec<Scope>>,
    pub(crate) request: OpenAuthRequest,
}

impl Denied {
    /// The function that was denied: for an annotated function its module path and name
    /// (`crate::api::list`; a method is named by the module of its `impl`), as
    /// [`Requirement::function`](crate::Requirement::function) gives it.
    pub fn function(&self) -> &str {
        &self.function
    }

    /// Where the denied annotated function is declared: its file, as `file!()` gives it,
    /// and the line of its name. `None` for a call outside annotated functions, and for
    /// requirements built by hand.
    pub fn location(&self) -> Option<(&'static str, u32)> {
        self.location
    }

    /// Why.
    pub fn reason(&self) -> &DenyReason {
        &self.reason
    }

    /// The unsatisfied requirements: each inner list is one requirement's alternatives
    /// (one code for a plain requirement).
    pub fn missing(&self) -> &[Vec<Scope>] {
        &self.missing
    }

    /// The codes to request: the first (preferred) alternative of each unsatisfied requirement.
    pub fn missing_codes(&self) -> impl Iterator<Item = &Scope> {
        self.missing.iter().filter_map(|alts| alts.first())
    }

    /// The openAuth parameters that ask for exactly the missing codes.
    pub fn open_auth(&self) -> &OpenAuthRequest {
        &self.request
    }
}

impl fmt::Display for Denied {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "`{}` ", self.function)?;
        if let Some((file, line)) = self.location {
            write!(f, "({file}:{line}) ")?;
        }
        match &self.reason {
            DenyReason::NoGrant => f.write_str("was called with no DingTalk grant entered")?,
            DenyReason::WrongAuthType { required, granted } => write!(
                f,
                "needs {} grant but was called with {} grant",
                with_article(*required),
                with_article(*granted)
            )?,
            DenyReason::Missing => f.write_str("needs DingTalk permission")?,
            DenyReason::NotGranted { endpoint } => {
                write!(f, "was not sent: `{endpoint}` needs DingTalk permission")?
            }
            DenyReason::Server { endpoint, code, .. } => {
                write!(f, "was denied by DingTalk (`{endpoint}`, {code}); it needs")?
            }
        }
        if !self.missing.is_empty() {
            if matches!(
                self.reason,
                DenyReason::NoGrant | DenyReason::WrongAuthType { .. }
            ) {
                f.write_str("; it needs")?;
            }
            for (i, alts) in self.missing.iter().enumerate() {
                f.write_str(if i == 0 { " " } else { ", " })?;
                if alts.len() > 1 {
                    f.write_str("any of ")?;
                }
                for (j, s) in alts.iter().enumerate() {
                    write!(f, "{}`{s}`", if j == 0 { "" } else { "/" })?;
                }
            }
        }
        if let DenyReason::Server { undeclared, .. } = &self.reason
            && !undeclared.is_empty()
        {
            f.write_str("; the function's #[requires_scope] does not declare")?;
            for (i, s) in undeclared.iter().enumerate() {
                write!(f, "{}`{s}`", if i == 0 { " " } else { ", " })?;
            }
            f.write_str(": the declaration is wrong")?;
        }
        let them = if self.missing.len() > 1 { "them" } else { "it" };
        write!(f, "; request {them} with openAuth({})", self.request)
    }
}

fn with_article(auth: AuthType) -> &'static str {
    match auth {
        AuthType::Delegated => "a delegated",
        AuthType::Application => "an application",
    }
}

impl std::error::Error for Denied {}

//! Errors.

use std::fmt;

use crate::scope::{AuthType, Kind, Scope};

/// Everything that can go wrong in dingscope.
///
/// No variant holds a secret: tokens, app secrets and suite tickets never reach an error.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// Permission denied: by the check before the call (nothing was sent) or by DingTalk.
    Denied(Box<Denied>),
    /// A token endpoint refused (bad credentials, suite ticket or authorization).
    Token(Box<ApiError>),
    /// DingTalk refused the token twice in a row, a fresh one included.
    BadToken(Box<ApiError>),
    /// Throttled, still after the retries.
    Throttled(Box<ApiError>),
    /// No answer in time, still after the retries.
    Timeout(Box<ApiError>),
    /// A server failure (5xx), still after the retries.
    Unavailable(Box<ApiError>),
    /// Another error DingTalk reported.
    Api(Box<ApiError>),
    /// An answer that is not what DingTalk sends (malformed JSON, say).
    Protocol(Box<ApiError>),
    /// The connection failed.
    Transport(Box<ApiError>),
    /// The token and grant store failed.
    #[cfg(feature = "client")]
    Store(crate::client::StoreError),
    /// The client is used or set up wrongly; the message says how.
    Config(String),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Denied(d) => fmt::Display::fmt(d, f),
            Error::Token(e) => write!(f, "token request refused: {e}"),
            Error::BadToken(e) => write!(f, "access token refused: {e}"),
            Error::Throttled(e) => write!(f, "throttled: {e}"),
            Error::Timeout(e) => write!(f, "timed out: {e}"),
            Error::Unavailable(e) => write!(f, "DingTalk unavailable: {e}"),
            Error::Api(e) => write!(f, "DingTalk error: {e}"),
            Error::Protocol(e) => write!(f, "unexpected answer: {e}"),
            Error::Transport(e) => write!(f, "connection failed: {e}"),
            #[cfg(feature = "client")]
            Error::Store(e) => fmt::Display::fmt(e, f),
            Error::Config(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Denied(d) => Some(&**d),
            _ => None,
        }
    }
}

/// What DingTalk answered (or failed to), for errors other than denials.
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
}

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

/// The parameters of an openAuth call (minus `clientId` and `corpId`, which the app knows).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct OpenAuthRequest {
    /// Rpc codes, sorted, comma-joined, no spaces.
    pub rpc_scope: String,
    /// Field codes, the same way.
    pub field_scope: String,
    /// Application (type 1) or delegated (type 0).
    pub auth_type: AuthType,
}

impl OpenAuthRequest {
    /// Parameters asking for `codes`; each goes to `rpcScope` or `fieldScope` by its kind.
    pub fn for_codes<'a>(auth_type: AuthType, codes: impl IntoIterator<Item = &'a Scope>) -> Self {
        Self::for_kinds(auth_type, codes.into_iter().map(|s| (s.kind(), s.as_str())))
    }

    /// Parameters asking for codes whose kinds are known.
    pub(crate) fn for_kinds<'a>(
        auth_type: AuthType,
        codes: impl IntoIterator<Item = (Kind, &'a str)>,
    ) -> Self {
        let mut rpc: Vec<&str> = Vec::new();
        let mut field: Vec<&str> = Vec::new();
        for (kind, code) in codes {
            match kind {
                Kind::Rpc => rpc.push(code),
                Kind::Field => field.push(code),
            }
        }
        for v in [&mut rpc, &mut field] {
            v.sort_unstable();
            v.dedup();
        }
        OpenAuthRequest {
            rpc_scope: rpc.join(","),
            field_scope: field.join(","),
            auth_type,
        }
    }
}

impl fmt::Display for OpenAuthRequest {
    /// As the JavaScript object literal to pass to `openAuth`, less `clientId`/`corpId`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("{ ")?;
        if !self.rpc_scope.is_empty() {
            write!(f, "rpcScope: \"{}\", ", self.rpc_scope)?;
        }
        if !self.field_scope.is_empty() {
            write!(f, "fieldScope: \"{}\", ", self.field_scope)?;
        }
        write!(f, "type: {} }}", self.auth_type.open_auth_type())
    }
}

/// A string that is not a DingTalk permission code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidScope {
    code: String,
    reason: dingscope_catalog::GrammarError,
}

impl InvalidScope {
    pub(crate) fn new(code: &str, reason: dingscope_catalog::GrammarError) -> Self {
        InvalidScope {
            code: code.to_owned(),
            reason,
        }
    }
}

impl fmt::Display for InvalidScope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "invalid permission code {:?}: {}",
            self.code, self.reason
        )
    }
}

impl std::error::Error for InvalidScope {}

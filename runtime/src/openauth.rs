//! openAuth: the parameters that ask for codes, and what the component answers.

use std::fmt;

use crate::scope::{AuthType, Kind, Scope};

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

/// What openAuth answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpenAuthStatus {
    /// Granted.
    Ok,
    /// Refused.
    Cancel,
    /// The user is no admin; a request went to one (type 1 only). Nothing is granted yet.
    ToAdmin,
    /// The component failed.
    Failed,
}

impl OpenAuthStatus {
    /// Parses openAuth's `status` (`ok`, `cancel`, `toAdmin`, `failed`).
    pub fn parse(s: &str) -> Result<OpenAuthStatus, UnknownStatus> {
        match s {
            "ok" => Ok(OpenAuthStatus::Ok),
            "cancel" => Ok(OpenAuthStatus::Cancel),
            "toAdmin" => Ok(OpenAuthStatus::ToAdmin),
            "failed" => Ok(OpenAuthStatus::Failed),
            other => Err(UnknownStatus(other.to_owned())),
        }
    }
}

impl std::str::FromStr for OpenAuthStatus {
    type Err = UnknownStatus;
    fn from_str(s: &str) -> Result<OpenAuthStatus, UnknownStatus> {
        OpenAuthStatus::parse(s)
    }
}

/// An openAuth `status` that openAuth does not answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownStatus(String);

impl fmt::Display for UnknownStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unknown openAuth status {:?}; expected ok, cancel, toAdmin or failed",
            self.0
        )
    }
}

impl std::error::Error for UnknownStatus {}

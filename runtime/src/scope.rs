//! Permission codes, their kinds, and openAuth's authorization types.

use std::borrow::Cow;
use std::fmt;

pub use dingscope_catalog::{Kind, ScopeInfo};

/// openAuth's `type`: who grants a permission.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AuthType {
    /// Delegated (委托) authorization, per user: openAuth `type: 0`, a user access token.
    Delegated,
    /// Application (应用) authorization, granted by an admin for the whole corp:
    /// openAuth `type: 1`, an app or corp access token.
    Application,
}

impl AuthType {
    /// The value of openAuth's `type` parameter: 0 or 1.
    pub const fn open_auth_type(self) -> u8 {
        match self {
            AuthType::Delegated => 0,
            AuthType::Application => 1,
        }
    }

    /// `"delegated"` or `"application"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            AuthType::Delegated => "delegated",
            AuthType::Application => "application",
        }
    }
}

impl fmt::Display for AuthType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One DingTalk permission code (权限点 Code), such as `Contact.User.Read`.
///
/// Codes from DingTalk's catalog carry a small index, which is what grants and
/// requirements compare; other codes work too, compared by text.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Scope {
    code: Cow<'static, str>,
}

impl Scope {
    /// A scope from a static string; no allocation.
    pub const fn from_static(code: &'static str) -> Scope {
        Scope {
            code: Cow::Borrowed(code),
        }
    }

    /// Parses a code, checking DingTalk's grammar.
    pub fn parse(code: &str) -> Result<Scope, crate::InvalidScope> {
        match dingscope_catalog::check_grammar(code) {
            Ok(_) => Ok(match dingscope_catalog::lookup(code) {
                Some(info) => Scope::from_static(info.code),
                None => Scope {
                    code: Cow::Owned(code.to_owned()),
                },
            }),
            Err(reason) => Err(crate::InvalidScope::new(code, reason)),
        }
    }

    /// The code as DingTalk spells it.
    pub fn as_str(&self) -> &str {
        &self.code
    }

    /// The catalog entry, if DingTalk's catalog knows this code.
    pub fn info(&self) -> Option<&'static ScopeInfo> {
        dingscope_catalog::lookup(&self.code)
    }

    /// rpc or field: from the catalog, else from the form (`Resource.Item.lowercase`
    /// codes such as `Contact.User.mobile` are field codes).
    pub fn kind(&self) -> Kind {
        match self.info() {
            Some(info) => info.kind,
            None => guess_kind(&self.code),
        }
    }
}

/// A code that is not catalogued is a field code when it is dotted and its last
/// segment starts in lower case (`Contact.User.mobile`), as every known field code does.
pub(crate) fn guess_kind(code: &str) -> Kind {
    match code.rsplit_once('.') {
        Some((_, last)) if last.starts_with(|c: char| c.is_ascii_lowercase()) => Kind::Field,
        _ => Kind::Rpc,
    }
}

impl fmt::Debug for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.code, f)
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.code)
    }
}

impl std::str::FromStr for Scope {
    type Err = crate::InvalidScope;
    fn from_str(s: &str) -> Result<Scope, Self::Err> {
        Scope::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_known_and_unknown() {
        let s = Scope::parse("Contact.User.Read").unwrap();
        assert_eq!(s.kind(), Kind::Rpc);
        assert!(s.info().is_some());
        let f = Scope::parse("Contact.User.email").unwrap();
        assert_eq!(f.kind(), Kind::Field);
        assert!(f.info().is_none());
        let e = Scope::parse("Contact.User").unwrap_err();
        assert!(e.to_string().contains("Contact.User"), "{e}");
    }
}

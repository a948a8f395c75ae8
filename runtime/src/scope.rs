//! Permission codes, their kinds, and openAuth's authorization types.

use std::borrow::Cow;
use std::fmt;

pub use dingscope_catalog::{AuthType, Kind, ScopeInfo};

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
    pub fn parse(code: &str) -> Result<Scope, InvalidScope> {
        match dingscope_catalog::check_grammar(code) {
            Ok(_) => Ok(match dingscope_catalog::lookup(code) {
                Some(info) => Scope::from_static(info.code),
                None => Scope {
                    code: Cow::Owned(code.to_owned()),
                },
            }),
            Err(reason) => Err(InvalidScope::new(code, reason)),
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
        Kind::of(&self.code)
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
    type Err = InvalidScope;
    fn from_str(s: &str) -> Result<Scope, Self::Err> {
        Scope::parse(s)
    }
}

/// A string that is not a DingTalk permission code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidScope {
    code: String,
    reason: dingscope_catalog::GrammarError,
}

impl InvalidScope {
    fn new(code: &str, reason: dingscope_catalog::GrammarError) -> Self {
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

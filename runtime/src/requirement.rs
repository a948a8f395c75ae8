//! What a function needs: all-of a list of groups, each group any-of its codes.

use std::fmt;

use crate::mask::Mask;
use crate::scope::{AuthType, Kind};

/// One requirement of a function: any one of its codes satisfies it.
///
/// A group of one code is a plain required code. Built in constant evaluation, so the
/// bit mask of catalogued codes costs nothing at run time.
#[derive(Clone, Copy)]
pub struct Group {
    pub(crate) codes: &'static [&'static str],
    kind: Kind,
    /// The catalogued codes, one bit each.
    pub(crate) mask: Mask,
    /// Every code is catalogued: the mask decides alone.
    pub(crate) exact: bool,
}

impl Group {
    /// Rpc codes (`rpcScope`); any one of them satisfies the group.
    pub const fn rpc(codes: &'static [&'static str]) -> Group {
        Group::new(codes, Kind::Rpc)
    }

    /// Field codes (`fieldScope`); any one of them satisfies the group.
    pub const fn field(codes: &'static [&'static str]) -> Group {
        Group::new(codes, Kind::Field)
    }

    pub(crate) const fn new(codes: &'static [&'static str], kind: Kind) -> Group {
        assert!(
            !codes.is_empty(),
            "a requirement group needs at least one code"
        );
        let mut mask = Mask::EMPTY;
        let mut exact = true;
        let mut i = 0;
        while i < codes.len() {
            match dingscope_catalog::index_of(codes[i]) {
                Some(index) => mask = mask.with(index),
                None => exact = false,
            }
            i += 1;
        }
        Group {
            codes,
            kind,
            mask,
            exact,
        }
    }

    /// The alternatives, in order of preference.
    pub fn codes(&self) -> &'static [&'static str] {
        self.codes
    }

    /// rpc or field.
    pub fn kind(&self) -> Kind {
        self.kind
    }

    /// `true` when the group has several alternatives.
    pub fn is_any_of(&self) -> bool {
        self.codes.len() > 1
    }
}

impl fmt::Debug for Group {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self.kind {
            Kind::Rpc => "",
            Kind::Field => "field ",
        };
        if self.is_any_of() {
            write!(f, "{kind}any{:?}", self.codes)
        } else {
            write!(f, "{kind}{:?}", self.codes[0])
        }
    }
}

/// Everything one function needs: every group satisfied, and the right kind of grant.
///
/// `#[requires_scope]` compiles each function's requirement into a byte string (laid out
/// as [`catalog::spec`](crate::catalog::spec) says) that the check reads directly; this
/// view of it is built when a denial is reported or the functions are listed, once per
/// function.
#[derive(Clone, Copy)]
pub struct Requirement {
    name: &'static str,
    /// Where the function is declared: `file!()` and the line of its name.
    location: Option<(&'static str, u32)>,
    groups: &'static [Group],
    pub(crate) auth: Option<AuthType>,
    /// Union of the single-code groups' masks.
    pub(crate) all: Mask,
    /// Every code is catalogued: the masks decide alone.
    pub(crate) exact: bool,
    /// Some group has alternatives.
    pub(crate) any_of: bool,
}

impl Requirement {
    /// A requirement named `function` (used in errors).
    pub const fn new(
        function: &'static str,
        groups: &'static [Group],
        auth: Option<AuthType>,
    ) -> Requirement {
        Requirement::build(function, None, groups, auth)
    }

    pub(crate) const fn build(
        name: &'static str,
        location: Option<(&'static str, u32)>,
        groups: &'static [Group],
        auth: Option<AuthType>,
    ) -> Requirement {
        let mut all = Mask::EMPTY;
        let mut exact = true;
        let mut any_of = false;
        let mut i = 0;
        while i < groups.len() {
            let g = &groups[i];
            exact &= g.exact;
            if g.codes.len() == 1 {
                all = all.union(&g.mask);
            } else {
                any_of = true;
            }
            i += 1;
        }
        Requirement {
            name,
            location,
            groups,
            auth,
            all,
            exact,
            any_of,
        }
    }

    /// The function this requirement belongs to, as a path.
    ///
    /// For an annotated function, its module path and its name: `crate::api::list`. A
    /// method is named by the module its `impl` is in, not by its type; [`location`]
    /// points at it exactly.
    ///
    /// [`location`]: Requirement::location
    pub fn function(&self) -> &'static str {
        self.name
    }

    /// Where an annotated function is declared: its file as `file!()` gives it, and the
    /// line of its name.
    pub fn location(&self) -> Option<(&'static str, u32)> {
        self.location
    }

    /// The groups; each must be satisfied.
    pub fn groups(&self) -> &'static [Group] {
        self.groups
    }

    /// The kind of grant required, if the declaration says.
    pub fn auth_type(&self) -> Option<AuthType> {
        self.auth
    }
}

impl fmt::Debug for Requirement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Requirement")
            .field("function", &self.function())
            .field("groups", &self.groups)
            .field("auth", &self.auth)
            .finish()
    }
}

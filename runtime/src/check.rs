//! The check: whether a grant covers a requirement.
//!
//! The rule: a declared authorization type must be the grant's, and every group must be
//! satisfied by one of its codes ([`rule`]). A group whose codes are all catalogued is
//! decided by its bits; the others by text.
//!
//! Each annotated function runs the check over its compiled bytes ([`covered`]), and
//! [`Requirement::check`] over the view. Both take a fast path first for the common case,
//! catalogued codes and no alternatives: one mask comparison. Everything else goes to the
//! rule. The tests below hold the compiled check, the view's check and the rule to the
//! same answers.

use dingscope_catalog::wire::{ANY_OF, AUTH_SHIFT, Decoded, EXACT, auth_bits};

use crate::ambient::with_current;
use crate::callsite::Callsite;
use crate::error::{Denied, DenyReason, Error};
use crate::grant::Grant;
use crate::granted::Granted;
use crate::mask::{Mask, WORDS};
use crate::openauth::OpenAuthRequest;
use crate::requirement::{Group, Requirement};
use crate::scope::{AuthType, Scope};

/// One group of alternatives, as the rule reads it.
trait Alternatives<'a> {
    /// The group's bits, if every code is catalogued.
    fn catalogued(&self) -> Option<Mask>;
    /// The codes, in order of preference.
    fn alternatives(&self) -> impl Iterator<Item = &'a str>;
}

impl Alternatives<'static> for &Group {
    fn catalogued(&self) -> Option<Mask> {
        self.exact.then_some(self.mask)
    }
    fn alternatives(&self) -> impl Iterator<Item = &'static str> {
        Group::codes(self).iter().copied()
    }
}

impl<'a> Alternatives<'a> for dingscope_catalog::wire::DecodedGroup<'a> {
    fn catalogued(&self) -> Option<Mask> {
        self.exact().then(|| Mask(self.mask().words()))
    }
    fn alternatives(&self) -> impl Iterator<Item = &'a str> {
        dingscope_catalog::wire::DecodedGroup::codes(self)
    }
}

/// The rule, for every group: one of its codes is granted. (The authorization type is
/// compared by the callers, before.)
fn rule<'a, G: Alternatives<'a>>(grant: &Granted, mut groups: impl Iterator<Item = G>) -> bool {
    groups.all(|g| match g.catalogued() {
        Some(mask) => grant.mask.intersects(&mask),
        None => g.alternatives().any(|code| grant.contains(code)),
    })
}

/// Whether the ambient grant covers the requirement `bytes`, encoded as
/// [`dingscope_catalog::wire`] says: the check an annotated function runs first (through
/// `__private`). Fails closed: no grant entered, or bytes that are not a requirement, are
/// not covered.
///
/// ```
/// let grant = dingscope::Grant::application(["qyapi_hrm_read_user"]);
/// // Empty bytes are not a requirement.
/// assert!(!grant.run(|| dingscope::__private::covered(b"")));
/// ```
#[doc(hidden)]
#[cfg_attr(debug_assertions, inline(never))]
#[cfg_attr(not(debug_assertions), inline)]
pub fn covered(bytes: &[u8]) -> bool {
    with_current(|grant| grant.is_some_and(|g| covers(bytes, g)))
}

/// Whether `grant` covers the compiled requirement `bytes`. Only the fast path is inline:
/// catalogued codes and no alternatives, one comparison for each word of the mask. A free
/// function of the bytes alone, so that the module name is not carried through the check.
#[inline(always)]
pub(crate) fn covers(bytes: &[u8], grant: &Granted) -> bool {
    // Every requirement the macro writes starts with its flags and the whole mask.
    let Some(head) = bytes.first_chunk::<{ 1 + 8 * WORDS }>() else {
        return false;
    };
    let flags = head[0];
    let auth = flags >> AUTH_SHIFT;
    if auth != 0 && auth != auth_bits(Some(grant.auth)) {
        return false;
    }
    if flags & (EXACT | ANY_OF) != EXACT {
        return covers_by_rule(bytes, grant);
    }
    // Branch-free over the words: one miss anywhere leaves a bit in `missing`.
    let mut missing = 0;
    for (i, granted) in grant.mask.0.iter().enumerate() {
        let bits = head[1 + 8 * i..]
            .first_chunk::<8>()
            .map_or(u64::MAX, |b| u64::from_le_bytes(*b));
        missing |= bits & !granted;
    }
    missing == 0
}

#[inline(never)]
fn covers_by_rule(bytes: &[u8], grant: &Granted) -> bool {
    Decoded::parse(bytes).is_ok_and(|d| rule(grant, d.groups()))
}

/// Whether `grant` covers `req`: the same fast path over the view's mask, else the rule.
#[inline(always)]
fn satisfies(req: &Requirement, grant: &Granted) -> bool {
    if let Some(auth) = req.auth
        && auth != grant.auth
    {
        return false;
    }
    if req.exact && !req.any_of {
        grant.mask.covers(&req.all)
    } else {
        satisfies_by_rule(req, grant)
    }
}

#[inline(never)]
fn satisfies_by_rule(req: &Requirement, grant: &Granted) -> bool {
    rule(grant, req.groups().iter())
}

impl Requirement {
    /// Checks this requirement against the ambient grant (see [`Grant::run`]).
    ///
    /// Fails closed: with no grant entered, the answer is a denial. The success path
    /// allocates nothing.
    #[inline]
    pub fn check(&self) -> Result<(), Error> {
        with_current(|grant| match grant {
            Some(g) if satisfies(self, g) => Ok(()),
            g => Err(denial(self, g)),
        })
    }

    /// Checks this requirement against `grant`.
    #[inline]
    pub fn check_grant(&self, grant: &Grant) -> Result<(), Error> {
        if satisfies(self, grant.inner()) {
            Ok(())
        } else {
            Err(denial(self, Some(grant.inner())))
        }
    }

    /// Whether `grant` covers this requirement.
    #[inline]
    pub fn is_satisfied_by(&self, grant: &Grant) -> bool {
        satisfies(self, grant.inner())
    }
}

/// The denial of the annotated function `site` by the ambient grant.
#[cold]
#[inline(never)]
pub(crate) fn denial_at(site: Callsite) -> Error {
    let req = site.requirement();
    with_current(|grant| denial(req, grant))
}

/// The denial of `req` by `grant`: which codes are missing and how to ask for them.
#[cold]
#[inline(never)]
pub(crate) fn denial(req: &Requirement, grant: Option<&Granted>) -> Error {
    let reason = match grant {
        None => DenyReason::NoGrant,
        Some(g) => match req.auth_type() {
            Some(required) if required != g.auth => DenyReason::WrongAuthType {
                required,
                granted: g.auth,
            },
            _ => DenyReason::Missing,
        },
    };
    let unsatisfied: Vec<&Group> = req
        .groups()
        .iter()
        .filter(|group| match (&reason, grant) {
            (DenyReason::Missing, Some(g)) => !rule(g, std::iter::once(*group)),
            _ => true,
        })
        .collect();
    let auth_type = req
        .auth_type()
        .or(grant.map(|g| g.auth))
        .unwrap_or(AuthType::Application);
    // The group's declared kind decides rpcScope or fieldScope, also for uncatalogued codes;
    // the first alternative is the preferred one.
    let request = OpenAuthRequest::for_kinds(
        auth_type,
        unsatisfied.iter().map(|g| (g.kind(), g.codes()[0])),
    );
    let missing: Vec<Vec<Scope>> = unsatisfied
        .iter()
        .map(|group| {
            group
                .codes()
                .iter()
                .map(|c| Scope::from_static(c))
                .collect()
        })
        .collect();
    Error::from(Denied {
        function: req.function().to_owned(),
        location: req.location(),
        reason,
        missing,
        request,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::*;
    use dingscope_catalog::wire::{GroupInput, Input, encode};

    static BOTH: Requirement = Requirement::new(
        "t::both",
        &[
            Group::rpc(&["qyapi_hrm_read_user"]),
            Group::rpc(&["Contact.User.Read", "qyapi_get_member"]),
            Group::field(&["Contact.User.mobile"]),
        ],
        None,
    );

    #[test]
    fn all_any_and_field() {
        let full = Grant::application([
            "qyapi_hrm_read_user",
            "qyapi_get_member",
            "Contact.User.mobile",
        ]);
        assert!(BOTH.check_grant(&full).is_ok());
        let no_field = Grant::application(["qyapi_hrm_read_user", "Contact.User.Read"]);
        let err = BOTH.check_grant(&no_field).unwrap_err();
        let d = err.as_denied().unwrap();
        assert_eq!(d.reason(), &DenyReason::Missing);
        assert_eq!(d.open_auth().rpc_scope, "");
        assert_eq!(d.open_auth().field_scope, "Contact.User.mobile");
        let neither_alt = Grant::application(["qyapi_hrm_read_user", "Contact.User.mobile"]);
        let err = BOTH.check_grant(&neither_alt).unwrap_err();
        let d = err.as_denied().unwrap();
        assert_eq!(d.missing().len(), 1);
        assert_eq!(d.missing()[0].len(), 2);
        assert_eq!(d.open_auth().rpc_scope, "Contact.User.Read");
        assert_eq!(
            err.to_string(),
            "`t::both` needs DingTalk permission any of `Contact.User.Read`/`qyapi_get_member`; \
             request it with openAuth({ rpcScope: \"Contact.User.Read\", type: 1 })"
        );
    }

    #[test]
    fn uncatalogued_codes_take_the_slow_path() {
        static R: Requirement = Requirement::new(
            "t::custom",
            &[
                Group::rpc(&["Custom.Thing.Read"]),
                Group::rpc(&["snsapi_base"]),
            ],
            None,
        );
        assert!(
            R.check_grant(&Grant::delegated(["Custom.Thing.Read", "snsapi_base"]))
                .is_ok()
        );
        assert!(R.check_grant(&Grant::delegated(["snsapi_base"])).is_err());
    }

    #[test]
    fn uncatalogued_field_codes_go_to_field_scope() {
        static R: Requirement = Requirement::new(
            "t::field",
            &[
                Group::rpc(&["Custom.Thing.Read"]),
                Group::field(&["Custom.Thing.Secret"]),
            ],
            None,
        );
        let err = R
            .check_grant(&Grant::application(["snsapi_base"]))
            .unwrap_err();
        let ask = err.as_denied().unwrap().open_auth();
        assert_eq!(ask.rpc_scope, "Custom.Thing.Read");
        assert_eq!(ask.field_scope, "Custom.Thing.Secret");
    }

    #[test]
    fn wrong_auth_type_asks_for_everything() {
        static R: Requirement = Requirement::new(
            "t::user",
            &[Group::rpc(&["Contact.User.Read"])],
            Some(AuthType::Delegated),
        );
        let err = R
            .check_grant(&Grant::application(["Contact.User.Read"]))
            .unwrap_err();
        let d = err.as_denied().unwrap();
        assert_eq!(
            d.reason(),
            &DenyReason::WrongAuthType {
                required: AuthType::Delegated,
                granted: AuthType::Application
            }
        );
        assert_eq!(d.open_auth().auth_type, AuthType::Delegated);
        assert_eq!(d.open_auth().rpc_scope, "Contact.User.Read");
    }

    #[test]
    fn no_grant_fails_closed() {
        let err = BOTH.check().unwrap_err();
        let d = err.as_denied().unwrap();
        assert_eq!(d.reason(), &DenyReason::NoGrant);
        assert_eq!(d.missing().len(), 3);
        assert_eq!(
            d.open_auth().rpc_scope,
            "Contact.User.Read,qyapi_hrm_read_user"
        );
    }

    fn site(groups: &[(&[&'static str], bool)], auth: Option<AuthType>) -> Callsite {
        let input = Input {
            name: "f",
            file: "src/api.rs",
            line: 7,
            groups: groups
                .iter()
                .map(|(codes, field)| GroupInput {
                    codes: codes.to_vec(),
                    kind: if *field { Kind::Field } else { Kind::Rpc },
                })
                .collect(),
            auth,
        };
        Callsite {
            bytes: Box::leak(encode(&input).unwrap().into_boxed_slice()),
            module: "app::api",
        }
    }

    /// The byte-string check agrees with the `Requirement` built from the same bytes, for
    /// every shape: plain codes, alternatives, field codes, codes outside the catalog,
    /// and auth types.
    #[test]
    fn the_compiled_check_agrees_with_the_requirement() {
        let sites = [
            site(&[(&["qyapi_hrm_read_user"], false)], None),
            site(
                &[
                    (&["qyapi_hrm_read_user"], false),
                    (&["Contact.User.Read"], false),
                ],
                None,
            ),
            site(
                &[(&["qyapi_hrm_read_user", "Contact.User.Read"], false)],
                None,
            ),
            site(
                &[
                    (&["Contact.User.Read"], false),
                    (&["Contact.User.mobile"], true),
                ],
                Some(AuthType::Application),
            ),
            site(&[(&["Not.In.Catalog"], false)], None),
            site(
                &[(&["Not.In.Catalog", "qyapi_hrm_read_user"], false)],
                Some(AuthType::Delegated),
            ),
            site(
                &[(&["qyapi_hrm_read_user"], false)],
                Some(AuthType::Delegated),
            ),
        ];
        let grants = [
            Grant::application(["qyapi_hrm_read_user"]),
            Grant::application(["Contact.User.Read", "Contact.User.mobile"]),
            Grant::application(["qyapi_hrm_read_user", "Contact.User.Read"]),
            Grant::application(["Not.In.Catalog"]),
            Grant::delegated(["qyapi_hrm_read_user"]),
            Grant::application(Vec::<&str>::new()),
        ];
        let mut covered = 0;
        for s in sites {
            for g in &grants {
                let fast = covers(s.bytes, g.inner());
                assert_eq!(fast, s.requirement().is_satisfied_by(g), "{s:?} {g:?}");
                covered += usize::from(fast);
            }
        }
        // Both answers occur: the comparison is not between two constant answers.
        assert!(covered > 3 && covered < 30, "{covered}");
    }

    #[test]
    fn the_view_names_the_function_and_keeps_one_copy() {
        let s = site(
            &[(&["qyapi_hrm_read_user", "Not.In.Catalog"], false)],
            Some(AuthType::Application),
        );
        let r = s.requirement();
        assert_eq!(r.function(), "app::api::f");
        assert_eq!(r.location(), Some(("src/api.rs", 7)));
        assert_eq!(r.auth_type(), Some(AuthType::Application));
        assert_eq!(
            r.groups()[0].codes(),
            ["qyapi_hrm_read_user", "Not.In.Catalog"]
        );
        assert!(std::ptr::eq(r, s.requirement()));
    }

    /// Bytes that are not a requirement (only `__private` callers can pass them) deny,
    /// and the denial names no grantable code.
    #[test]
    fn malformed_bytes_fail_closed() {
        let all = Grant::application(dingscope_catalog::SCOPES.iter().map(|s| s.code));
        for spec in [
            &b""[..],
            b"\x01",
            b"\x01\x01\x09",
            b"\x05\x00",
            b"\xff\xff\xff",
            &[1; 41],
        ] {
            let s = Callsite {
                bytes: spec,
                module: "app",
            };
            assert!(!covers(s.bytes, all.inner()), "{spec:?}");
            assert!(!s.requirement().is_satisfied_by(&all), "{spec:?}");
            assert!(!all.run(|| covered(s.bytes)));
            let denial = all.run(|| denial_at(s)).to_string();
            assert!(denial.contains("<malformed requirement>"), "{denial}");
        }
    }

    /// The rule itself agrees with both fast paths wherever they apply.
    #[test]
    fn the_fast_paths_agree_with_the_rule() {
        static SINGLES: [Group; 2] = [
            Group::rpc(&["qyapi_hrm_read_user"]),
            Group::rpc(&["Contact.User.Read"]),
        ];
        let req = Requirement::new("t::singles", &SINGLES, None);
        let s = site(
            &[
                (&["qyapi_hrm_read_user"], false),
                (&["Contact.User.Read"], false),
            ],
            None,
        );
        for g in [
            Grant::application(["qyapi_hrm_read_user"]),
            Grant::application(["qyapi_hrm_read_user", "Contact.User.Read"]),
            Grant::application(Vec::<&str>::new()),
        ] {
            let by_rule = rule(g.inner(), SINGLES.iter());
            assert_eq!(satisfies(&req, g.inner()), by_rule, "{g:?}");
            assert_eq!(covers(s.bytes, g.inner()), by_rule, "{g:?}");
        }
    }
}

//! An annotated function as compiled: its requirement encoded as a byte string by
//! `#[requires_scope]` (the layout is `dingscope_catalog::spec`), and its module.
//!
//! The check reads the bytes where the function runs; the [`Requirement`] view of them is
//! built only to report a denial or to list the functions, once per function.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

use dingscope_catalog::spec::{self, ANY_OF, AUTH_SHIFT, EXACT, Spec};

use crate::grant::GrantInner;
use crate::mask::{Mask, WORDS};
use crate::requirement::{Group, Requirement};
use crate::scope::AuthType;

/// One annotated function's compiled requirement.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Site {
    pub(crate) spec: &'static [u8],
    pub(crate) module: &'static str,
}

/// What a requirement that does not parse becomes: a code no grant can hold, so that the
/// check fails closed.
const MALFORMED: &str = "<malformed requirement>";

impl Site {
    /// The [`Requirement`] view, built on first use and kept for the program's life (one
    /// per annotated function).
    pub(crate) fn requirement(self) -> &'static Requirement {
        type Key = (usize, usize, usize, usize);
        static BUILT: OnceLock<Mutex<HashMap<Key, &'static Requirement>>> = OnceLock::new();
        let key = (
            self.spec.as_ptr() as usize,
            self.spec.len(),
            self.module.as_ptr() as usize,
            self.module.len(),
        );
        let mut built = BUILT
            .get_or_init(Default::default)
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        built
            .entry(key)
            .or_insert_with(|| Box::leak(Box::new(self.build())))
    }

    fn build(self) -> Requirement {
        let leak = |s: String| -> &'static str { Box::leak(s.into_boxed_str()) };
        let Ok(spec) = Spec::parse(self.spec) else {
            let groups = Box::leak(Box::new([Group::rpc(&[MALFORMED])]));
            return Requirement::build(leak(format!("{}::?", self.module)), None, groups, None);
        };
        let groups: Vec<Group> = spec
            .groups()
            .map(|g| {
                let codes: &'static [&'static str] = Box::leak(g.codes().collect());
                if g.field() {
                    Group::field(codes)
                } else {
                    Group::rpc(codes)
                }
            })
            .collect();
        let auth = match spec.auth() {
            spec::AUTH_DELEGATED => Some(AuthType::Delegated),
            spec::AUTH_APPLICATION => Some(AuthType::Application),
            _ => None,
        };
        Requirement::build(
            leak(format!("{}::{}", self.module, spec.name())),
            Some((spec.file(), spec.line())),
            Box::leak(groups.into_boxed_slice()),
            auth,
        )
    }
}

/// Whether `grant` covers the requirement `spec`. Only the common case is inline:
/// catalogued codes and no alternatives, one comparison for each word of the mask. A free
/// function of the bytes alone, so that the module name is not carried through the check.
#[inline(always)]
pub(crate) fn covers(spec: &[u8], grant: &GrantInner) -> bool {
    // Every requirement the macro writes starts with its flags and the whole mask.
    let Some(head) = spec.first_chunk::<{ 1 + 8 * WORDS }>() else {
        return false;
    };
    let flags = head[0];
    let auth = flags >> AUTH_SHIFT;
    if auth != 0 && auth != auth_code(grant.auth) {
        return false;
    }
    if flags & (EXACT | ANY_OF) != EXACT {
        return satisfied_general(spec, grant);
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
fn satisfied_general(spec: &[u8], grant: &GrantInner) -> bool {
    let Ok(spec) = Spec::parse(spec) else {
        return false;
    };
    if !spec.exact() {
        return spec
            .groups()
            .all(|g| g.codes().any(|code| grant.contains(code)));
    }
    grant.mask.covers(&Mask(spec.all()))
        && spec
            .groups()
            .all(|g| g.codes().count() == 1 || grant.mask.intersects(&Mask(g.mask().words())))
}

#[inline(always)]
fn auth_code(auth: AuthType) -> u8 {
    match auth {
        AuthType::Delegated => spec::AUTH_DELEGATED,
        AuthType::Application => spec::AUTH_APPLICATION,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Grant;
    use dingscope_catalog::spec::{GroupInput, Input, encode};

    fn site(groups: &[(&[&'static str], bool)], auth: u8) -> Site {
        let input = Input {
            name: "f",
            file: "src/api.rs",
            line: 7,
            groups: groups
                .iter()
                .map(|(codes, field)| GroupInput {
                    codes: codes.to_vec(),
                    field: *field,
                })
                .collect(),
            auth,
        };
        Site {
            spec: Box::leak(encode(&input).unwrap().into_boxed_slice()),
            module: "app::api",
        }
    }

    /// The byte-string check agrees with the `Requirement` built from the same bytes, for
    /// every shape: plain codes, alternatives, field codes, codes outside the catalog,
    /// and auth types.
    #[test]
    fn the_compiled_check_agrees_with_the_requirement() {
        let sites = [
            site(&[(&["qyapi_hrm_read_user"], false)], 0),
            site(
                &[
                    (&["qyapi_hrm_read_user"], false),
                    (&["Contact.User.Read"], false),
                ],
                0,
            ),
            site(&[(&["qyapi_hrm_read_user", "Contact.User.Read"], false)], 0),
            site(
                &[
                    (&["Contact.User.Read"], false),
                    (&["Contact.User.mobile"], true),
                ],
                2,
            ),
            site(&[(&["Not.In.Catalog"], false)], 0),
            site(&[(&["Not.In.Catalog", "qyapi_hrm_read_user"], false)], 1),
            site(&[(&["qyapi_hrm_read_user"], false)], 1),
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
                let fast = covers(s.spec, g.inner());
                assert_eq!(fast, s.requirement().is_satisfied_by(g), "{s:?} {g:?}");
                covered += usize::from(fast);
            }
        }
        // Both answers occur: the comparison is not between two constant answers.
        assert!(covered > 3 && covered < 30, "{covered}");
    }

    #[test]
    fn the_view_names_the_function_and_keeps_one_copy() {
        let s = site(&[(&["qyapi_hrm_read_user", "Not.In.Catalog"], false)], 2);
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
            let s = Site {
                spec,
                module: "app",
            };
            assert!(!covers(s.spec, all.inner()), "{spec:?}");
            assert!(!s.requirement().is_satisfied_by(&all), "{spec:?}");
            assert!(!all.run(|| crate::context::covered(s.spec)));
            let denial = all.run(|| crate::context::denial(s)).to_string();
            assert!(denial.contains(MALFORMED), "{denial}");
        }
    }
}

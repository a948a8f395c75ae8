//! The check that runs at the top of every annotated function.

use crate::context::with_current;
use crate::error::{Denied, DenyReason, Error, OpenAuthRequest};
use crate::grant::{Grant, GrantInner};
use crate::requirement::Requirement;
use crate::scope::{AuthType, Scope};

impl Requirement {
    /// Checks this requirement against the ambient grant (see [`Grant::run`]).
    ///
    /// Fails closed: with no grant entered, the answer is a denial. The success path
    /// allocates nothing.
    #[inline]
    pub fn check(&self) -> Result<(), Error> {
        with_current(|grant| match grant {
            Some(g) if self.satisfied(g) => Ok(()),
            g => Err(denial(self, g)),
        })
    }

    /// Checks this requirement against `grant`.
    #[inline]
    pub fn check_grant(&self, grant: &Grant) -> Result<(), Error> {
        if self.satisfied(grant.inner()) {
            Ok(())
        } else {
            Err(denial(self, Some(grant.inner())))
        }
    }
}

#[cold]
#[inline(never)]
pub(crate) fn denial(req: &Requirement, grant: Option<&GrantInner>) -> Error {
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
    let unsatisfied: Vec<_> = req
        .groups()
        .iter()
        .filter(|group| match (&reason, grant) {
            (DenyReason::Missing, Some(g)) => !group.satisfied_slow(g),
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
    use crate::requirement::Group;
    use crate::*;

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
}

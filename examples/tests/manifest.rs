//! The build-time manifest matches what was compiled, and says what the front end needs.

use dingscope_examples::scopes;

#[test]
fn manifest_agrees_with_the_compiled_crate() {
    if let Err(d) = dingscope::manifest::agreement(scopes::DECLARATIONS, "dingscope_examples") {
        panic!("{d}");
    }
}

#[test]
fn open_auth_strings() {
    assert_eq!(
        scopes::RPC_SCOPE,
        "Contact.User.Read,qyapi_hrm_read_user,snsapi_base"
    );
    assert_eq!(scopes::RPC_SCOPE_APPLICATION, "qyapi_hrm_read_user");
    assert_eq!(scopes::RPC_SCOPE_DELEGATED, "Contact.User.Read,snsapi_base");
    assert_eq!(scopes::FIELD_SCOPE, "Contact.User.mobile");
    assert_eq!(scopes::FIELD_SCOPE_DELEGATED, "Contact.User.mobile");
    // `.default` would also ask for Pro.HrmDismission.ReadWrite, applied for but resolved away.
    assert_eq!(scopes::DEFAULT_IS_EXACT, Some(false));
}

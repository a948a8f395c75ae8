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
    assert_eq!(scopes::CLIENT_ID, Some("mock-suite-key"));
    assert_eq!(scopes::RPC_SCOPE_APPLICATION, "qyapi_hrm_read_user");
    assert_eq!(scopes::RPC_SCOPE_DELEGATED, "Contact.User.Read,snsapi_base");
    assert_eq!(scopes::FIELD_SCOPE_APPLICATION, "");
    assert_eq!(scopes::FIELD_SCOPE_DELEGATED, "Contact.User.mobile");
    // `.default` would also ask for Pro.HrmDismission.ReadWrite, applied for but resolved away.
    assert_eq!(scopes::DEFAULT_IS_EXACT, Some(false));
}

/// The front end's module never mixes authorization types in one `rpcScope`: each object
/// carries its own literal `type` and the app's `clientId`.
#[test]
fn the_front_end_module_is_per_type() {
    let ts = include_str!("../frontend/dingscope.ts");
    let exports: Vec<&str> = ts.lines().filter(|l| l.starts_with("export")).collect();
    assert_eq!(
        exports,
        [
            "export const clientId = \"mock-suite-key\";",
            "export const application = { clientId, rpcScope: \"qyapi_hrm_read_user\", fieldScope: \"\", type: 1 } as const;",
            "export const delegated = { clientId, rpcScope: \"Contact.User.Read,snsapi_base\", fieldScope: \"Contact.User.mobile\", type: 0 } as const;",
        ]
    );
    let json: serde_json::Value =
        serde_json::from_str(include_str!("../frontend/dingscope.json")).unwrap();
    assert_eq!(json["rpcScope"], serde_json::Value::Null);
    assert_eq!(json["clientId"], "mock-suite-key");
}

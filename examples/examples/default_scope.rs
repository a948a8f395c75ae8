//! The seed's second example: `rpcScope: ".default"` asks for every application code the
//! app has applied for, and the grant that follows is exactly that list.
//!
//! `cargo run -p dingscope-examples --example default_scope`

use dingscope::client::OpenAuthStatus;
use dingscope::{AuthType, OpenAuthRequest};
use dingscope_examples::{all_dismissed, scopes, setup};

/// The application codes applied for in the developer console: `dingscope.toml`, through
/// the manifest, so the client and the compile-time checks read one list.
const APPLIED: &[&str] = scopes::APPLIED_APPLICATION;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let s = setup(APPLIED).await?;
    let corp = s.dt.corp(&s.corp_id);
    let ask = OpenAuthRequest {
        rpc_scope: ".default".into(),
        field_scope: String::new(),
        auth_type: AuthType::Application,
    };
    println!(
        "front end: openAuth({{ clientId: {:?}, corpId: {:?}, rpcScope: \".default\", type: 1 }})",
        s.dt.client_id(),
        s.corp_id
    );
    if let Some(mock) = &s.mock {
        // The admin grants everything applied for.
        mock.grant_corp(&s.corp_id, APPLIED.iter().copied());
    }
    let grant = corp.record_open_auth(&ask, OpenAuthStatus::Ok).await?;
    println!(".default granted: {:?}", grant.codes().collect::<Vec<_>>());
    if scopes::DEFAULT_IS_EXACT == Some(false) {
        println!(
            "note: .default asks for more than the code needs ({:?}); rpcScope {:?} is the least privilege",
            APPLIED,
            scopes::RPC_SCOPE_APPLICATION
        );
    }
    let ids = corp.run(all_dismissed(&corp)).await??;
    println!("employees who have left: {}", ids.len());
    Ok(())
}

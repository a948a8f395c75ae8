//! The whole flow of an ISV app, against the embedded mock DingTalk (or the real one, given
//! credentials: see `dingscope_examples::setup`).
//!
//! 1. The first call is checked before it is sent: nothing is granted, so it is denied,
//!    and the denial says what to pass to `openAuth`.
//! 2. The admin grants in `openAuth`; the app records the answer.
//! 3. The app fetches a corp token (`/v1.0/oauth2/corpAccessToken`) and lists every
//!    employee who has left.
//! 4. A grant revoked in DingTalk: DingTalk's 403 is read, and the app's grant corrected.
//! 5. A call the grant does not cover is denied, with the incremental-authorization
//!    parameters for exactly what is missing.
//! 6. The corp removes the app (a pushed `org_suite_relieve`): its token, grant and
//!    registry entry are purged, and the next call is refused before it is sent.
//!
//! The suite ticket and the corp's authorization arrive by Stream mode, pushed by the
//! mock's gateway (by DingTalk's, against the real one): nothing is set by hand.
//!
//! `cargo run -p dingscope-examples --example quickstart`

use dingscope::client::OpenAuthStatus;
use dingscope_examples::{all_dismissed, my_profile, scopes, setup};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let s = setup(scopes::APPLIED_APPLICATION).await?;
    match &s.mock {
        Some(m) => println!("DingTalk: embedded mock at {}", m.base_url()),
        None => println!("DingTalk: the real one, corp {}", s.corp_id),
    }
    println!(
        "stream: {:?}, {} events pushed so far; the corp registry: {:?}",
        s.stream.state().connection,
        s.stream.state().events,
        s.dt.corp_info(&s.corp_id).await?
    );
    let corp = s.dt.corp(&s.corp_id);
    println!(
        "the code's manifest: application (type 1) rpcScope {:?}, delegated (type 0) rpcScope {:?} + fieldScope {:?}",
        scopes::RPC_SCOPE_APPLICATION,
        scopes::RPC_SCOPE_DELEGATED,
        scopes::FIELD_SCOPE_DELEGATED
    );

    // 1. Nothing granted yet: the call is denied before any request is sent.
    let err = corp.run(all_dismissed(&corp)).await?.unwrap_err();
    let ask = err
        .as_denied()
        .ok_or("expected a denial")?
        .open_auth()
        .clone();
    println!("denied before sending: {err}");
    println!(
        "front end: openAuth({{ clientId: {:?}, corpId: {:?}, rpcScope: {:?}, type: {} }})",
        s.dt.client_id(),
        s.corp_id,
        ask.rpc_scope,
        ask.auth_type.open_auth_type()
    );

    // 2. The admin clicks "grant"; openAuth answers ok.
    if let Some(mock) = &s.mock {
        mock.grant_corp(&s.corp_id, ask.rpc_scope.split(','));
    }
    let grant = corp.record_open_auth(&ask, OpenAuthStatus::Ok).await?;
    println!("granted: {:?}", grant.codes().collect::<Vec<_>>());

    // 3. A corp token, then every page of the employees who have left.
    let ids = corp.run(all_dismissed(&corp)).await??;
    println!(
        "employees who have left: {} ({} ... {})",
        ids.len(),
        ids.first().map_or("", String::as_str),
        ids.last().map_or("", String::as_str)
    );
    if let Some(mock) = &s.mock {
        println!(
            "requests: {} token, {} list",
            mock.token_requests(),
            mock.api_requests("/v1.0/hrm/employees/dismissions")
        );
    }

    // 4. The admin revokes the grant in DingTalk; the app still believes it has it. DingTalk
    //    denies (HTTP 403 with `requiredScopes`), and the app's grant is corrected.
    if let Some(mock) = &s.mock {
        mock.revoke_corp(&s.corp_id, &["qyapi_hrm_read_user"]);
        let err = corp.run(all_dismissed(&corp)).await?.unwrap_err();
        println!("denied by DingTalk: {err}");
        println!(
            "grant now: {:?}",
            corp.grant().await?.codes().collect::<Vec<_>>()
        );
    }

    // 5. A delegated call with the corp's grant: denied, with what to ask next.
    let err = corp.run(my_profile(&corp)).await?.unwrap_err();
    let next = err.as_denied().ok_or("expected a denial")?.open_auth();
    println!("denied: {err}");
    println!(
        "incremental authorization: openAuth({{ rpcScope: {:?}, fieldScope: {:?}, type: {} }})",
        next.rpc_scope,
        next.field_scope,
        next.auth_type.open_auth_type()
    );

    // 6. The corp removes the app: DingTalk pushes `org_suite_relieve`.
    if let Some(mock) = &s.mock {
        let id = mock
            .stream_push(
                "org_suite_relieve",
                Some(&s.corp_id),
                serde_json::json!({"syncAction": "org_suite_relieve"}),
            )
            .ok_or("the stream is not connected")?;
        dingscope_examples::acknowledged(mock, &id).await;
        let before = mock.api_requests("/v1.0/hrm/employees/dismissions");
        let err = corp.run(all_dismissed(&corp)).await?.unwrap_err();
        println!(
            "removed: registry {:?}, grant {:?}; next call: {err} ({} requests sent)",
            s.dt.corp_info(&s.corp_id).await?,
            corp.grant().await?.codes().collect::<Vec<_>>(),
            mock.api_requests("/v1.0/hrm/employees/dismissions") - before
        );
    }
    s.stream.shutdown().await;
    Ok(())
}

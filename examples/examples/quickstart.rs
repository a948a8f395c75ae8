//! The declare-once flow: functions declare their DingTalk permissions, a grant (what
//! openAuth answered `ok` for) is entered, calls are checked before they run, and a denial
//! says exactly what to ask openAuth for next.
//!
//! Run with `cargo run -p dingscope-examples --example quickstart`.

use dingscope::{Grant, WithGrantExt};
use dingscope_examples::{list_dismissed, my_profile};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // 1. The admin granted these application codes through openAuth({ type: 1 }).
    let corp = Grant::application(["qyapi_hrm_read_user"]);
    println!("corp grant: {:?}", corp.codes().collect::<Vec<_>>());

    // 2. Every page of the employees who have left, checked before each call.
    let mut token = 0;
    loop {
        let page = list_dismissed(token).with_grant(&corp).await?;
        println!("dismissed: {:?}", page.user_ids);
        match page.next_token {
            Some(next) => token = next,
            None => break,
        }
    }

    // 3. A delegated call with the corp's grant is denied before anything is sent, and
    //    the error carries the openAuth parameters for exactly what is missing.
    let err = my_profile().with_grant(&corp).await.unwrap_err();
    println!("denied: {err}");
    let ask = err.as_denied().expect("a denial").open_auth();
    println!(
        "incremental authorization: openAuth({{ rpcScope: {:?}, fieldScope: {:?}, type: {} }})",
        ask.rpc_scope,
        ask.field_scope,
        ask.auth_type.open_auth_type()
    );

    // 4. The user grants it; the same call now runs.
    let user = Grant::delegated(["Contact.User.Read", "Contact.User.mobile"]);
    println!("profile: {}", my_profile().with_grant(&user).await?);
    Ok(())
}

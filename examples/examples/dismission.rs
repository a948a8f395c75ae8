//! The seed's first example: every employee who has left, page by page, then their
//! details, in batches of at most 50 ids.
//!
//! `cargo run -p dingscope-examples --example dismission`

use dingscope::client::{OpenAuthStatus, Principal};
use dingscope::{AuthType, Error, OpenAuthRequest, requires_scope};
use dingscope_examples::{list_dismissed, scopes, setup};

#[requires_scope("qyapi_hrm_read_user")]
async fn details(corp: &Principal, ids: &[String]) -> Result<serde_json::Value, Error> {
    let list = serde_json::to_string(ids).map_err(|e| Error::Config(e.to_string()))?;
    corp.get("/v1.0/hrm/employees/dimissionInfos")
        .query("userIdList", list)
        .send()
        .await
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let s = setup(scopes::APPLIED_APPLICATION).await?;
    let corp = s.dt.corp(&s.corp_id);
    if let Some(mock) = &s.mock {
        mock.grant_corp(&s.corp_id, ["qyapi_hrm_read_user"]);
    }
    let ask = OpenAuthRequest {
        rpc_scope: "qyapi_hrm_read_user".into(),
        field_scope: String::new(),
        auth_type: AuthType::Application,
    };
    corp.record_open_auth(&ask, OpenAuthStatus::Ok).await?;

    let mut next = 0;
    let mut pages = 0;
    loop {
        let page = corp.run(list_dismissed(&corp, next)).await??;
        pages += 1;
        println!("page {pages}: {} ids", page.user_ids.len());
        if !page.user_ids.is_empty() {
            let d = corp.run(details(&corp, &page.user_ids)).await??;
            let n = d["result"].as_array().map_or(0, Vec::len);
            println!("         {n} details, first: {}", d["result"][0]);
        }
        if !page.has_more {
            break;
        }
        next = page.next_token;
    }
    Ok(())
}

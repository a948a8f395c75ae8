//! The API-call functions the examples share, each declaring what it needs.

use dingscope::requires_scope;

/// One page of `GET /v1.0/hrm/employees/dismissions` (获取离职员工列表).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DismissedPage {
    /// The user ids on this page.
    pub user_ids: Vec<String>,
    /// The cursor of the next page, if there is one.
    pub next_token: Option<u64>,
}

/// Lists employees who have left, one page at a time. The data here stands in for
/// DingTalk's answer; what matters is that the body only runs when the grant covers it.
#[requires_scope(any("qyapi_hrm_read_user", "Pro.HrmDismission.ReadWrite"))]
pub async fn list_dismissed(next_token: u64) -> Result<DismissedPage, dingscope::Error> {
    let all = ["user001", "user002", "user003"];
    let start = next_token as usize;
    let end = (start + 2).min(all.len());
    Ok(DismissedPage {
        user_ids: all[start..end].iter().map(|s| s.to_string()).collect(),
        next_token: (end < all.len()).then_some(end as u64),
    })
}

/// Reads the calling user's profile with their mobile number: a delegated (per-user) call.
#[requires_scope("Contact.User.Read", field("Contact.User.mobile"), auth = delegated)]
pub async fn my_profile() -> Result<String, dingscope::Error> {
    Ok("user001 (mobile 138****0000)".to_owned())
}

//! An ISV app's token for one authorized corp: `POST /v1.0/oauth2/corpAccessToken`, with
//! the latest suite ticket.

use super::{CamelToken, DingTalk, Fetched, token_call};
use crate::{Error, Secret};

pub(super) async fn fetch(
    dt: &DingTalk,
    suite_key: &str,
    suite_secret: &Secret,
    corp: &str,
) -> Result<Fetched, Error> {
    let ticket = dt.suite_ticket().await?;
    let body = serde_json::json!({
        "suiteKey": suite_key,
        "suiteSecret": suite_secret.expose(),
        "authCorpId": corp,
        "suiteTicket": ticket.expose(),
    });
    let t: CamelToken = token_call(dt, "/v1.0/oauth2/corpAccessToken", body).await?;
    Ok(t.into())
}

//! An internal (self-built) app's token: `POST /v1.0/oauth2/accessToken`.

use super::{CamelToken, DingTalk, Fetched, token_call};
use crate::{Error, Secret};

pub(super) async fn fetch(
    dt: &DingTalk,
    app_key: &str,
    app_secret: &Secret,
    own_corp: &str,
    corp: &str,
) -> Result<Fetched, Error> {
    if own_corp != corp {
        return Err(Error::Config(format!(
            "an internal app of corp {own_corp} has no token for corp {corp}"
        )));
    }
    let body = serde_json::json!({"appKey": app_key, "appSecret": app_secret.expose()});
    let t: CamelToken = token_call(dt, "/v1.0/oauth2/accessToken", body).await?;
    Ok(t.into())
}

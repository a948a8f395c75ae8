//! Any app's token through the unified endpoint: `POST /v1.0/oauth2/{corpId}/token`.

use serde::Deserialize;

use super::{DingTalk, Fetched, token_call};
use crate::{Error, Secret};

/// The unified endpoint's answer, in OAuth's spelling.
#[derive(Deserialize)]
struct SnakeToken {
    access_token: String,
    expires_in: i64,
}

pub(super) async fn fetch(
    dt: &DingTalk,
    client_id: &str,
    client_secret: &Secret,
    corp: &str,
) -> Result<Fetched, Error> {
    let body = serde_json::json!({
        "client_id": client_id,
        "client_secret": client_secret.expose(),
        "grant_type": "client_credentials",
    });
    let path = format!("/v1.0/oauth2/{corp}/token");
    let t: SnakeToken = token_call(dt, &path, body).await?;
    Ok(Fetched {
        token: Secret::new(t.access_token),
        expire_in: t.expires_in,
    })
}

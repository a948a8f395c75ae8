//! The openAuth round trip as an ISV app serves it: one page, an API that answers a
//! denial with a 403 the page understands, and a route that records what openAuth answered.
//! `cargo run -p dingscope-examples --example web` serves it on the embedded mock.
//!
//! | route | what |
//! |---|---|
//! | `GET /` | the page (`examples/web/page`) |
//! | `GET /api/session` | what the page needs: `clientId`, `corpId`, the signed-in `userId` |
//! | `GET /api/leavers` | every employee who has left (application, type 1) |
//! | `GET /api/me` | the signed-in user's profile with the mobile field (delegated, type 0) |
//! | `POST /api/openauth` | openAuth's answer, recorded for the corp (type 1) or the user (type 0) |

use std::net::SocketAddr;

use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use dingscope::client::{DingTalk, Principal};
use dingscope::wire::OpenAuthAnswer;
use dingscope::{AuthType, Error};
use serde_json::{Value, json};

use crate::{Setup, all_dismissed, my_profile, scopes, setup};

/// The signed-in user of the example. A real page inside DingTalk gets the user from
/// `requestAuthCode` and `DingTalk::sign_in`; the mock knows this one.
pub const USER_ID: &str = "user001";

#[derive(Clone)]
struct Site {
    dt: DingTalk,
    corp_id: String,
    mock_open_auth: Option<String>,
}

impl Site {
    fn corp(&self) -> Principal {
        self.dt.corp(&self.corp_id)
    }

    fn user(&self) -> Principal {
        self.dt.user(&self.corp_id, USER_ID)
    }
}

/// The example's web server, running.
#[derive(Debug)]
pub struct Web {
    /// Where it listens: `http://{addr}/` is the page.
    pub addr: SocketAddr,
    /// The ISV app and the mock it runs on.
    pub setup: Setup,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Web {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Serves the page and its API on `addr` (a loopback address; port 0 picks one), against
/// the mock, or against the real DingTalk as [`setup`] says.
pub async fn start(addr: SocketAddr) -> Result<Web, Box<dyn std::error::Error>> {
    let setup = setup(scopes::APPLIED_APPLICATION).await?;
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let addr = listener.local_addr()?;
    let mock_open_auth = setup.mock.as_ref().map(|mock| {
        // The stand-in for openAuth on this page posts to the mock across origins, and the
        // mock checks each code's type as the component does.
        mock.allow_origin(&format!("http://{addr}"));
        mock.personal_codes(["Contact.User.Read", "snsapi_base"]);
        format!("{}/mock/openAuth", mock.base_url())
    });
    let site = Site {
        dt: setup.dt.clone(),
        corp_id: setup.corp_id.clone(),
        mock_open_auth,
    };
    let app = axum::Router::new()
        .route("/", get(|| page("text/html", PAGE)))
        .route("/app.js", get(|| page(JS, APP_JS)))
        .route("/open-auth.js", get(|| page(JS, OPEN_AUTH_JS)))
        .route("/dingscope-grant.js", get(|| page(JS, GRANT_JS)))
        .route("/favicon.ico", get(|| async { StatusCode::NO_CONTENT }))
        .route("/api/session", get(session))
        .route("/api/leavers", get(leavers))
        .route("/api/me", get(me))
        .route("/api/openauth", post(open_auth))
        .with_state(site);
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Ok(Web { addr, setup, task })
}

const JS: &str = "text/javascript";
const PAGE: &str = include_str!("../web/page/index.html");
const APP_JS: &str = include_str!("../web/page/app.js");
const OPEN_AUTH_JS: &str = include_str!("../web/page/open-auth.js");
/// The helper `build.rs` writes beside the generated module.
const GRANT_JS: &str = include_str!("../frontend/dingscope-grant.js");

async fn page(content_type: &'static str, body: &'static str) -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "no-store"),
        ],
        body,
    )
}

async fn session(State(site): State<Site>) -> Json<Value> {
    Json(json!({
        "clientId": site.dt.client_id(),
        "corpId": site.corp_id,
        "userId": USER_ID,
        "mockOpenAuth": site.mock_open_auth,
    }))
}

/// Every employee who has left: a denial is a 403 with its openAuth parameters.
async fn leavers(State(site): State<Site>) -> Result<Json<Value>, Error> {
    let corp = site.corp();
    let ids = corp.call(all_dismissed(&corp)).await?;
    Ok(Json(json!({"count": ids.len(), "userIds": ids})))
}

/// The signed-in user's profile, mobile number included.
async fn me(State(site): State<Site>) -> Result<Json<Value>, Error> {
    let user = site.user();
    Ok(Json(user.call(my_profile(&user)).await?))
}

/// What openAuth answered, recorded for whoever it was asked of.
async fn open_auth(
    State(site): State<Site>,
    answer: OpenAuthAnswer,
) -> Result<impl IntoResponse, Error> {
    let who = match answer.request.auth_type {
        AuthType::Application => site.corp(),
        AuthType::Delegated => site.user(),
    };
    let grant = who.record(&answer).await?;
    Ok((
        StatusCode::OK,
        Json(json!({"granted": grant.codes().collect::<Vec<_>>()})),
    ))
}

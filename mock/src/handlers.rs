//! Routing and answers, in DingTalk's documented shapes.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::state::{DenialShape, Fault, Issued, State, TokenKind};

/// An answer before it is turned into HTTP.
pub(crate) struct Answer {
    pub status: u16,
    pub body: String,
    pub json: bool,
    pub delay: Duration,
    /// A `Retry-After` header, in seconds.
    pub retry_after: Option<u64>,
}

impl Answer {
    fn json(status: u16, body: Value) -> Answer {
        Answer {
            status,
            body: body.to_string(),
            json: true,
            delay: Duration::ZERO,
            retry_after: None,
        }
    }

    fn error(state: &mut State, status: u16, code: &str, message: &str) -> Answer {
        let requestid = state.next_id("req");
        Answer::json(
            status,
            json!({"code": code, "message": message, "requestid": requestid}),
        )
    }
}

/// The codes (any one suffices) that guard `method path`, from DingTalk's catalog.
pub fn required_codes(method: &str, path: &str) -> Option<Vec<&'static str>> {
    let method = dingscope_catalog::Method::parse(method)?;
    dingscope_catalog::required_for(method, path).map(<[_]>::to_vec)
}

fn is_token_path(path: &str) -> bool {
    (path.starts_with("/v1.0/oauth2/") && path != "/v1.0/oauth2/authRules/user")
        || path == "/gettoken"
}

pub(crate) fn handle(
    state: &mut State,
    method: &str,
    path: &str,
    query: &[(String, String)],
    headers_token: Option<&str>,
    body: &[u8],
) -> Answer {
    let token_path = is_token_path(path);
    if token_path {
        state.token_requests += 1;
    } else {
        *state.api_requests.entry(path.to_owned()).or_default() += 1;
        let second = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        state.api_seconds.push(second);
    }
    let old_api = !path.starts_with("/v1.0/");
    let mut delay = Duration::ZERO;
    let mut expire_in = state.expire_in;
    let mut expired = false;
    if !token_path && let Some((until, retry_after)) = state.throttle_window {
        if std::time::Instant::now() < until {
            state.window_refusals += 1;
            let mut answer = Answer::error(
                state,
                429,
                "Forbidden.AccessDenied.QpsLimitForAppkeyAndApi",
                "调用该接口触发了限流",
            );
            answer.retry_after = Some(retry_after);
            return answer;
        }
        state.throttle_window = None;
    }
    // One fault per request: each queued fault stands for one bad answer.
    if let Some(fault) = state.take_fault(token_path) {
        match fault {
            Fault::Latency(d) => delay = d,
            Fault::ExpireIn(n) => expire_in = n,
            Fault::ExpiredToken => expired = true,
            other => return fault_answer(state, other, old_api),
        }
    }
    let mut answer = route(
        state,
        method,
        path,
        query,
        headers_token,
        body,
        expire_in,
        expired,
    );
    answer.delay = answer.delay.max(delay);
    answer
}

fn fault_answer(state: &mut State, fault: Fault, old_api: bool) -> Answer {
    match fault {
        Fault::Status(s) => Answer::error(state, s, "ServiceUnavailable", "injected failure"),
        Fault::MalformedJson => Answer {
            status: 200,
            body: "{\"accessToken\": \"tru".to_owned(),
            json: true,
            delay: Duration::ZERO,
            retry_after: None,
        },
        Fault::Throttle if old_api => Answer::json(
            200,
            json!({"errcode": 90002, "errmsg": "您的服务器调用钉钉开放平台所有接口的请求都被暂时禁用了"}),
        ),
        Fault::Throttle => Answer::error(
            state,
            403,
            "Forbidden.AccessDenied.QpsLimitForAppkeyAndApi",
            "调用该接口触发了限流",
        ),
        Fault::TooManyRequests => Answer::error(state, 429, "system.busy", "系统繁忙"),
        Fault::RetryAfter(seconds) => {
            let mut answer = Answer::error(
                state,
                429,
                "Forbidden.AccessDenied.QpsLimitForAppkeyAndApi",
                "调用该接口触发了限流",
            );
            answer.retry_after = Some(seconds);
            answer
        }
        Fault::PerMinute => Answer::error(
            state,
            403,
            "Forbidden.AccessDenied.QpmLimitForAppkeyAndApi",
            "调用该接口触发了每分钟限流",
        ),
        Fault::MonthlyQuota if old_api => Answer::json(
            200,
            json!({"errcode": 90020, "errmsg": "当月接口调用次数已用完"}),
        ),
        Fault::MonthlyQuota => Answer::error(
            state,
            403,
            "Forbidden.AccessDenied.ApiCountLimitForOrg",
            "企业本月接口调用量已超限",
        ),
        Fault::BanJson(status) => Answer::json(
            status,
            json!({"status": 1111, "wait": 5, "source": "x5", "punish": "deny"}),
        ),
        Fault::GatewayTimeout => Answer::error(state, 504, "GatewayTimeout", "gateway timeout"),
        Fault::BanPage => Answer {
            status: 403,
            body: "<html><body><h1>403 Forbidden</h1>IP banned</body></html>".to_owned(),
            json: false,
            delay: Duration::ZERO,
            retry_after: None,
        },
        Fault::RejectCredentials => Answer::error(
            state,
            400,
            "invalidClientIdOrSecret",
            "无效的clientId或者clientSecret",
        ),
        Fault::Latency(_) | Fault::ExpireIn(_) | Fault::ExpiredToken => {
            unreachable!("handled by the caller")
        }
    }
}

fn route(
    state: &mut State,
    method: &str,
    path: &str,
    query: &[(String, String)],
    header_token: Option<&str>,
    body: &[u8],
    expire_in: i64,
    expired: bool,
) -> Answer {
    let body: Value = if body.is_empty() {
        Value::Null
    } else {
        match serde_json::from_slice(body) {
            Ok(v) => v,
            Err(_) => return Answer::error(state, 400, "InvalidParameter", "body is not JSON"),
        }
    };
    let q = |name: &str| {
        query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let s = |name: &str| {
        body.get(name)
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned()
    };
    match (method, path) {
        ("POST", "/v1.0/oauth2/accessToken") => {
            let (key, secret) = (s("appKey"), s("appSecret"));
            let Some(corp) = check_app(state, &key, &secret) else {
                return Answer::error(
                    state,
                    400,
                    "invalidClientIdOrSecret",
                    "无效的clientId或者clientSecret",
                );
            };
            let token = app_token(state, &key, &corp);
            Answer::json(200, json!({"accessToken": token, "expireIn": expire_in}))
        }
        ("GET", "/gettoken") => {
            let (key, secret) = (q("appkey").unwrap_or(""), q("appsecret").unwrap_or(""));
            let Some(corp) = check_app(state, key, secret) else {
                return Answer::json(
                    200,
                    json!({"errcode": 40089, "errmsg": "不合法的corpid或corpsecret"}),
                );
            };
            let token = app_token(state, key, &corp);
            Answer::json(
                200,
                json!({"errcode": 0, "errmsg": "ok", "access_token": token, "expires_in": expire_in}),
            )
        }
        ("POST", "/v1.0/oauth2/corpAccessToken") => {
            let (key, secret, corp, ticket) = (
                s("suiteKey"),
                s("suiteSecret"),
                s("authCorpId"),
                s("suiteTicket"),
            );
            let Some(suite) = state.suites.get(&key).filter(|x| x.secret == secret) else {
                return Answer::error(state, 400, "invalidSuiteKey", "suiteKey或suiteSecret不正确");
            };
            if suite.ticket.as_deref() != Some(ticket.as_str()) {
                return Answer::error(state, 400, "invalidSuiteTicket", "suiteTicket不正确");
            }
            if !suite.corps.contains(&corp) {
                return Answer::error(state, 400, "invalidAuthInfo", "企业未开通该应用");
            }
            // ISV corp tokens: asking again returns a new token.
            let token = issue(state, &corp, TokenKind::Corp, None);
            Answer::json(200, json!({"accessToken": token, "expireIn": expire_in}))
        }
        ("POST", "/v1.0/oauth2/userAccessToken") => user_token(state, &body, expire_in),
        ("POST", p) if p.starts_with("/v1.0/oauth2/") && p.ends_with("/token") => {
            let corp = p
                .trim_start_matches("/v1.0/oauth2/")
                .trim_end_matches("/token")
                .to_owned();
            let (id, secret, grant) = (s("client_id"), s("client_secret"), s("grant_type"));
            if grant != "client_credentials" {
                return Answer::error(
                    state,
                    400,
                    "invalidParameter",
                    "grant_type must be client_credentials",
                );
            }
            let known = state.apps.get(&id).is_some_and(|a| a.secret == secret)
                || state
                    .suites
                    .get(&id)
                    .is_some_and(|x| x.secret == secret && x.corps.contains(&corp));
            if !known {
                return Answer::error(
                    state,
                    400,
                    "invalidClientIdOrSecret",
                    "无效的clientId或者clientSecret",
                );
            }
            let token = issue(state, &corp, TokenKind::Unified, None);
            Answer::json(200, json!({"access_token": token, "expires_in": expire_in}))
        }
        ("POST", "/mock/openAuth") => mock_open_auth(state, &body),
        ("POST", "/v1.0/gateway/connections/open") => {
            let (id, secret) = (s("clientId"), s("clientSecret"));
            let known = state.apps.get(&id).is_some_and(|a| a.secret == secret)
                || state.suites.get(&id).is_some_and(|x| x.secret == secret);
            if !known || state.gateway.refuse {
                return Answer::error(
                    state,
                    401,
                    "InvalidAuthentication",
                    "clientId或clientSecret不正确",
                );
            }
            if state.gateway.hang {
                let mut silence = Answer::error(state, 504, "GatewayTimeout", "never answered");
                silence.delay = Duration::from_secs(3600);
                return silence;
            }
            let ticket = state.next_id("wsticket");
            state.gateway.tickets.insert(ticket.clone());
            state.gateway.opens += 1;
            Answer::json(
                200,
                json!({"endpoint": state.ws_endpoint, "ticket": ticket}),
            )
        }
        _ => api(state, method, path, query, header_token, &body, expired),
    }
}

/// Stands in for openAuth and the admin's or user's click: takes openAuth's options
/// (`clientId`, `corpId`, `rpcScope`, `fieldScope`, `type` as a number or a string), the
/// signed-in `userId` for type 0, and the `decision` (`ok`, the default; `cancel`;
/// `toAdmin`, type 1 only), checks the options as the component does, and answers
/// `{status, result}` as it resolves.
fn mock_open_auth(state: &mut State, body: &Value) -> Answer {
    state.open_auth_log.push(body.clone());
    let failed = |code: u32, message: String| {
        Answer::json(
            200,
            json!({"status": "failed", "result": {"errorCode": code, "errorMsg": message}}),
        )
    };
    let s = |name: &str| body.get(name).and_then(Value::as_str).unwrap_or("");
    let client = s("clientId");
    let corp = s("corpId").to_owned();
    let kind = match body.get("type") {
        Some(Value::Number(n)) => n.as_u64(),
        Some(Value::String(t)) => t.parse().ok(),
        _ => None,
    };
    let known = state.apps.contains_key(client) || state.suites.contains_key(client);
    if client.is_empty() {
        return failed(400001, "clientId is required".into());
    }
    if !known {
        return failed(500101, format!("no app has the clientId {client}"));
    }
    let Some(kind @ (0 | 1)) = kind else {
        return failed(400002, "type must be 0 or 1".into());
    };
    if corp.is_empty() && kind == 1 {
        return failed(400003, "corpId is required for type 1".into());
    }
    let list = |name: &str| -> Vec<String> {
        s(name)
            .split(',')
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .map(str::to_owned)
            .collect()
    };
    let (rpc, field) = (list("rpcScope"), list("fieldScope"));
    if rpc.is_empty() && field.is_empty() {
        return failed(400004, "rpcScope or fieldScope is required".into());
    }
    for (code, in_field) in rpc
        .iter()
        .map(|c| (c, false))
        .chain(field.iter().map(|c| (c, true)))
    {
        if code == ".default" && !in_field {
            continue;
        }
        if dingscope_catalog::check_grammar(code).is_err() {
            return failed(500201, format!("{code} is not a permission code"));
        }
        if is_field(code) != in_field {
            return if in_field {
                failed(500203, format!("fieldScope holds {code}, not a field code"))
            } else {
                failed(500202, format!("rpcScope holds {code}, a field code"))
            };
        }
        if let Some(personal) = &state.personal_codes
            && !in_field
        {
            match (kind, personal.contains(code)) {
                (1, true) => {
                    return failed(500204, format!("{code} is personal: ask with type 0"));
                }
                (0, false) => {
                    return failed(500205, format!("{code} is organisational: ask with type 1"));
                }
                _ => {}
            }
        }
    }
    match (s("decision"), kind) {
        ("cancel", _) => return Answer::json(200, json!({"status": "cancel", "result": {}})),
        ("toAdmin", 1) => return Answer::json(200, json!({"status": "toAdmin", "result": {}})),
        ("ok" | "", _) => {}
        (other, _) => {
            return failed(400005, format!("no decision {other:?} for type {kind}"));
        }
    }
    let codes = rpc.into_iter().chain(field).filter(|c| c != ".default");
    if kind == 1 {
        state.corp_grants.entry(corp).or_default().extend(codes);
        return Answer::json(200, json!({"status": "ok", "result": {}}));
    }
    let user = s("userId").to_owned();
    state
        .user_grants
        .entry((corp.clone(), user.clone()))
        .or_default()
        .extend(codes);
    let code = state.next_id("code");
    state.auth_codes.insert(code.clone(), (corp, user));
    state.issued_codes.push(code.clone());
    Answer::json(200, json!({"status": "ok", "result": {"authCode": code}}))
}

fn check_app(state: &State, key: &str, secret: &str) -> Option<String> {
    state
        .apps
        .get(key)
        .filter(|a| a.secret == secret)
        .map(|a| a.corp_id.clone())
}

fn app_token(state: &mut State, key: &str, corp: &str) -> String {
    let k = (key.to_owned(), corp.to_owned());
    if let Some(t) = state.app_tokens.get(&k)
        && state
            .tokens
            .get(t)
            .is_some_and(|i| i.expires_at > Instant::now())
    {
        return t.clone();
    }
    let t = issue(state, corp, TokenKind::App, None);
    state.app_tokens.insert(k, t.clone());
    t
}

/// Issues a token that lives `State::expire_in` seconds, whatever `expireIn` is reported.
pub(crate) fn issue(
    state: &mut State,
    corp: &str,
    kind: TokenKind,
    user: Option<String>,
) -> String {
    let token = state.next_id("tok");
    let life = Duration::from_secs(state.expire_in.max(0) as u64);
    state.tokens.insert(
        token.clone(),
        Issued {
            corp_id: corp.to_owned(),
            kind,
            user,
            expires_at: Instant::now() + life,
        },
    );
    token
}

fn user_token(state: &mut State, body: &Value, expire_in: i64) -> Answer {
    let s = |name: &str| {
        body.get(name)
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned()
    };
    let (client, secret, grant) = (s("clientId"), s("clientSecret"), s("grantType"));
    let known = state.apps.get(&client).is_some_and(|a| a.secret == secret)
        || state
            .suites
            .get(&client)
            .is_some_and(|x| x.secret == secret);
    if !known {
        return Answer::error(
            state,
            400,
            "invalidClientIdOrSecret",
            "无效的clientId或者clientSecret",
        );
    }
    let (corp, user) = match grant.as_str() {
        "authorization_code" => match state.auth_codes.remove(&s("code")) {
            Some(cu) => cu,
            None => return Answer::error(state, 400, "invalidAuthCode", "authCode无效或已使用"),
        },
        "refresh_token" => match state.refresh_tokens.remove(&s("refreshToken")) {
            Some((c, u, id)) if id == client => (c, u),
            _ => return Answer::error(state, 400, "invalidRefreshToken", "refreshToken无效"),
        },
        _ => return Answer::error(state, 400, "invalidParameter", "grantType"),
    };
    let token = issue(state, &corp, TokenKind::User, Some(user.clone()));
    // Refresh tokens rotate: the one just used is gone, a new one is issued.
    let refresh = state.next_id("rft");
    state
        .refresh_tokens
        .insert(refresh.clone(), (corp.clone(), user, client));
    Answer::json(
        200,
        json!({"accessToken": token, "refreshToken": refresh, "expireIn": expire_in, "corpId": corp}),
    )
}

fn api(
    state: &mut State,
    method: &str,
    path: &str,
    query: &[(String, String)],
    header_token: Option<&str>,
    body: &Value,
    expired: bool,
) -> Answer {
    let old_api = !path.starts_with("/v1.0/");
    let token = if old_api {
        query
            .iter()
            .find(|(k, _)| k == "access_token")
            .map(|(_, v)| v.as_str())
    } else {
        header_token
    };
    let issued = token.and_then(|t| state.tokens.get(t)).cloned();
    if issued
        .as_ref()
        .is_some_and(|i| i.expires_at <= Instant::now())
    {
        state.expired_token_uses += 1;
    }
    let Some(issued) = issued.filter(|i| !expired && i.expires_at > Instant::now()) else {
        return if old_api {
            Answer::json(
                200,
                json!({"errcode": 40014, "errmsg": "不合法的access_token"}),
            )
        } else {
            Answer::error(state, 401, "InvalidAuthentication", "不合法的access_token")
        };
    };
    let Some(required) = required_codes(method, path) else {
        return Answer::error(state, 404, "NotFound", "the mock does not serve this API");
    };
    let granted = granted(state, &issued);
    if !required.iter().any(|c| granted.contains(*c)) {
        return denial(state, &required, old_api);
    }
    let q = |name: &str| {
        query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    match path {
        "/v1.0/hrm/employees/dismissions" => {
            let next: usize = q("nextToken").unwrap_or("0").parse().unwrap_or(0);
            let max: usize = q("maxResults").unwrap_or("30").parse().unwrap_or(0);
            if max == 0 || max > 50 {
                return Answer::error(
                    state,
                    400,
                    "InvalidParameter.MaxResults",
                    "maxResults must be 1 to 50",
                );
            }
            let (page, end) = dismissed_page(state, next, max);
            Answer::json(
                200,
                json!({"nextToken": end, "hasMore": end < state.dismissed.len(), "userIdList": page}),
            )
        }
        "/v1.0/hrm/employees/dimissionInfos" => {
            let ids: Vec<String> = q("userIdList")
                .and_then(|s| serde_json::from_str(s).ok())
                .unwrap_or_default();
            if ids.is_empty() || ids.len() > 50 {
                return Answer::error(
                    state,
                    400,
                    "InvalidParameter.UserIdList",
                    "userIdList must hold 1 to 50 ids",
                );
            }
            let result: Vec<Value> = ids
                .iter()
                .filter(|id| state.dismissed.contains(id))
                .map(|id| json!({"userId": id, "lastWorkDay": 1_700_000_000_000u64, "reasonMemo": "合同到期", "status": 2}))
                .collect();
            Answer::json(200, json!({"result": result}))
        }
        "/v1.0/contact/users/me" => {
            let user = issued.user.clone().unwrap_or_default();
            let mut me =
                json!({"unionId": user, "nick": format!("{user} (mock)"), "stateCode": "86"});
            if granted.contains("Contact.User.mobile") {
                me["mobile"] = json!("13800000000");
            }
            Answer::json(200, me)
        }
        "/v1.0/oauth2/authRules/user" => {
            let rpc: Vec<&String> = granted.iter().filter(|c| !is_field(c)).collect();
            let mut result = vec![json!({"resource": "rpc_auth", "authItems": rpc})];
            let mut fields: std::collections::BTreeMap<&str, Vec<&str>> = Default::default();
            for c in granted.iter().filter(|c| is_field(c)) {
                if let Some((res, item)) = c.rsplit_once('.') {
                    fields.entry(res).or_default().push(item);
                }
            }
            for (res, items) in fields {
                result.push(json!({"resource": res, "authItems": items}));
            }
            Answer::json(200, json!({"result": result}))
        }
        "/topapi/smartwork/hrm/employee/querydimission" => {
            let offset = body.get("offset").and_then(Value::as_u64).unwrap_or(0) as usize;
            let size = body
                .get("size")
                .and_then(Value::as_u64)
                .unwrap_or(50)
                .clamp(1, 50) as usize;
            let (page, end) = dismissed_page(state, offset, size);
            let mut result = json!({"data_list": page});
            if end < state.dismissed.len() {
                result["next_cursor"] = json!(end);
            }
            Answer::json(
                200,
                json!({"errcode": 0, "errmsg": "ok", "result": result, "success": true}),
            )
        }
        _ => Answer::json(200, json!({"result": "ok"})),
    }
}

/// Employees who left, `size` from `offset`, and where the page ends.
fn dismissed_page(state: &State, offset: usize, size: usize) -> (&[String], usize) {
    let end = offset.saturating_add(size).min(state.dismissed.len());
    (state.dismissed.get(offset..end).unwrap_or(&[]), end)
}

fn is_field(code: &str) -> bool {
    dingscope_catalog::lookup(code).map_or_else(
        || {
            code.rsplit_once('.')
                .is_some_and(|(_, l)| l.starts_with(|c: char| c.is_ascii_lowercase()))
        },
        |i| i.kind == dingscope_catalog::Kind::Field,
    )
}

fn granted(state: &State, issued: &Issued) -> BTreeSet<String> {
    match (&issued.kind, &issued.user) {
        (TokenKind::User, Some(user)) => state
            .user_grants
            .get(&(issued.corp_id.clone(), user.clone()))
            .cloned()
            .unwrap_or_default(),
        _ => state
            .corp_grants
            .get(&issued.corp_id)
            .cloned()
            .unwrap_or_default(),
    }
}

fn denial(state: &mut State, required: &[&str], old_api: bool) -> Answer {
    let first = required[0];
    let list = required.join(",");
    if old_api {
        return Answer::json(
            200,
            json!({
                "errcode": 88,
                "errmsg": format!(
                    "ding talk error[subcode=60011,submsg=应用尚未开通所需的权限：[{first}]，点击链接申请并开通即可：https://open-dev.dingtalk.com/appscope/apply?content=mock%23{first}, {{requiredScopes=[{list}]}}]"
                ),
            }),
        );
    }
    let requestid = state.next_id("req");
    let message = format!(
        "应用尚未开通所需的权限：[{first}]，点击链接申请并开通即可：https://open-dev.dingtalk.com/appscope/apply?content=mock%23{first}"
    );
    let body = match state.denial_shape {
        DenialShape::Detail => json!({
            "code": "Forbidden.AccessDenied.AccessTokenPermissionDenied",
            "message": message,
            "requestid": requestid,
            "accessdenieddetail": {"requiredScopes": required},
        }),
        DenialShape::DetailCamel => json!({
            "Code": "Forbidden.AccessDenied.AccessTokenPermissionDenied",
            "Message": message,
            "RequestId": requestid,
            "AccessDeniedDetail": {"RequiredScopes": required},
        }),
        DenialShape::MessageOnly => json!({
            "code": "Forbidden.AccessDenied.AccessTokenPermissionDenied",
            "message": message,
            "requestid": requestid,
        }),
    };
    Answer::json(403, body)
}

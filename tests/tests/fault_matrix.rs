//! The fault matrix: each fault the mock injects, the typed result the caller sees, and
//! how many requests it took. Printed as a table (RELIABILITY.md) and asserted row by row.

use std::time::Duration;

use dingscope::Error;
use dingscope::Secret;
use dingscope::client::{App, DingTalk, Principal, Retry};
use dingscope_mock::{DenialShape, Fault, MockDingTalk, Target};

const PATH: &str = "/v1.0/hrm/employees/dismissions";

async fn setup(throttle_wait: Duration) -> (MockDingTalk, Principal) {
    let mock = MockDingTalk::start().await.unwrap();
    mock.install_suite("suite", "suite-secret", "ticket", "corp");
    mock.grant_corp("corp", ["qyapi_hrm_read_user"]);
    let dt = DingTalk::builder(App::isv("suite", Secret::new("suite-secret")))
        .api_base(mock.base_url())
        .timeout(Duration::from_millis(300))
        .throttle_wait(throttle_wait)
        .retry(Retry {
            attempts: 3,
            base_delay: Duration::from_millis(1),
            max_delay: Duration::from_millis(5),
        })
        .build()
        .unwrap();
    dt.set_suite_ticket(Secret::new("ticket")).await.unwrap();
    let corp = dt.corp("corp");
    corp.set_grant(["qyapi_hrm_read_user"]).await.unwrap();
    (mock, corp)
}

fn outcome(r: &Result<serde_json::Value, Error>) -> &'static str {
    match r {
        Ok(_) => "ok",
        Err(Error::Denied(_)) => "Denied",
        Err(Error::Token(_)) => "Token",
        Err(Error::BadToken(_)) => "BadToken",
        Err(Error::Throttled(e)) if e.retry_at.is_some() => "Throttled, with its deadline",
        Err(Error::Throttled(_)) => "Throttled",
        Err(Error::QuotaExceeded(_)) => "QuotaExceeded",
        Err(Error::Timeout(_)) => "Timeout",
        Err(Error::Unavailable(_)) => "Unavailable",
        Err(Error::Api(_)) => "Api",
        Err(Error::Protocol(_)) => "Protocol",
        Err(Error::Transport(_)) => "Transport",
        Err(_) => "other",
    }
}

struct Row {
    name: &'static str,
    faults: Vec<(Target, Fault)>,
    shape: Option<DenialShape>,
    revoke: bool,
    /// How long the client waits for a throttle deadline.
    throttle_wait: Duration,
    want: &'static str,
    token_requests: u64,
    api_requests: u64,
}

fn row(
    name: &'static str,
    faults: Vec<(Target, Fault)>,
    want: &'static str,
    token_requests: u64,
    api_requests: u64,
) -> Row {
    Row {
        name,
        faults,
        shape: None,
        revoke: false,
        throttle_wait: Duration::from_millis(1500),
        want,
        token_requests,
        api_requests,
    }
}

#[tokio::test]
async fn fault_matrix() {
    use Fault::*;
    use Target::{Api, Token};
    let lat = Latency(Duration::from_millis(600));
    let mut rows = vec![
        row("token: 500 once", vec![(Token, Status(500))], "ok", 2, 1),
        row(
            "token: 500 always",
            vec![(Token, Status(500)); 3],
            "Unavailable",
            3,
            0,
        ),
        row(
            "token: times out once",
            vec![(Token, lat.clone())],
            "ok",
            2,
            1,
        ),
        row(
            "token: times out always",
            vec![(Token, lat.clone()); 3],
            "Timeout",
            3,
            0,
        ),
        row(
            "token: malformed JSON",
            vec![(Token, MalformedJson)],
            "Protocol",
            1,
            0,
        ),
        row("token: expireIn 0", vec![(Token, ExpireIn(0))], "ok", 1, 1),
        row(
            "token: expireIn -1",
            vec![(Token, ExpireIn(-1))],
            "ok",
            1,
            1,
        ),
        row(
            "token: expireIn huge",
            vec![(Token, ExpireIn(i64::MAX))],
            "ok",
            1,
            1,
        ),
        row(
            "token: credentials rejected",
            vec![(Token, RejectCredentials)],
            "Token",
            1,
            0,
        ),
        row(
            "api: 401 expired token",
            vec![(Api, ExpiredToken)],
            "ok",
            2,
            2,
        ),
        row(
            "api: 401 twice",
            vec![(Api, ExpiredToken), (Api, ExpiredToken)],
            "BadToken",
            2,
            2,
        ),
        row("api: throttled once", vec![(Api, Throttle)], "ok", 1, 2),
        row(
            "api: throttled always",
            vec![(Api, Throttle); 3],
            "Throttled",
            1,
            3,
        ),
        row("api: 429", vec![(Api, TooManyRequests)], "ok", 1, 2),
        row("api: 504 once", vec![(Api, GatewayTimeout)], "ok", 1, 2),
        row(
            "api: 504 always",
            vec![(Api, GatewayTimeout); 3],
            "Timeout",
            1,
            3,
        ),
        row(
            "api: no answer in time",
            vec![(Api, lat.clone()); 3],
            "Timeout",
            1,
            3,
        ),
        row(
            "api: 503 always",
            vec![(Api, Status(503)); 3],
            "Unavailable",
            1,
            3,
        ),
        row(
            "api: 429 with Retry-After: 1, once",
            vec![(Api, RetryAfter(1))],
            "ok",
            1,
            2,
        ),
        row(
            "api: 429 with Retry-After: 1, always",
            vec![(Api, RetryAfter(1)); 3],
            "Throttled, with its deadline",
            1,
            3,
        ),
        Row {
            throttle_wait: Duration::ZERO,
            ..row(
                "api: per-minute limit (QPM)",
                vec![(Api, PerMinute)],
                "Throttled, with its deadline",
                1,
                1,
            )
        },
        row(
            "api: IP ban, HTML page",
            vec![(Api, BanPage)],
            "Throttled, with its deadline",
            1,
            1,
        ),
        row(
            "api: IP ban, JSON on a 403",
            vec![(Api, BanJson(403))],
            "Throttled, with its deadline",
            1,
            1,
        ),
        row(
            "api: IP ban, JSON on a 200",
            vec![(Api, BanJson(200))],
            "Throttled, with its deadline",
            1,
            1,
        ),
        row(
            "api: monthly quota used up",
            vec![(Api, MonthlyQuota)],
            "QuotaExceeded",
            1,
            1,
        ),
        row(
            "api: malformed JSON",
            vec![(Api, MalformedJson)],
            "Protocol",
            1,
            1,
        ),
    ];
    for (name, shape) in [
        ("api: denied, requiredScopes", DenialShape::Detail),
        (
            "api: denied, RequiredScopes (SDK casing)",
            DenialShape::DetailCamel,
        ),
        (
            "api: denied, codes only in message",
            DenialShape::MessageOnly,
        ),
    ] {
        rows.push(Row {
            name,
            faults: vec![],
            shape: Some(shape),
            revoke: true,
            throttle_wait: Duration::from_millis(1500),
            want: "Denied",
            token_requests: 1,
            api_requests: 1,
        });
    }
    let mut table =
        String::from("| case | result | token requests | API requests |\n|---|---|---:|---:|\n");
    for r in rows {
        let (mock, corp) = setup(r.throttle_wait).await;
        for (t, f) in &r.faults {
            mock.inject(t.clone(), f.clone());
        }
        if let Some(shape) = r.shape {
            mock.set_denial_shape(shape);
        }
        if r.revoke {
            mock.revoke_corp("corp", &["qyapi_hrm_read_user"]);
        }
        let result = corp.get(PATH).send::<serde_json::Value>().await;
        let got = (
            outcome(&result),
            mock.token_requests(),
            mock.api_requests(PATH),
        );
        table.push_str(&format!(
            "| {} | {} | {} | {} |\n",
            r.name, got.0, got.1, got.2
        ));
        assert_eq!(
            got,
            (r.want, r.token_requests, r.api_requests),
            "{}: {result:?}",
            r.name
        );
        if r.want == "Denied" {
            // The grant is corrected: the next call is stopped before it is sent.
            let again = corp.get(PATH).send::<serde_json::Value>().await;
            assert_eq!(outcome(&again), "Denied");
            assert_eq!(
                mock.api_requests(PATH),
                r.api_requests,
                "{}: a request left after the denial",
                r.name
            );
        }
    }
    // An uncovered call: nothing leaves at all.
    let (mock, corp) = setup(Duration::ZERO).await;
    corp.set_grant(["snsapi_base"]).await.unwrap();
    let r = corp.get(PATH).send::<serde_json::Value>().await;
    assert_eq!(
        (outcome(&r), mock.token_requests(), mock.all_api_requests()),
        ("Denied", 0, 0)
    );
    table.push_str(&format!(
        "| uncovered call (pre-check) | {} | 0 | 0 |\n",
        outcome(&r)
    ));
    use std::io::Write as _;
    let _ = write!(std::io::stderr(), "{table}");
}

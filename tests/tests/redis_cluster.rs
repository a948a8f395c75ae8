//! The Redis store on a Redis Cluster of three masters on 127.0.0.1, started by the test.
//! Without `redis-server` and `redis-cli`, each test says so and is skipped.

use std::sync::Arc;
use std::time::Duration;

use dingscope::client::{App, DingTalk, RedisStore, Retry};
use dingscope::{Error, Secret};
use dingscope_mock::MockDingTalk;
use dingscope_tests::cluster_or_skip;
use serde_json::Value;

const SUITE: &str = "suite-key";
const SUITE_SECRET: &str = "suite-secret-cluster";
const DISMISSIONS: &str = "/v1.0/hrm/employees/dismissions";
const CORPS: usize = 100;

fn corp(i: usize) -> String {
    format!("dingcorp{i}")
}

async fn mock() -> MockDingTalk {
    let mock = MockDingTalk::start().await.unwrap();
    mock.install_suite(SUITE, SUITE_SECRET, "ticket-1", &corp(0));
    for i in 0..CORPS {
        mock.authorize_corp(SUITE, &corp(i));
        mock.grant_corp(&corp(i), ["qyapi_hrm_read_user"]);
    }
    mock
}

/// One instance: its own client and caches, the cluster as its store.
fn instance(mock: &MockDingTalk, nodes: &[String]) -> DingTalk {
    let store = RedisStore::open_cluster(nodes.iter().map(String::as_str)).unwrap();
    DingTalk::builder(App::isv(SUITE, Secret::new(SUITE_SECRET)))
        .api_base(mock.base_url())
        .store(Arc::new(store))
        .retry(Retry {
            attempts: 3,
            base_delay: Duration::from_millis(2),
            max_delay: Duration::from_millis(10),
        })
        .build()
        .unwrap()
}

async fn call(dt: &DingTalk, corp: &str) -> Result<Value, Error> {
    dt.corp(corp)
        .get(DISMISSIONS)
        .query("maxResults", 10)
        .send()
        .await
}

/// Two instances, 100 corps, tokens expiring: one token request per corp per expiry, with
/// the corps' keys spread over the three masters.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_on_a_cluster_fetch_one_token_per_corp_per_expiry() {
    let cluster = cluster_or_skip!();
    let mock = mock().await;
    let a = instance(&mock, &cluster.urls());
    let b = instance(&mock, &cluster.urls());
    a.set_suite_ticket(Secret::new("ticket-1")).await.unwrap();
    for i in 0..CORPS {
        a.corp(corp(i))
            .set_grant(["qyapi_hrm_read_user"])
            .await
            .unwrap();
    }
    for round in 1..=2u64 {
        let mut tasks = Vec::new();
        for i in 0..CORPS {
            for dt in [&a, &b] {
                let dt = dt.clone();
                tasks.push(tokio::spawn(async move {
                    call(&dt, &corp(i)).await.map(|_| ())
                }));
            }
        }
        for t in tasks {
            t.await.unwrap().unwrap();
        }
        assert_eq!(
            mock.token_requests(),
            round * CORPS as u64,
            "one token request per corp per expiry"
        );
        mock.expire_all_tokens();
    }
}

/// Grants and the suite ticket are on the masters' disks: after each master in turn is
/// killed and started again, a new instance reads them all.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grants_and_the_ticket_survive_a_master_restart() {
    let mut cluster = cluster_or_skip!();
    let mock = mock().await;
    let a = instance(&mock, &cluster.urls());
    a.set_suite_ticket(Secret::new("ticket-1")).await.unwrap();
    for i in 0..CORPS {
        a.corp(corp(i))
            .set_grant(["qyapi_hrm_read_user", "Contact.User.Read"])
            .await
            .unwrap();
    }
    for master in 0..3 {
        cluster.restart(master).unwrap();
    }
    let b = instance(&mock, &cluster.urls());
    for i in 0..CORPS {
        let g = b.corp(corp(i)).grant().await.unwrap();
        assert!(g.contains("Contact.User.Read"), "{}: {g:?}", corp(i));
    }
    // The ticket came back too: the new instance fetches corp tokens with it.
    call(&b, &corp(7)).await.unwrap();
}

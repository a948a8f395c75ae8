//! The mock DingTalk as a program, for front-end work and manual tests.
//!
//! `cargo run -p dingscope-mock -- [PORT]` listens on 127.0.0.1:PORT (default 8787) and
//! sets up one ISV suite, one internal app and one corp, printed at start.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let port: u16 = match std::env::args().nth(1) {
        Some(p) => p.parse().map_err(|_| format!("not a port number: {p:?}"))?,
        None => 8787,
    };
    let mock = dingscope_mock::MockDingTalk::bind(([127, 0, 0, 1], port).into()).await?;
    mock.add_suite("mock-suite-key", "mock-suite-secret");
    mock.push_suite_ticket("mock-suite-key", "mock-ticket");
    mock.authorize_corp("mock-suite-key", "dingmockcorp");
    mock.add_app("mock-app-key", "mock-app-secret", "dingmockcorp");
    println!("mock DingTalk listening on {}", mock.base_url());
    println!(
        "ISV suite: mock-suite-key (ticket mock-ticket), internal app: mock-app-key, corp: dingmockcorp"
    );
    println!("nothing is granted yet; Ctrl-C stops it");
    tokio::signal::ctrl_c().await?;
    Ok(())
}

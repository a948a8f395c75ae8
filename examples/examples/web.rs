//! The openAuth round trip in a browser: an axum ISV app on the embedded mock, serving one
//! page. "List employees who left" is denied with a 403 that carries openAuth's
//! parameters; the page calls openAuth with exactly them (outside DingTalk, a stand-in
//! with its signature that posts to the mock), reports the answer, and retries.
//!
//! `cargo run -p dingscope-examples --example web`, then open the address it prints.
//! `DINGSCOPE_WEB_ADDR` sets the address (default `127.0.0.1:8080`).

use dingscope_examples::web;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let addr = std::env::var("DINGSCOPE_WEB_ADDR").unwrap_or_else(|_| "127.0.0.1:8080".into());
    let site = web::start(addr.parse()?).await?;
    println!("the page: http://{}/", site.addr);
    if let Some(mock) = &site.setup.mock {
        println!("DingTalk: embedded mock at {}", mock.base_url());
    }
    tokio::signal::ctrl_c().await?;
    Ok(())
}

// The expansion uses absolute paths only: user items named like std's do not break it.
#![allow(dead_code, non_camel_case_types)]

mod core {}
mod std {}
mod dingscope_shadow {}

type Result = ();
type Option = ();
struct Err;
struct Some;
struct None;
struct __DINGSCOPE_REQUIREMENT;

#[::dingscope::requires_scope("qyapi_hrm_read_user")]
fn hygienic(__dingscope_denied: u8) -> ::core::result::Result<u8, ::dingscope::Error> {
    Ok(__dingscope_denied)
}

#[::dingscope::requires_scope("Contact.User.Read", auth = delegated)]
async fn hygienic_async() -> ::core::result::Result<(), ::dingscope::Error> {
    Ok(())
}

fn main() {
    let g = ::dingscope::Grant::application(["qyapi_hrm_read_user"]);
    assert_eq!(g.run(|| hygienic(4)).unwrap(), 4);
    let _ = hygienic_async();
}

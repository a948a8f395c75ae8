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
// Never called: it is here to be shadowed by the expansion's `::core::module_path!`.
#[allow(unused_macros)]
macro_rules! module_path {
    () => {
        42
    };
}

#[::dingscope::requires_scope("qyapi_hrm_read_user")]
fn hygienic(__dingscope_in_requirement: u8) -> ::core::result::Result<u8, ::dingscope::Error> {
    // The guard the expansion declares is hygienic: this is still the parameter.
    Ok(__dingscope_in_requirement)
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

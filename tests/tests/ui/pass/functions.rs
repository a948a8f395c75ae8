// Free functions, async fns, generics with where clauses, impl Trait arguments,
// functions inside functions, inner attributes, and user error types.
use dingscope::{requires_scope, Grant};
use std::fmt::Display;

#[requires_scope("qyapi_hrm_read_user")]
fn free() -> Result<u32, dingscope::Error> {
    Ok(1)
}

#[requires_scope("qyapi_hrm_read_user")]
async fn asynchronous() -> Result<u32, dingscope::Error> {
    Ok(2)
}

#[requires_scope("qyapi_hrm_read_user", "Contact.User.Read")]
fn generic<'a, T, const N: usize>(items: &'a [T; N]) -> Result<&'a T, dingscope::Error>
where
    T: Display + 'a,
{
    Ok(&items[0])
}

#[requires_scope(any("qyapi_get_member", "Contact.User.Read"))]
fn impl_trait(x: impl Into<String>, y: &mut impl Iterator<Item = u8>) -> Result<String, dingscope::Error> {
    let _ = y.next();
    Ok(x.into())
}

#[requires_scope("Contact.User.Read", field("Contact.User.mobile"))]
fn with_inner_attrs() -> Result<(), dingscope::Error> {
    #![allow(unused_variables)]
    let unused = 1;
    Ok(())
}

#[derive(Debug)]
enum MyError {
    Scope(dingscope::Error),
}

impl From<dingscope::Error> for MyError {
    fn from(e: dingscope::Error) -> Self {
        MyError::Scope(e)
    }
}

#[requires_scope("qyapi_hrm_read_user")]
fn own_error() -> Result<(), MyError> {
    Ok(())
}

#[requires_scope("qyapi_hrm_read_user")]
fn boxed_error() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    Ok(())
}

#[requires_scope("Custom.Thing.Read", endpoint_check = false)]
pub(crate) unsafe fn unsafe_fn(p: *const u8) -> Result<u8, dingscope::Error> {
    Ok(unsafe { *p })
}

fn outer() -> Result<u32, dingscope::Error> {
    #[requires_scope("qyapi_hrm_read_user")]
    fn inner() -> Result<u32, dingscope::Error> {
        Ok(3)
    }
    inner()
}

fn main() {
    let g = Grant::application(["qyapi_hrm_read_user", "Contact.User.Read", "Contact.User.mobile", "Custom.Thing.Read"]);
    g.run(|| {
        assert_eq!(free().unwrap(), 1);
        assert_eq!(generic(&[7, 8]).unwrap(), &7);
        assert_eq!(impl_trait("x", &mut [1u8].into_iter()).unwrap(), "x");
        with_inner_attrs().unwrap();
        own_error().unwrap();
        boxed_error().unwrap();
        assert_eq!(unsafe { unsafe_fn(&5) }.unwrap(), 5);
        assert_eq!(outer().unwrap(), 3);
    });
    assert!(matches!(own_error(), Err(MyError::Scope(_))));
    assert!(boxed_error().is_err());
    let _ = asynchronous();
}

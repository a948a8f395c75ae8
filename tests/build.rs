//! The manifest of the test crate, for the agreement test.
fn main() {
    dingscope_build::Build::new().run();
}

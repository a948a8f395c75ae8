//! Collects the crate's #[requires_scope] declarations into its scope manifest: the Rust
//! constants of `dingscope::include_manifest!()`, and `frontend/dingscope.{json,ts,md}`
//! for the front end's openAuth call and the developer console.

fn main() {
    dingscope_build::Build::new().files("frontend").run();
}

//! The grammar of [dingscope](https://docs.rs/dingscope)'s `#[requires_scope]` attribute
//! and its applied-for list, `dingscope.toml`.
//!
//! The attribute macro (`dingscope-macros`) and the build-time manifest scanner
//! (`dingscope-build`) both read declarations through this crate, so the two can never
//! parse one differently. It is an implementation detail of both, versioned with them.

pub mod applied;
pub mod attr;
pub mod errors;

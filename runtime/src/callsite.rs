//! The callsite: an annotated function as compiled, its requirement encoded as a byte
//! string by `#[requires_scope]` (the layout is [`dingscope_catalog::wire`]), and its
//! module.
//!
//! The check reads the bytes where the function runs; the [`Requirement`] view of them is
//! built only to report a denial or to list the functions, once per function.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

use dingscope_catalog::wire::Decoded;

use crate::requirement::{Group, Requirement};

/// One annotated function's compiled requirement.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Callsite {
    /// The requirement, as the macro encoded it.
    pub(crate) bytes: &'static [u8],
    /// `module_path!()` where the function is declared.
    pub(crate) module: &'static str,
}

/// What a requirement that does not parse becomes: a code no grant can hold, so that the
/// check fails closed.
const MALFORMED: &str = "<malformed requirement>";

impl Callsite {
    /// The [`Requirement`] view, built on first use and kept for the program's life (one
    /// per annotated function).
    pub(crate) fn requirement(self) -> &'static Requirement {
        type Key = (usize, usize, usize, usize);
        static BUILT: OnceLock<Mutex<HashMap<Key, &'static Requirement>>> = OnceLock::new();
        let key = (
            self.bytes.as_ptr() as usize,
            self.bytes.len(),
            self.module.as_ptr() as usize,
            self.module.len(),
        );
        let mut built = BUILT
            .get_or_init(Default::default)
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        built
            .entry(key)
            .or_insert_with(|| Box::leak(Box::new(self.build())))
    }

    fn build(self) -> Requirement {
        let leak = |s: String| -> &'static str { Box::leak(s.into_boxed_str()) };
        let Ok(decoded) = Decoded::parse(self.bytes) else {
            let groups = Box::leak(Box::new([Group::rpc(&[MALFORMED])]));
            return Requirement::build(leak(format!("{}::?", self.module)), None, groups, None);
        };
        let groups: Vec<Group> = decoded
            .groups()
            .map(|g| Group::new(Box::leak(g.codes().collect()), g.kind()))
            .collect();
        Requirement::build(
            leak(format!("{}::{}", self.module, decoded.name())),
            Some((decoded.file(), decoded.line())),
            Box::leak(groups.into_boxed_slice()),
            decoded.auth(),
        )
    }
}

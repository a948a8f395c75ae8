//! Collecting every independent mistake before reporting.

use syn::Error;

/// Every mistake found so far, combined into one [`syn::Error`] that reports each at its
/// own span.
#[derive(Debug, Default)]
pub struct Errors(Option<Error>);

impl Errors {
    /// Adds a mistake.
    pub fn push(&mut self, e: Error) {
        match &mut self.0 {
            Some(all) => all.combine(e),
            None => self.0 = Some(e),
        }
    }

    /// Whether nothing went wrong.
    pub fn is_empty(&self) -> bool {
        self.0.is_none()
    }

    /// `Ok` if nothing went wrong, else every mistake.
    pub fn into_result(self) -> Result<(), Error> {
        self.0.map_or(Ok(()), Err)
    }
}

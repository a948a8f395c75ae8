//! What the client's test files share: one ISV app and corp, and retries that do not wait.

use std::time::Duration;

use dingscope::client::Retry;

pub(crate) const SUITE: &str = "suite-key";
pub(crate) const SUITE_SECRET: &str = "suite-secret-value-1";
pub(crate) const TICKET: &str = "suite-ticket-value-1";
pub(crate) const CORP: &str = "dingcorp1";
pub(crate) const DISMISSIONS: &str = "/v1.0/hrm/employees/dismissions";

/// Three attempts, a few milliseconds apart.
pub(crate) fn fast_retry() -> Retry {
    Retry {
        attempts: 3,
        base_delay: Duration::from_millis(2),
        max_delay: Duration::from_millis(10),
    }
}

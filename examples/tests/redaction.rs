//! Every example, run with `RUST_LOG=trace`: none of the configured secrets, and no token,
//! refresh token or auth code the mock issues, appears in anything it prints.

use std::path::PathBuf;
use std::process::Command;

/// The mock's secrets look like `tok` / `rft` / `code` followed by 12 hex digits.
fn issued_secret_in(text: &str) -> Option<&str> {
    for prefix in ["tok", "rft", "code"] {
        for (i, _) in text.match_indices(prefix) {
            let rest = &text[i + prefix.len()..];
            if rest.len() >= 12 && rest.as_bytes()[..12].iter().all(u8::is_ascii_hexdigit) {
                return Some(&text[i..i + prefix.len() + 12]);
            }
        }
    }
    None
}

#[test]
fn examples_print_no_secret_even_at_trace_level() {
    // target/<profile>/deps/this-test -> target/<profile>/examples/NAME
    let exe = std::env::current_exe().unwrap();
    let examples: PathBuf = exe.parent().unwrap().parent().unwrap().join("examples");
    for name in ["quickstart", "dismission", "default_scope"] {
        let out = Command::new(examples.join(name))
            .env("RUST_LOG", "trace")
            .env_remove("DINGSCOPE_SUITE_KEY")
            .output()
            .unwrap_or_else(|e| panic!("{name}: {e} (cargo test builds the examples first)"));
        assert!(
            out.status.success(),
            "{name} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            text.contains("TRACE") || text.contains("DEBUG"),
            "{name}: logging is not on"
        );
        for secret in ["mock-suite-secret", "mock-ticket-1"] {
            assert!(!text.contains(secret), "{name} printed {secret}");
        }
        assert_eq!(
            issued_secret_in(&text),
            None,
            "{name} printed an issued secret"
        );
    }
}

#[test]
fn the_detector_sees_a_token() {
    assert_eq!(
        issued_secret_in("x tok1a2b3c4d0001 y"),
        Some("tok1a2b3c4d0001")
    );
    assert_eq!(issued_secret_in("a token refresh"), None);
}

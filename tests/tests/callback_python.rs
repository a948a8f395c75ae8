//! DingTalk's callback encryption against an independent implementation: Python's
//! `cryptography` package (`scripts/callback_crypto_check.py`) decrypts what dingscope
//! encrypts, and dingscope decrypts what it encrypts. Without Python or the package, the
//! test says so and is skipped (in CI, where `.ci/run` installs it, it fails instead).

use std::process::Command;

use dingscope::Secret;
use dingscope::client::callback::CallbackCrypto;

const KEY: &str = "Yue0EfdN5900c1ce5cf6A152c63DDe1808a60c5ecd7";
const OWNER: &str = "ding6ccabc44d2c8d38b";

fn python(args: &[&str]) -> String {
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../scripts/callback_crypto_check.py"
    );
    let out = Command::new("python3")
        .arg(script)
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .trim_end_matches('\n')
        .to_owned()
}

#[test]
fn dingscope_and_python_cryptography_agree_both_ways() {
    let available = Command::new("python3")
        .args(["-c", "import cryptography"])
        .status()
        .is_ok_and(|s| s.success());
    if !available {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI is set but Python's cryptography package is not installed"
        );
        use std::io::Write as _;
        let _ = writeln!(
            std::io::stderr(),
            "skipping: python3 with `cryptography` is not available"
        );
        return;
    }
    let crypto = CallbackCrypto::new(Secret::new("mryue"), &Secret::new(KEY), OWNER).unwrap();
    let messages = [
        "success".to_owned(),
        r#"{"EventType":"check_url"}"#.to_owned(),
        String::new(),
        "钉钉".repeat(100),
        "x".repeat(31),
        "y".repeat(32),
        "z".repeat(300),
    ];
    for m in &messages {
        let ours = crypto.encrypt(m);
        assert_eq!(
            &python(&["decrypt", KEY, OWNER, &ours]),
            m,
            "Python read ours"
        );
        let theirs = python(&["encrypt", KEY, OWNER, m]);
        assert_eq!(&crypto.decrypt(&theirs).unwrap(), m, "we read Python's");
    }
}

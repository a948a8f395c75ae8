//! Secrets sealed in the store: access tokens, refresh tokens and the suite ticket are
//! encrypted with an app-provided key before they are written, when one is configured
//! ([`DingTalkBuilder::store_key`](super::DingTalkBuilder::store_key)).
//!
//! XChaCha20-Poly1305 (RustCrypto's `chacha20poly1305`), a random 192-bit nonce per
//! value, and the value's store key as associated data: a sealed value moved to another
//! key (another corp's token, say) does not open. A sealed value is `dsv1:` and the
//! base64 of the nonce and the ciphertext. Without the `store-encryption` feature, values
//! are stored as they are.

#[cfg(feature = "store-encryption")]
pub(crate) use sealed::Sealer;
#[cfg(feature = "store-encryption")]
pub use sealed::StoreKey;

/// Stores values as they are: the `store-encryption` feature is off.
#[cfg(not(feature = "store-encryption"))]
#[derive(Clone, Default)]
pub(crate) struct Sealer(());

#[cfg(not(feature = "store-encryption"))]
impl Sealer {
    pub(crate) fn seal(&self, _key: &str, plain: &str) -> String {
        plain.to_owned()
    }

    pub(crate) fn open(&self, _key: &str, stored: &str) -> Option<String> {
        Some(stored.to_owned())
    }
}

#[cfg(feature = "store-encryption")]
mod sealed {
    use std::fmt;
    use std::sync::Arc;

    use base64::Engine as _;
    use base64::engine::general_purpose::STANDARD_NO_PAD;
    use chacha20poly1305::aead::{Aead, KeyInit, Payload};
    use chacha20poly1305::{XChaCha20Poly1305, XNonce};

    use crate::Error;

    /// What a sealed value starts with.
    const PREFIX: &str = "dsv1:";
    const NONCE: usize = 24;

    /// The key that seals dingscope's secrets in the store: 32 bytes, kept by the app (in
    /// its secret manager, say) and the same on every instance. Never printed.
    #[derive(Clone)]
    pub struct StoreKey(Arc<XChaCha20Poly1305>);

    impl fmt::Debug for StoreKey {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("StoreKey(<redacted>)")
        }
    }

    impl StoreKey {
        /// A key of these 32 bytes.
        pub fn from_bytes(bytes: [u8; 32]) -> StoreKey {
            StoreKey(Arc::new(XChaCha20Poly1305::new(&bytes.into())))
        }

        /// A key from the base64 of 32 bytes (`openssl rand -base64 32`).
        pub fn from_base64(text: &str) -> Result<StoreKey, Error> {
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(text.trim())
                .map_err(|_| Error::Config("the store key is not base64".into()))?;
            let bytes: [u8; 32] = bytes.try_into().map_err(|b: Vec<u8>| {
                Error::Config(format!("the store key is {} bytes, not 32", b.len()))
            })?;
            Ok(StoreKey::from_bytes(bytes))
        }
    }

    /// Seals and opens stored secrets, or passes them through when no key is configured.
    #[derive(Clone, Default)]
    pub(crate) struct Sealer(Option<StoreKey>);

    impl Sealer {
        pub(crate) fn new(key: Option<StoreKey>) -> Sealer {
            Sealer(key)
        }

        /// The stored form of `plain`, to be kept under `key`.
        pub(crate) fn seal(&self, key: &str, plain: &str) -> String {
            let Some(StoreKey(cipher)) = &self.0 else {
                return plain.to_owned();
            };
            let mut nonce = [0u8; NONCE];
            if getrandom::fill(&mut nonce).is_err() {
                // No randomness from the system: a nonce from the clock and the standard
                // library's randomly keyed hasher, unique enough for one value.
                use std::hash::{BuildHasher, Hasher};
                let mut h = std::collections::hash_map::RandomState::new().build_hasher();
                h.write_u128(
                    std::time::SystemTime::now()
                        .duration_since(std::time::UNIX_EPOCH)
                        .map_or(0, |d| d.as_nanos()),
                );
                nonce[..8].copy_from_slice(&h.finish().to_le_bytes());
            }
            let sealed = cipher
                .encrypt(
                    XNonce::from_slice(&nonce),
                    Payload {
                        msg: plain.as_bytes(),
                        aad: key.as_bytes(),
                    },
                )
                .unwrap_or_default();
            let mut out = nonce.to_vec();
            out.extend_from_slice(&sealed);
            format!("{PREFIX}{}", STANDARD_NO_PAD.encode(out))
        }

        /// The secret in `stored`, kept under `key`; `None` if it does not open (another key,
        /// another store key, tampered, or clear text where a key is configured), which
        /// reads as absent.
        pub(crate) fn open(&self, key: &str, stored: &str) -> Option<String> {
            let Some(StoreKey(cipher)) = &self.0 else {
                if stored.starts_with(PREFIX) {
                    tracing::warn!(
                        "a sealed value in the store, but no store key configured; ignored"
                    );
                    return None;
                }
                return Some(stored.to_owned());
            };
            let opened = stored
                .strip_prefix(PREFIX)
                .and_then(|b| STANDARD_NO_PAD.decode(b).ok())
                .filter(|raw| raw.len() > NONCE)
                .and_then(|raw| {
                    let (nonce, sealed) = raw.split_at(NONCE);
                    cipher
                        .decrypt(
                            XNonce::from_slice(nonce),
                            Payload {
                                msg: sealed,
                                aad: key.as_bytes(),
                            },
                        )
                        .ok()
                })
                .and_then(|plain| String::from_utf8(plain).ok());
            if opened.is_none() {
                tracing::warn!("a stored secret did not open with the store key; ignored");
            }
            opened
        }
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn sealed_values_open_only_under_their_key_and_store_key() {
            let k = StoreKey::from_bytes([7; 32]);
            let s = Sealer::new(Some(k.clone()));
            let sealed = s.seal("dingscope:token:a", "secret-token");
            assert!(sealed.starts_with(PREFIX) && !sealed.contains("secret-token"));
            assert_ne!(
                sealed,
                s.seal("dingscope:token:a", "secret-token"),
                "one nonce per value"
            );
            assert_eq!(
                s.open("dingscope:token:a", &sealed).as_deref(),
                Some("secret-token")
            );
            assert_eq!(
                s.open("dingscope:token:b", &sealed),
                None,
                "moved to another key"
            );
            let other = Sealer::new(Some(StoreKey::from_bytes([8; 32])));
            assert_eq!(other.open("dingscope:token:a", &sealed), None);
            let mut tampered = sealed.clone().into_bytes();
            let last = tampered.len() - 2;
            tampered[last] = if tampered[last] == b'A' { b'B' } else { b'A' };
            assert_eq!(
                s.open("dingscope:token:a", std::str::from_utf8(&tampered).unwrap()),
                None
            );
            assert_eq!(s.open("dingscope:token:a", "clear-text"), None);
            assert_eq!(Sealer::default().open("k", &sealed), None);
            assert_eq!(
                Sealer::default().open("k", "clear").as_deref(),
                Some("clear")
            );
            assert_eq!(format!("{k:?}"), "StoreKey(<redacted>)");
            assert!(StoreKey::from_base64("AAAA").is_err());
            assert!(
                StoreKey::from_base64(&base64::engine::general_purpose::STANDARD.encode([1u8; 32]))
                    .is_ok()
            );
        }
    }
}

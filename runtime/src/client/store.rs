//! Where tokens, suite tickets and grants are kept: in memory by default, or in Redis
//! (feature `redis`) when several instances of a service share them.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// A boxed future, so that stores can be used as `Arc<dyn Store>`.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

pub use crate::error::StoreError;

/// A small key-value store with expiry and locks: all that dingscope keeps.
///
/// Values are strings (dingscope writes JSON). A lock is a key set only if absent, with
/// an expiry that bounds a crashed holder, released only by the holder (`owner`).
pub trait Store: Send + Sync + 'static {
    /// The value at `key`, if present and not expired.
    fn get<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<Option<String>, StoreError>>;
    /// Sets `key`, with an expiry or none (suite tickets have none).
    fn set<'a>(
        &'a self,
        key: &'a str,
        value: String,
        ttl: Option<Duration>,
    ) -> BoxFuture<'a, Result<(), StoreError>>;
    /// Takes the lock `key` for `owner` if nobody holds it; `true` if taken.
    fn try_lock<'a>(
        &'a self,
        key: &'a str,
        owner: &'a str,
        ttl: Duration,
    ) -> BoxFuture<'a, Result<bool, StoreError>>;
    /// Removes `key` only if its value is still `expected`, atomically; `true` if removed.
    ///
    /// Instances use it to drop a token DingTalk refused without dropping the newer one
    /// another instance may have stored meanwhile, and to release their locks.
    fn delete_if<'a>(
        &'a self,
        key: &'a str,
        expected: &'a str,
    ) -> BoxFuture<'a, Result<bool, StoreError>>;
    /// Removes `key`; `true` if it was there. The default reads the value and removes it
    /// if it is unchanged ([`delete_if`](Store::delete_if)).
    fn delete<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<bool, StoreError>> {
        Box::pin(async move {
            match self.get(key).await? {
                Some(v) => self.delete_if(key, &v).await,
                None => Ok(false),
            }
        })
    }
    /// Sets `key` to `value`, with no expiry, unless it holds a value that is greater or
    /// equal (byte order), atomically; `true` if set. Suite tickets are stored so that a
    /// newer one is greater. The default is a read and a write, which another instance can
    /// interleave: stores shared by instances implement it atomically.
    fn set_if_greater<'a>(
        &'a self,
        key: &'a str,
        value: String,
    ) -> BoxFuture<'a, Result<bool, StoreError>> {
        Box::pin(async move {
            match self.get(key).await? {
                Some(held) if held.as_bytes() >= value.as_bytes() => Ok(false),
                _ => self.set(key, value, None).await.map(|()| true),
            }
        })
    }
    /// Sets `key` to `value`, with no expiry, if it still holds `expected` (`None`: if it is
    /// absent), atomically; `true` if set. Grants are updated this way, read, changed and
    /// written back unless another instance wrote first, so that concurrent updates (an
    /// openAuth answer here, a denial there) all land. The default is a read and a write,
    /// which another instance can interleave: stores shared by instances implement it
    /// atomically.
    fn compare_and_set<'a>(
        &'a self,
        key: &'a str,
        expected: Option<&'a str>,
        value: String,
    ) -> BoxFuture<'a, Result<bool, StoreError>> {
        Box::pin(async move {
            if self.get(key).await?.as_deref() != expected {
                return Ok(false);
            }
            self.set(key, value, None).await.map(|()| true)
        })
    }
    /// Adds one to the count at `key` (0 if absent) and answers the new count; a key it
    /// creates expires after `ttl`. The optional rate limiter counts calls this way. The
    /// default is a read and a write, which another instance can interleave: stores
    /// shared by instances implement it atomically.
    fn incr<'a>(&'a self, key: &'a str, ttl: Duration) -> BoxFuture<'a, Result<u64, StoreError>> {
        Box::pin(async move {
            let n = self
                .get(key)
                .await?
                .and_then(|v| v.parse::<u64>().ok())
                .unwrap_or(0)
                .saturating_add(1);
            self.set(key, n.to_string(), Some(ttl)).await.map(|()| n)
        })
    }
    /// Extends the lock `key` to `ttl` from now if `owner` still holds it, atomically;
    /// `true` if extended. A refresh that runs long keeps its lock with it. The default
    /// cannot do it atomically and extends nothing: locks then last their first `ttl`,
    /// which is longer than the slowest fetch.
    fn extend_lock<'a>(
        &'a self,
        key: &'a str,
        owner: &'a str,
        ttl: Duration,
    ) -> BoxFuture<'a, Result<bool, StoreError>> {
        let _ = (key, owner, ttl);
        Box::pin(async { Ok(false) })
    }
    /// Releases the lock `key` if `owner` still holds it (a lock's value is its owner).
    fn unlock<'a>(&'a self, key: &'a str, owner: &'a str) -> BoxFuture<'a, Result<(), StoreError>> {
        let removed = self.delete_if(key, owner);
        Box::pin(async move { removed.await.map(|_| ()) })
    }
}

/// The default store: one process's memory.
///
/// Every operation is O(1): an expired entry is dropped when it is read, and the whole map
/// is swept once as many operations have passed as it holds entries (at least 1,024), so
/// the sweep's cost is spread over those operations.
#[derive(Default)]
pub struct MemoryStore {
    map: Mutex<Entries>,
}

#[derive(Default)]
struct Entries {
    map: HashMap<String, (String, Option<Instant>)>,
    /// Operations since the last sweep.
    ops: usize,
}

impl std::fmt::Debug for MemoryStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Values are tokens and tickets: never printed.
        let n = self.map.lock().map(|m| m.map.len()).unwrap_or(0);
        f.debug_struct("MemoryStore").field("entries", &n).finish()
    }
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> MemoryStore {
        MemoryStore::default()
    }

    /// Entries held, expired ones not swept yet included.
    pub fn len(&self) -> usize {
        self.map.lock().unwrap_or_else(|e| e.into_inner()).map.len()
    }

    /// Whether it holds no entry.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Runs `f` on the live entries: `key`'s, if expired, is dropped first.
    fn with<R>(
        &self,
        key: &str,
        f: impl FnOnce(&mut HashMap<String, (String, Option<Instant>)>) -> R,
    ) -> R {
        let mut entries = self.map.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        entries.ops += 1;
        if entries.ops >= entries.map.len().max(1024) {
            entries.ops = 0;
            entries
                .map
                .retain(|_, (_, exp)| exp.is_none_or(|e| e > now));
        } else if entries
            .map
            .get(key)
            .is_some_and(|(_, exp)| exp.is_some_and(|e| e <= now))
        {
            entries.map.remove(key);
        }
        f(&mut entries.map)
    }
}

impl Store for MemoryStore {
    fn get<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<Option<String>, StoreError>> {
        let v = self.with(key, |m| m.get(key).map(|(v, _)| v.clone()));
        Box::pin(async move { Ok(v) })
    }

    fn set<'a>(
        &'a self,
        key: &'a str,
        value: String,
        ttl: Option<Duration>,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        let exp = ttl.map(|t| Instant::now() + t);
        self.with(key, |m| m.insert(key.to_owned(), (value, exp)));
        Box::pin(async { Ok(()) })
    }

    fn try_lock<'a>(
        &'a self,
        key: &'a str,
        owner: &'a str,
        ttl: Duration,
    ) -> BoxFuture<'a, Result<bool, StoreError>> {
        let taken = self.with(key, |m| {
            if m.contains_key(key) {
                false
            } else {
                m.insert(
                    key.to_owned(),
                    (owner.to_owned(), Some(Instant::now() + ttl)),
                );
                true
            }
        });
        Box::pin(async move { Ok(taken) })
    }

    fn set_if_greater<'a>(
        &'a self,
        key: &'a str,
        value: String,
    ) -> BoxFuture<'a, Result<bool, StoreError>> {
        let set = self.with(key, |m| match m.get(key) {
            Some((held, _)) if held.as_bytes() >= value.as_bytes() => false,
            _ => {
                m.insert(key.to_owned(), (value, None));
                true
            }
        });
        Box::pin(async move { Ok(set) })
    }

    fn compare_and_set<'a>(
        &'a self,
        key: &'a str,
        expected: Option<&'a str>,
        value: String,
    ) -> BoxFuture<'a, Result<bool, StoreError>> {
        let set = self.with(key, |m| {
            if m.get(key).map(|(v, _)| v.as_str()) != expected {
                return false;
            }
            m.insert(key.to_owned(), (value, None));
            true
        });
        Box::pin(async move { Ok(set) })
    }

    fn incr<'a>(&'a self, key: &'a str, ttl: Duration) -> BoxFuture<'a, Result<u64, StoreError>> {
        let n = self.with(key, |m| {
            let entry = m
                .entry(key.to_owned())
                .or_insert_with(|| ("0".to_owned(), Some(Instant::now() + ttl)));
            let n = entry.0.parse::<u64>().unwrap_or(0).saturating_add(1);
            entry.0 = n.to_string();
            n
        });
        Box::pin(async move { Ok(n) })
    }

    fn extend_lock<'a>(
        &'a self,
        key: &'a str,
        owner: &'a str,
        ttl: Duration,
    ) -> BoxFuture<'a, Result<bool, StoreError>> {
        let extended = self.with(key, |m| match m.get_mut(key) {
            Some((value, expiry)) if value == owner => {
                *expiry = Some(Instant::now() + ttl);
                true
            }
            _ => false,
        });
        Box::pin(async move { Ok(extended) })
    }

    fn delete<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<bool, StoreError>> {
        let removed = self.with(key, |m| m.remove(key).is_some());
        Box::pin(async move { Ok(removed) })
    }

    fn delete_if<'a>(
        &'a self,
        key: &'a str,
        expected: &'a str,
    ) -> BoxFuture<'a, Result<bool, StoreError>> {
        let removed = self.with(key, |m| {
            m.get(key).is_some_and(|(v, _)| v == expected) && m.remove(key).is_some()
        });
        Box::pin(async move { Ok(removed) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn expiry_and_locks() {
        let s = MemoryStore::new();
        s.set("a", "1".into(), None).await.unwrap();
        s.set("b", "2".into(), Some(Duration::from_millis(0)))
            .await
            .unwrap();
        assert_eq!(s.get("a").await.unwrap().as_deref(), Some("1"));
        assert_eq!(s.get("b").await.unwrap(), None);
        assert!(s.try_lock("l", "me", Duration::from_secs(5)).await.unwrap());
        assert!(
            !s.try_lock("l", "you", Duration::from_secs(5))
                .await
                .unwrap()
        );
        s.unlock("l", "you").await.unwrap();
        assert!(
            !s.try_lock("l", "you", Duration::from_secs(5))
                .await
                .unwrap()
        );
        s.unlock("l", "me").await.unwrap();
        assert!(
            s.try_lock("l", "you", Duration::from_secs(5))
                .await
                .unwrap()
        );
        assert!(!format!("{s:?}").contains('1'));
    }

    /// Expired entries go when read, and all of them once as many operations have
    /// passed as the store holds entries.
    #[tokio::test]
    async fn expired_entries_are_swept() {
        let s = MemoryStore::new();
        for i in 0..2000 {
            s.set(&format!("k{i}"), "v".into(), Some(Duration::ZERO))
                .await
                .unwrap();
        }
        s.set("kept", "v".into(), None).await.unwrap();
        // A sweep ran while they were written: 1,024 operations had passed.
        assert!(s.len() < 2001, "{}", s.len());
        assert_eq!(s.get("k5").await.unwrap(), None);
        for _ in 0..2001 {
            s.get("kept").await.unwrap();
        }
        assert_eq!(s.len(), 1);
    }

    #[tokio::test]
    async fn compare_and_set_writes_only_over_the_expected_value() {
        let s = MemoryStore::new();
        assert!(!s.compare_and_set("g", Some("x"), "1".into()).await.unwrap());
        assert!(s.compare_and_set("g", None, "1".into()).await.unwrap());
        assert!(!s.compare_and_set("g", None, "2".into()).await.unwrap());
        assert!(!s.compare_and_set("g", Some("0"), "2".into()).await.unwrap());
        assert!(s.compare_and_set("g", Some("1"), "2".into()).await.unwrap());
        assert_eq!(s.get("g").await.unwrap().as_deref(), Some("2"));
    }
}

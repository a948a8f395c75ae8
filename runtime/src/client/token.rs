//! The token cache: refresh ahead of expiry, one fetch per key at a time (in this process
//! and, through the store's lock, across processes), invalidation on a bad-token answer.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use super::keys::Keys;
use super::seal::Sealer;
use super::store::Store;
use crate::Secret;

/// A token as a token endpoint returned it.
pub(crate) struct Fetched {
    pub token: Secret,
    pub expire_in: i64,
}

#[derive(Clone)]
struct Cached {
    token: Secret,
    stale_at: Instant,
    expires_at: Instant,
    /// `stale_at` as wall-clock milliseconds, comparable across processes.
    stale_at_ms: u64,
}

#[derive(Serialize, Deserialize)]
struct StoredToken {
    token: String,
    #[serde(rename = "staleAtMs")]
    stale_at_ms: u64,
    #[serde(rename = "expiresAtMs")]
    expires_at_ms: u64,
}

/// Longest lifetime believed, whatever `expireIn` says (30 days).
const MAX_LIFETIME: Duration = Duration::from_secs(30 * 24 * 3600);
/// Another instance holds the token refresh lock, the wait for its token ran out, and no
/// token of this process is still valid.
#[derive(Debug)]
pub(crate) struct Busy;

impl From<Busy> for crate::Error {
    fn from(_: Busy) -> crate::Error {
        crate::Error::Unavailable(crate::error::ApiError::new(
            "token refresh",
            0,
            "",
            "another instance is refreshing this token and has not shared it in time",
            None,
            0,
        ))
    }
}

/// One key's token in this process. A [`Principal`](super::Principal) keeps its slot, so
/// that a cache hit is a read lock, a clock read and a reference-count increment, with no
/// hashing of the key.
#[derive(Default)]
pub(crate) struct Slot {
    cached: RwLock<Option<Cached>>,
    /// The last token whose lifetime was zero or less, with when it arrived: not cached,
    /// but shared with the callers that were already waiting for it.
    once: Mutex<Option<(Instant, Secret)>>,
}

impl Slot {
    /// A fresh token, if any. The fast path of every call.
    #[inline]
    pub(crate) fn fresh(&self) -> Option<Secret> {
        let cached = self.cached.read().unwrap_or_else(|e| e.into_inner());
        cached
            .as_ref()
            .filter(|c| c.stale_at > Instant::now())
            .map(|c| c.token.clone())
    }

    /// A token that has not expired, stale or not.
    fn usable(&self) -> Option<Secret> {
        let cached = self.cached.read().unwrap_or_else(|e| e.into_inner());
        cached
            .as_ref()
            .filter(|c| c.expires_at > Instant::now())
            .map(|c| c.token.clone())
    }

    /// A token of no lifetime that arrived after `since`: one fetch serves every caller
    /// that was waiting for it.
    fn once_since(&self, since: Instant) -> Option<Secret> {
        let once = self.once.lock().unwrap_or_else(|e| e.into_inner());
        once.as_ref()
            .filter(|(at, _)| *at >= since)
            .map(|(_, t)| t.clone())
    }

    fn set_once(&self, token: Secret) {
        *self.once.lock().unwrap_or_else(|e| e.into_inner()) = Some((Instant::now(), token));
    }

    fn set(&self, c: Cached) {
        *self.cached.write().unwrap_or_else(|e| e.into_inner()) = Some(c);
    }
}

pub(crate) struct TokenCache {
    slots: RwLock<Slots>,
    /// Per key, the `stale_at_ms` of the last token DingTalk refused: a stored token no
    /// newer than that is as bad (a restarted store may hand back an old one).
    refused: RwLock<HashMap<String, u64>>,
    /// The single-flight locks of the keys being fetched: dropped when the last waiter
    /// leaves.
    flights: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
    margin: Duration,
    /// How long the cross-instance refresh lock is taken for: longer than the slowest
    /// fetch, and extended while a fetch runs.
    lock_ttl: Duration,
    /// This cache's identity as a lock holder: 128 random bits.
    owner: String,
    /// Where its tokens and locks are kept in the store.
    keys: Keys,
    /// Seals the tokens it writes there.
    sealer: Sealer,
}

/// The slots, bounded: a slot that no principal holds and whose token has expired is
/// dropped by a sweep that runs when the map has doubled since the last one.
#[derive(Default)]
struct Slots {
    map: HashMap<String, Arc<Slot>>,
    /// The size at which the next sweep runs.
    sweep_at: usize,
}

/// The fewest slots a sweep waits for.
const MIN_SWEEP: usize = 1024;

/// 128 random bits, in hex: the operating system's, else the standard library's
/// randomly keyed hasher (seeded from the operating system too).
pub(crate) fn random_owner() -> String {
    let mut bytes = [0u8; 16];
    if getrandom::fill(&mut bytes).is_err() {
        use std::hash::{BuildHasher, Hasher};
        for half in bytes.chunks_mut(8) {
            let mut h = std::hash::RandomState::new().build_hasher();
            h.write_u128(
                std::time::SystemTime::now()
                    .duration_since(UNIX_EPOCH)
                    .map_or(0, |d| d.as_nanos()),
            );
            half.copy_from_slice(&h.finish().to_le_bytes());
        }
    }
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// When a token of `expire_in` seconds becomes stale and expires, from now.
///
/// Stale `margin` before expiry, as DingTalk advises (10 minutes by default), but never
/// before half its life: a token of a few seconds is still used for half of them.
pub(crate) fn lifetimes(expire_in: i64, margin: Duration) -> Option<(Duration, Duration)> {
    if expire_in <= 0 {
        return None;
    }
    let life = Duration::from_secs(expire_in as u64).min(MAX_LIFETIME);
    let stale = life.saturating_sub(margin).max(life / 2);
    Some((stale, life))
}

impl TokenCache {
    /// A cache that refreshes `margin` before expiry and holds the cross-instance refresh
    /// lock for `lock_ttl` at a time.
    pub(crate) fn new(margin: Duration, lock_ttl: Duration) -> TokenCache {
        TokenCache {
            slots: RwLock::default(),
            refused: RwLock::default(),
            flights: Mutex::default(),
            margin,
            lock_ttl,
            owner: random_owner(),
            keys: Keys::default(),
            sealer: Sealer::default(),
        }
    }

    /// The same cache, keeping its tokens and locks under `keys`.
    pub(crate) fn with_keys(mut self, keys: Keys) -> TokenCache {
        self.keys = keys;
        self
    }

    /// The same cache, sealing the tokens it stores with `sealer`.
    pub(crate) fn with_sealer(mut self, sealer: Sealer) -> TokenCache {
        self.sealer = sealer;
        self
    }

    /// The slot of `key`, made on first use.
    pub(crate) fn slot(&self, key: &str) -> Arc<Slot> {
        if let Some(slot) = self
            .slots
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .map
            .get(key)
        {
            return slot.clone();
        }
        let mut slots = self.slots.write().unwrap_or_else(|e| e.into_inner());
        if slots.map.len() >= slots.sweep_at.max(MIN_SWEEP) {
            self.sweep(&mut slots);
        }
        slots.map.entry(key.to_owned()).or_default().clone()
    }

    /// Drops the slots no principal holds whose token has expired, and the refusal marks
    /// that no stored token can match any more.
    fn sweep(&self, slots: &mut Slots) {
        slots
            .map
            .retain(|_, slot| Arc::strong_count(slot) > 1 || slot.usable().is_some());
        slots.sweep_at = slots.map.len().saturating_mul(2);
        let now = now_ms();
        self.refused
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .retain(|_, stale_at| *stale_at > now);
    }

    /// Slots held now.
    #[cfg(test)]
    fn slot_count(&self) -> usize {
        self.slots
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .map
            .len()
    }

    /// The single-flight lock of `key`, held until the returned guard drops.
    async fn flight(&self, key: &str) -> Flight<'_> {
        let lock = self
            .flights
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(key.to_owned())
            .or_default()
            .clone();
        let guard = lock.clone().lock_owned().await;
        Flight {
            cache: self,
            key: key.to_owned(),
            lock,
            guard: Some(guard),
        }
    }

    /// The token for `key`: cached, from the shared store, or from `fetch`, which runs at
    /// most once at a time per key however many callers wait.
    pub(crate) async fn get<F, Fut, E>(
        &self,
        key: &str,
        store: &dyn Store,
        fetch: F,
    ) -> Result<Secret, E>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<Fetched, E>>,
        E: From<Busy>,
    {
        let slot = self.slot(key);
        if let Some(t) = slot.fresh() {
            return Ok(t);
        }
        let waiting_since = Instant::now();
        let _one_at_a_time = self.flight(key).await;
        if let Some(t) = slot.fresh().or_else(|| slot.once_since(waiting_since)) {
            return Ok(t);
        }
        let lock_key = self.keys.lock(key);
        if let Some(t) = self.read_store(store, key).await {
            return Ok(t);
        }
        // Across processes: one refresher; the others wait for its token, as long as its
        // lock can last. A waiter never fetches without the lock: when the wait runs out,
        // it serves its own still-valid token or fails. Only a store that does not answer
        // leaves each process to refresh alone.
        let mut locked = false;
        let deadline = tokio::time::Instant::now() + self.lock_ttl;
        let mut attempt = 0u64;
        loop {
            match store.try_lock(&lock_key, &self.owner, self.lock_ttl).await {
                Ok(true) => {
                    locked = true;
                    break;
                }
                Ok(false) => {
                    if tokio::time::Instant::now() >= deadline {
                        return slot.usable().ok_or_else(|| E::from(Busy));
                    }
                    attempt += 1;
                    tokio::time::sleep(Duration::from_millis(25 * attempt.min(8))).await;
                    if let Some(t) = self.read_store(store, key).await {
                        return Ok(t);
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e, "token store unavailable; refreshing in this process alone");
                    break;
                }
            }
        }
        // The holder before us may have stored its token and released the lock between
        // our read of the store and our lock: read it again before fetching.
        let shared = if locked {
            self.read_store(store, key).await
        } else {
            None
        };
        let out = match shared {
            Some(t) => Ok(t),
            None if locked => {
                let refresh = self.refresh(&slot, store, key, fetch);
                self.holding(store, &lock_key, refresh).await
            }
            None => self.refresh(&slot, store, key, fetch).await,
        };
        if locked && let Err(e) = store.unlock(&lock_key, &self.owner).await {
            tracing::warn!(error = %e, "could not release a token refresh lock; it expires by itself");
        }
        out
    }

    /// Runs `work` while holding the lock `lock_key`, extending the lock every third of its
    /// lifetime so that a slow fetch never outlives it.
    async fn holding<T>(
        &self,
        store: &dyn Store,
        lock_key: &str,
        work: impl Future<Output = T>,
    ) -> T {
        let mut work = std::pin::pin!(work);
        loop {
            match tokio::time::timeout(self.lock_ttl / 3, &mut work).await {
                Ok(out) => return out,
                Err(_) => match store
                    .extend_lock(lock_key, &self.owner, self.lock_ttl)
                    .await
                {
                    Ok(true) => {}
                    Ok(false) => tracing::warn!(
                        "the token refresh lock could not be extended; another instance may refresh too"
                    ),
                    Err(e) => tracing::warn!(error = %e, "could not extend the token refresh lock"),
                },
            }
        }
    }

    /// Keeps `fetched`, a token DingTalk has just issued, as `key`'s token here and in the
    /// store, replacing whatever was cached: a newer grant stands behind it.
    pub(crate) async fn put(&self, key: &str, store: &dyn Store, fetched: Fetched) -> Secret {
        let slot = self.slot(key);
        let _one_at_a_time = self.flight(key).await;
        match self
            .refresh(&slot, store, key, || async {
                Ok::<_, std::convert::Infallible>(fetched)
            })
            .await
        {
            Ok(token) => token,
            Err(never) => match never {},
        }
    }

    /// Fetches a token, keeps it in `slot` and shares it through the store. If the fetch
    /// fails while the old token has not expired yet, the old one is used.
    async fn refresh<F, Fut, E>(
        &self,
        slot: &Slot,
        store: &dyn Store,
        key: &str,
        fetch: F,
    ) -> Result<Secret, E>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<Fetched, E>>,
    {
        match fetch().await {
            Ok(f) => {
                let token = f.token.clone();
                match lifetimes(f.expire_in, self.margin) {
                    Some((stale, life)) => {
                        let now = Instant::now();
                        let stored = StoredToken {
                            token: f.token.expose().to_owned(),
                            stale_at_ms: now_ms() + stale.as_millis() as u64,
                            expires_at_ms: now_ms() + life.as_millis() as u64,
                        };
                        slot.set(Cached {
                            token: f.token.clone(),
                            stale_at: now + stale,
                            expires_at: now + life,
                            stale_at_ms: stored.stale_at_ms,
                        });
                        let store_key = self.keys.token(key);
                        if let Ok(json) = serde_json::to_string(&stored)
                            && let Err(e) = store
                                .set(&store_key, self.sealer.seal(&store_key, &json), Some(life))
                                .await
                        {
                            tracing::warn!(error = %e, "could not share a token through the store");
                        }
                    }
                    None => {
                        tracing::warn!(
                            expire_in = f.expire_in,
                            "token endpoint answered a lifetime of zero or less; the token is not cached, only shared with the callers waiting for it"
                        );
                        slot.set_once(token.clone());
                    }
                }
                Ok(token)
            }
            // A refresh ahead of expiry failed, but the old token still works: use it.
            Err(e) => match slot.usable() {
                Some(old) => Ok(old),
                None => Err(e),
            },
        }
    }

    /// The token the store shares for `key`, if it is fresh and not one DingTalk refused.
    async fn read_store(&self, store: &dyn Store, key: &str) -> Option<Secret> {
        let store_key = self.keys.token(key);
        let json = match store.get(&store_key).await {
            Ok(v) => self.sealer.open(&store_key, &v?)?,
            Err(e) => {
                tracing::warn!(error = %e, "token store unavailable");
                return None;
            }
        };
        let stored: StoredToken = serde_json::from_str(&json).ok()?;
        let now = now_ms();
        let refused = self
            .refused
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(key)
            .copied();
        if stored.stale_at_ms <= now || refused.is_some_and(|r| stored.stale_at_ms <= r) {
            return None;
        }
        let at = |ms: u64| Instant::now() + Duration::from_millis(ms.saturating_sub(now));
        let token = Secret::new(stored.token);
        self.slot(key).set(Cached {
            token: token.clone(),
            stale_at: at(stored.stale_at_ms),
            expires_at: at(stored.expires_at_ms),
            stale_at_ms: stored.stale_at_ms,
        });
        Some(token)
    }

    /// Forgets `key`'s token, whatever it is, here and in the store (the corp removed the
    /// app).
    pub(crate) async fn forget(&self, key: &str, store: &dyn Store) {
        *self
            .slot(key)
            .cached
            .write()
            .unwrap_or_else(|e| e.into_inner()) = None;
        if let Err(e) = store.delete(&self.keys.token(key)).await {
            tracing::warn!(error = %e, "could not drop a token from the store");
        }
    }

    /// Forgets `key`'s token here and in the store, if it is still `bad`.
    pub(crate) async fn invalidate(&self, key: &str, bad: &Secret, store: &dyn Store) {
        {
            let slot = self.slot(key);
            let mut cached = slot.cached.write().unwrap_or_else(|e| e.into_inner());
            if let Some(c) = cached.as_ref().filter(|c| &c.token == bad) {
                let mut refused = self.refused.write().unwrap_or_else(|e| e.into_inner());
                let r = refused.entry(key.to_owned()).or_default();
                *r = (*r).max(c.stale_at_ms);
                *cached = None;
            }
        }
        // Only the refused token: another instance may have stored a newer one meanwhile.
        let store_key = self.keys.token(key);
        if let Ok(Some(raw)) = store.get(&store_key).await
            && let Some(json) = self.sealer.open(&store_key, &raw)
            && serde_json::from_str::<StoredToken>(&json).is_ok_and(|s| s.token == bad.expose())
            && let Err(e) = store.delete_if(&store_key, &raw).await
        {
            tracing::warn!(error = %e, "could not drop a bad token from the store");
        }
    }
}

/// A held single-flight lock. When the last caller of its key lets go, the lock leaves
/// the map.
struct Flight<'a> {
    cache: &'a TokenCache,
    key: String,
    lock: Arc<tokio::sync::Mutex<()>>,
    guard: Option<tokio::sync::OwnedMutexGuard<()>>,
}

impl Drop for Flight<'_> {
    fn drop(&mut self) {
        // Released first: the map and this guard are then the only holders if nobody waits.
        self.guard.take();
        let mut flights = self.cache.flights.lock().unwrap_or_else(|e| e.into_inner());
        // The map's reference, `self.lock` and the guard's, now gone: 2 means no waiter.
        if Arc::strong_count(&self.lock) == 2 {
            flights.remove(&self.key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::store::{BoxFuture, MemoryStore, StoreError};
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// The lock lifetime of the default settings, as the builder computes it.
    const LOCK_TTL: Duration = Duration::from_secs(34);

    impl From<Busy> for () {
        fn from(_: Busy) {}
    }

    impl From<Busy> for &'static str {
        fn from(_: Busy) -> &'static str {
            "busy"
        }
    }

    /// Per-key state does not outlive its use: flights go with their last waiter, and
    /// slots that no principal holds and whose token has expired go in the next sweep.
    #[tokio::test]
    async fn per_key_state_is_bounded() {
        let cache = TokenCache::new(Duration::from_secs(600), LOCK_TTL);
        let store = MemoryStore::new();
        for i in 0..5000 {
            let key = format!("corp{i}");
            let t: Result<Secret, ()> = cache
                .get(&key, &store, || async {
                    Ok(Fetched {
                        token: Secret::new("t"),
                        expire_in: 0,
                    })
                })
                .await;
            t.unwrap();
        }
        assert!(cache.flights.lock().unwrap().is_empty());
        assert!(
            cache.slot_count() <= 2 * MIN_SWEEP,
            "{}",
            cache.slot_count()
        );
        // A slot a principal holds, or with a live token, stays.
        let held = cache.slot("held");
        let _: Secret = cache
            .put(
                "live",
                &store,
                Fetched {
                    token: Secret::new("live-token"),
                    expire_in: 7200,
                },
            )
            .await;
        for i in 0..5000 {
            cache.slot(&format!("more{i}"));
        }
        let map = &cache.slots.read().unwrap().map;
        assert!(Arc::ptr_eq(&map["held"], &held));
        assert!(map["live"].fresh().is_some());
    }

    #[test]
    fn the_default_lock_outlasts_the_slowest_fetch() {
        let retry = crate::client::Retry::default();
        let ttl = crate::client::builder::lock_ttl(&retry, Duration::from_secs(3));
        // Three attempts of 3 s and two pauses of at most 5 s × 1.5.
        assert!(ttl > Duration::from_secs(9 + 15), "{ttl:?}");
        assert_eq!(ttl, LOCK_TTL);
    }

    /// Two caches made in one process, at once, from one place: two owners, 128 bits each.
    #[test]
    fn every_cache_is_its_own_lock_owner() {
        let caches: Vec<TokenCache> = (0..64)
            .map(|_| TokenCache::new(Duration::from_secs(600), LOCK_TTL))
            .collect();
        let owners: std::collections::HashSet<&str> =
            caches.iter().map(|c| c.owner.as_str()).collect();
        assert_eq!(owners.len(), caches.len());
        assert!(owners.iter().all(|o| o.len() == 32), "{owners:?}");
    }

    /// Another instance holds the refresh lock and never shares a token: when the wait
    /// runs out, this one does not fetch without the lock; it fails.
    #[tokio::test(start_paused = true)]
    async fn a_waiter_never_fetches_without_the_lock() {
        let store = MemoryStore::new();
        assert!(
            store
                .try_lock(
                    &Keys::default().lock("k"),
                    "another-instance",
                    Duration::from_secs(3600)
                )
                .await
                .unwrap()
        );
        let cache = TokenCache::new(Duration::from_secs(600), LOCK_TTL);
        let fetches = AtomicUsize::new(0);
        let got = cache
            .get("k", &store, || async {
                fetches.fetch_add(1, Ordering::SeqCst);
                Ok::<_, &str>(Fetched {
                    token: Secret::new("fetched-without-the-lock"),
                    expire_in: 7200,
                })
            })
            .await;
        assert_eq!(got, Err("busy"));
        assert_eq!(fetches.load(Ordering::SeqCst), 0);
    }

    /// A fetch slower than the lock's lifetime keeps its lock: another instance waits for
    /// its token instead of fetching a second one.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_slow_fetch_keeps_its_lock() {
        let store = Arc::new(MemoryStore::new());
        let ttl = Duration::from_millis(300);
        let fetches = Arc::new(AtomicUsize::new(0));
        let slow = {
            let (store, fetches) = (store.clone(), fetches.clone());
            tokio::spawn(async move {
                let a = TokenCache::new(Duration::from_secs(600), ttl);
                a.get("k", &*store, || async {
                    fetches.fetch_add(1, Ordering::SeqCst);
                    tokio::time::sleep(Duration::from_millis(1000)).await;
                    Ok::<_, ()>(Fetched {
                        token: Secret::new("slow"),
                        expire_in: 7200,
                    })
                })
                .await
                .unwrap()
            })
        };
        tokio::time::sleep(Duration::from_millis(50)).await;
        let b = TokenCache::new(Duration::from_secs(600), Duration::from_secs(5));
        let t = b
            .get("k", &*store, || async {
                fetches.fetch_add(1, Ordering::SeqCst);
                Ok::<_, ()>(Fetched {
                    token: Secret::new("second"),
                    expire_in: 7200,
                })
            })
            .await
            .unwrap();
        assert_eq!(t.expose(), "slow");
        assert_eq!(slow.await.unwrap().expose(), "slow");
        assert_eq!(fetches.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn lifetimes_have_a_floor() {
        let m = Duration::from_secs(600);
        assert_eq!(
            lifetimes(7200, m),
            Some((Duration::from_secs(6600), Duration::from_secs(7200)))
        );
        assert_eq!(
            lifetimes(10, m),
            Some((Duration::from_secs(5), Duration::from_secs(10)))
        );
        assert_eq!(lifetimes(0, m), None);
        assert_eq!(lifetimes(-5, m), None);
        assert_eq!(lifetimes(i64::MAX, m).unwrap().1, MAX_LIFETIME);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_thousand_callers_one_fetch() {
        let cache = Arc::new(TokenCache::new(Duration::from_secs(600), LOCK_TTL));
        let store = Arc::new(MemoryStore::new());
        let fetches = Arc::new(AtomicUsize::new(0));
        let mut tasks = Vec::new();
        for _ in 0..1000 {
            let (cache, store, fetches) = (cache.clone(), store.clone(), fetches.clone());
            tasks.push(tokio::spawn(async move {
                cache
                    .get("k", &*store, || async {
                        fetches.fetch_add(1, Ordering::SeqCst);
                        tokio::time::sleep(Duration::from_millis(20)).await;
                        Ok::<_, ()>(Fetched {
                            token: Secret::new("t1"),
                            expire_in: 7200,
                        })
                    })
                    .await
                    .unwrap()
            }));
        }
        for t in tasks {
            assert_eq!(t.await.unwrap().expose(), "t1");
        }
        assert_eq!(fetches.load(Ordering::SeqCst), 1);
    }

    /// A token endpoint that answers `expireIn: 0`: the token is not cached, but callers
    /// waiting together share one fetch instead of queueing a fetch each.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn tokens_of_no_lifetime_are_shared_by_those_waiting() {
        let cache = Arc::new(TokenCache::new(Duration::from_secs(600), LOCK_TTL));
        let store = Arc::new(MemoryStore::new());
        let fetches = Arc::new(AtomicUsize::new(0));
        let mut tasks = Vec::new();
        for _ in 0..100 {
            let (cache, store, fetches) = (cache.clone(), store.clone(), fetches.clone());
            tasks.push(tokio::spawn(async move {
                cache
                    .get("k", &*store, || async {
                        fetches.fetch_add(1, Ordering::SeqCst);
                        tokio::time::sleep(Duration::from_millis(200)).await;
                        Ok::<_, ()>(Fetched {
                            token: Secret::new("short-lived"),
                            expire_in: 0,
                        })
                    })
                    .await
                    .unwrap()
            }));
        }
        for t in tasks {
            assert_eq!(t.await.unwrap().expose(), "short-lived");
        }
        let n = fetches.load(Ordering::SeqCst);
        assert!(n <= 3, "{n} fetches for 100 callers");
        // Nothing is cached: a caller that comes later fetches again.
        let later = cache
            .get("k", &*store, || async {
                Ok::<_, ()>(Fetched {
                    token: Secret::new("next"),
                    expire_in: 0,
                })
            })
            .await
            .unwrap();
        assert_eq!(later.expose(), "next");
    }

    #[tokio::test]
    async fn a_second_process_takes_the_shared_token() {
        let store = MemoryStore::new();
        let a = TokenCache::new(Duration::from_secs(600), LOCK_TTL);
        let b = TokenCache::new(Duration::from_secs(600), LOCK_TTL);
        let t = a
            .get("k", &store, || async {
                Ok::<_, ()>(Fetched {
                    token: Secret::new("shared"),
                    expire_in: 7200,
                })
            })
            .await
            .unwrap();
        let u = b
            .get("k", &store, || async {
                Err::<Fetched, _>("must not fetch")
            })
            .await
            .unwrap();
        assert_eq!(t, u);
        b.invalidate("k", &u, &store).await;
        assert!(
            b.get("k", &store, || async { Err::<Fetched, _>("gone") })
                .await
                .is_err()
        );
    }

    /// What another instance does between two steps of ours, on a shared store.
    enum Interference {
        /// Between our read of the store and our lock, it fetches a token, shares it and
        /// releases the lock: the moment a naive refresher fetches twice.
        SharesBeforeOurLock(Box<TokenCache>),
        /// Right after we read the store, it stores a newer token.
        StoresAfterOurRead(Mutex<Option<String>>),
    }

    struct Interleaved {
        inner: MemoryStore,
        other: Interference,
    }

    impl Store for Interleaved {
        fn get<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<Option<String>, StoreError>> {
            Box::pin(async move {
                let read = self.inner.get(key).await;
                if let Interference::StoresAfterOurRead(newer) = &self.other {
                    let newer = newer.lock().unwrap().take();
                    if let Some(json) = newer {
                        self.inner.set(key, json, None).await?;
                    }
                }
                read
            })
        }
        fn set<'a>(
            &'a self,
            key: &'a str,
            value: String,
            ttl: Option<Duration>,
        ) -> BoxFuture<'a, Result<(), StoreError>> {
            self.inner.set(key, value, ttl)
        }
        fn try_lock<'a>(
            &'a self,
            key: &'a str,
            owner: &'a str,
            ttl: Duration,
        ) -> BoxFuture<'a, Result<bool, StoreError>> {
            Box::pin(async move {
                if let Interference::SharesBeforeOurLock(other) = &self.other {
                    other
                        .get("k", &self.inner, || async {
                            Ok::<_, ()>(Fetched {
                                token: Secret::new("from-the-other-process"),
                                expire_in: 7200,
                            })
                        })
                        .await
                        .unwrap();
                }
                self.inner.try_lock(key, owner, ttl).await
            })
        }
        fn delete_if<'a>(
            &'a self,
            key: &'a str,
            expected: &'a str,
        ) -> BoxFuture<'a, Result<bool, StoreError>> {
            self.inner.delete_if(key, expected)
        }
    }

    #[tokio::test]
    async fn the_lock_winner_reads_the_store_again_before_fetching() {
        let store = Interleaved {
            inner: MemoryStore::new(),
            other: Interference::SharesBeforeOurLock(Box::new(TokenCache::new(
                Duration::from_secs(600),
                LOCK_TTL,
            ))),
        };
        let cache = TokenCache::new(Duration::from_secs(600), LOCK_TTL);
        let t = cache
            .get("k", &store, || async {
                Err::<Fetched, _>("fetched although another process had just shared a token")
            })
            .await
            .unwrap();
        assert_eq!(t.expose(), "from-the-other-process");
        // And the lock was released.
        assert!(
            store
                .inner
                .try_lock(&Keys::default().lock("k"), "third", LOCK_TTL)
                .await
                .unwrap()
        );
    }

    #[tokio::test]
    async fn invalidating_a_refused_token_keeps_a_newer_shared_one() {
        let store = Interleaved {
            inner: MemoryStore::new(),
            other: Interference::StoresAfterOurRead(Mutex::new(None)),
        };
        let cache = TokenCache::new(Duration::from_secs(600), LOCK_TTL);
        let old = cache
            .get("k", &store, || async {
                Ok::<_, ()>(Fetched {
                    token: Secret::new("old"),
                    expire_in: 7200,
                })
            })
            .await
            .unwrap();
        let newer = StoredToken {
            token: "newer".into(),
            // Fetched later than the old one, so stale later too.
            stale_at_ms: now_ms() + 7_000_000,
            expires_at_ms: now_ms() + 7_600_000,
        };
        if let Interference::StoresAfterOurRead(slot) = &store.other {
            *slot.lock().unwrap() = Some(serde_json::to_string(&newer).unwrap());
        }
        cache.invalidate("k", &old, &store).await;
        let t = cache
            .get("k", &store, || async {
                Err::<Fetched, _>("fetched although a newer token was shared")
            })
            .await
            .unwrap();
        assert_eq!(t.expose(), "newer");
    }
}

//! A [`Store`] in Redis, for services that run several instances: shared tokens, a
//! cross-process refresh lock with expiry, grants, and the suite ticket (no expiry).

use std::time::Duration;

use redis::AsyncCommands;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};

use super::store::{BoxFuture, Store, StoreError};

/// A Redis store. Reconnects by itself after the server comes back.
#[derive(Clone)]
pub struct RedisStore {
    client: redis::Client,
    config: ConnectionManagerConfig,
    /// Made on first use, inside the runtime that uses it.
    conn: std::sync::Arc<tokio::sync::OnceCell<ConnectionManager>>,
}

impl std::fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The URL may hold a password: never printed.
        f.debug_struct("RedisStore").finish_non_exhaustive()
    }
}

fn err(e: redis::RedisError) -> StoreError {
    StoreError::with_cause("redis failed", e)
}

/// Sets a key unless it holds a value that is greater or equal in byte order (Lua's `<` on
/// strings follows the server's locale, so the bytes are compared one by one).
const SET_IF_GREATER: &str = r#"
local cur = redis.call("get", KEYS[1])
local new = ARGV[1]
if cur then
  for i = 1, math.min(#cur, #new) do
    local a, b = string.byte(cur, i), string.byte(new, i)
    if a > b then return 0 end
    if a < b then redis.call("set", KEYS[1], new) return 1 end
  end
  if #cur >= #new then return 0 end
end
redis.call("set", KEYS[1], new)
return 1
"#;

/// Sets a key if it still holds the expected value (`ARGV[1]` is `1`, the value
/// `ARGV[2]`) or is absent (`ARGV[1]` is `0`).
const COMPARE_AND_SET: &str = r#"
local cur = redis.call("get", KEYS[1])
if (ARGV[1] == "0" and not cur) or (ARGV[1] == "1" and cur == ARGV[2]) then
  redis.call("set", KEYS[1], ARGV[3])
  return 1
end
return 0
"#;

/// Adds one to a count, setting the expiry (`ARGV[1]`, milliseconds) of a count it
/// creates.
const INCR: &str = r#"
local n = redis.call("incr", KEYS[1])
if n == 1 then redis.call("pexpire", KEYS[1], ARGV[1]) end
return n
"#;

/// Sets a key's expiry only if its value is still the expected one (a lock's holder).
const EXTEND_IF: &str = r#"if redis.call("get", KEYS[1]) == ARGV[1] then return redis.call("pexpire", KEYS[1], ARGV[2]) else return 0 end"#;

/// Deletes a key only if its value is still the expected one.
const DELETE_IF: &str = r#"if redis.call("get", KEYS[1]) == ARGV[1] then return redis.call("del", KEYS[1]) else return 0 end"#;

impl RedisStore {
    /// A store at `url` (`redis://127.0.0.1:6379/`). Connects on first use; each command
    /// gives up after a second, so a dead server slows nothing down for long.
    pub fn open(url: &str) -> Result<RedisStore, StoreError> {
        let client = redis::Client::open(url).map_err(|_| StoreError::new("invalid redis URL"))?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(Duration::from_secs(1)))
            .set_response_timeout(Some(Duration::from_secs(1)))
            .set_number_of_retries(1)
            .set_max_delay(Duration::from_millis(500));
        Ok(RedisStore {
            client,
            config,
            conn: Default::default(),
        })
    }

    /// Runs a Lua script on one key that answers 1 for done, 0 for not.
    async fn script(&self, script: &str, key: &str, args: Vec<String>) -> Result<bool, StoreError> {
        let mut c = self.conn().await?;
        redis::cmd("EVAL")
            .arg(script)
            .arg(1)
            .arg(key)
            .arg(args)
            .query_async::<i64>(&mut c)
            .await
            .map(|n| n == 1)
            .map_err(err)
    }

    /// The connection manager, made on first use: `open` needs no Tokio runtime.
    async fn conn(&self) -> Result<ConnectionManager, StoreError> {
        self.conn
            .get_or_try_init(|| async {
                self.client
                    .get_connection_manager_lazy(self.config.clone())
                    .map_err(err)
            })
            .await
            .cloned()
    }
}

impl Store for RedisStore {
    fn get<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<Option<String>, StoreError>> {
        Box::pin(async move { self.conn().await?.get(key).await.map_err(err) })
    }

    fn set<'a>(
        &'a self,
        key: &'a str,
        value: String,
        ttl: Option<Duration>,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async move {
            let mut c = self.conn().await?;
            let mut cmd = redis::cmd("SET");
            cmd.arg(key).arg(value);
            if let Some(t) = ttl {
                cmd.arg("PX").arg(t.as_millis().max(1) as u64);
            }
            cmd.query_async::<()>(&mut c).await.map_err(err)
        })
    }

    fn try_lock<'a>(
        &'a self,
        key: &'a str,
        owner: &'a str,
        ttl: Duration,
    ) -> BoxFuture<'a, Result<bool, StoreError>> {
        Box::pin(async move {
            let mut c = self.conn().await?;
            let set: Option<String> = redis::cmd("SET")
                .arg(key)
                .arg(owner)
                .arg("NX")
                .arg("PX")
                .arg(ttl.as_millis().max(1) as u64)
                .query_async(&mut c)
                .await
                .map_err(err)?;
            Ok(set.is_some())
        })
    }

    fn set_if_greater<'a>(
        &'a self,
        key: &'a str,
        value: String,
    ) -> BoxFuture<'a, Result<bool, StoreError>> {
        Box::pin(self.script(SET_IF_GREATER, key, vec![value]))
    }

    fn compare_and_set<'a>(
        &'a self,
        key: &'a str,
        expected: Option<&'a str>,
        value: String,
    ) -> BoxFuture<'a, Result<bool, StoreError>> {
        let args = match expected {
            Some(v) => vec!["1".to_owned(), v.to_owned(), value],
            None => vec!["0".to_owned(), String::new(), value],
        };
        Box::pin(self.script(COMPARE_AND_SET, key, args))
    }

    fn incr<'a>(&'a self, key: &'a str, ttl: Duration) -> BoxFuture<'a, Result<u64, StoreError>> {
        Box::pin(async move {
            let mut c = self.conn().await?;
            redis::cmd("EVAL")
                .arg(INCR)
                .arg(1)
                .arg(key)
                .arg(ttl.as_millis().max(1) as u64)
                .query_async::<u64>(&mut c)
                .await
                .map_err(err)
        })
    }

    fn extend_lock<'a>(
        &'a self,
        key: &'a str,
        owner: &'a str,
        ttl: Duration,
    ) -> BoxFuture<'a, Result<bool, StoreError>> {
        let millis = ttl.as_millis().max(1).to_string();
        Box::pin(self.script(EXTEND_IF, key, vec![owner.to_owned(), millis]))
    }

    fn delete_if<'a>(
        &'a self,
        key: &'a str,
        expected: &'a str,
    ) -> BoxFuture<'a, Result<bool, StoreError>> {
        Box::pin(self.script(DELETE_IF, key, vec![expected.to_owned()]))
    }
}

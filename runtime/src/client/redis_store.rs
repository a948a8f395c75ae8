//! A [`Store`] in Redis, for services that run several instances: shared tokens, a
//! cross-process refresh lock with expiry, grants, and the suite ticket (no expiry).

use std::time::Duration;

use redis::AsyncCommands;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::cluster_async::ClusterConnection;

use super::store::{BoxFuture, Store, StoreError};

/// A Redis store: one server ([`open`](RedisStore::open)), or a Redis Cluster
/// ([`open_cluster`](RedisStore::open_cluster)). Reconnects by itself after the server
/// comes back.
///
/// Every key dingscope writes is one key per command or script, so the cluster routes each
/// to its slot's master. With the `redis-tls` feature, `rediss://` URLs connect over
/// rustls, verifying the server against the platform's roots or a given CA
/// ([`open_with_root_ca`](RedisStore::open_with_root_ca)).
///
/// The Redis user needs these commands on dingscope's keys (`~dingscope:*`, or
/// `~PREFIX:*` with [`key_prefix`](super::DingTalkBuilder::key_prefix)): `GET`, `SET`,
/// `INCR`, `PEXPIRE`, `DEL` and `EVAL`, for example
/// `ACL SETUSER app on >password ~dingscope:* +get +set +incr +pexpire +del +eval`
/// (plus `+cluster|slots +cluster|shards +readonly` in a cluster, for the client's topology
/// queries).
#[derive(Clone)]
pub struct RedisStore {
    backend: std::sync::Arc<Backend>,
}

enum Backend {
    Single {
        client: redis::Client,
        config: ConnectionManagerConfig,
        /// Made on first use, inside the runtime that uses it.
        conn: tokio::sync::OnceCell<ConnectionManager>,
    },
    Cluster {
        client: redis::cluster::ClusterClient,
        conn: tokio::sync::OnceCell<ClusterConnection>,
    },
}

/// A connection to either kind of deployment.
#[derive(Clone)]
enum Conn {
    Single(ConnectionManager),
    Cluster(ClusterConnection),
}

impl redis::aio::ConnectionLike for Conn {
    fn req_packed_command<'a>(
        &'a mut self,
        cmd: &'a redis::Cmd,
    ) -> redis::RedisFuture<'a, redis::Value> {
        match self {
            Conn::Single(c) => c.req_packed_command(cmd),
            Conn::Cluster(c) => c.req_packed_command(cmd),
        }
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        pipeline: &'a redis::Pipeline,
        offset: usize,
        count: usize,
    ) -> redis::RedisFuture<'a, Vec<redis::Value>> {
        match self {
            Conn::Single(c) => c.req_packed_commands(pipeline, offset, count),
            Conn::Cluster(c) => c.req_packed_commands(pipeline, offset, count),
        }
    }

    fn get_db(&self) -> i64 {
        match self {
            Conn::Single(c) => c.get_db(),
            Conn::Cluster(c) => c.get_db(),
        }
    }
}

impl std::fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The URL may hold a password: never printed.
        let kind = match *self.backend {
            Backend::Single { .. } => "single",
            Backend::Cluster { .. } => "cluster",
        };
        f.debug_struct("RedisStore")
            .field("kind", &kind)
            .finish_non_exhaustive()
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

/// Each command gives up after a second, so a dead server slows nothing down for long.
const TIMEOUT: Duration = Duration::from_secs(1);

impl RedisStore {
    /// A store at `url` (`redis://127.0.0.1:6379/`, or `rediss://` with the `redis-tls`
    /// feature). Connects on first use.
    pub fn open(url: &str) -> Result<RedisStore, StoreError> {
        let client = redis::Client::open(url).map_err(|e| invalid_url(url, &e))?;
        Ok(RedisStore::single(client))
    }

    /// A store at a `rediss://` `url` whose server certificate is verified against the CA
    /// in `ca_pem` (PEM) instead of the platform's roots.
    #[cfg(feature = "redis-tls")]
    pub fn open_with_root_ca(url: &str, ca_pem: &[u8]) -> Result<RedisStore, StoreError> {
        let certs = redis::TlsCertificates {
            client_tls: None,
            root_cert: Some(ca_pem.to_vec()),
        };
        let client = redis::Client::build_with_tls(url, certs).map_err(|e| invalid_url(url, &e))?;
        Ok(RedisStore::single(client))
    }

    /// A store in a Redis Cluster, found through any of `nodes` (`redis://host:port/`).
    /// Connects on first use, follows the cluster's slots, and reconnects by itself.
    pub fn open_cluster<'a>(
        nodes: impl IntoIterator<Item = &'a str>,
    ) -> Result<RedisStore, StoreError> {
        let nodes: Vec<&str> = nodes.into_iter().collect();
        if nodes.is_empty() {
            return Err(StoreError::new("a Redis Cluster needs at least one node"));
        }
        let client = redis::cluster::ClusterClient::builder(nodes)
            .connection_timeout(TIMEOUT)
            .response_timeout(TIMEOUT)
            .retries(2)
            .build()
            .map_err(|_| StoreError::new("invalid Redis Cluster node URL"))?;
        Ok(RedisStore {
            backend: std::sync::Arc::new(Backend::Cluster {
                client,
                conn: Default::default(),
            }),
        })
    }

    fn single(client: redis::Client) -> RedisStore {
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(TIMEOUT))
            .set_response_timeout(Some(TIMEOUT))
            .set_number_of_retries(1)
            .set_max_delay(Duration::from_millis(500));
        RedisStore {
            backend: std::sync::Arc::new(Backend::Single {
                client,
                config,
                conn: Default::default(),
            }),
        }
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

    /// The connection, made on first use: `open` needs no Tokio runtime.
    async fn conn(&self) -> Result<Conn, StoreError> {
        match &*self.backend {
            Backend::Single {
                client,
                config,
                conn,
            } => conn
                .get_or_try_init(|| async {
                    client
                        .get_connection_manager_lazy(config.clone())
                        .map_err(err)
                })
                .await
                .cloned()
                .map(Conn::Single),
            Backend::Cluster { client, conn } => conn
                .get_or_try_init(|| async { client.get_async_connection().await.map_err(err) })
                .await
                .cloned()
                .map(Conn::Cluster),
        }
    }
}

/// A URL the redis crate refuses; the URL itself may hold a password, so only its scheme
/// is named.
fn invalid_url(url: &str, e: &redis::RedisError) -> StoreError {
    let scheme = url.split("://").next().unwrap_or_default();
    let hint = if scheme == "rediss" && !cfg!(feature = "redis-tls") {
        ": `rediss://` needs dingscope's `redis-tls` feature"
    } else {
        ""
    };
    StoreError::new(format!(
        "invalid Redis URL (scheme {scheme:?}, {:?}){hint}",
        e.kind()
    ))
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

    fn delete<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<bool, StoreError>> {
        Box::pin(async move {
            let mut c = self.conn().await?;
            redis::cmd("DEL")
                .arg(key)
                .query_async::<i64>(&mut c)
                .await
                .map(|n| n > 0)
                .map_err(err)
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

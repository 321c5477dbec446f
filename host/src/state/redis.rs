//! Redis state for the scaled mode: every instance sees the same revocations and windows.

use super::{StateStore, WindowCount};
use anyhow::Context;
use async_trait::async_trait;
use redis::aio::ConnectionManager;
use std::time::Duration;

/// INCR with the expiry set on the first hit, in one atomic step; also repairs a key that lost
/// its expiry so a window can never become permanent.
const HIT_SCRIPT: &str = r"
local n = redis.call('INCR', KEYS[1])
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return {n, ttl}
";

/// PEXPIRE only while the key holds the caller's value (a lease renewed by its holder).
const EXTEND_SCRIPT: &str = r"
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
";

/// A reconnecting Redis connection with bounded connect and response times.
pub async fn connect_manager(url: &str) -> anyhow::Result<ConnectionManager> {
    let client = redis::Client::open(url).context("parsing the Redis URL")?;
    let config = redis::aio::ConnectionManagerConfig::new()
        .set_connection_timeout(Some(Duration::from_secs(5)))
        .set_response_timeout(Some(Duration::from_secs(5)))
        .set_number_of_retries(2);
    tokio::time::timeout(Duration::from_secs(10), ConnectionManager::new_with_config(client, config))
        .await
        .context("connecting to Redis timed out")?
        .context("connecting to Redis")
}

pub struct RedisState {
    conn: ConnectionManager,
    prefix: String,
    hit_script: redis::Script,
    extend_script: redis::Script,
}

impl RedisState {
    pub async fn connect(url: &str, prefix: &str) -> anyhow::Result<Self> {
        let conn = connect_manager(url).await.context("state.url")?;
        Ok(Self {
            conn,
            prefix: prefix.to_owned(),
            hit_script: redis::Script::new(HIT_SCRIPT),
            extend_script: redis::Script::new(EXTEND_SCRIPT),
        })
    }

    fn key(&self, key: &str) -> String {
        format!("{}{key}", self.prefix)
    }
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX).max(1)
}

#[async_trait]
impl StateStore for RedisState {
    async fn put(&self, key: &str, value: &str, ttl: Duration) -> anyhow::Result<()> {
        let mut conn = self.conn.clone();
        redis::cmd("SET")
            .arg(self.key(key))
            .arg(value)
            .arg("PX")
            .arg(millis(ttl))
            .query_async::<()>(&mut conn)
            .await?;
        Ok(())
    }

    async fn put_if_absent(&self, key: &str, value: &str, ttl: Duration) -> anyhow::Result<bool> {
        let mut conn = self.conn.clone();
        let set: Option<String> = redis::cmd("SET")
            .arg(self.key(key))
            .arg(value)
            .arg("NX")
            .arg("PX")
            .arg(millis(ttl))
            .query_async(&mut conn)
            .await?;
        Ok(set.is_some())
    }

    async fn get_many(&self, keys: &[&str]) -> anyhow::Result<Vec<Option<String>>> {
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let mut conn = self.conn.clone();
        let keys: Vec<String> = keys.iter().map(|key| self.key(key)).collect();
        Ok(redis::cmd("MGET").arg(&keys).query_async(&mut conn).await?)
    }

    async fn take(&self, key: &str) -> anyhow::Result<Option<String>> {
        let mut conn = self.conn.clone();
        Ok(redis::cmd("GETDEL").arg(self.key(key)).query_async(&mut conn).await?)
    }

    async fn hit(&self, key: &str, window: Duration) -> anyhow::Result<WindowCount> {
        let mut conn = self.conn.clone();
        let (count, ttl_ms): (u64, i64) =
            self.hit_script.key(self.key(key)).arg(millis(window)).invoke_async(&mut conn).await?;
        Ok(WindowCount { count, resets_in: Duration::from_millis(ttl_ms.max(0).unsigned_abs()) })
    }

    async fn delete(&self, key: &str) -> anyhow::Result<()> {
        let mut conn = self.conn.clone();
        redis::cmd("DEL").arg(self.key(key)).query_async::<()>(&mut conn).await?;
        Ok(())
    }

    async fn extend_if(&self, key: &str, value: &str, ttl: Duration) -> anyhow::Result<bool> {
        let mut conn = self.conn.clone();
        let extended: i64 =
            self.extend_script.key(self.key(key)).arg(value).arg(millis(ttl)).invoke_async(&mut conn).await?;
        Ok(extended == 1)
    }

    async fn push_capped(&self, key: &str, item: &str, keep: usize, ttl: Duration) -> anyhow::Result<()> {
        anyhow::ensure!(!item.contains('\n'), "a list item is one line");
        let mut conn = self.conn.clone();
        let key = self.key(key);
        let keep = i64::try_from(keep).unwrap_or(i64::MAX).max(1);
        redis::pipe()
            .atomic()
            .cmd("RPUSH")
            .arg(&key)
            .arg(item)
            .ignore()
            .cmd("LTRIM")
            .arg(&key)
            .arg(-keep)
            .arg(-1)
            .ignore()
            .cmd("PEXPIRE")
            .arg(&key)
            .arg(millis(ttl))
            .ignore()
            .query_async::<()>(&mut conn)
            .await?;
        Ok(())
    }

    async fn list(&self, key: &str) -> anyhow::Result<Vec<String>> {
        let mut conn = self.conn.clone();
        Ok(redis::cmd("LRANGE").arg(self.key(key)).arg(0).arg(-1).query_async(&mut conn).await?)
    }

    async fn ping(&self) -> anyhow::Result<()> {
        let mut conn = self.conn.clone();
        redis::cmd("PING").query_async::<String>(&mut conn).await?;
        Ok(())
    }

    fn backend(&self) -> &'static str {
        "redis"
    }
}

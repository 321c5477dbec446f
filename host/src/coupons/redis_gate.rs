//! The gate in Redis, for the scaled mode: per event and day a hash (`epoch`, `remaining`) and a
//! set of admitted users, changed only by Lua scripts, so an admission is one atomic step
//! whichever instance takes the claim. Both keys share a hash tag, so they live in one slot of a
//! cluster.

use super::gate::{Admission, CouponGate, DAY_TTL, DayKey, GateDay};
use anyhow::Context;
use async_trait::async_trait;
use redis::aio::ConnectionManager;

/// KEYS: hash, users; ARGV: epoch, user. 0 admitted, 1 sold out, 2 already holds, 3 stale.
const ADMIT: &str = r"
if redis.call('HGET', KEYS[1], 'epoch') ~= ARGV[1] then
  return 3
end
if redis.call('SISMEMBER', KEYS[2], ARGV[2]) == 1 then
  return 2
end
if tonumber(redis.call('HGET', KEYS[1], 'remaining')) <= 0 then
  return 1
end
redis.call('HINCRBY', KEYS[1], 'remaining', -1)
redis.call('SADD', KEYS[2], ARGV[2])
return 0
";

/// KEYS: hash, users; ARGV: epoch, user, still holds (1 or 0).
const GIVE_BACK: &str = r"
if redis.call('HGET', KEYS[1], 'epoch') ~= ARGV[1] then
  return 0
end
redis.call('HINCRBY', KEYS[1], 'remaining', 1)
if ARGV[3] == '0' then
  redis.call('SREM', KEYS[2], ARGV[2])
end
return 1
";

/// Users added to the set per round trip during a rebuild.
const REBUILD_CHUNK: usize = 1000;

pub struct RedisGate {
    conn: ConnectionManager,
    key_prefix: String,
    admit: redis::Script,
    give_back: redis::Script,
}

impl RedisGate {
    pub async fn connect(url: &str, key_prefix: &str) -> anyhow::Result<Self> {
        let conn = crate::state::redis::connect_manager(url).await.context("the coupon gate's Redis")?;
        Ok(Self {
            conn,
            key_prefix: key_prefix.to_owned(),
            admit: redis::Script::new(ADMIT),
            give_back: redis::Script::new(GIVE_BACK),
        })
    }

    /// The hash and the set of a day.
    fn keys(&self, key: &DayKey) -> (String, String) {
        let tag = format!("{}coupons:{{{}:{}}}", self.key_prefix, key.event_id, key.day);
        (format!("{tag}:gate"), format!("{tag}:users"))
    }
}

#[async_trait]
impl CouponGate for RedisGate {
    #[tracing::instrument(skip_all)]
    async fn admit(&self, key: &DayKey, epoch: &str, user_id: &str) -> anyhow::Result<Admission> {
        let (hash, users) = self.keys(key);
        let mut conn = self.conn.clone();
        let answer: i64 =
            self.admit.key(&hash).key(&users).arg(epoch).arg(user_id).invoke_async(&mut conn).await?;
        Ok(match answer {
            0 => Admission::Admitted,
            1 => Admission::SoldOut,
            2 => Admission::AlreadyHolds,
            _ => Admission::Stale,
        })
    }

    #[tracing::instrument(skip_all)]
    async fn give_back(
        &self,
        key: &DayKey,
        epoch: &str,
        user_id: &str,
        still_holds: bool,
    ) -> anyhow::Result<()> {
        let (hash, users) = self.keys(key);
        let mut conn = self.conn.clone();
        self.give_back
            .key(&hash)
            .key(&users)
            .arg(epoch)
            .arg(user_id)
            .arg(if still_holds { "1" } else { "0" })
            .invoke_async::<i64>(&mut conn)
            .await?;
        Ok(())
    }

    /// Clears the day (no epoch: admissions are stale meanwhile), fills the users in chunks,
    /// then sets the quantity and, last, the epoch.
    #[tracing::instrument(skip_all)]
    async fn rebuild(&self, key: &DayKey, state: &GateDay) -> anyhow::Result<()> {
        let (hash, users) = self.keys(key);
        let mut conn = self.conn.clone();
        let ttl_ms = DAY_TTL.as_millis() as u64;
        redis::cmd("DEL").arg(&hash).arg(&users).query_async::<()>(&mut conn).await?;
        for chunk in state.users.chunks(REBUILD_CHUNK) {
            redis::cmd("SADD").arg(&users).arg(chunk).query_async::<()>(&mut conn).await?;
        }
        let mut finish = redis::pipe();
        finish.atomic();
        finish.cmd("HSET").arg(&hash).arg("remaining").arg(state.remaining).ignore();
        finish.cmd("HSET").arg(&hash).arg("epoch").arg(&state.epoch).ignore();
        finish.cmd("PEXPIRE").arg(&hash).arg(ttl_ms).ignore();
        finish.cmd("PEXPIRE").arg(&users).arg(ttl_ms).ignore();
        finish.query_async::<()>(&mut conn).await?;
        Ok(())
    }

    #[tracing::instrument(skip_all)]
    async fn read(&self, key: &DayKey) -> anyhow::Result<Option<GateDay>> {
        let (hash, users) = self.keys(key);
        let mut conn = self.conn.clone();
        let (epoch, remaining, mut members): (Option<String>, Option<i64>, Vec<String>) = redis::pipe()
            .cmd("HGET")
            .arg(&hash)
            .arg("epoch")
            .cmd("HGET")
            .arg(&hash)
            .arg("remaining")
            .cmd("SMEMBERS")
            .arg(&users)
            .query_async(&mut conn)
            .await?;
        let (Some(epoch), Some(remaining)) = (epoch, remaining) else { return Ok(None) };
        members.sort();
        Ok(Some(GateDay { epoch, remaining, users: members }))
    }

    fn backend(&self) -> &'static str {
        "redis"
    }
}

//! The ranking in one Redis sorted set, for the scaled mode.
//!
//! The score is the total alone. Packing the total and the time it was reached into one score
//! does not fit: a score is an f64, exact to 53 bits, and millisecond times already take 41 of
//! them, leaving totals of 4095 at most. So the tie-break lives in the member instead, where
//! Redis orders equal scores byte-wise: `<13 digits: MAX_MS - reached_at><user id, each byte
//! inverted, hex>~`. Reading the set from the top (`ZREVRANGE`, `ZREVRANK`) then gives the
//! higher total first, then the earlier time, then the smaller user id, exactly the order of
//! the SQL ranking. A hash maps each user to their current member so a new standing replaces the
//! old one; both change in one script, which ignores a standing older than the one recorded.

use super::ledger::Standing;
use super::ranking::{MAX_TOP, RankingStore};
use anyhow::Context;
use async_trait::async_trait;
use redis::aio::ConnectionManager;

/// The latest time a member can encode (year 2286); later times are clamped.
const MAX_MS: i64 = 9_999_999_999_999;
/// Entries written per round trip during a rebuild.
const REBUILD_CHUNK: usize = 500;

/// KEYS: set, hash; ARGV: user id, total, member. Totals only grow, so a standing whose total
/// is not above the recorded one is a repeat or a late arrival and changes nothing.
const APPLY_SCRIPT: &str = r"
local old = redis.call('HGET', KEYS[2], ARGV[1])
if old then
  local score = redis.call('ZSCORE', KEYS[1], old)
  if score and tonumber(score) >= tonumber(ARGV[2]) then
    return 0
  end
  redis.call('ZREM', KEYS[1], old)
end
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[3])
redis.call('HSET', KEYS[2], ARGV[1], ARGV[3])
return 1
";

/// KEYS: set, hash; ARGV: user id.
const REMOVE_SCRIPT: &str = r"
local old = redis.call('HGET', KEYS[2], ARGV[1])
if old then
  redis.call('ZREM', KEYS[1], old)
  redis.call('HDEL', KEYS[2], ARGV[1])
end
return 1
";

pub struct RedisRanking {
    conn: ConnectionManager,
    set_key: String,
    hash_key: String,
    apply_script: redis::Script,
    remove_script: redis::Script,
}

impl RedisRanking {
    pub async fn connect(url: &str, key_prefix: &str) -> anyhow::Result<Self> {
        let conn = crate::state::redis::connect_manager(url).await.context("the ranking's Redis")?;
        Ok(Self {
            conn,
            set_key: format!("{key_prefix}ranking:set"),
            hash_key: format!("{key_prefix}ranking:members"),
            apply_script: redis::Script::new(APPLY_SCRIPT),
            remove_script: redis::Script::new(REMOVE_SCRIPT),
        })
    }
}

/// The member of a standing (see the module documentation).
pub fn member(standing: &Standing) -> String {
    let mut member = format!("{:013}", MAX_MS - standing.reached_at_ms.clamp(0, MAX_MS));
    for byte in standing.user_id.bytes() {
        member.push_str(&format!("{:02x}", 255 - byte));
    }
    // '~' sorts after every hex digit: a user id that is a prefix of another comes first.
    member.push('~');
    member
}

/// The standing a member and its score stand for.
pub fn standing(member: &str, score: f64) -> Option<Standing> {
    let (time, id) = member.split_at_checked(13)?;
    let reached_at_ms = MAX_MS - time.parse::<i64>().ok()?;
    let inverted = hex::decode(id.strip_suffix('~')?).ok()?;
    let user_id = String::from_utf8(inverted.into_iter().map(|byte| 255 - byte).collect()).ok()?;
    Some(Standing { user_id, total: score as i64, reached_at_ms })
}

#[async_trait]
impl RankingStore for RedisRanking {
    #[tracing::instrument(skip_all)]
    async fn apply(&self, standing: &Standing) -> anyhow::Result<()> {
        let mut conn = self.conn.clone();
        self.apply_script
            .key(&self.set_key)
            .key(&self.hash_key)
            .arg(&standing.user_id)
            .arg(standing.total)
            .arg(member(standing))
            .invoke_async::<i64>(&mut conn)
            .await?;
        Ok(())
    }

    #[tracing::instrument(skip_all)]
    async fn remove(&self, user_id: &str) -> anyhow::Result<()> {
        let mut conn = self.conn.clone();
        self.remove_script
            .key(&self.set_key)
            .key(&self.hash_key)
            .arg(user_id)
            .invoke_async::<i64>(&mut conn)
            .await?;
        Ok(())
    }

    /// Builds the new set and hash under fresh names, then renames both over the old ones in
    /// one transaction, so readers see the old ranking or the new one, never a mix.
    #[tracing::instrument(skip_all)]
    async fn replace_all(&self, standings: &[Standing]) -> anyhow::Result<()> {
        let mut conn = self.conn.clone();
        let tag = uuid::Uuid::new_v4().simple().to_string();
        let (new_set, new_hash) = (format!("{}:{tag}", self.set_key), format!("{}:{tag}", self.hash_key));
        for chunk in standings.chunks(REBUILD_CHUNK) {
            let mut pipe = redis::pipe();
            for standing in chunk {
                let member = member(standing);
                pipe.cmd("ZADD").arg(&new_set).arg(standing.total).arg(&member).ignore();
                pipe.cmd("HSET").arg(&new_hash).arg(&standing.user_id).arg(&member).ignore();
            }
            pipe.query_async::<()>(&mut conn).await?;
        }
        let mut swap = redis::pipe();
        swap.atomic();
        if standings.is_empty() {
            swap.cmd("DEL").arg(&self.set_key).arg(&self.hash_key).ignore();
        } else {
            swap.cmd("RENAME").arg(&new_set).arg(&self.set_key).ignore();
            swap.cmd("RENAME").arg(&new_hash).arg(&self.hash_key).ignore();
        }
        swap.query_async::<()>(&mut conn).await?;
        Ok(())
    }

    #[tracing::instrument(skip_all)]
    async fn top(&self, limit: usize) -> anyhow::Result<Vec<(u64, Standing)>> {
        let limit = limit.clamp(1, MAX_TOP);
        let mut conn = self.conn.clone();
        let entries: Vec<(String, f64)> = redis::cmd("ZREVRANGE")
            .arg(&self.set_key)
            .arg(0)
            .arg(limit - 1)
            .arg("WITHSCORES")
            .query_async(&mut conn)
            .await?;
        entries
            .into_iter()
            .zip(1..)
            .map(|((member, score), rank)| {
                let standing = standing(&member, score)
                    .with_context(|| format!("an unreadable ranking member {member:?}"))?;
                Ok((rank, standing))
            })
            .collect()
    }

    #[tracing::instrument(skip_all)]
    async fn ranks(&self, standings: &[Standing]) -> anyhow::Result<Vec<Option<u64>>> {
        if standings.is_empty() {
            return Ok(Vec::new());
        }
        let mut conn = self.conn.clone();
        let mut pipe = redis::pipe();
        for standing in standings {
            pipe.cmd("ZREVRANK").arg(&self.set_key).arg(member(standing));
        }
        let ranks: Vec<Option<u64>> = pipe.query_async(&mut conn).await?;
        Ok(ranks.into_iter().map(|rank| rank.map(|rank| rank + 1)).collect())
    }

    fn backend(&self) -> &'static str {
        "redis"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(user_id: &str, total: i64, reached_at_ms: i64) -> Standing {
        Standing { user_id: user_id.into(), total, reached_at_ms }
    }

    #[test]
    fn members_read_back_and_sort_like_the_ranking_when_read_from_the_top() {
        let a = at("0190a1b2-0000-7000-8000-000000000001", 40, 1_700_000_000_000);
        assert_eq!(standing(&member(&a), 40.0), Some(a.clone()));
        // Same total: earlier time first, then the smaller id, then a prefix before its extension.
        let ordered = [
            at("b", 40, 1_000),
            at("a", 40, 2_000),
            at("b", 40, 2_000),
            at("bb", 40, 2_000),
            at("c", 40, 2_001),
        ];
        let mut members: Vec<String> = ordered.iter().map(member).collect();
        members.sort();
        members.reverse();
        let read: Vec<Standing> = members.iter().map(|m| standing(m, 40.0).expect("member")).collect();
        assert_eq!(read, ordered);
    }
}

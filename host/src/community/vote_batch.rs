//! Votes applied in groups: one transaction carries every vote that arrived while the
//! previous one committed.
//!
//! A hot post serialises its voters on its row lock, so a transaction per vote is bounded by
//! round trips and commits while the lock is held. Here each shard has one task that drains
//! its queue into a transaction: the posts are locked once, the votes go in as one multi-row
//! upsert (and one delete for withdrawals), each post's counters move once by the sum of
//! the changes, and one commit answers everyone. The semantics are those of applying the
//! votes one by one in arrival order: a key (post, user) appears at most once per statement
//! ("round"), and a user's later request for the same post goes in a later round.

use super::model::{Vote, count_deltas};
use super::store::{VoteOutcome, placeholders};
use crate::db::batches::apply_in_batches;
use crate::db::{Database, KeptConnection, RowLock, WriteTx, now_ms};
use crate::tasks::Tasks;
use sqlx::{AnyConnection, AssertSqlSafe, Row};
use std::collections::HashMap;
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;

/// Requests waiting per shard before callers wait to enqueue.
const QUEUE_DEPTH: usize = 4096;

type Reply = Result<Option<VoteOutcome>, sqlx::Error>;

struct Request {
    post_id: String,
    user_id: String,
    vote: Option<Vote>,
    reply: oneshot::Sender<Reply>,
}

/// The front of the shards: votes for one post always go to the same shard, so they keep
/// their order.
#[derive(Debug, Clone)]
pub struct VoteBatcher {
    shards: Vec<mpsc::Sender<Request>>,
}

impl VoteBatcher {
    /// One shard where writes take turns; where they run in parallel (row locks per post),
    /// posts on different shards commit in parallel.
    pub fn start(db: Database, tasks: &Tasks) -> Self {
        let count = if db.parallel_writes() { 4 } else { 1 };
        let shards = (0..count)
            .map(|_| {
                let (sender, receiver) = mpsc::channel(QUEUE_DEPTH);
                // The queue outlives a run of the shard: a shard that panics is started again
                // on the same queue, and the votes waiting in it are applied.
                let receiver = Arc::new(tokio::sync::Mutex::new(receiver));
                let db = db.clone();
                tasks.spawn_supervised_work("vote shard", move |drain| {
                    let (db, receiver) = (db.clone(), receiver.clone());
                    async move { run_shard(&db, &mut *receiver.lock().await, drain).await }
                });
                sender
            })
            .collect();
        Self { shards }
    }

    /// Sets or withdraws a vote; `None` when the post does not exist.
    pub async fn vote(&self, post_id: &str, user_id: &str, vote: Option<Vote>) -> Reply {
        let shard = &self.shards[shard_of(post_id, self.shards.len())];
        let (reply, answer) = oneshot::channel();
        let request = Request { post_id: post_id.to_owned(), user_id: user_id.to_owned(), vote, reply };
        shard.send(request).await.map_err(|_| sqlx::Error::PoolClosed)?;
        answer.await.map_err(|_| sqlx::Error::PoolClosed)?
    }
}

fn shard_of(post_id: &str, shards: usize) -> usize {
    // FNV-1a: stable and cheap; any spread will do.
    let hash = post_id
        .bytes()
        .fold(0xcbf2_9ce4_8422_2325_u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3));
    (hash % shards as u64) as usize
}

/// Applies batches until every sender is gone or `drain` fires (see [`apply_in_batches`]).
async fn run_shard(db: &Database, receiver: &mut mpsc::Receiver<Request>, drain: CancellationToken) {
    apply_in_batches(receiver, drain, |requests, kept| {
        let db = db.clone();
        Box::pin(async move { apply_batch(&db, kept, requests).await })
    })
    .await;
}

async fn apply_batch(db: &Database, kept: &mut KeptConnection, requests: Vec<Request>) {
    let outcome = {
        let requests = &requests;
        db.write_on(kept, |tx| Box::pin(apply(tx, requests))).await
    };
    match outcome {
        Ok(outcomes) => {
            for (request, outcome) in requests.into_iter().zip(outcomes) {
                let _ = request.reply.send(Ok(outcome));
            }
        }
        Err(err) if requests.len() > 1 => {
            // One bad vote must not fail its neighbours: each goes again on its own, and
            // only those that fail alone are answered with their error.
            tracing::warn!(error = %err, votes = requests.len(), "a batch of votes failed; applying them one by one");
            for request in requests {
                let alone = std::slice::from_ref(&request);
                let outcome = db.write_on(kept, |tx| Box::pin(apply(tx, alone))).await;
                answer(request, outcome.map(|mut outcomes| outcomes.pop().flatten()));
            }
        }
        Err(err) => {
            if let Some(request) = requests.into_iter().next() {
                answer(request, Err(err));
            }
        }
    }
}

fn answer(request: Request, outcome: Reply) {
    if let Err(err) = &outcome {
        tracing::warn!(error = %err, post = %request.post_id, "a vote failed");
    }
    let _ = request.reply.send(outcome);
}

/// The batch's transaction (committed by the caller); answers in request order. A lock
/// conflict (a deadlock with a deletion, a busy file) makes the caller run it again.
async fn apply(
    tx: &mut WriteTx<'_, '_>,
    requests: &[Request],
) -> Result<Vec<Option<VoteOutcome>>, sqlx::Error> {
    let posts = lock_posts(tx, requests).await?;
    let mut previous: Vec<Option<Vote>> = vec![None; requests.len()];
    let mut deltas: HashMap<&str, (i64, i64)> = HashMap::new();
    let now = now_ms();
    for round in rounds(requests, &posts) {
        let (sets, withdrawals): (Vec<usize>, Vec<usize>) =
            round.into_iter().partition(|&index| requests[index].vote.is_some());
        let mut replaced = upsert(tx, requests, &sets, now).await?;
        replaced.extend(withdraw(tx, requests, &withdrawals).await?);
        for (index, before) in replaced {
            previous[index] = before;
        }
        for index in sets.into_iter().chain(withdrawals) {
            let request = &requests[index];
            let (helpful, not_helpful) = count_deltas(previous[index], request.vote);
            let delta = deltas.entry(request.post_id.as_str()).or_default();
            delta.0 += helpful;
            delta.1 += not_helpful;
        }
    }
    let mut counters: HashMap<&str, (Option<String>, i64, i64)> = HashMap::new();
    let mut touched: Vec<&str> = deltas.keys().copied().collect();
    touched.sort_unstable();
    for post_id in touched {
        let (helpful, not_helpful) = deltas[post_id];
        let row = sqlx::query(
            "update posts set helpful_count = helpful_count + $1, not_helpful_count = not_helpful_count + $2 \
             where id = $3 returning author_id, helpful_count, not_helpful_count",
        )
        .bind(helpful)
        .bind(not_helpful)
        .bind(post_id)
        .fetch_one(&mut **tx)
        .await?;
        counters.insert(post_id, (row.get(0), row.get(1), row.get(2)));
    }
    Ok(requests
        .iter()
        .enumerate()
        .map(|(index, request)| {
            let (author_id, helpful, not_helpful) = counters.get(request.post_id.as_str())?.clone();
            Some(VoteOutcome {
                author_id,
                previous: previous[index],
                current: request.vote,
                helpful,
                not_helpful,
            })
        })
        .collect())
}

/// Locks the batch's posts in id order (so batches of different instances cannot deadlock
/// on each other) and returns those that exist; votes for the others answer `None`.
async fn lock_posts(tx: &mut WriteTx<'_, '_>, requests: &[Request]) -> Result<Vec<String>, sqlx::Error> {
    let mut ids: Vec<&str> = requests.iter().map(|r| r.post_id.as_str()).collect();
    ids.sort_unstable();
    ids.dedup();
    let sql = format!(
        "select id from posts where id in ({}) order by id {}",
        placeholders(1, ids.len()),
        tx.lock_rows(RowLock::Wait)
    );
    let mut query = sqlx::query_scalar::<_, String>(AssertSqlSafe(sql));
    for id in &ids {
        query = query.bind(*id);
    }
    query.fetch_all(&mut **tx).await
}

/// Splits the batch (of votes on existing posts) into rounds in which each (post, user)
/// appears once; a user's n-th request for a post goes in round n, so order is kept.
fn rounds(requests: &[Request], existing: &[String]) -> Vec<Vec<usize>> {
    let mut seen: HashMap<(&str, &str), usize> = HashMap::new();
    let mut rounds: Vec<Vec<usize>> = Vec::new();
    for (index, request) in requests.iter().enumerate() {
        if existing.binary_search(&request.post_id).is_err() {
            continue;
        }
        let count = seen.entry((request.post_id.as_str(), request.user_id.as_str())).or_default();
        if rounds.len() <= *count {
            rounds.push(Vec::new());
        }
        rounds[*count].push(index);
        *count += 1;
    }
    rounds
}

/// One multi-row upsert; returns each request's previous vote.
async fn upsert(
    conn: &mut AnyConnection,
    requests: &[Request],
    indices: &[usize],
    now: i64,
) -> Result<Vec<(usize, Option<Vote>)>, sqlx::Error> {
    if indices.is_empty() {
        return Ok(Vec::new());
    }
    let values: Vec<String> = (0..indices.len())
        .map(|n| format!("(${}, ${}, ${}, 0, ${})", 4 * n + 1, 4 * n + 2, 4 * n + 3, 4 * n + 4))
        .collect();
    let sql = format!(
        "insert into post_votes (post_id, user_id, value, previous_value, updated_at) values {} \
         on conflict (post_id, user_id) do update \
         set previous_value = post_votes.value, value = excluded.value, updated_at = excluded.updated_at \
         returning post_id, user_id, previous_value",
        values.join(", ")
    );
    let mut query = sqlx::query(AssertSqlSafe(sql));
    for &index in indices {
        let request = &requests[index];
        query = query
            .bind(&request.post_id)
            .bind(&request.user_id)
            .bind(request.vote.map_or(0, Vote::as_i64))
            .bind(now);
    }
    let rows = query.fetch_all(&mut *conn).await?;
    matched(requests, indices, rows.iter().map(|row| (row.get(0), row.get(1), Vote::from_i64(row.get(2)))))
}

/// One multi-row delete; returns each request's previous vote (none if it had none).
async fn withdraw(
    conn: &mut AnyConnection,
    requests: &[Request],
    indices: &[usize],
) -> Result<Vec<(usize, Option<Vote>)>, sqlx::Error> {
    if indices.is_empty() {
        return Ok(Vec::new());
    }
    let keys: Vec<String> = (0..indices.len())
        .map(|n| format!("(post_id = ${} and user_id = ${})", 2 * n + 1, 2 * n + 2))
        .collect();
    let sql = format!("delete from post_votes where {} returning post_id, user_id, value", keys.join(" or "));
    let mut query = sqlx::query(AssertSqlSafe(sql));
    for &index in indices {
        query = query.bind(&requests[index].post_id).bind(&requests[index].user_id);
    }
    let rows = query.fetch_all(&mut *conn).await?;
    matched(requests, indices, rows.iter().map(|row| (row.get(0), row.get(1), Vote::from_i64(row.get(2)))))
}

/// Pairs returned rows with the requests of one round by (post, user), unique in a round.
fn matched(
    requests: &[Request],
    indices: &[usize],
    rows: impl Iterator<Item = (String, String, Option<Vote>)>,
) -> Result<Vec<(usize, Option<Vote>)>, sqlx::Error> {
    let by_key: HashMap<(&str, &str), usize> =
        indices.iter().map(|&i| ((requests[i].post_id.as_str(), requests[i].user_id.as_str()), i)).collect();
    let mut found: Vec<(usize, Option<Vote>)> = indices.iter().map(|&i| (i, None)).collect();
    let position: HashMap<usize, usize> = indices.iter().enumerate().map(|(n, &i)| (i, n)).collect();
    for (post_id, user_id, before) in rows {
        let index = by_key
            .get(&(post_id.as_str(), user_id.as_str()))
            .ok_or_else(|| sqlx::Error::Protocol("a vote row came back that was not asked for".into()))?;
        found[position[index]].1 = before;
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(post: &str, user: &str, vote: Option<Vote>) -> Request {
        let (reply, _) = oneshot::channel();
        Request { post_id: post.into(), user_id: user.into(), vote, reply }
    }

    #[test]
    fn a_users_repeated_requests_go_in_later_rounds_in_order() {
        let requests = [
            request("p", "a", Some(Vote::Helpful)),
            request("p", "b", Some(Vote::Helpful)),
            request("p", "a", None),
            request("gone", "c", Some(Vote::Helpful)),
            request("p", "a", Some(Vote::NotHelpful)),
            request("q", "a", Some(Vote::Helpful)),
        ];
        let rounds = rounds(&requests, &["p".to_owned(), "q".to_owned()]);
        assert_eq!(rounds, vec![vec![0, 1, 5], vec![2], vec![4]]);
    }

    #[test]
    fn a_post_goes_to_the_shard_its_fnv1a_hash_names() {
        // The published FNV-1a 64-bit test vectors: the shard is the hash modulo the shards.
        for (post, hash) in [("a", 0xaf63_dc4c_8601_ec8c_u64), ("foobar", 0x8594_4171_f739_67e8)] {
            for shards in 1..6 {
                assert_eq!(shard_of(post, shards), (hash % shards as u64) as usize, "{post} over {shards}");
            }
        }
    }

    #[test]
    fn posts_spread_over_every_shard() {
        let mut per_shard = [0; 4];
        for n in 0..400 {
            per_shard[shard_of(&format!("0190c1a2-7d3e-7000-8000-{n:012}"), 4)] += 1;
        }
        assert!(per_shard.iter().all(|&posts| posts > 50), "{per_shard:?}");
    }
}

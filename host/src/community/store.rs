//! Storage of posts and votes, one SQL text for both engines.

use super::model::{NewPost, Post, Vote};
use super::vote_batch::VoteBatcher;
use crate::db::{Database, now_ms};
use crate::geo::{BoundingBox, Point, lat_band};
use crate::tasks::Tasks;
use async_trait::async_trait;
use sqlx::AssertSqlSafe;

#[derive(Debug, thiserror::Error)]
pub enum PostStoreError {
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

/// A post's id and location: what the nearby listing ranks before it loads whole posts.
#[derive(Debug, Clone, PartialEq)]
pub struct Located {
    pub id: String,
    pub location: Point,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Deletion {
    Deleted,
    NotFound,
    NotAuthor,
}

/// The result of setting or withdrawing a vote: the user's vote before and after, and the
/// post's counters as this change left them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VoteOutcome {
    pub author_id: Option<String>,
    pub previous: Option<Vote>,
    pub current: Option<Vote>,
    pub helpful: i64,
    pub not_helpful: i64,
}

#[async_trait]
pub trait PostStore: Send + Sync + 'static {
    async fn create(&self, post: NewPost) -> Result<Post, PostStoreError>;
    /// One post, with `viewer`'s vote.
    async fn get(&self, id: &str, viewer: &str) -> Result<Option<Post>, PostStoreError>;
    /// The posts of `ids` that exist, in no particular order, with `viewer`'s votes.
    async fn get_many(&self, ids: &[String], viewer: &str) -> Result<Vec<Post>, PostStoreError>;
    /// Deletes the post if `author_id` wrote it.
    async fn delete(&self, id: &str, author_id: &str) -> Result<Deletion, PostStoreError>;
    /// The author's posts, newest first, with ids below `before`.
    async fn by_author(
        &self,
        author_id: &str,
        before: Option<&str>,
        limit: i64,
    ) -> Result<Vec<Post>, PostStoreError>;
    /// Posts inside `area`, newest first, with ids below `before`; at most `limit`.
    async fn in_area(
        &self,
        area: &BoundingBox,
        before: Option<&str>,
        limit: i64,
    ) -> Result<Vec<Located>, PostStoreError>;
    /// Sets (`Some`) or withdraws (`None`) `user_id`'s vote and moves the post's counters by
    /// exactly the change, atomically. `None` when the post does not exist.
    async fn vote(
        &self,
        post_id: &str,
        user_id: &str,
        vote: Option<Vote>,
    ) -> Result<Option<VoteOutcome>, PostStoreError>;
}

#[derive(Debug, Clone)]
pub struct SqlPosts {
    db: Database,
    votes: VoteBatcher,
}

impl SqlPosts {
    /// Starts the vote writers as work of `tasks`, so it must be called inside the runtime.
    pub fn new(db: Database, tasks: &Tasks) -> Self {
        Self { votes: VoteBatcher::start(db.clone(), tasks), db }
    }
}

/// `$first, $first+1, …` for `count` values: the text of an `in (…)` list.
pub(super) fn placeholders(first: usize, count: usize) -> String {
    (first..first + count).map(|n| format!("${n}")).collect::<Vec<_>>().join(", ")
}

/// Sorts after every id (UUIDs are hex and dashes, and id columns compare byte-wise in both
/// engines), so "no cursor" needs no second SQL text.
const AFTER_EVERY_ID: &str = "~";

const POST_COLUMNS: &str = "p.id, p.author_id, u.nickname, p.title, p.body, p.lat, p.lon, \
    p.helpful_count, p.not_helpful_count, p.created_at, v.value";

/// `$1` is always the viewer, whose vote joins in.
const POST_FROM: &str = "from posts p left join users u on u.id = p.author_id \
    left join post_votes v on v.post_id = p.id and v.user_id = $1";

#[derive(sqlx::FromRow)]
struct PostRow {
    id: String,
    author_id: Option<String>,
    nickname: Option<String>,
    title: String,
    body: String,
    lat: f64,
    lon: f64,
    helpful_count: i64,
    not_helpful_count: i64,
    created_at: i64,
    value: Option<i64>,
}

impl From<PostRow> for Post {
    fn from(row: PostRow) -> Self {
        Self {
            id: row.id,
            author_id: row.author_id,
            author_nickname: row.nickname,
            title: row.title,
            body: row.body,
            location: Point { lat: row.lat, lon: row.lon },
            helpful: row.helpful_count,
            not_helpful: row.not_helpful_count,
            my_vote: row.value.and_then(Vote::from_i64),
            created_at: row.created_at,
        }
    }
}

#[async_trait]
impl PostStore for SqlPosts {
    #[tracing::instrument(skip_all)]
    async fn create(&self, post: NewPost) -> Result<Post, PostStoreError> {
        let id = uuid::Uuid::now_v7().to_string();
        let now = now_ms();
        sqlx::query(
            "insert into posts (id, author_id, title, body, lat, lon, lat_band, helpful_count, not_helpful_count, created_at) \
             values ($1, $2, $3, $4, $5, $6, $7, 0, 0, $8)",
        )
        .bind(&id)
        .bind(&post.author_id)
        .bind(&post.title)
        .bind(&post.body)
        .bind(post.location.lat)
        .bind(post.location.lon)
        .bind(lat_band(post.location.lat))
        .bind(now)
        .execute(self.db.pool())
        .await?;
        let nickname = sqlx::query_scalar::<_, String>("select nickname from users where id = $1")
            .bind(&post.author_id)
            .fetch_optional(self.db.pool())
            .await?;
        Ok(Post {
            id,
            author_nickname: nickname,
            author_id: Some(post.author_id),
            title: post.title,
            body: post.body,
            location: post.location,
            helpful: 0,
            not_helpful: 0,
            my_vote: None,
            created_at: now,
        })
    }

    #[tracing::instrument(skip_all)]
    async fn get(&self, id: &str, viewer: &str) -> Result<Option<Post>, PostStoreError> {
        let sql = format!("select {POST_COLUMNS} {POST_FROM} where p.id = $2");
        let row = sqlx::query_as::<_, PostRow>(AssertSqlSafe(sql))
            .bind(viewer)
            .bind(id)
            .fetch_optional(self.db.pool())
            .await?;
        Ok(row.map(Post::from))
    }

    #[tracing::instrument(skip_all)]
    async fn get_many(&self, ids: &[String], viewer: &str) -> Result<Vec<Post>, PostStoreError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!("select {POST_COLUMNS} {POST_FROM} where p.id in ({})", placeholders(2, ids.len()));
        let mut query = sqlx::query_as::<_, PostRow>(AssertSqlSafe(sql)).bind(viewer);
        for id in ids {
            query = query.bind(id);
        }
        Ok(query.fetch_all(self.db.pool()).await?.into_iter().map(Post::from).collect())
    }

    #[tracing::instrument(skip_all)]
    async fn delete(&self, id: &str, author_id: &str) -> Result<Deletion, PostStoreError> {
        let deleted = sqlx::query("delete from posts where id = $1 and author_id = $2")
            .bind(id)
            .bind(author_id)
            .execute(self.db.pool())
            .await?;
        if deleted.rows_affected() == 1 {
            return Ok(Deletion::Deleted);
        }
        let exists = sqlx::query_scalar::<_, String>("select id from posts where id = $1")
            .bind(id)
            .fetch_optional(self.db.pool())
            .await?;
        Ok(if exists.is_some() { Deletion::NotAuthor } else { Deletion::NotFound })
    }

    #[tracing::instrument(skip_all)]
    async fn by_author(
        &self,
        author_id: &str,
        before: Option<&str>,
        limit: i64,
    ) -> Result<Vec<Post>, PostStoreError> {
        let sql = format!(
            "select {POST_COLUMNS} {POST_FROM} where p.author_id = $1 and p.id < $2 order by p.id desc limit $3"
        );
        let rows = sqlx::query_as::<_, PostRow>(AssertSqlSafe(sql))
            .bind(author_id)
            .bind(before.unwrap_or(AFTER_EVERY_ID))
            .bind(limit)
            .fetch_all(self.db.pool())
            .await?;
        Ok(rows.into_iter().map(Post::from).collect())
    }

    #[tracing::instrument(skip_all)]
    async fn in_area(
        &self,
        area: &BoundingBox,
        before: Option<&str>,
        limit: i64,
    ) -> Result<Vec<Located>, PostStoreError> {
        // One index range per latitude band: `lat_band in (…)` with a range on `lon` lets both
        // engines descend the (lat_band, lon, …) index once per band and read only the box.
        let bands = area.bands();
        let band_count = usize::try_from(bands.end() - bands.start() + 1).unwrap_or(0);
        let sql = format!(
            "select id, lat, lon from posts \
             where lat_band in ({}) and lon >= $1 and lon <= $2 and id < $3 \
             order by id desc limit $4",
            placeholders(5, band_count)
        );
        let mut query = sqlx::query_as::<_, (String, f64, f64)>(AssertSqlSafe(sql))
            .bind(area.min_lon)
            .bind(area.max_lon)
            .bind(before.unwrap_or(AFTER_EVERY_ID))
            .bind(limit);
        for band in bands {
            query = query.bind(band);
        }
        let rows = query.fetch_all(self.db.pool()).await?;
        Ok(rows.into_iter().map(|(id, lat, lon)| Located { id, location: Point { lat, lon } }).collect())
    }

    #[tracing::instrument(skip_all)]
    async fn vote(
        &self,
        post_id: &str,
        user_id: &str,
        vote: Option<Vote>,
    ) -> Result<Option<VoteOutcome>, PostStoreError> {
        Ok(self.votes.vote(post_id, user_id, vote).await?)
    }
}

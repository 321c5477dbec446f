//! Sessions and refresh tokens (OAuth 2.0 Security BCP): a session is a family of refresh
//! tokens; each refresh token is stored only as its SHA-256, used once, and replaced on use.
//! Presenting a token that was already used revokes the whole family, because either the
//! client or a thief holds a stolen copy.

use crate::db::{Database, WriteTx, is_foreign_key_violation, now_ms};
use async_trait::async_trait;
use base64::Engine as _;
use sha2::{Digest, Sha256};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rotation {
    /// The token was current; `new_token` replaces it.
    Rotated { user_id: String, session_id: String },
    /// The token had been used before: the family is now revoked.
    Reused { user_id: String, session_id: String },
    /// Unknown, expired, or its session was revoked (logout, password change).
    Invalid,
}

#[async_trait]
pub trait SessionStore: Send + Sync + 'static {
    /// Opens a session whose first refresh token has hash `token_hash`; `None` when the user no
    /// longer exists (a login that raced the account's deletion).
    async fn open(&self, user_id: &str, token_hash: &str, ttl_ms: i64) -> anyhow::Result<Option<String>>;
    /// Consumes `token_hash` and, if it was current, stores `new_hash` in the same session.
    async fn rotate(&self, token_hash: &str, new_hash: &str) -> anyhow::Result<Rotation>;
    async fn revoke(&self, session_id: &str) -> anyhow::Result<()>;
    /// Revokes every live session of the user except `keep`; returns the revoked ids.
    async fn revoke_all(&self, user_id: &str, keep: Option<&str>) -> anyhow::Result<Vec<String>>;
    async fn is_active(&self, session_id: &str) -> anyhow::Result<bool>;
}

/// A fresh opaque refresh token and the hash under which it is stored.
pub fn new_refresh_token() -> (String, String) {
    let bytes: [u8; 32] = rand::random();
    let token = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    let hash = hash_refresh_token(&token);
    (token, hash)
}

pub fn hash_refresh_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

#[derive(Debug, Clone)]
pub struct SqlSessions {
    db: Database,
}

impl SqlSessions {
    pub fn new(db: Database) -> Self {
        Self { db }
    }
}

#[async_trait]
impl SessionStore for SqlSessions {
    #[tracing::instrument(skip_all)]
    async fn open(&self, user_id: &str, token_hash: &str, ttl_ms: i64) -> anyhow::Result<Option<String>> {
        let now = now_ms();
        let session_id = uuid::Uuid::now_v7().to_string();
        let id = &session_id;
        let opened = self
            .db
            .write(|tx| {
                Box::pin(async move {
                    // Conditional on the user, so a deletion committed first leaves nothing to
                    // open; one committing meanwhile holds the user's row until it is done.
                    let inserted = sqlx::query(
                        "insert into sessions (id, user_id, created_at, expires_at) \
                         select $1, id, $3, $4 from users where id = $2",
                    )
                    .bind(id)
                    .bind(user_id)
                    .bind(now)
                    .bind(now + ttl_ms)
                    .execute(&mut **tx)
                    .await;
                    match inserted {
                        Ok(done) if done.rows_affected() == 1 => {}
                        Ok(_) => return Ok::<_, sqlx::Error>(false),
                        // The user's deletion committed between the read and the insert.
                        Err(err) if is_foreign_key_violation(&err) => {
                            tx.roll_back();
                            return Ok(false);
                        }
                        Err(err) => return Err(err),
                    }
                    sqlx::query(
                        "insert into refresh_tokens (token_hash, session_id, created_at) values ($1, $2, $3)",
                    )
                    .bind(token_hash)
                    .bind(id)
                    .bind(now)
                    .execute(&mut **tx)
                    .await?;
                    Ok(true)
                })
            })
            .await?;
        Ok(opened.then_some(session_id))
    }

    #[tracing::instrument(skip_all)]
    async fn rotate(&self, token_hash: &str, new_hash: &str) -> anyhow::Result<Rotation> {
        let now = now_ms();
        self.db.write(|tx| Box::pin(rotate_in(tx, token_hash, new_hash, now))).await
    }

    #[tracing::instrument(skip_all)]
    async fn revoke(&self, session_id: &str) -> anyhow::Result<()> {
        sqlx::query("update sessions set revoked_at = $1 where id = $2 and revoked_at is null")
            .bind(now_ms())
            .bind(session_id)
            .execute(self.db.pool())
            .await?;
        Ok(())
    }

    #[tracing::instrument(skip_all)]
    async fn revoke_all(&self, user_id: &str, keep: Option<&str>) -> anyhow::Result<Vec<String>> {
        let revoked: Vec<(String,)> = sqlx::query_as(
            "update sessions set revoked_at = $1 where user_id = $2 and revoked_at is null and id <> $3 returning id",
        )
        .bind(now_ms())
        .bind(user_id)
        .bind(keep.unwrap_or(""))
        .fetch_all(self.db.pool())
        .await?;
        Ok(revoked.into_iter().map(|(id,)| id).collect())
    }

    #[tracing::instrument(skip_all)]
    async fn is_active(&self, session_id: &str) -> anyhow::Result<bool> {
        let row: Option<(i64,)> =
            sqlx::query_as("select expires_at from sessions where id = $1 and revoked_at is null")
                .bind(session_id)
                .fetch_optional(self.db.pool())
                .await?;
        Ok(row.is_some_and(|(expires_at,)| expires_at > now_ms()))
    }
}

/// The rotation's transaction: the token is used up, and the new one joins its session if
/// that is still live; a token used before revokes its session.
async fn rotate_in(
    tx: &mut WriteTx<'_, '_>,
    token_hash: &str,
    new_hash: &str,
    now: i64,
) -> anyhow::Result<Rotation> {
    // The first statement writes the token's row, so two rotations of one token serialise on
    // it: exactly one sees `used_at is null`.
    let claimed: Option<(String,)> = sqlx::query_as(
        "update refresh_tokens set used_at = $1 where token_hash = $2 and used_at is null returning session_id",
    )
    .bind(now)
    .bind(token_hash)
    .fetch_optional(&mut **tx)
    .await?;
    let Some((session_id,)) = claimed else {
        let known: Option<(String,)> =
            sqlx::query_as("select session_id from refresh_tokens where token_hash = $1")
                .bind(token_hash)
                .fetch_optional(&mut **tx)
                .await?;
        let Some((session_id,)) = known else {
            return Ok(Rotation::Invalid);
        };
        let revoked: Option<(String,)> = sqlx::query_as(
            "update sessions set revoked_at = coalesce(revoked_at, $1) where id = $2 returning user_id",
        )
        .bind(now)
        .bind(&session_id)
        .fetch_optional(&mut **tx)
        .await?;
        let outcome = match revoked {
            Some((user_id,)) => Rotation::Reused { user_id, session_id },
            None => Rotation::Invalid,
        };
        return Ok(outcome);
    };
    let live: Option<(String,)> = sqlx::query_as(
        "select user_id from sessions where id = $1 and revoked_at is null and expires_at > $2",
    )
    .bind(&session_id)
    .bind(now)
    .fetch_optional(&mut **tx)
    .await?;
    let Some((user_id,)) = live else {
        return Ok(Rotation::Invalid);
    };
    sqlx::query("insert into refresh_tokens (token_hash, session_id, created_at) values ($1, $2, $3)")
        .bind(new_hash)
        .bind(&session_id)
        .bind(now)
        .execute(&mut **tx)
        .await?;
    Ok(Rotation::Rotated { user_id, session_id })
}

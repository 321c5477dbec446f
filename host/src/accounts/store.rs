//! Storage of users, one SQL text for both engines.

use super::model::{Role, User, UserView};
use crate::db::{Database, RowLock, is_unique_violation, now_ms, violated_constraint};
use crate::language::Language;
use async_trait::async_trait;
use sqlx::AssertSqlSafe;

#[derive(Debug, Clone)]
pub struct NewUser {
    pub email: Option<String>,
    pub nickname: String,
    pub nickname_key: String,
    pub password_hash: Option<String>,
    pub kakao_id: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum UserStoreError {
    #[error("email already registered")]
    EmailTaken,
    #[error("nickname already taken")]
    NicknameTaken,
    #[error("Kakao account already linked")]
    KakaoTaken,
    #[error(transparent)]
    Database(#[from] sqlx::Error),
    /// The profile cache could not record a change (see `cached_profiles.rs`).
    #[error("the profile cache is unavailable: {0}")]
    CacheUnavailable(anyhow::Error),
}

#[async_trait]
pub trait UserStore: Send + Sync + 'static {
    async fn create(&self, user: NewUser) -> Result<User, UserStoreError>;
    async fn by_id(&self, id: &str) -> Result<Option<User>, UserStoreError>;
    /// What `/me` shows of the user (a cache may answer it).
    async fn view(&self, id: &str) -> Result<Option<UserView>, UserStoreError> {
        Ok(self.by_id(id).await?.as_ref().map(UserView::from))
    }
    async fn by_email(&self, email: &str) -> Result<Option<User>, UserStoreError>;
    async fn by_kakao_id(&self, kakao_id: &str) -> Result<Option<User>, UserStoreError>;
    /// Returns the updated user, or `None` when the user no longer exists.
    async fn set_nickname(&self, id: &str, nickname: &str, key: &str)
    -> Result<Option<User>, UserStoreError>;
    async fn set_password_hash(&self, id: &str, hash: &str) -> Result<bool, UserStoreError>;
    /// Sets (or with `None` clears) the language chosen on the profile; returns the updated
    /// user, or `None` when the user no longer exists.
    async fn set_language(
        &self,
        id: &str,
        language: Option<Language>,
    ) -> Result<Option<User>, UserStoreError>;
    async fn set_role_by_email(&self, email: &str, role: Role) -> Result<bool, UserStoreError>;
    /// Deletes the user and, in the same transaction, its sessions, so no session can be opened
    /// for the account once this returns. Returns the ids of the sessions that were live (their
    /// access tokens must be refused from now on), or `None` when there was no such user.
    async fn delete(&self, id: &str) -> Result<Option<Vec<String>>, UserStoreError>;
}

#[derive(Debug, Clone)]
pub struct SqlUsers {
    db: Database,
}

impl SqlUsers {
    pub fn new(db: Database) -> Self {
        Self { db }
    }

    async fn one(&self, column_sql: &'static str, value: &str) -> Result<Option<User>, UserStoreError> {
        let row = sqlx::query_as::<_, UserRow>(column_sql).bind(value).fetch_optional(self.db.pool()).await?;
        Ok(row.map(User::from))
    }
}

macro_rules! select_user_where {
    ($column:literal) => {
        concat!(
            "select id, email, nickname, password_hash, kakao_id, role, language, created_at, updated_at from users where ",
            $column,
            " = $1"
        )
    };
}

#[derive(sqlx::FromRow)]
struct UserRow {
    id: String,
    email: Option<String>,
    nickname: String,
    password_hash: Option<String>,
    kakao_id: Option<String>,
    role: String,
    language: Option<String>,
    created_at: i64,
    updated_at: i64,
}

impl From<UserRow> for User {
    fn from(row: UserRow) -> Self {
        Self {
            id: row.id,
            email: row.email,
            nickname: row.nickname,
            password_hash: row.password_hash,
            kakao_id: row.kakao_id,
            role: Role::parse(&row.role),
            language: row.language.as_deref().and_then(Language::parse),
            created_at: row.created_at,
            updated_at: row.updated_at,
        }
    }
}

/// Maps a unique violation to the field that collided (the constraint or column name that
/// `db::violated_constraint` reports contains the column's name).
fn classify(err: sqlx::Error) -> UserStoreError {
    if !is_unique_violation(&err) {
        return UserStoreError::Database(err);
    }
    let constraint = violated_constraint(&err);
    if constraint.contains("nickname") {
        UserStoreError::NicknameTaken
    } else if constraint.contains("kakao") {
        UserStoreError::KakaoTaken
    } else {
        UserStoreError::EmailTaken
    }
}

#[async_trait]
impl UserStore for SqlUsers {
    #[tracing::instrument(skip_all)]
    async fn create(&self, user: NewUser) -> Result<User, UserStoreError> {
        let now = now_ms();
        let id = uuid::Uuid::now_v7().to_string();
        sqlx::query(
            "insert into users (id, email, nickname, nickname_key, password_hash, kakao_id, role, created_at, updated_at) \
             values ($1, $2, $3, $4, $5, $6, 'user', $7, $7)",
        )
        .bind(&id)
        .bind(&user.email)
        .bind(&user.nickname)
        .bind(&user.nickname_key)
        .bind(&user.password_hash)
        .bind(&user.kakao_id)
        .bind(now)
        .execute(self.db.pool())
        .await
        .map_err(classify)?;
        Ok(User {
            id,
            email: user.email,
            nickname: user.nickname,
            password_hash: user.password_hash,
            kakao_id: user.kakao_id,
            role: Role::User,
            language: None,
            created_at: now,
            updated_at: now,
        })
    }

    #[tracing::instrument(skip_all)]
    async fn by_id(&self, id: &str) -> Result<Option<User>, UserStoreError> {
        self.one(select_user_where!("id"), id).await
    }

    #[tracing::instrument(skip_all)]
    async fn by_email(&self, email: &str) -> Result<Option<User>, UserStoreError> {
        self.one(select_user_where!("email"), email).await
    }

    #[tracing::instrument(skip_all)]
    async fn by_kakao_id(&self, kakao_id: &str) -> Result<Option<User>, UserStoreError> {
        self.one(select_user_where!("kakao_id"), kakao_id).await
    }

    #[tracing::instrument(skip_all)]
    async fn set_nickname(
        &self,
        id: &str,
        nickname: &str,
        key: &str,
    ) -> Result<Option<User>, UserStoreError> {
        let changed =
            sqlx::query("update users set nickname = $1, nickname_key = $2, updated_at = $3 where id = $4")
                .bind(nickname)
                .bind(key)
                .bind(now_ms())
                .bind(id)
                .execute(self.db.pool())
                .await
                .map_err(classify)?;
        if changed.rows_affected() == 0 {
            return Ok(None);
        }
        self.by_id(id).await
    }

    #[tracing::instrument(skip_all)]
    async fn set_password_hash(&self, id: &str, hash: &str) -> Result<bool, UserStoreError> {
        let changed = sqlx::query("update users set password_hash = $1, updated_at = $2 where id = $3")
            .bind(hash)
            .bind(now_ms())
            .bind(id)
            .execute(self.db.pool())
            .await?;
        Ok(changed.rows_affected() == 1)
    }

    #[tracing::instrument(skip_all)]
    async fn set_language(
        &self,
        id: &str,
        language: Option<Language>,
    ) -> Result<Option<User>, UserStoreError> {
        let changed = sqlx::query("update users set language = $1, updated_at = $2 where id = $3")
            .bind(language.map(Language::as_str))
            .bind(now_ms())
            .bind(id)
            .execute(self.db.pool())
            .await?;
        if changed.rows_affected() == 0 {
            return Ok(None);
        }
        self.by_id(id).await
    }

    #[tracing::instrument(skip_all)]
    async fn set_role_by_email(&self, email: &str, role: Role) -> Result<bool, UserStoreError> {
        let changed = sqlx::query("update users set role = $1, updated_at = $2 where email = $3")
            .bind(role.as_str())
            .bind(now_ms())
            .bind(email)
            .execute(self.db.pool())
            .await?;
        Ok(changed.rows_affected() == 1)
    }

    #[tracing::instrument(skip_all)]
    async fn delete(&self, id: &str) -> Result<Option<Vec<String>>, UserStoreError> {
        let now = now_ms();
        let ended = self
            .db
            .write(|tx| {
                Box::pin(async move {
                    // The user's row first: a login opening a session for it waits for this
                    // transaction (and then finds no user), so every session is in the list below.
                    let lock = format!("select id from users where id = $1 {}", tx.lock_rows(RowLock::Wait));
                    let found: Option<(String,)> = sqlx::query_as(AssertSqlSafe(lock)).bind(id).fetch_optional(&mut **tx).await?;
                    if found.is_none() {
                        return Ok::<_, sqlx::Error>(None);
                    }
                    let live: Vec<(String,)> = sqlx::query_as(
                        "select id from sessions where user_id = $1 and revoked_at is null and expires_at > $2",
                    )
                    .bind(id)
                    .bind(now)
                    .fetch_all(&mut **tx)
                    .await?;
                    sqlx::query("delete from users where id = $1").bind(id).execute(&mut **tx).await?;
                    Ok(Some(live.into_iter().map(|(id,)| id).collect()))
                })
            })
            .await?;
        Ok(ended)
    }
}

//! The points ledger: one row per credited verification, and each user's running total beside
//! it, changed in the same transaction. The ledger's primary key is what credits a
//! verification exactly once, whoever calls and however often.

use crate::db::WriteError;
use sqlx::AnyConnection;

/// Most points one verification can credit (keeps totals far inside f64's exact integers).
pub const MAX_POINTS_PER_CREDIT: i64 = 100_000;
/// Longest verification id accepted.
pub const MAX_VERIFICATION_ID_BYTES: usize = 128;

/// A user's place in the ledger: the total and when they reached it (their latest credit).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Standing {
    pub user_id: String,
    pub total: i64,
    pub reached_at_ms: i64,
}

/// The result of a credit: the user's standing afterwards, and whether this call credited.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credit {
    pub verification_id: String,
    /// The user the verification credited (the first call's, when it was already credited).
    pub user_id: String,
    pub points: i64,
    pub total: i64,
    pub reached_at_ms: i64,
    /// `false`: the verification had been credited before and nothing changed.
    pub newly_credited: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum PointsError {
    #[error("points must be 1 to {MAX_POINTS_PER_CREDIT}")]
    InvalidPoints,
    #[error("a verification id is 1 to {MAX_VERIFICATION_ID_BYTES} bytes")]
    InvalidVerificationId,
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

impl WriteError for PointsError {
    fn database_error(&self) -> Option<&sqlx::Error> {
        match self {
            Self::Database(err) => Some(err),
            _ => None,
        }
    }
}

/// Credits `points` to `user_id` for `verification_id` at `at_ms`, inside the caller's
/// transaction, unless that verification was credited before. Returns the total afterwards.
/// The caller commits, then calls [`super::PointsService::settle`] to update the ranking and tell the user.
pub async fn credit_in(
    conn: &mut AnyConnection,
    verification_id: &str,
    user_id: &str,
    points: i64,
    at_ms: i64,
) -> Result<Credit, PointsError> {
    if !(1..=MAX_POINTS_PER_CREDIT).contains(&points) {
        return Err(PointsError::InvalidPoints);
    }
    if verification_id.is_empty() || verification_id.len() > MAX_VERIFICATION_ID_BYTES {
        return Err(PointsError::InvalidVerificationId);
    }
    let inserted: Option<String> = sqlx::query_scalar(
        "insert into points_ledger (verification_id, user_id, points, credited_at) values ($1, $2, $3, $4) \
         on conflict (verification_id) do nothing returning verification_id",
    )
    .bind(verification_id)
    .bind(user_id)
    .bind(points)
    .bind(at_ms)
    .fetch_optional(&mut *conn)
    .await?;
    if inserted.is_none() {
        return already_credited(conn, verification_id).await;
    }
    // reached_at only moves forward, so the order in which concurrent credits commit does not
    // matter: it always ends as the latest credit's time, what a rebuild computes.
    let (total, reached_at_ms): (i64, i64) = sqlx::query_as(
        "insert into user_points (user_id, total, reached_at) values ($1, $2, $3) \
         on conflict (user_id) do update set total = user_points.total + excluded.total, \
         reached_at = case when excluded.reached_at > user_points.reached_at \
                      then excluded.reached_at else user_points.reached_at end \
         returning total, reached_at",
    )
    .bind(user_id)
    .bind(points)
    .bind(at_ms)
    .fetch_one(&mut *conn)
    .await?;
    Ok(Credit {
        verification_id: verification_id.to_owned(),
        user_id: user_id.to_owned(),
        points,
        total,
        reached_at_ms,
        newly_credited: true,
    })
}

async fn already_credited(conn: &mut AnyConnection, verification_id: &str) -> Result<Credit, PointsError> {
    let (user_id, points): (String, i64) =
        sqlx::query_as("select user_id, points from points_ledger where verification_id = $1")
            .bind(verification_id)
            .fetch_one(&mut *conn)
            .await?;
    let standing = standing_of(conn, &user_id).await?;
    Ok(Credit {
        verification_id: verification_id.to_owned(),
        points,
        total: standing.as_ref().map_or(0, |s| s.total),
        reached_at_ms: standing.as_ref().map_or(0, |s| s.reached_at_ms),
        user_id,
        newly_credited: false,
    })
}

/// The user's total and when they reached it; `None` before their first credit.
pub async fn standing_of(conn: &mut AnyConnection, user_id: &str) -> Result<Option<Standing>, sqlx::Error> {
    let row: Option<(i64, i64)> =
        sqlx::query_as("select total, reached_at from user_points where user_id = $1")
            .bind(user_id)
            .fetch_optional(&mut *conn)
            .await?;
    Ok(row.map(|(total, reached_at_ms)| Standing { user_id: user_id.to_owned(), total, reached_at_ms }))
}

/// Recomputes every total from the ledger, inside the caller's transaction; returns the
/// standings (best first).
pub async fn recompute_totals(conn: &mut AnyConnection) -> Result<Vec<Standing>, sqlx::Error> {
    sqlx::query("delete from user_points").execute(&mut *conn).await?;
    sqlx::query(
        "insert into user_points (user_id, total, reached_at) \
         select user_id, sum(points), max(credited_at) from points_ledger group by user_id",
    )
    .execute(&mut *conn)
    .await?;
    let rows: Vec<(String, i64, i64)> = sqlx::query_as(
        "select user_id, total, reached_at from user_points order by total desc, reached_at, user_id",
    )
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(user_id, total, reached_at_ms)| Standing { user_id, total, reached_at_ms })
        .collect())
}

/// One credited verification, as the history shows it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct Entry {
    pub verification_id: String,
    pub points: i64,
    pub credited_at_ms: i64,
}

/// Where a history page starts: strictly after this entry (newest first).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryCursor {
    pub credited_at_ms: i64,
    pub verification_id: String,
}

/// Up to `limit` entries of `user_id`, newest first, after `cursor`.
pub async fn history(
    conn: &mut AnyConnection,
    user_id: &str,
    cursor: Option<&HistoryCursor>,
    limit: i64,
) -> Result<Vec<Entry>, sqlx::Error> {
    // The first page starts after a point beyond every entry.
    let (at, id) = cursor.map_or((i64::MAX, ""), |c| (c.credited_at_ms, c.verification_id.as_str()));
    let rows: Vec<(String, i64, i64)> = sqlx::query_as(
        "select verification_id, points, credited_at from points_ledger where user_id = $1 \
         and (credited_at < $2 or (credited_at = $2 and verification_id < $3)) \
         order by credited_at desc, verification_id desc limit $4",
    )
    .bind(user_id)
    .bind(at)
    .bind(id)
    .bind(limit)
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(verification_id, points, credited_at_ms)| Entry { verification_id, points, credited_at_ms })
        .collect())
}

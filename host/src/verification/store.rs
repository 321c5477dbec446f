//! Verifications and their jobs in the database. Every state change is one conditional
//! statement (or one transaction of them), so concurrent workers, reviewers and users can
//! never move a verification twice.

use super::model::{Decision, PhotoFacts, Verification, VerificationState};
use crate::db::{Database, RowLock, WriteError, WriteTx, now_ms};
use crate::missions::MissionState;
use crate::points::ledger::{Credit, PointsError, credit_in};
use sqlx::any::AnyRow;
use sqlx::{AssertSqlSafe, Row};

const COLUMNS: &str = "id, mission_id, user_id, state, photo_sha256, mime, width, height, brightness, dhash, \
                       captured_at, gps_distance_m, reused, normalised_key, full_key, confidence, reason, \
                       decided_by, call_id, appeal, created_at, decided_at";

/// Perceptual hashes this close are the same picture (recompressed, resized, lightly edited).
/// At most 3 differing bits guarantees one of the four 16-bit quarters matches exactly, which
/// is what the indexed lookup relies on.
pub const REUSE_MAX_BITS: u32 = 3;
const REUSE_CANDIDATES: i64 = 500;

#[derive(Clone)]
pub struct VerificationStore {
    db: Database,
}

pub struct NewVerification {
    pub id: String,
    pub mission_id: String,
    pub user_id: String,
    pub photo: PhotoFacts,
    pub normalised_key: String,
    pub full_key: String,
}

#[derive(Debug, thiserror::Error)]
pub enum SubmitError {
    #[error("this mission takes no photo now: it is {}", .0.as_str())]
    NotOpen(MissionState),
    #[error("no attempts left today for this mission")]
    AttemptsExhausted,
    #[error("this mission was for another day")]
    Expired,
    #[error("no such mission")]
    NotFound,
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

impl WriteError for SubmitError {
    fn database_error(&self) -> Option<&sqlx::Error> {
        match self {
            Self::Database(err) => Some(err),
            _ => None,
        }
    }
}

/// A decision to apply.
pub struct DecisionInput<'a> {
    pub decision: Decision,
    pub confidence: Option<f64>,
    pub reason: &'a str,
    /// `policy`, or the reviewing admin's user id.
    pub decided_by: &'a str,
    pub policy_sha256: Option<&'a str>,
    pub call_id: Option<&'a str>,
}

/// Which states a decision may leave from: the policy decides queued or verifying ones, a
/// reviewer those waiting for review.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decider {
    Policy,
    Review,
}

impl Decider {
    fn leaving(self) -> &'static str {
        match self {
            Self::Policy => "('queued', 'verifying')",
            Self::Review => "('needs_review')",
        }
    }
}

/// A decision that took effect.
#[derive(Debug, Clone)]
pub struct Decided {
    pub verification_id: String,
    pub user_id: String,
    pub mission_id: String,
    pub points: i64,
    pub state: VerificationState,
    /// The credit an approval made (`None` for other decisions).
    pub credit: Option<Credit>,
}

/// A claimed job.
#[derive(Debug, Clone)]
pub struct Claimed {
    pub verification_id: String,
    pub attempts: i64,
}

impl VerificationStore {
    pub fn new(db: Database) -> Self {
        Self { db }
    }

    /// Moves the mission to `submitted`, counts the attempt, and queues the verification and
    /// its job, all or nothing.
    pub async fn submit(
        &self,
        new: &NewVerification,
        max_attempts: i64,
        local_date: &str,
    ) -> Result<(), SubmitError> {
        let now = now_ms();
        let queued = self
            .db
            .write(|tx| {
                Box::pin(async move {
                    let moved = sqlx::query(
                        "update missions set state = 'submitted', attempts = attempts + 1, updated_at = $1 \
                         where id = $2 and user_id = $3 and state in ('assigned', 'rejected') \
                         and attempts < $4 and local_date = $5",
                    )
                    .bind(now)
                    .bind(&new.mission_id)
                    .bind(&new.user_id)
                    .bind(max_attempts)
                    .bind(local_date)
                    .execute(&mut **tx)
                    .await?
                    .rows_affected();
                    if moved == 0 {
                        return Ok(false);
                    }
                    queue(tx, new, now).await?;
                    Ok::<_, SubmitError>(true)
                })
            })
            .await?;
        if !queued {
            return Err(self.why_not_open(&new.mission_id, &new.user_id, max_attempts, local_date).await);
        }
        Ok(())
    }

    async fn why_not_open(
        &self,
        mission_id: &str,
        user_id: &str,
        max_attempts: i64,
        local_date: &str,
    ) -> SubmitError {
        let row =
            sqlx::query("select state, attempts, local_date from missions where id = $1 and user_id = $2")
                .bind(mission_id)
                .bind(user_id)
                .fetch_optional(self.db.pool())
                .await;
        match row {
            Err(err) => err.into(),
            Ok(None) => SubmitError::NotFound,
            Ok(Some(row)) => {
                let state = MissionState::parse(row.get(0)).unwrap_or(MissionState::Assigned);
                let attempts: i64 = row.get(1);
                let date: String = row.get(2);
                if date != local_date {
                    SubmitError::Expired
                } else if !MissionState::OPEN.contains(&state) {
                    SubmitError::NotOpen(state)
                } else if attempts >= max_attempts {
                    SubmitError::AttemptsExhausted
                } else {
                    // It changed between the two statements; the caller may simply try again.
                    SubmitError::NotOpen(state)
                }
            }
        }
    }

    /// Whether a photo with this perceptual hash was submitted before.
    pub async fn seen_before(&self, dhash: u64) -> anyhow::Result<bool> {
        let rows = sqlx::query(
            "select dhash from verifications where dhash_q0 = $1 or dhash_q1 = $2 or dhash_q2 = $3 \
             or dhash_q3 = $4 limit $5",
        )
        .bind(quarter(dhash, 0))
        .bind(quarter(dhash, 1))
        .bind(quarter(dhash, 2))
        .bind(quarter(dhash, 3))
        .bind(REUSE_CANDIDATES)
        .fetch_all(self.db.pool())
        .await?;
        Ok(rows.iter().any(|row| (row.get::<i64, _>(0) as u64 ^ dhash).count_ones() <= REUSE_MAX_BITS))
    }

    pub async fn get(&self, id: &str) -> anyhow::Result<Option<Verification>> {
        let row = sqlx::query(AssertSqlSafe(format!("select {COLUMNS} from verifications where id = $1")))
            .bind(id)
            .fetch_optional(self.db.pool())
            .await?;
        row.as_ref().map(from_row).transpose()
    }

    /// Newest first.
    pub async fn of_mission(&self, mission_id: &str) -> anyhow::Result<Vec<Verification>> {
        let rows = sqlx::query(AssertSqlSafe(format!(
            "select {COLUMNS} from verifications where mission_id = $1 order by id desc limit 20"
        )))
        .bind(mission_id)
        .fetch_all(self.db.pool())
        .await?;
        rows.iter().map(from_row).collect()
    }

    /// Waiting for review, oldest first; `after` is the last id of the previous page.
    pub async fn review_queue(&self, after: Option<&str>, limit: i64) -> anyhow::Result<Vec<Verification>> {
        let rows = sqlx::query(AssertSqlSafe(format!(
            "select {COLUMNS} from verifications where state = 'needs_review' and ($1 is null or id > $1) \
             order by id limit $2"
        )))
        .bind(after)
        .bind(limit)
        .fetch_all(self.db.pool())
        .await?;
        rows.iter().map(from_row).collect()
    }

    /// Marks a queued verification (and its mission) as being verified.
    pub async fn start(&self, id: &str) -> anyhow::Result<()> {
        let now = now_ms();
        self.db
            .write(|tx| {
                Box::pin(async move {
                    let row = sqlx::query(
                        "update verifications set state = 'verifying' where id = $1 and state = 'queued' \
                         returning mission_id",
                    )
                    .bind(id)
                    .fetch_optional(&mut **tx)
                    .await?;
                    if let Some(row) = row {
                        sqlx::query(
                            "update missions set state = 'verifying', updated_at = $1 \
                             where id = $2 and state = 'submitted'",
                        )
                        .bind(now)
                        .bind(row.get::<String, _>(0))
                        .execute(&mut **tx)
                        .await?;
                    }
                    Ok(())
                })
            })
            .await
    }

    /// Applies a decision if the verification is still where `decider` may decide it; `None`
    /// when it was not (decided already, by another worker or a reviewer). Approval credits
    /// the mission's points in the same transaction: the ledger is keyed by verification, so
    /// a decision applied twice cannot credit twice.
    pub async fn decide(
        &self,
        id: &str,
        decider: Decider,
        input: DecisionInput<'_>,
    ) -> anyhow::Result<Option<Decided>> {
        let now = now_ms();
        let input = &input;
        self.db.write(|tx| Box::pin(apply_decision(tx, id, decider, input, now))).await
    }

    /// A user's appeal of a rejection by the policy: once, and only while the rejection is the
    /// mission's latest word (no new photo since).
    pub async fn appeal(&self, id: &str, user_id: &str, message: &str) -> anyhow::Result<bool> {
        let now = now_ms();
        self.db.write(|tx| Box::pin(apply_appeal(tx, id, user_id, message, now))).await
    }

    /// Takes the oldest runnable job: queued and due, or running under an expired lease (its
    /// worker died). Of concurrent claimers exactly one gets a given job.
    pub async fn claim(&self, owner: &str, lease_ms: i64) -> anyhow::Result<Option<Claimed>> {
        let now = now_ms();
        let runnable = "((state = 'queued' and run_after <= $3) or (state = 'running' and lease_until < $3))";
        self.db
            .write(|tx| {
                Box::pin(async move {
                    // Concurrent claimers pass over each other's rows instead of queueing on one.
                    let row = sqlx::query(AssertSqlSafe(format!(
                        "update verification_jobs set state = 'running', lease_owner = $1, lease_until = $2, \
                         attempts = attempts + 1, updated_at = $3 \
                         where verification_id = (select verification_id from verification_jobs \
                         where {runnable} order by run_after limit 1 {lock}) and {runnable} \
                         returning verification_id, attempts",
                        lock = tx.lock_rows(RowLock::SkipLocked)
                    )))
                    .bind(owner)
                    .bind(now + lease_ms)
                    .bind(now)
                    .fetch_optional(&mut **tx)
                    .await?;
                    Ok(row.map(|row| Claimed { verification_id: row.get(0), attempts: row.get(1) }))
                })
            })
            .await
    }

    /// Gives a job back to the queue after a failure, to run again after `delay_ms`.
    pub async fn retry_later(&self, id: &str, owner: &str, delay_ms: i64, error: &str) -> anyhow::Result<()> {
        let now = now_ms();
        self.db
            .write(|tx| {
                Box::pin(async move {
                    sqlx::query(
                        "update verification_jobs set state = 'queued', lease_owner = null, run_after = $1, \
                         last_error = $2, updated_at = $3 \
                         where verification_id = $4 and lease_owner = $5 and state = 'running'",
                    )
                    .bind(now + delay_ms)
                    .bind(error)
                    .bind(now)
                    .bind(id)
                    .bind(owner)
                    .execute(&mut **tx)
                    .await?;
                    Ok(())
                })
            })
            .await
    }

    /// Closes a job whose verification was already decided.
    pub async fn finish(&self, id: &str) -> anyhow::Result<()> {
        self.db
            .write(|tx| {
                Box::pin(async move {
                    sqlx::query(
                        "update verification_jobs set state = 'done', lease_owner = null, updated_at = $1 \
                         where verification_id = $2",
                    )
                    .bind(now_ms())
                    .bind(id)
                    .execute(&mut **tx)
                    .await?;
                    Ok(())
                })
            })
            .await
    }

    /// Jobs not done yet (queued or running).
    pub async fn pending_jobs(&self) -> anyhow::Result<i64> {
        Ok(sqlx::query("select count(*) from verification_jobs where state <> 'done'")
            .fetch_one(self.db.pool())
            .await?
            .get(0))
    }
}

/// The decision's transaction: the verification (if `decider` may still decide it), its
/// mission, its job and, for an approval, the credit; `None` when it was decided already.
async fn apply_decision(
    tx: &mut WriteTx<'_, '_>,
    id: &str,
    decider: Decider,
    input: &DecisionInput<'_>,
    now: i64,
) -> anyhow::Result<Option<Decided>> {
    let state = input.decision.state();
    let row = sqlx::query(AssertSqlSafe(format!(
        "update verifications set state = $1, decision = $1, confidence = $2, reason = $3, decided_by = $4, \
         policy_sha256 = coalesce($5, policy_sha256), call_id = coalesce($6, call_id), decided_at = $7 \
         where id = $8 and state in {} returning user_id, mission_id",
        decider.leaving()
    )))
    .bind(state.as_str())
    .bind(input.confidence)
    .bind(input.reason)
    .bind(input.decided_by)
    .bind(input.policy_sha256)
    .bind(input.call_id)
    .bind(now)
    .bind(id)
    .fetch_optional(&mut **tx)
    .await?;
    let Some(row) = row else {
        return Ok(None);
    };
    let (user_id, mission_id): (String, String) = (row.get(0), row.get(1));
    let mission_state = match input.decision {
        Decision::Approved => MissionState::Approved,
        Decision::Rejected => MissionState::Rejected,
        Decision::NeedsReview => MissionState::NeedsReview,
    };
    let points: i64 =
        sqlx::query("update missions set state = $1, updated_at = $2 where id = $3 returning points")
            .bind(mission_state.as_str())
            .bind(now)
            .bind(&mission_id)
            .fetch_one(&mut **tx)
            .await?
            .get(0);
    sqlx::query(
        "update verification_jobs set state = 'done', lease_owner = null, updated_at = $1 \
         where verification_id = $2",
    )
    .bind(now)
    .bind(id)
    .execute(&mut **tx)
    .await?;
    let credit = if input.decision == Decision::Approved {
        // A database error stays one, so a lock conflict is told apart and tried again.
        let credit = credit_in(tx, id, &user_id, points, now).await.map_err(|err| match err {
            PointsError::Database(err) => anyhow::Error::from(err),
            err => err.into(),
        })?;
        Some(credit)
    } else {
        None
    };
    Ok(Some(Decided { verification_id: id.to_owned(), user_id, mission_id, points, state, credit }))
}

/// The appeal's transaction: the verification back to review, and its mission with it.
async fn apply_appeal(
    tx: &mut WriteTx<'_, '_>,
    id: &str,
    user_id: &str,
    message: &str,
    now: i64,
) -> anyhow::Result<bool> {
    let row = sqlx::query(
        "update verifications set state = 'needs_review', appeal = $1, appealed_at = $2 \
         where id = $3 and user_id = $4 and state = 'rejected' and decided_by = 'policy' and appeal is null \
         and id = (select max(v.id) from verifications v where v.mission_id = verifications.mission_id) \
         returning mission_id",
    )
    .bind(message)
    .bind(now)
    .bind(id)
    .bind(user_id)
    .fetch_optional(&mut **tx)
    .await?;
    let Some(row) = row else {
        return Ok(false);
    };
    let moved = sqlx::query(
        "update missions set state = 'needs_review', updated_at = $1 where id = $2 and state = 'rejected'",
    )
    .bind(now)
    .bind(row.get::<String, _>(0))
    .execute(&mut **tx)
    .await?
    .rows_affected();
    if moved == 0 {
        // The mission moved on (a new photo): the appeal must not stand.
        tx.roll_back();
        return Ok(false);
    }
    Ok(true)
}

/// The verification and its job, queued in the submitting transaction.
async fn queue(tx: &mut WriteTx<'_, '_>, new: &NewVerification, now: i64) -> Result<(), sqlx::Error> {
    let p = &new.photo;
    let dhash = p.dhash as i64;
    sqlx::query(
        "insert into verifications (id, mission_id, user_id, state, photo_sha256, mime, width, height, \
         brightness, dhash, dhash_q0, dhash_q1, dhash_q2, dhash_q3, captured_at, gps_distance_m, reused, \
         normalised_key, full_key, created_at) values ($1, $2, $3, 'queued', $4, $5, $6, $7, $8, $9, $10, \
         $11, $12, $13, $14, $15, $16, $17, $18, $19)",
    )
    .bind(&new.id)
    .bind(&new.mission_id)
    .bind(&new.user_id)
    .bind(&p.sha256)
    .bind(&p.mime)
    .bind(i64::from(p.width))
    .bind(i64::from(p.height))
    .bind(f64::from(p.brightness))
    .bind(dhash)
    .bind(quarter(p.dhash, 0))
    .bind(quarter(p.dhash, 1))
    .bind(quarter(p.dhash, 2))
    .bind(quarter(p.dhash, 3))
    .bind(p.captured_at)
    .bind(p.gps_distance_m)
    .bind(i64::from(p.reused))
    .bind(&new.normalised_key)
    .bind(&new.full_key)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    sqlx::query(
        "insert into verification_jobs (verification_id, state, attempts, run_after, created_at, updated_at) \
         values ($1, 'queued', 0, $2, $2, $2)",
    )
    .bind(&new.id)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

fn quarter(hash: u64, index: u32) -> i64 {
    ((hash >> (16 * index)) & 0xffff) as i64
}

fn from_row(row: &AnyRow) -> anyhow::Result<Verification> {
    let width: i64 = row.get("width");
    let height: i64 = row.get("height");
    Ok(Verification {
        id: row.get("id"),
        mission_id: row.get("mission_id"),
        user_id: row.get("user_id"),
        state: VerificationState::parse(row.get("state"))?,
        photo: PhotoFacts {
            sha256: row.get("photo_sha256"),
            mime: row.get("mime"),
            width: u32::try_from(width)?,
            height: u32::try_from(height)?,
            brightness: row.get::<f64, _>("brightness") as f32,
            dhash: row.get::<i64, _>("dhash") as u64,
            captured_at: row.get("captured_at"),
            gps_distance_m: row.get("gps_distance_m"),
            reused: row.get::<i64, _>("reused") != 0,
        },
        normalised_key: row.get("normalised_key"),
        full_key: row.get("full_key"),
        decision_confidence: row.get("confidence"),
        reason: row.get("reason"),
        decided_by: row.get("decided_by"),
        call_id: row.get("call_id"),
        appeal: row.get("appeal"),
        created_at: row.get("created_at"),
        decided_at: row.get("decided_at"),
    })
}

//! The coupon tables. The database is the final word on every claim: a coupon is issued in one
//! transaction that takes a unit of the day's quantity only while one is left (`issued <
//! quantity`, and a check constraint behind it), inserts the coupon (one per user and event: a
//! unique key), and records the answer under the claimant's idempotency key.

use super::model::{Coupon, CouponEvent, EventChanges, EventDraft};
use crate::db::{Database, RowLock, WriteError, WriteTx, is_unique_violation, now_ms};
use sqlx::AssertSqlSafe;

const EVENT_COLUMNS: &str = "id, kind, title, starts_on, ends_on, opens_at, daily_quantity, min_points, closed_at, created_at, updated_at";
const COUPON_COLUMNS: &str = "id, event_id, user_id, day, issued_at, redeemed_at";

/// `columns` (a comma-separated list) each qualified with `alias`, for a join.
fn prefixed(columns: &str, alias: &str) -> String {
    columns.split(", ").map(|column| format!("{alias}{column}")).collect::<Vec<_>>().join(", ")
}

#[derive(sqlx::FromRow)]
struct EventRow {
    id: String,
    kind: String,
    title: String,
    starts_on: String,
    ends_on: String,
    opens_at: String,
    daily_quantity: i64,
    min_points: i64,
    closed_at: Option<i64>,
    created_at: i64,
    updated_at: i64,
}

impl From<EventRow> for CouponEvent {
    fn from(row: EventRow) -> Self {
        Self {
            id: row.id,
            kind: row.kind,
            title: row.title,
            starts_on: row.starts_on,
            ends_on: row.ends_on,
            opens_at: row.opens_at,
            daily_quantity: row.daily_quantity,
            min_points: row.min_points,
            closed_at_ms: row.closed_at,
            created_at_ms: row.created_at,
            updated_at_ms: row.updated_at,
        }
    }
}

/// An event with the coupons issued on the day asked.
#[derive(sqlx::FromRow)]
struct CurrentEventRow {
    #[sqlx(flatten)]
    event: EventRow,
    issued_today: i64,
}

/// An event with what a claim of it reads of its claimant.
#[derive(sqlx::FromRow)]
struct ClaimRow {
    #[sqlx(flatten)]
    event: EventRow,
    answered_coupon: Option<String>,
    approved_today: Option<i64>,
    points: Option<i64>,
}

#[derive(sqlx::FromRow)]
struct CouponRow {
    id: String,
    event_id: String,
    user_id: String,
    day: String,
    issued_at: i64,
    redeemed_at: Option<i64>,
}

impl From<CouponRow> for Coupon {
    fn from(row: CouponRow) -> Self {
        Self {
            id: row.id,
            event_id: row.event_id,
            user_id: row.user_id,
            day: row.day,
            issued_at_ms: row.issued_at,
            redeemed_at_ms: row.redeemed_at,
        }
    }
}

/// An event's day as the database holds it.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Day {
    pub quantity: i64,
    pub issued: i64,
    pub gate_epoch: String,
}

/// A day's figures for the admin.
#[derive(Debug, Clone, serde::Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct DayCount {
    pub day: String,
    pub quantity: i64,
    pub issued: i64,
    pub redeemed: i64,
}

/// What a claim needs to know about its claimant, read in one round trip.
#[derive(Debug, Clone, Default)]
pub struct ClaimantFacts {
    /// The coupon an earlier claim with the same key issued, and that claim's event.
    pub replay: Option<(String, Coupon)>,
    pub approved_today: bool,
    pub points: i64,
}

#[derive(Debug, thiserror::Error)]
pub enum IssueError {
    #[error("today's coupons are all taken")]
    SoldOut,
    #[error("you already hold a coupon of this event")]
    AlreadyHolds,
    #[error("this idempotency key was used for another claim")]
    KeyReused,
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

impl WriteError for IssueError {
    fn database_error(&self) -> Option<&sqlx::Error> {
        match self {
            Self::Database(err) => Some(err),
            _ => None,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ChangeError {
    #[error("{issued} coupons were issued on {day} already: the quantity cannot go below that")]
    BelowIssued { day: String, issued: i64 },
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

impl WriteError for ChangeError {
    fn database_error(&self) -> Option<&sqlx::Error> {
        match self {
            Self::Database(err) => Some(err),
            Self::BelowIssued { .. } => None,
        }
    }
}

/// The outcome of redeeming a coupon.
pub enum Redeemed {
    Now(Coupon),
    Already(Coupon),
    NoSuchCoupon,
}

/// Filters on the admin's list of issued coupons.
#[derive(Debug, Default)]
pub struct IssuedFilter<'a> {
    pub day: Option<&'a str>,
    pub user_id: Option<&'a str>,
    pub redeemed: Option<bool>,
}

/// What the end-of-day check finds in the database.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct StoredFacts {
    pub quantity: Option<i64>,
    /// The day's counter.
    pub counted: i64,
    /// Coupon rows of the day.
    pub coupons: i64,
    pub distinct_users: i64,
    /// "Issued" answers recorded for the day's coupons (one per coupon).
    pub answers: i64,
    /// "Issued" answers of the event, any day, whose coupon row is missing.
    pub answers_without_coupon: i64,
}

#[derive(Clone)]
pub struct CouponStore {
    db: Database,
}

impl CouponStore {
    pub fn new(db: Database) -> Self {
        Self { db }
    }

    pub async fn create_event(&self, draft: &EventDraft) -> Result<CouponEvent, sqlx::Error> {
        let (id, now) = (uuid::Uuid::now_v7().to_string(), now_ms());
        sqlx::query_as::<_, EventRow>(AssertSqlSafe(format!(
            "insert into coupon_events (id, kind, title, starts_on, ends_on, opens_at, daily_quantity, \
             min_points, created_at, updated_at) values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9) \
             returning {EVENT_COLUMNS}"
        )))
        .bind(&id)
        .bind(&draft.kind)
        .bind(draft.title.trim())
        .bind(&draft.starts_on)
        .bind(&draft.ends_on)
        .bind(&draft.opens_at)
        .bind(draft.daily_quantity)
        .bind(draft.min_points)
        .bind(now)
        .fetch_one(self.db.pool())
        .await
        .map(CouponEvent::from)
    }

    pub async fn event(&self, id: &str) -> Result<Option<CouponEvent>, sqlx::Error> {
        let row = sqlx::query_as::<_, EventRow>(AssertSqlSafe(format!(
            "select {EVENT_COLUMNS} from coupon_events where id = $1"
        )))
        .bind(id)
        .fetch_optional(self.db.pool())
        .await?;
        Ok(row.map(CouponEvent::from))
    }

    /// Events newest first, after `before` (a page cursor); one more than `limit`.
    pub async fn events(&self, before: Option<&str>, limit: usize) -> Result<Vec<CouponEvent>, sqlx::Error> {
        let rows = sqlx::query_as::<_, EventRow>(AssertSqlSafe(format!(
            "select {EVENT_COLUMNS} from coupon_events where ($1 is null or id < $1) order by id desc limit $2"
        )))
        .bind(before)
        .bind(limit as i64 + 1)
        .fetch_all(self.db.pool())
        .await?;
        Ok(rows.into_iter().map(CouponEvent::from).collect())
    }

    /// Events not closed whose period has not ended by `today`, each with the coupons issued
    /// on `today`; at most `limit`, soonest ending first.
    pub async fn current_events(
        &self,
        today: &str,
        limit: usize,
    ) -> Result<Vec<(CouponEvent, i64)>, sqlx::Error> {
        // Event columns and the day's counter share no name, so they need no qualifier.
        let rows = sqlx::query_as::<_, CurrentEventRow>(AssertSqlSafe(format!(
            "select {EVENT_COLUMNS}, coalesce(d.issued, 0) as issued_today from coupon_events e \
             left join coupon_days d on d.event_id = e.id and d.day = $1 \
             where e.closed_at is null and e.ends_on >= $1 order by e.ends_on, e.id limit $2"
        )))
        .bind(today)
        .bind(limit as i64)
        .fetch_all(self.db.pool())
        .await?;
        Ok(rows.into_iter().map(|row| (CouponEvent::from(row.event), row.issued_today)).collect())
    }

    /// Applies `changes` to an event; a new daily quantity applies from `today` on, and the
    /// gates of those days are rebuilt (their epoch changes). `None` when there is no event.
    pub async fn change_event(
        &self,
        id: &str,
        changes: &EventChanges,
        today: &str,
    ) -> Result<Option<CouponEvent>, ChangeError> {
        self.db.write(|tx| Box::pin(Self::change_in(tx, id, changes, today))).await
    }

    async fn change_in(
        tx: &mut WriteTx<'_, '_>,
        id: &str,
        changes: &EventChanges,
        today: &str,
    ) -> Result<Option<CouponEvent>, ChangeError> {
        let row = sqlx::query_as::<_, EventRow>(AssertSqlSafe(format!(
            "select {EVENT_COLUMNS} from coupon_events where id = $1 {}",
            tx.lock_rows(RowLock::Wait)
        )))
        .bind(id)
        .fetch_optional(&mut **tx)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let mut event = CouponEvent::from(row);
        changes.apply(&mut event);
        if let Some(quantity) = changes.daily_quantity {
            let over: Option<(String, i64)> = sqlx::query_as(
                "select day, issued from coupon_days where event_id = $1 and day >= $2 and issued > $3 limit 1",
            )
            .bind(id)
            .bind(today)
            .bind(quantity)
            .fetch_optional(&mut **tx)
            .await?;
            if let Some((day, issued)) = over {
                return Err(ChangeError::BelowIssued { day, issued });
            }
            sqlx::query(
                "update coupon_days set quantity = $3, gate_epoch = $4 where event_id = $1 and day >= $2",
            )
            .bind(id)
            .bind(today)
            .bind(quantity)
            .bind(new_epoch())
            .execute(&mut **tx)
            .await?;
        }
        event.updated_at_ms = now_ms();
        sqlx::query(
            "update coupon_events set title = $2, ends_on = $3, opens_at = $4, daily_quantity = $5, \
             min_points = $6, updated_at = $7 where id = $1",
        )
        .bind(id)
        .bind(&event.title)
        .bind(&event.ends_on)
        .bind(&event.opens_at)
        .bind(event.daily_quantity)
        .bind(event.min_points)
        .bind(event.updated_at_ms)
        .execute(&mut **tx)
        .await?;
        Ok(Some(event))
    }

    /// Closes an event (no claim is taken after); `None` when there is no event.
    pub async fn close_event(&self, id: &str) -> Result<Option<CouponEvent>, sqlx::Error> {
        let now = now_ms();
        let row = sqlx::query_as::<_, EventRow>(AssertSqlSafe(format!(
            "update coupon_events set closed_at = coalesce(closed_at, $2), updated_at = $2 where id = $1 \
             returning {EVENT_COLUMNS}"
        )))
        .bind(id)
        .bind(now)
        .fetch_optional(self.db.pool())
        .await?;
        Ok(row.map(CouponEvent::from))
    }

    /// The event's `day`, created with `quantity` and a first gate epoch if it has none yet.
    /// Written in a write transaction, taking the engine's write turn like every other writer
    /// rather than waiting for a lock outside it.
    pub async fn day(&self, event_id: &str, day: &str, quantity: i64) -> Result<Day, sqlx::Error> {
        let epoch = new_epoch();
        let epoch = &epoch;
        self.db
            .write(|tx| {
                Box::pin(async move {
                    sqlx::query(
                        "insert into coupon_days (event_id, day, quantity, gate_epoch) values ($1, $2, $3, $4) \
                         on conflict (event_id, day) do nothing",
                    )
                    .bind(event_id)
                    .bind(day)
                    .bind(quantity)
                    .bind(epoch)
                    .execute(&mut **tx)
                    .await?;
                    sqlx::query_as::<_, Day>(
                        "select quantity, issued, gate_epoch from coupon_days where event_id = $1 and day = $2",
                    )
                    .bind(event_id)
                    .bind(day)
                    .fetch_one(&mut **tx)
                    .await
                })
            })
            .await
    }

    pub async fn existing_day(&self, event_id: &str, day: &str) -> Result<Option<Day>, sqlx::Error> {
        sqlx::query_as::<_, Day>(
            "select quantity, issued, gate_epoch from coupon_days where event_id = $1 and day = $2",
        )
        .bind(event_id)
        .bind(day)
        .fetch_optional(self.db.pool())
        .await
    }

    /// Replaces the day's gate epoch if it is still `expected`: of several instances that found
    /// the same stale gate, one rebuilds it. Returns the day as it then stands, when this caller
    /// won.
    pub async fn renew_epoch(
        &self,
        event_id: &str,
        day: &str,
        expected: &str,
    ) -> Result<Option<Day>, sqlx::Error> {
        let epoch = new_epoch();
        let epoch = &epoch;
        self.db
            .write(|tx| {
                Box::pin(async move {
                    sqlx::query_as::<_, Day>(
                        "update coupon_days set gate_epoch = $4 \
                         where event_id = $1 and day = $2 and gate_epoch = $3 \
                         returning quantity, issued, gate_epoch",
                    )
                    .bind(event_id)
                    .bind(day)
                    .bind(expected)
                    .bind(epoch)
                    .fetch_optional(&mut **tx)
                    .await
                })
            })
            .await
    }

    /// Users holding a coupon of the event (of any day: one a user, whatever the day).
    pub async fn holders(&self, event_id: &str) -> Result<Vec<String>, sqlx::Error> {
        sqlx::query_scalar("select user_id from coupons where event_id = $1 order by user_id")
            .bind(event_id)
            .fetch_all(self.db.pool())
            .await
    }

    /// The event of a claim with what the claim needs to know of its claimant: their earlier
    /// answer under `key`, whether they had a mission approved on `day`, and their points
    /// total. One round trip; `None` when there is no such event.
    pub async fn claim_facts(
        &self,
        event_id: &str,
        user_id: &str,
        key: &str,
        day: &str,
    ) -> Result<Option<(CouponEvent, ClaimantFacts)>, sqlx::Error> {
        let row = sqlx::query_as::<_, ClaimRow>(AssertSqlSafe(format!(
            "select {EVENT_COLUMNS}, \
                    (select coupon_id from coupon_claims where user_id = $2 and idempotency_key = $3) \
                      as answered_coupon, \
                    (select 1 from missions where user_id = $2 and local_date = $4 and state = 'approved' \
                      limit 1) as approved_today, \
                    (select total from user_points where user_id = $2) as points \
             from coupon_events where id = $1"
        )))
        .bind(event_id)
        .bind(user_id)
        .bind(key)
        .bind(day)
        .fetch_optional(self.db.pool())
        .await?;
        let Some(row) = row else { return Ok(None) };
        let replay = match row.answered_coupon {
            Some(id) => self.coupon(&id).await?.map(|coupon| (coupon.event_id.clone(), coupon)),
            None => None,
        };
        let facts = ClaimantFacts {
            replay,
            approved_today: row.approved_today.is_some(),
            points: row.points.unwrap_or(0),
        };
        Ok(Some((row.event.into(), facts)))
    }

    /// The coupon an earlier claim with `key` issued, and its event.
    pub async fn answered(&self, user_id: &str, key: &str) -> Result<Option<(String, Coupon)>, sqlx::Error> {
        let row = sqlx::query_as::<_, CouponRow>(AssertSqlSafe(format!(
            "select {} from coupon_claims a join coupons c on c.id = a.coupon_id \
             where a.user_id = $1 and a.idempotency_key = $2",
            prefixed(COUPON_COLUMNS, "c.")
        )))
        .bind(user_id)
        .bind(key)
        .fetch_optional(self.db.pool())
        .await?;
        Ok(row.map(Coupon::from).map(|coupon| (coupon.event_id.clone(), coupon)))
    }

    pub async fn coupon(&self, id: &str) -> Result<Option<Coupon>, sqlx::Error> {
        let row = sqlx::query_as::<_, CouponRow>(AssertSqlSafe(format!(
            "select {COUPON_COLUMNS} from coupons where id = $1"
        )))
        .bind(id)
        .fetch_optional(self.db.pool())
        .await?;
        Ok(row.map(Coupon::from))
    }

    /// Issues a coupon of `event_id` on `day` to `user_id` and records the answer under `key`,
    /// in one transaction; refused when the day's quantity is taken, when the user holds one
    /// already, or when the key answered another claim.
    pub async fn issue(
        &self,
        event_id: &str,
        day: &str,
        user_id: &str,
        key: &str,
    ) -> Result<Coupon, IssueError> {
        let coupon = Coupon {
            id: uuid::Uuid::now_v7().to_string(),
            event_id: event_id.to_owned(),
            user_id: user_id.to_owned(),
            day: day.to_owned(),
            issued_at_ms: now_ms(),
            redeemed_at_ms: None,
        };
        let coupon = &coupon;
        self.db.write(|tx| Box::pin(Self::issue_in(tx, coupon, key))).await?;
        Ok(coupon.clone())
    }

    async fn issue_in(tx: &mut WriteTx<'_, '_>, coupon: &Coupon, key: &str) -> Result<(), IssueError> {
        let taken = sqlx::query(
            "update coupon_days set issued = issued + 1 where event_id = $1 and day = $2 and issued < quantity",
        )
        .bind(&coupon.event_id)
        .bind(&coupon.day)
        .execute(&mut **tx)
        .await?;
        if taken.rows_affected() == 0 {
            return Err(IssueError::SoldOut);
        }
        let inserted = sqlx::query(
            "insert into coupons (id, event_id, user_id, day, issued_at) values ($1, $2, $3, $4, $5)",
        )
        .bind(&coupon.id)
        .bind(&coupon.event_id)
        .bind(&coupon.user_id)
        .bind(&coupon.day)
        .bind(coupon.issued_at_ms)
        .execute(&mut **tx)
        .await;
        match inserted {
            Err(err) if is_unique_violation(&err) => return Err(IssueError::AlreadyHolds),
            other => other?,
        };
        let recorded = sqlx::query(
            "insert into coupon_claims (user_id, idempotency_key, event_id, coupon_id, created_at) \
             values ($1, $2, $3, $4, $5)",
        )
        .bind(&coupon.user_id)
        .bind(key)
        .bind(&coupon.event_id)
        .bind(&coupon.id)
        .bind(coupon.issued_at_ms)
        .execute(&mut **tx)
        .await;
        match recorded {
            Err(err) if is_unique_violation(&err) => Err(IssueError::KeyReused),
            other => other.map(|_| ()).map_err(IssueError::from),
        }
    }

    /// A user's coupons, newest first, after `before`; one more than `limit`.
    pub async fn coupons_of(
        &self,
        user_id: &str,
        before: Option<&str>,
        limit: usize,
    ) -> Result<Vec<Coupon>, sqlx::Error> {
        let rows = sqlx::query_as::<_, CouponRow>(AssertSqlSafe(format!(
            "select {COUPON_COLUMNS} from coupons where user_id = $1 and ($2 is null or id < $2) \
             order by id desc limit $3"
        )))
        .bind(user_id)
        .bind(before)
        .bind(limit as i64 + 1)
        .fetch_all(self.db.pool())
        .await?;
        Ok(rows.into_iter().map(Coupon::from).collect())
    }

    /// Marks a user's coupon used, once.
    pub async fn redeem(&self, user_id: &str, coupon_id: &str) -> Result<Redeemed, sqlx::Error> {
        let now_redeemed = sqlx::query_as::<_, CouponRow>(AssertSqlSafe(format!(
            "update coupons set redeemed_at = $3 where id = $1 and user_id = $2 and redeemed_at is null \
             returning {COUPON_COLUMNS}"
        )))
        .bind(coupon_id)
        .bind(user_id)
        .bind(now_ms())
        .fetch_optional(self.db.pool())
        .await?;
        if let Some(row) = now_redeemed {
            return Ok(Redeemed::Now(row.into()));
        }
        match self.coupon(coupon_id).await? {
            Some(coupon) if coupon.user_id == user_id => Ok(Redeemed::Already(coupon)),
            _ => Ok(Redeemed::NoSuchCoupon),
        }
    }

    /// Coupons of an event matching `filter`, newest first, after `before`; one more than
    /// `limit`.
    pub async fn issued(
        &self,
        event_id: &str,
        filter: &IssuedFilter<'_>,
        before: Option<&str>,
        limit: usize,
    ) -> Result<Vec<Coupon>, sqlx::Error> {
        let rows = sqlx::query_as::<_, CouponRow>(AssertSqlSafe(format!(
            "select {COUPON_COLUMNS} from coupons where event_id = $1 and ($2 is null or day = $2) \
             and ($3 is null or user_id = $3) \
             and ($4 is null or ($4 = 1 and redeemed_at is not null) or ($4 = 0 and redeemed_at is null)) \
             and ($5 is null or id < $5) order by id desc limit $6"
        )))
        .bind(event_id)
        .bind(filter.day)
        .bind(filter.user_id)
        .bind(filter.redeemed.map(i64::from))
        .bind(before)
        .bind(limit as i64 + 1)
        .fetch_all(self.db.pool())
        .await?;
        Ok(rows.into_iter().map(Coupon::from).collect())
    }

    /// Per-day figures of an event, latest day first.
    pub async fn day_counts(&self, event_id: &str) -> Result<Vec<DayCount>, sqlx::Error> {
        sqlx::query_as::<_, DayCount>(
            "select d.day, d.quantity, d.issued, \
                    (select count(*) from coupons c where c.event_id = d.event_id and c.day = d.day \
                       and c.redeemed_at is not null) as redeemed \
             from coupon_days d where d.event_id = $1 order by d.day desc limit 400",
        )
        .bind(event_id)
        .fetch_all(self.db.pool())
        .await
    }

    /// What the end-of-day check compares, for one event and day.
    pub async fn facts(&self, event_id: &str, day: &str) -> Result<StoredFacts, sqlx::Error> {
        let counter = self.existing_day(event_id, day).await?;
        let (coupons, distinct_users): (i64, i64) = sqlx::query_as(
            "select count(*), count(distinct user_id) from coupons where event_id = $1 and day = $2",
        )
        .bind(event_id)
        .bind(day)
        .fetch_one(self.db.pool())
        .await?;
        let answers: i64 = sqlx::query_scalar(
            "select count(*) from coupon_claims a join coupons c on c.id = a.coupon_id \
             where a.event_id = $1 and c.day = $2",
        )
        .bind(event_id)
        .bind(day)
        .fetch_one(self.db.pool())
        .await?;
        // The foreign key rules a missing row out; the check says so from the data itself.
        let answers_without_coupon: i64 = sqlx::query_scalar(
            "select count(*) from coupon_claims a where a.event_id = $1 \
             and not exists (select 1 from coupons c where c.id = a.coupon_id)",
        )
        .bind(event_id)
        .fetch_one(self.db.pool())
        .await?;
        Ok(StoredFacts {
            quantity: counter.as_ref().map(|day| day.quantity),
            counted: counter.map_or(0, |day| day.issued),
            coupons,
            distinct_users,
            answers,
            answers_without_coupon,
        })
    }
}

/// A fresh gate epoch.
pub fn new_epoch() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

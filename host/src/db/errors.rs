//! What a database error means, read the same way on both engines.

/// True when the error is a unique-constraint violation (answered 409 by the callers).
pub fn is_unique_violation(err: &sqlx::Error) -> bool {
    err.as_database_error().is_some_and(|db| db.is_unique_violation())
}

/// True when the error is a foreign-key violation: the row referred to is gone.
pub fn is_foreign_key_violation(err: &sqlx::Error) -> bool {
    err.as_database_error().is_some_and(|db| db.is_foreign_key_violation())
}

/// The name of the violated constraint (PostgreSQL) or the message naming the table and
/// column (`users.nickname_key`, SQLite): either way the column's name is in it.
pub fn violated_constraint(err: &sqlx::Error) -> String {
    err.as_database_error()
        .map(|db| db.constraint().map(str::to_owned).unwrap_or_else(|| db.message().to_owned()))
        .unwrap_or_default()
}

/// True when the transaction lost a lock conflict and may simply be tried again: a deadlock or
/// serialization failure on PostgreSQL, a busy or locked database on SQLite.
pub(crate) fn is_transient_conflict(err: &sqlx::Error) -> bool {
    let Some(code) = err.as_database_error().and_then(|db| db.code()) else {
        return false;
    };
    // SQLite reports extended result codes: 5 SQLITE_BUSY, 6 SQLITE_LOCKED and their
    // variants (busy_snapshot 517, locked_sharedcache 262, …) keep the primary code in the low byte.
    let sqlite_busy = code.parse::<i32>().is_ok_and(|code| matches!(code & 0xff, 5 | 6));
    sqlite_busy || matches!(code.as_ref(), "40001" | "40P01")
}

/// An error a write transaction can end with (see [`crate::db::Database::write`]): it is made
/// from the database's errors, and it shows the database error it carries, if any, so a
/// transient conflict can be told apart and the transaction tried again.
pub trait WriteError: From<sqlx::Error> {
    fn database_error(&self) -> Option<&sqlx::Error>;

    /// True when the transaction lost a lock conflict and another attempt may succeed.
    fn is_transient(&self) -> bool {
        self.database_error().is_some_and(is_transient_conflict)
    }
}

impl WriteError for sqlx::Error {
    fn database_error(&self) -> Option<&sqlx::Error> {
        Some(self)
    }
}

impl WriteError for anyhow::Error {
    fn database_error(&self) -> Option<&sqlx::Error> {
        self.downcast_ref()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_that_are_not_from_the_database_are_not_transient() {
        assert!(!sqlx::Error::PoolTimedOut.is_transient());
        assert!(!anyhow::anyhow!("no such mission").is_transient());
        assert!(!anyhow::Error::from(sqlx::Error::RowNotFound).is_transient());
    }
}

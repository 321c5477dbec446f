//! Whether a session is still live, asked on every authenticated request.
//!
//! The database decides: a session row that is not revoked, not expired, and whose user still
//! exists (deleting a user deletes its sessions). The state store remembers the answer so a
//! request costs one state-store read; losing what it remembers (a restart of the embedded
//! mode, a Redis that dropped keys) only sends the next request back to the database.
//!
//! Ending a session writes the database first, then overwrites the remembered answer with
//! "ended". Remembering an answer read from the database never overwrites (`put_if_absent`), so
//! a read that raced the end cannot bring the ended session back.

use super::sessions::SessionStore;
use crate::state::StateStore;
use std::sync::Arc;
use std::time::Duration;

const LIVE: &str = "live";
const ENDED: &str = "ended";
/// How long "live" is remembered: the bound on how stale the answer can be if an end could not
/// be written to the state store (it is written after the database, and may fail).
const REMEMBER_LIVE: Duration = Duration::from_secs(60);

pub struct LiveSessions {
    sessions: Arc<dyn SessionStore>,
    remembered: Arc<dyn StateStore>,
    /// How long "ended" is remembered: as long as one of the session's access tokens could be
    /// presented; after that the token's own expiry refuses it.
    remember_ended: Duration,
}

fn key(session_id: &str) -> String {
    format!("session:{session_id}")
}

impl LiveSessions {
    pub fn new(
        sessions: Arc<dyn SessionStore>,
        remembered: Arc<dyn StateStore>,
        access_ttl_secs: u64,
    ) -> Self {
        let remember_ended = Duration::from_secs(access_ttl_secs.saturating_add(60));
        Self { sessions, remembered, remember_ended }
    }

    pub async fn is_live(&self, session_id: &str) -> anyhow::Result<bool> {
        let key = key(session_id);
        match self.remembered.get_many(&[&key]).await {
            Ok(values) => {
                if let Some(Some(value)) = values.into_iter().next() {
                    return Ok(value == LIVE);
                }
            }
            // The database still answers; an outage of the state store only costs speed.
            Err(err) => tracing::warn!(error = %err, "session cache unreadable; asking the database"),
        }
        let live = self.sessions.is_active(session_id).await?;
        let (value, ttl) = if live { (LIVE, REMEMBER_LIVE) } else { (ENDED, self.remember_ended) };
        if let Err(err) = self.remembered.put_if_absent(&key, value, ttl).await {
            tracing::warn!(error = %err, "could not remember a session's state");
        }
        Ok(live)
    }

    /// Records that the sessions have ended, once the database says so.
    pub async fn ended(&self, session_ids: &[String]) -> anyhow::Result<()> {
        for session_id in session_ids {
            self.remembered.put(&key(session_id), ENDED, self.remember_ended).await?;
        }
        Ok(())
    }
}

//! Telling authors about votes without letting a popular post flood them (or the store):
//! the first vote on a post after a quiet spell is announced at once, later ones during the
//! next `window` are folded into one notice with the latest counts, sent when it ends. The
//! notices go out in the background, after the vote answered.

use super::store::VoteOutcome;
use crate::bus::{EventBus, topics};
use crate::notifications::Notifier;
use crate::tasks::Tasks;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Bounds the posts with an open window on one instance; beyond it notices are sent at once.
const MAX_OPEN_WINDOWS: usize = 100_000;

#[derive(Clone)]
pub struct VoteNotices {
    bus: Arc<dyn EventBus>,
    notifier: Notifier,
    window: Duration,
    tasks: Tasks,
    /// Posts whose window is open, with the notice waiting for its end.
    open: Arc<Mutex<HashMap<String, Option<Notice>>>>,
}

#[derive(Debug, Clone)]
pub struct Notice {
    pub author_id: String,
    pub post_id: String,
    pub outcome: VoteOutcome,
}

impl VoteNotices {
    /// Notices are sent as work of `tasks`: at shutdown a folded notice goes out at once
    /// rather than at the end of its window.
    pub fn new(bus: Arc<dyn EventBus>, notifier: Notifier, window: Duration, tasks: Tasks) -> Self {
        Self { bus, notifier, window, tasks, open: Arc::default() }
    }

    /// Sends `notice` now if its post is quiet, or folds it into the post's open window.
    pub fn offer(&self, notice: Notice) {
        {
            let mut open = self.open.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            if let Some(pending) = open.get_mut(&notice.post_id) {
                *pending = Some(notice);
                return;
            }
            if open.len() < MAX_OPEN_WINDOWS {
                open.insert(notice.post_id.clone(), None);
            }
        }
        let this = self.clone();
        self.tasks.spawn_work("vote notice", move |drain| async move {
            let post_id = notice.post_id.clone();
            this.send(notice).await;
            loop {
                tokio::select! {
                    () = tokio::time::sleep(this.window) => {}
                    () = drain.cancelled() => {}
                }
                let pending = {
                    let mut open = this.open.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
                    match open.get_mut(&post_id).and_then(Option::take) {
                        Some(notice) => notice,
                        None => {
                            open.remove(&post_id);
                            return;
                        }
                    }
                };
                this.send(pending).await;
            }
        });
    }

    /// `post.voted` on the community topic (keyed by the author) and on the author's event
    /// stream. The voter is not named. Failures are logged: the vote has committed.
    async fn send(&self, notice: Notice) {
        let Notice { author_id, post_id, outcome } = notice;
        let payload = serde_json::json!({
            "type": "post.voted",
            "user_id": author_id,
            "post_id": post_id,
            "vote": outcome.current,
            "helpful": outcome.helpful,
            "not_helpful": outcome.not_helpful,
            "at": crate::db::now_ms(),
        });
        if let Err(err) =
            self.bus.publish(topics::COMMUNITY, &author_id, payload.to_string().as_bytes()).await
        {
            tracing::warn!(error = %err, post_id, "could not publish a vote notification");
        }
        let event = serde_json::json!({
            "post_id": post_id,
            "vote": outcome.current,
            "helpful": outcome.helpful,
            "not_helpful": outcome.not_helpful,
        });
        if let Err(err) = self.notifier.notify(&author_id, "post.voted", event).await {
            tracing::warn!(error = %err, post_id, "could not notify the author of a vote");
        }
    }
}

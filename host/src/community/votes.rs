//! Casting and withdrawing votes, and telling the author.

use super::model::Vote;
use super::store::{PostStore, PostStoreError, VoteOutcome};
use crate::bus::{EventBus, topics};
use crate::notifications::Notifier;

/// Sets or withdraws `user_id`'s vote; `None` when the post does not exist. When the change
/// gives the post a new vote from someone other than its author, the author is notified after
/// the change committed: on the bus (`post.voted` on the community topic) and as a stored
/// notification of theirs (`post.voted` on their event stream).
pub async fn cast(
    store: &dyn PostStore,
    bus: &dyn EventBus,
    notifier: &Notifier,
    post_id: &str,
    user_id: &str,
    vote: Option<Vote>,
) -> Result<Option<VoteOutcome>, PostStoreError> {
    let Some(outcome) = store.vote(post_id, user_id, vote).await? else {
        return Ok(None);
    };
    if let Some(author_id) = notification_recipient(&outcome, user_id) {
        notify(bus, notifier, post_id, author_id, &outcome).await;
    }
    Ok(Some(outcome))
}

/// The author, when this change is a new or switched vote by someone else.
fn notification_recipient<'a>(outcome: &'a VoteOutcome, voter: &str) -> Option<&'a str> {
    let author = outcome.author_id.as_deref()?;
    let changed_to_a_vote = outcome.current.is_some() && outcome.current != outcome.previous;
    (changed_to_a_vote && author != voter).then_some(author)
}

/// Publishes `post.voted` keyed by the author (the recipient). The voter is not named. A bus
/// outage is logged, never turned into a failed vote: the vote has committed.
async fn notify(
    bus: &dyn EventBus,
    notifier: &Notifier,
    post_id: &str,
    author_id: &str,
    outcome: &VoteOutcome,
) {
    let payload = serde_json::json!({
        "type": "post.voted",
        "user_id": author_id,
        "post_id": post_id,
        "vote": outcome.current,
        "helpful": outcome.helpful,
        "not_helpful": outcome.not_helpful,
        "at": crate::db::now_ms(),
    });
    if let Err(err) = bus.publish(topics::COMMUNITY, author_id, payload.to_string().as_bytes()).await {
        tracing::warn!(error = %err, post_id, "could not publish a vote notification");
    }
    let event = serde_json::json!({
        "post_id": post_id,
        "vote": outcome.current,
        "helpful": outcome.helpful,
        "not_helpful": outcome.not_helpful,
    });
    if let Err(err) = notifier.notify(author_id, "post.voted", event).await {
        tracing::warn!(error = %err, post_id, "could not notify the author of a vote");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outcome(previous: Option<Vote>, current: Option<Vote>) -> VoteOutcome {
        VoteOutcome { author_id: Some("author".into()), previous, current, helpful: 0, not_helpful: 0 }
    }

    #[test]
    fn authors_hear_of_new_and_switched_votes_by_others() {
        use Vote::*;
        assert_eq!(notification_recipient(&outcome(None, Some(Helpful)), "voter"), Some("author"));
        assert_eq!(
            notification_recipient(&outcome(Some(Helpful), Some(NotHelpful)), "voter"),
            Some("author")
        );
        assert_eq!(notification_recipient(&outcome(Some(Helpful), Some(Helpful)), "voter"), None);
        assert_eq!(notification_recipient(&outcome(Some(Helpful), None), "voter"), None);
        assert_eq!(notification_recipient(&outcome(None, Some(Helpful)), "author"), None);
        let orphan = VoteOutcome { author_id: None, ..outcome(None, Some(Helpful)) };
        assert_eq!(notification_recipient(&orphan, "voter"), None);
    }
}

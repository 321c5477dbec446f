//! Casting and withdrawing votes, and telling the author.

use super::model::Vote;
use super::store::{PostStore, PostStoreError, VoteOutcome};
use super::vote_notices::{Notice, VoteNotices};

/// Sets or withdraws `user_id`'s vote; `None` when the post does not exist. When the change
/// gives the post a new vote from someone other than its author, the author hears of it
/// after the change committed (`post.voted`, on the bus and on their event stream; folded
/// with the post's other votes of the moment, see [`VoteNotices`]).
pub async fn cast(
    store: &dyn PostStore,
    notices: &VoteNotices,
    post_id: &str,
    user_id: &str,
    vote: Option<Vote>,
) -> Result<Option<VoteOutcome>, PostStoreError> {
    let Some(outcome) = store.vote(post_id, user_id, vote).await? else {
        return Ok(None);
    };
    if let Some(author_id) = notification_recipient(&outcome, user_id) {
        notices.offer(Notice {
            author_id: author_id.to_owned(),
            post_id: post_id.to_owned(),
            outcome: outcome.clone(),
        });
    }
    Ok(Some(outcome))
}

/// The author, when this change is a new or switched vote by someone else.
fn notification_recipient<'a>(outcome: &'a VoteOutcome, voter: &str) -> Option<&'a str> {
    let author = outcome.author_id.as_deref()?;
    let changed_to_a_vote = outcome.current.is_some() && outcome.current != outcome.previous;
    (changed_to_a_vote && author != voter).then_some(author)
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

//! Community: posts with a location, the nearby listing, "my posts", and helpful / not
//! helpful votes whose counts stay exact under any concurrency.
//!
//! `model` holds the rules a post must pass, `nearby` the listing (over [`crate::geo`]'s
//! indexable box), `votes` casting a vote and notifying the author, `store` the one SQL
//! implementation both engines run.

pub mod model;
pub mod nearby;
pub mod routes;
pub mod store;
mod vote_batch;
pub mod vote_notices;
pub mod votes;

pub use model::{NewPost, Post, Vote};
pub use store::{Deletion, Located, PostStore, PostStoreError, SqlPosts, VoteOutcome};

/// What the community routes need: the posts and the notices that tell authors of votes.
#[derive(Clone)]
pub struct CommunityState {
    pub posts: std::sync::Arc<dyn PostStore>,
    pub vote_notices: vote_notices::VoteNotices,
}

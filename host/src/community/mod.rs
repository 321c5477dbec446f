//! Community: posts with a location, the nearby listing, "my posts", and helpful / not
//! helpful votes whose counts stay exact under any concurrency.
//!
//! `model` holds the rules a post must pass, `geo` the distance and the indexable box,
//! `nearby` the listing, `votes` casting a vote and notifying the author, `store` the one SQL
//! implementation both engines run.

pub mod cursor;
pub mod geo;
pub mod model;
pub mod nearby;
pub mod routes;
pub mod store;
mod vote_batch;
pub mod vote_notices;
pub mod votes;

pub use model::{NewPost, Post, Vote};
pub use store::{Deletion, Located, PostStore, PostStoreError, SqlPosts, VoteOutcome};

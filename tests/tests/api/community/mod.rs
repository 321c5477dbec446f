//! Community: posts, the nearby listing, votes, "my posts". Tests make many users straight
//! through the server's store (`TestApp::user`) rather than paying argon2 for each, and listen
//! to the server's own event bus in both modes.

mod bounded_work;
mod contract;
mod nearby;
mod pages;
mod posts;
mod support;
mod votes;

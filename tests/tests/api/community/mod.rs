//! Community: posts, the nearby listing, votes, "my posts". `support` starts the real server
//! and keeps its state at hand, so tests can make many users without paying argon2 for each
//! and can listen to the server's own event bus in both modes.

mod contract;
mod nearby;
mod pages;
mod posts;
mod support;
mod votes;

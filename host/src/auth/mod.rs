//! Authentication: passwords, Kakao login, access and refresh tokens, revocation, rate limits.
//!
//! Invariants:
//! - **a refresh token is never accepted as an access token** (opaque vs. `at+jwt`);
//! - **a used refresh token presented again revokes its whole session**;
//! - **an ended session's access tokens stop working at once**, on every instance and across
//!   restarts: the database says which sessions are live, the state store only remembers it
//!   (`live_sessions.rs`); its event streams close (`session.ended` on the bus);
//! - **admin powers are read from the database on every admin request**, not from the token.

pub mod admin;
pub mod extract;
pub mod kakao;
pub mod live_sessions;
pub mod password;
pub mod rate_limit;
pub mod routes;
pub mod service;
pub mod sessions;
pub mod state;
pub mod tokens;

pub use extract::AuthUser;
pub use state::{AuthService, AuthState, Authenticator};

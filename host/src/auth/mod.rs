//! Authentication: passwords, Kakao login, access and refresh tokens, revocation, rate limits.
//!
//! Invariants:
//! - **a refresh token is never accepted as an access token** (opaque vs. `at+jwt`);
//! - **a used refresh token presented again revokes its whole session**;
//! - **a revoked session's access tokens stop working at once**, on every instance, until they
//!   would have expired anyway (a revocation mark in the shared state store).

pub mod admin;
pub mod extract;
pub mod kakao;
pub mod password;
pub mod rate_limit;
pub mod routes;
pub mod service;
pub mod sessions;
pub mod state;
pub mod tokens;

pub use extract::AuthUser;
pub use state::{AuthService, AuthState, Authenticator};

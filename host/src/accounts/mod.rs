//! Accounts: who a user is (email, nickname, role) and the `/me` resource.
//!
//! Credentials and sessions belong to [`crate::auth`]; this domain owns the `users` table.

pub mod cached_profiles;
pub mod locations;
pub mod model;
pub mod nickname;
pub mod routes;
pub mod store;

pub use model::{Role, User};
pub use store::{NewUser, SqlUsers, UserStore, UserStoreError};

//! Photo verification: uploads become queued jobs; workers run the active policy component
//! (which may ask the vision model through the host) and apply its decision; what the policy
//! cannot decide waits for an admin's review, and users may appeal a rejection.

pub mod decided;
pub mod model;
pub mod routes;
pub mod state;
pub mod store;
pub mod upload;
pub mod verdict;
pub mod worker;

pub use model::{Decision, Verification, VerificationState, VerificationView};
pub use state::Verifier;
pub use store::VerificationStore;
pub use verdict::{PhotoFeatures, Verdict};
pub use worker::JobSignal;

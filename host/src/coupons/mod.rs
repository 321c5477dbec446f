//! First-come coupons: events an admin runs, a daily quantity claimed first come first served
//! by users with a mission approved today, never more than the quantity and never two to one
//! user, in both modes and whichever instance takes the claim.
//!
//! - [`model`]: events, coupons, and when an event opens;
//! - [`store`]: the tables, and the one transaction that issues (the final word);
//! - [`gate`]: the fast gate in front of the database ([`memory_gate`], [`redis_gate`]), with
//!   an epoch that tells a gate which lost its state;
//! - [`bulkhead`]: the claim path's own concurrency budget and queue;
//! - [`claims`]: [`CouponService`], claiming; [`reconcile`]: rebuilding a gate from the
//!   database, the end-of-day check and reconciliation (also `weatherwise coupons …`);
//! - [`routes`]: the users' routes; [`admin_routes`]: the admins'.

pub mod admin_routes;
pub mod bulkhead;
pub mod claims;
pub mod config;
pub mod gate;
pub mod memory_gate;
pub mod model;
pub mod reconcile;
pub mod redis_gate;
pub mod routes;
pub mod store;

pub use claims::CouponService;
pub use config::CouponsConfig;
pub use store::CouponStore;

/// The coupon domain's state, as its routes take it.
pub type CouponsState = std::sync::Arc<CouponService>;

//! Points and ranking: a ledger that credits each verification exactly once, each user's total
//! beside it, and the ranking by total (ties: who reached the total first).
//!
//! `ledger` holds the SQL of crediting (callable inside another domain's transaction),
//! `ranking` the `RankingStore` trait with `sql_ranking` (embedded) and `redis_ranking`
//! (scaled), `service` the `PointsService` the routes and other domains call, `routes` the API.

pub mod ledger;
pub mod ranking;
pub mod redis_ranking;
pub mod routes;
pub mod service;
pub mod sql_ranking;

pub use ledger::{Credit, PointsError, Standing, credit_in};
pub use ranking::RankingStore;
pub use redis_ranking::RedisRanking;
pub use service::{PointsService, Ranked, rebuild};
pub use sql_ranking::SqlRanking;

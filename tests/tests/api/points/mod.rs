//! Points, the ranking and notifications: crediting once, ranks with ties, nickname search,
//! rebuilding from the ledger, concurrent credits, and event streams that resume without a gap
//! or a duplicate, on one instance or across two.

mod contract;
mod notifications;
mod ranking;

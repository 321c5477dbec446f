//! Black-box tests of the real server. Each behaviour test runs twice: `embedded::…`
//! (SQLite, in-process state and bus) and `scaled::…` (PostgreSQL, Redis, Kafka).

mod accounts;
mod auth;
mod bad_input;
mod chat;
mod community;
mod connections;
mod contracts;
mod coupons;
mod deployment;
mod files;
mod kakao;
mod missions;
mod operations;
mod plugin_admin;
mod plugin_contracts;
mod plugin_platform;
mod plugin_support;
mod plugins;
mod points;
mod python_plugin;
mod races;
mod rate_limits;
mod revocation;
mod schema_parity;
mod shutdown;
mod state_bounds;
mod supervision;
mod tidy;
mod tokens;
mod weather;

//! WeatherWise: a weather-aware challenge platform whose rules run as sandboxed WebAssembly
//! components.
//!
//! A tour, outside in:
//! - [`cli`] parses the command line; `serve` goes through [`app::App`], which reads the
//!   [`config::Config`] and connects the adapters chosen by URL scheme: [`db`] (SQLite or
//!   PostgreSQL), [`state`] (in-process or Redis) and [`bus`] (in-process or Kafka).
//! - [`http`] assembles the router and the middleware every request passes: request id,
//!   tracing, metrics, timeout, body limit, and the problem renderer behind [`error`].
//! - Domains own their routes, rules and storage: [`auth`] (credentials, sessions, tokens,
//!   Kakao), [`accounts`] (users and `/me`), [`community`] (posts near me and their votes),
//!   [`missions`] (today's missions from the weather), [`verification`] (photo uploads, the
//!   job queue and its workers, reviews),
//!   [`plugins`] (the WebAssembly runtime, registry and admin API), [`vision`] (grading photos
//!   with a multimodal model) and [`photos`] (measuring uploaded images).
//! - [`ops`] serves `/healthz`, `/readyz`, `/metrics`, `/openapi.json` and `/docs`.

pub mod accounts;
pub mod app;
pub mod audit;
pub mod auth;
pub mod bus;
pub mod cli;
pub mod community;
pub mod config;
pub mod db;
pub mod error;
pub mod http;
pub mod missions;
pub mod ops;
pub mod photos;
pub mod plugins;
pub mod state;
pub mod telemetry;
pub mod verification;
pub mod vision;

//! WeatherWise: a weather-aware challenge platform whose rules run as sandboxed WebAssembly
//! components.
//!
//! A tour, outside in:
//! - [`cli`] parses the command line; `serve` goes through [`app::App`], which reads the
//!   [`config::Config`] and connects the adapters chosen by URL scheme: [`db`] (an embedded
//!   file or a database server), [`state`] (in-process or Redis), [`bus`] (in-process or Kafka) and [`files`]
//!   (a local directory or S3-compatible object storage).
//! - [`http`] assembles the router and the middleware every request passes: request id,
//!   tracing, metrics, timeout, body limit, and the problem renderer behind [`error`].
//! - Domains own their routes, rules and storage: [`auth`] (credentials, sessions, tokens,
//!   Kakao), [`accounts`] (users and `/me`), [`community`] (posts near me and their votes),
//!   [`missions`] (today's missions from the weather), [`verification`] (photo uploads, the
//!   job queue and its workers, reviews), [`plugins`] (the WebAssembly runtime, registry and admin API), [`vision`] (grading photos
//!   with a multimodal model), [`photos`] (the upload pipeline: checks, EXIF, normalised and
//!   metadata-free copies, features), [`files`] (where the copies are kept), [`weather`]
//!   (the day's slot snapshots from KMA, Open-Meteo or a recording, cached per grid cell and
//!   hour, and KMA's warnings), [`chat`] (alert rooms over STOMP on WebSocket) and
//!   [`coupons`] (first-come coupon events, a fast gate before the database).
//! - [`points`] keeps the ledger and the ranking; [`notifications`] stores each user's
//!   events and streams them as Server-Sent Events on every instance.
//! - [`ops`] serves `/healthz`, `/readyz`, `/metrics`, `/openapi.json` and `/docs`;
//!   [`language`] is the language users read (Korean unless they ask for English);
//!   [`outbound`] reads the answers of the services we call, never past a limit.

pub mod accounts;
pub mod app;
pub mod audit;
pub mod auth;
pub mod bus;
pub mod chat;
pub mod cli;
pub mod community;
pub mod config;
pub mod coupons;
pub mod db;
pub mod error;
pub mod files;
pub mod geo;
pub mod http;
pub mod language;
pub mod missions;
pub mod notifications;
pub mod ops;
pub mod outbound;
pub mod photos;
pub mod plugins;
pub mod points;
pub mod state;
pub mod tasks;
pub mod telemetry;
pub mod verification;
pub mod vision;
pub mod weather;

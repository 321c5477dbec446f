//! The example components shipped inside the binary, built from `plugins/` by `build.rs`, so a
//! fresh start has a working generator and policy.

pub const GENERATOR: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/generator_default.wasm"));
pub const POLICY: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/policy_default.wasm"));

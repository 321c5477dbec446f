//! The ceiling for `POST /auth/login`: argon2id verifications per second with one thread per
//! core and nothing else, using the server's parameters.
//!
//! `cargo run --release --example argon2_rate`

use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use std::time::Instant;

fn main() -> anyhow::Result<()> {
    let hash =
        Argon2::default().hash_password(b"bench password 1").map_err(|e| anyhow::anyhow!("{e}"))?.to_string();
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    let per_thread = 100;
    let started = Instant::now();
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| {
                let parsed = PasswordHash::new(&hash).expect("hash");
                for _ in 0..per_thread {
                    assert!(Argon2::default().verify_password(b"bench password 1", &parsed).is_ok());
                }
            });
        }
    });
    let elapsed = started.elapsed().as_secs_f64();
    println!(
        "argon2id verify: {:.1} /s on {threads} threads ({:.1} ms each)",
        (threads * per_thread) as f64 / elapsed,
        elapsed * 1000.0 / per_thread as f64
    );
    Ok(())
}

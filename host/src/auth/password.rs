//! argon2id hashing, off the async executor and bounded in parallelism.
//!
//! Each hash takes about 19 MiB and tens of milliseconds of one core, so it runs on the
//! blocking pool behind a semaphore: a login storm queues here instead of starving the
//! executor or the memory of the process.

use anyhow::Context;
use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use std::sync::{Arc, OnceLock};
use tokio::sync::Semaphore;

pub const MIN_PASSWORD_CHARS: usize = 8;
/// Bounded so a megabyte "password" cannot buy a megabyte of hashing.
pub const MAX_PASSWORD_CHARS: usize = 128;

#[derive(Clone)]
pub struct Passwords {
    permits: Arc<Semaphore>,
}

impl Passwords {
    pub fn new(concurrency: usize) -> Self {
        let concurrency = if concurrency == 0 {
            std::thread::available_parallelism().map_or(2, |n| n.get() * 2)
        } else {
            concurrency
        };
        Self { permits: Arc::new(Semaphore::new(concurrency)) }
    }

    pub async fn hash(&self, password: &str) -> anyhow::Result<String> {
        let _permit = self.permits.acquire().await?;
        let password = password.to_owned();
        tokio::task::spawn_blocking(move || {
            Argon2::default()
                .hash_password(password.as_bytes())
                .map(|hash| hash.to_string())
                .map_err(|err| anyhow::anyhow!("hashing a password: {err}"))
        })
        .await
        .context("password hashing task")?
    }

    /// Checks `password` against a stored PHC string. With no stored hash (unknown account or a
    /// Kakao-only account) it still spends the same work, so timing does not reveal accounts.
    pub async fn verify(&self, password: &str, stored: Option<&str>) -> anyhow::Result<bool> {
        let _permit = self.permits.acquire().await?;
        let password = password.to_owned();
        let stored = stored.map(str::to_owned);
        tokio::task::spawn_blocking(move || {
            let known = stored.is_some();
            let phc = stored.unwrap_or_else(|| decoy_hash().to_owned());
            let parsed =
                PasswordHash::new(&phc).map_err(|err| anyhow::anyhow!("stored hash is unreadable: {err}"))?;
            let matches = Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok();
            Ok(known && matches)
        })
        .await
        .context("password verification task")?
    }
}

/// A hash of a random password, computed once, verified against when no account matches.
fn decoy_hash() -> &'static str {
    static DECOY: OnceLock<String> = OnceLock::new();
    DECOY.get_or_init(|| {
        let random: [u8; 16] = rand::random();
        Argon2::default()
            .hash_password(&random)
            .map(|hash| hash.to_string())
            .unwrap_or_else(|_| "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHQ$invalid".into())
    })
}

/// Length rules, counted in characters.
pub fn check_strength(password: &str) -> Result<(), String> {
    let length = password.chars().count();
    if !(MIN_PASSWORD_CHARS..=MAX_PASSWORD_CHARS).contains(&length) {
        return Err(format!("must be {MIN_PASSWORD_CHARS} to {MAX_PASSWORD_CHARS} characters"));
    }
    if password.chars().all(char::is_whitespace) {
        return Err("must not be only whitespace".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_hash_verifies_its_password_only() {
        let passwords = Passwords::new(1);
        let hash = passwords.hash("correct horse").await.expect("hash");
        assert!(hash.starts_with("$argon2id$"));
        assert!(passwords.verify("correct horse", Some(&hash)).await.expect("verify"));
        assert!(!passwords.verify("wrong horse", Some(&hash)).await.expect("verify"));
        assert!(!passwords.verify("correct horse", None).await.expect("verify"));
    }
}

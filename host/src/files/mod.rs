//! Where photo bytes live: a local directory in the embedded mode, S3-compatible object
//! storage at scale. Chosen once at start-up from `[files] url`; domain code sees only
//! [`FileStore`].
//!
//! Keys are relative paths of plain segments (`photos/<id>/full.jpg`), checked by
//! [`validate_key`] in every implementation, so no key can leave the store's root or prefix.

mod local;
mod s3;

pub use local::LocalFiles;
pub use s3::S3Files;

use crate::config::FilesConfig;
use async_trait::async_trait;
use bytes::Bytes;
use std::path::Path;
use std::sync::Arc;

/// Longest key accepted.
pub const MAX_KEY_BYTES: usize = 512;

#[async_trait]
pub trait FileStore: Send + Sync + 'static {
    /// Stores `bytes` under `key`, replacing what was there; readers see the old or the new
    /// bytes, never a part.
    async fn put(&self, key: &str, bytes: Bytes, content_type: &str) -> anyhow::Result<()>;
    /// The bytes under `key`, `None` when there are none.
    async fn get(&self, key: &str) -> anyhow::Result<Option<Bytes>>;
    /// Removes `key`; removing a missing key succeeds.
    async fn delete(&self, key: &str) -> anyhow::Result<()>;
    async fn ping(&self) -> anyhow::Result<()>;
    fn backend(&self) -> &'static str;
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error(
    "invalid file key {0:?}: use 1–512 bytes of `/`-separated segments of letters, digits, `.`, `_`, `-`"
)]
pub struct InvalidKey(pub String);

/// A key is `/`-separated segments of ASCII letters, digits, `.`, `_` and `-`; no segment is
/// empty or starts with a dot (so no `..`, no hidden files, no absolute paths).
pub fn validate_key(key: &str) -> Result<(), InvalidKey> {
    let valid = !key.is_empty()
        && key.len() <= MAX_KEY_BYTES
        && key.split('/').all(|segment| {
            !segment.is_empty()
                && !segment.starts_with('.')
                && segment.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
        });
    if valid { Ok(()) } else { Err(InvalidKey(key.chars().take(80).collect())) }
}

/// Picks the implementation from the URL scheme: `file://` (or empty: `<data_dir>/files`) or
/// `s3://bucket[/prefix]`. Fails if the store cannot be reached.
pub async fn connect(config: &FilesConfig, data_dir: &Path) -> anyhow::Result<Arc<dyn FileStore>> {
    let url = config.url.trim();
    let store: Arc<dyn FileStore> = if url.is_empty() {
        Arc::new(LocalFiles::open(data_dir.join("files")).await?)
    } else if let Some(path) = url.strip_prefix("file://") {
        Arc::new(LocalFiles::open(path).await?)
    } else if url.starts_with("s3://") {
        Arc::new(S3Files::from_config(config)?)
    } else {
        anyhow::bail!("files.url must start with file:// or s3://")
    };
    store
        .ping()
        .await
        .map_err(|err| err.context(format!("the {} file store is not reachable", store.backend())))?;
    Ok(store)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_stay_inside_the_store() {
        for good in ["a", "photos/0192/full.jpg", "x-y_z.1/2"] {
            assert_eq!(validate_key(good), Ok(()), "{good}");
        }
        let long = "a".repeat(MAX_KEY_BYTES + 1);
        for bad in [
            "",
            "/abs",
            "a//b",
            "../up",
            "a/../b",
            "a/.hidden",
            "a/",
            "back\\slash",
            "sp ace",
            "ünï",
            &long,
            "a/./b",
        ] {
            assert!(validate_key(bad).is_err(), "{bad:?}");
        }
    }
}

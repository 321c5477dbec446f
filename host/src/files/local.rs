//! Files in a local directory. Writes go to a temporary file in the same directory tree and are
//! renamed into place, so a reader never sees half a photo and a crash leaves no torn file.

use super::{FileStore, validate_key};
use anyhow::Context;
use async_trait::async_trait;
use bytes::Bytes;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Temporary files live here, under the root, so the rename never crosses file systems.
const TEMP_DIR: &str = ".tmp";

pub struct LocalFiles {
    root: PathBuf,
}

impl LocalFiles {
    /// Uses (and creates) `root`.
    pub async fn open(root: impl Into<PathBuf>) -> anyhow::Result<Self> {
        let root = root.into();
        tokio::fs::create_dir_all(root.join(TEMP_DIR))
            .await
            .with_context(|| format!("creating the file store at {}", root.display()))?;
        Ok(Self { root })
    }

    fn path(&self, key: &str) -> anyhow::Result<PathBuf> {
        validate_key(key)?;
        Ok(self.root.join(key))
    }
}

fn write_atomically(root: &Path, path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let temp = root.join(TEMP_DIR).join(uuid::Uuid::new_v4().simple().to_string());
    let written = (|| {
        let mut file = std::fs::File::create(&temp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::rename(&temp, path)
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    Ok(written?)
}

#[async_trait]
impl FileStore for LocalFiles {
    async fn put(&self, key: &str, bytes: Bytes, _content_type: &str) -> anyhow::Result<()> {
        let path = self.path(key)?;
        let root = self.root.clone();
        tokio::task::spawn_blocking(move || write_atomically(&root, &path, &bytes))
            .await?
            .with_context(|| format!("writing file {key}"))
    }

    async fn get(&self, key: &str) -> anyhow::Result<Option<Bytes>> {
        match tokio::fs::read(self.path(key)?).await {
            Ok(bytes) => Ok(Some(bytes.into())),
            // A key that names a directory (a prefix of other keys) holds no file.
            Err(err)
                if matches!(err.kind(), std::io::ErrorKind::NotFound | std::io::ErrorKind::IsADirectory) =>
            {
                Ok(None)
            }
            Err(err) => Err(anyhow::Error::from(err).context(format!("reading file {key}"))),
        }
    }

    async fn delete(&self, key: &str) -> anyhow::Result<()> {
        match tokio::fs::remove_file(self.path(key)?).await {
            Err(err)
                if !matches!(err.kind(), std::io::ErrorKind::NotFound | std::io::ErrorKind::IsADirectory) =>
            {
                Err(anyhow::Error::from(err).context(format!("deleting file {key}")))
            }
            _ => Ok(()),
        }
    }

    async fn ping(&self) -> anyhow::Result<()> {
        let meta = tokio::fs::metadata(self.root.join(TEMP_DIR)).await?;
        anyhow::ensure!(meta.is_dir(), "{} is not a directory", self.root.display());
        Ok(())
    }

    fn backend(&self) -> &'static str {
        "local"
    }
}

//! Where a prepared photo's two copies go in the file store.

use super::pipeline::PreparedPhoto;
use crate::files::FileStore;

/// The keys a prepared photo was stored under.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredPhoto {
    pub normalised_key: String,
    pub full_key: String,
}

/// Puts both copies under `photos/<id>/` (`id` a UUID or another key-safe name), concurrently.
pub async fn store(files: &dyn FileStore, id: &str, photo: &PreparedPhoto) -> anyhow::Result<StoredPhoto> {
    let extension = if photo.full_mime == "image/png" { "png" } else { "jpg" };
    let stored = StoredPhoto {
        normalised_key: format!("photos/{id}/normalised.jpg"),
        full_key: format!("photos/{id}/full.{extension}"),
    };
    tokio::try_join!(
        files.put(&stored.normalised_key, photo.normalised.clone().into(), "image/jpeg"),
        files.put(&stored.full_key, photo.full.clone().into(), photo.full_mime),
    )?;
    Ok(stored)
}

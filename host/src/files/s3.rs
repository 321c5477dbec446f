//! S3-compatible object storage (AWS S3, MinIO, Ceph, moto…) through `object_store`,
//! path-style addressed (`endpoint/bucket/key`), which every S3-compatible server accepts.
//! `s3://bucket/prefix` puts every key under `prefix/`, so deployments can share a bucket.

use super::{FileStore, validate_key};
use crate::config::FilesConfig;
use async_trait::async_trait;
use bytes::Bytes;
use object_store::aws::{AmazonS3, AmazonS3Builder};
use object_store::path::Path;
use object_store::{Attribute, Attributes, ObjectStore, ObjectStoreExt, PutOptions};

pub struct S3Files {
    store: AmazonS3,
    prefix: String,
}

impl S3Files {
    pub fn from_config(config: &FilesConfig) -> anyhow::Result<Self> {
        let rest = config.url.trim().strip_prefix("s3://").unwrap_or_default();
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        anyhow::ensure!(!bucket.is_empty(), "files.url must name a bucket: s3://bucket[/prefix]");
        let prefix = prefix.trim_matches('/').to_owned();
        if !prefix.is_empty() {
            validate_key(&prefix)?;
        }
        let mut builder = AmazonS3Builder::new()
            .with_bucket_name(bucket)
            .with_region(&config.region)
            .with_virtual_hosted_style_request(false);
        if let Some(endpoint) = config.endpoint.as_deref().filter(|e| !e.is_empty()) {
            builder = builder.with_endpoint(endpoint).with_allow_http(endpoint.starts_with("http://"));
        }
        if let (Some(key), Some(secret)) = (&config.access_key_id, &config.secret_access_key) {
            builder = builder.with_access_key_id(key.expose()).with_secret_access_key(secret.expose());
        }
        Ok(Self { store: builder.build()?, prefix })
    }

    fn path(&self, key: &str) -> anyhow::Result<Path> {
        validate_key(key)?;
        Ok(if self.prefix.is_empty() {
            Path::from(key)
        } else {
            Path::from(format!("{}/{key}", self.prefix))
        })
    }
}

#[async_trait]
impl FileStore for S3Files {
    async fn put(&self, key: &str, bytes: Bytes, content_type: &str) -> anyhow::Result<()> {
        let mut attributes = Attributes::new();
        attributes.insert(Attribute::ContentType, content_type.to_owned().into());
        let options = PutOptions { attributes, ..PutOptions::default() };
        self.store.put_opts(&self.path(key)?, bytes.into(), options).await?;
        Ok(())
    }

    async fn get(&self, key: &str) -> anyhow::Result<Option<Bytes>> {
        match self.store.get(&self.path(key)?).await {
            Ok(found) => Ok(Some(found.bytes().await?)),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(err) => Err(err.into()),
        }
    }

    async fn delete(&self, key: &str) -> anyhow::Result<()> {
        match self.store.delete(&self.path(key)?).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(err) => Err(err.into()),
        }
    }

    /// A one-page listing: it fails when the bucket is missing or the credentials are wrong,
    /// where a `HEAD` of a missing object would not tell the two apart.
    async fn ping(&self) -> anyhow::Result<()> {
        let probe = Path::from(if self.prefix.is_empty() {
            "ping".to_owned()
        } else {
            format!("{}/ping", self.prefix)
        });
        self.store.list_with_delimiter(Some(&probe)).await?;
        Ok(())
    }

    fn backend(&self) -> &'static str {
        "s3"
    }
}

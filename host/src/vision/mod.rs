//! Grading photos with a multimodal model: the capability behind the `vision` import of
//! verification policies.
//!
//! A policy names a photo by handle; [`PhotoGrader`] resolves the handle to the bytes the host
//! holds, answers repeated questions about the same photo from a cache shared by every
//! instance (keyed by the photo's SHA-256, the model, the prompt and the schema), and asks the
//! configured [`VisionModel`] otherwise. Answers are always schema-checked before a component
//! sees them.

pub mod openai;
pub mod schema;
mod transport;

pub use crate::config::VisionConfig;

use crate::state::StateStore;
use async_trait::async_trait;
use schema::AnswerSchema;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

/// A photo as the model receives it.
#[derive(Clone)]
pub struct ImageInput {
    /// Hex SHA-256 of `bytes`: the cache key of every question about this photo.
    pub sha256: String,
    pub mime: &'static str,
    pub bytes: Arc<Vec<u8>>,
}

impl ImageInput {
    pub fn new(bytes: Vec<u8>, mime: &'static str) -> Self {
        Self { sha256: hex::encode(Sha256::digest(&bytes)), mime, bytes: Arc::new(bytes) }
    }
}

/// Why a vision request got no answer. None of these may ever be treated as approval.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum VisionError {
    /// The call's budget of vision requests or tokens is spent.
    BudgetExhausted,
    /// The model did not answer in time.
    Timeout,
    /// No model is configured, or it is down.
    Unavailable,
    /// The model refused to grade.
    Refused,
    /// The answer did not match the requested JSON schema.
    InvalidAnswer,
}

/// A schema-valid answer of the model, and the tokens it cost.
#[derive(Debug, Clone)]
pub struct VisionAnswer {
    pub content: String,
    pub tokens: u32,
}

/// Grading a photo the host holds, as a verification policy asks for it: the photo by handle,
/// the policy's prompt and JSON schema.
#[async_trait]
pub trait Vision: Send + Sync + 'static {
    /// `max_tokens` is what is left of the call's token budget.
    async fn grade(
        &self,
        photo: u64,
        prompt: &str,
        json_schema: &str,
        max_tokens: u32,
    ) -> Result<VisionAnswer, VisionError>;
}

#[async_trait]
pub trait VisionModel: Send + Sync + 'static {
    async fn grade(
        &self,
        image: &ImageInput,
        prompt: &str,
        schema: &AnswerSchema,
        max_tokens: u32,
    ) -> Result<VisionAnswer, VisionError>;
}

/// The configured model (if any) and the shared answer cache.
#[derive(Clone)]
pub struct VisionService {
    model: Option<Arc<dyn VisionModel>>,
    model_name: String,
    cache: VisionCache,
}

impl VisionService {
    /// Without a base URL there is no model, and every vision request is `unavailable`.
    pub fn from_config(config: &VisionConfig, state: Arc<dyn StateStore>) -> Self {
        let model = config
            .base_url
            .as_deref()
            .filter(|url| !url.trim().is_empty())
            .map(|url| Arc::new(openai::OpenAiVision::new(config, url)) as Arc<dyn VisionModel>);
        Self::new(model, &config.model, VisionCache::new(state, Duration::from_secs(config.cache_ttl_secs)))
    }

    pub fn new(model: Option<Arc<dyn VisionModel>>, model_name: &str, cache: VisionCache) -> Self {
        Self { model, model_name: model_name.to_owned(), cache }
    }

    /// The `vision` import of one policy call, able to see exactly `photos`.
    pub fn grader(&self, photos: HashMap<u64, ImageInput>) -> Arc<PhotoGrader> {
        Arc::new(PhotoGrader { service: self.clone(), photos })
    }
}

/// The shared answer cache. Values are schema-valid answers; they expire after `ttl`.
#[derive(Clone)]
pub struct VisionCache {
    state: Arc<dyn StateStore>,
    ttl: Duration,
}

impl VisionCache {
    pub fn new(state: Arc<dyn StateStore>, ttl: Duration) -> Self {
        Self { state, ttl }
    }

    fn key(model: &str, image: &ImageInput, prompt: &str, schema: &str) -> String {
        let mut digest = Sha256::new();
        for part in [model, &image.sha256, prompt, schema] {
            digest.update((part.len() as u64).to_le_bytes());
            digest.update(part.as_bytes());
        }
        format!("vision:{}", hex::encode(digest.finalize()))
    }

    async fn get(&self, key: &str) -> Option<String> {
        match self.state.get_many(&[key]).await {
            Ok(mut values) => values.pop().flatten(),
            Err(err) => {
                tracing::warn!(error = %err, "vision cache unavailable");
                None
            }
        }
    }

    async fn put(&self, key: &str, answer: &str) {
        if let Err(err) = self.state.put(key, answer, self.ttl).await {
            tracing::warn!(error = %err, "could not cache a vision answer");
        }
    }
}

/// The `vision` import of one policy call: the photos it may ask about, by handle.
pub struct PhotoGrader {
    service: VisionService,
    photos: HashMap<u64, ImageInput>,
}

#[async_trait]
impl Vision for PhotoGrader {
    async fn grade(
        &self,
        photo: u64,
        prompt: &str,
        json_schema: &str,
        max_tokens: u32,
    ) -> Result<VisionAnswer, VisionError> {
        let image = self.photos.get(&photo).ok_or(VisionError::Unavailable)?;
        let schema = AnswerSchema::parse(json_schema).map_err(|err| {
            tracing::warn!(error = %err, "a policy sent an unusable answer schema");
            VisionError::InvalidAnswer
        })?;
        let service = &self.service;
        let key = VisionCache::key(&service.model_name, image, prompt, json_schema);
        if let Some(cached) = service.cache.get(&key).await
            && schema.validate(&cached).is_ok()
        {
            metrics::counter!("vision_cache_hits_total").increment(1);
            return Ok(VisionAnswer { content: cached, tokens: 0 });
        }
        let model = service.model.as_ref().ok_or(VisionError::Unavailable)?;
        let answer = model.grade(image, prompt, &schema, max_tokens).await?;
        service.cache.put(&key, &answer.content).await;
        Ok(answer)
    }
}

//! Kakao login (OAuth 2.0 authorization code). Endpoints are configurable so tests talk to a
//! local fake that speaks Kakao's formats; answers are size-bounded and parsed defensively.

use crate::config::{KakaoConfig, Secret};
use crate::outbound::read_capped;
use anyhow::Context;
use serde::Deserialize;
use std::time::Duration;
use url::Url;

pub struct KakaoClient {
    http: reqwest::Client,
    client_id: String,
    client_secret: Option<Secret<String>>,
    redirect_uri: String,
    authorize_url: Url,
    token_url: Url,
    user_url: Url,
    max_response_bytes: usize,
}

#[derive(Debug, thiserror::Error)]
pub enum KakaoError {
    /// Kakao refused (bad or used code, revoked token): the user must start over.
    #[error("Kakao rejected the login: {0}")]
    Rejected(String),
    /// Kakao could not be reached or answered nonsense.
    #[error("Kakao is unavailable: {0}")]
    Unavailable(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KakaoProfile {
    pub id: String,
    pub nickname: Option<String>,
    pub email: Option<String>,
}

#[derive(Deserialize)]
struct TokenAnswer {
    access_token: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
    error_code: Option<String>,
}

#[derive(Deserialize)]
struct UserAnswer {
    id: Option<i64>,
    kakao_account: Option<KakaoAccount>,
    properties: Option<Properties>,
    msg: Option<String>,
    code: Option<i64>,
}

#[derive(Deserialize)]
struct KakaoAccount {
    profile: Option<Profile>,
    email: Option<String>,
    is_email_verified: Option<bool>,
}

#[derive(Deserialize)]
struct Profile {
    nickname: Option<String>,
}

#[derive(Deserialize)]
struct Properties {
    nickname: Option<String>,
}

impl KakaoClient {
    /// `None` while no client id is configured: Kakao login is then off.
    pub fn from_config(config: &KakaoConfig) -> anyhow::Result<Option<Self>> {
        let Some(client_id) = config.client_id.clone().filter(|id| !id.is_empty()) else {
            return Ok(None);
        };
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(config.timeout_secs.max(1)))
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        Ok(Some(Self {
            http,
            client_id,
            client_secret: config.client_secret.clone(),
            redirect_uri: config.redirect_uri.clone(),
            authorize_url: Url::parse(&config.authorize_url).context("kakao.authorize_url")?,
            token_url: Url::parse(&config.token_url).context("kakao.token_url")?,
            user_url: Url::parse(&config.user_url).context("kakao.user_url")?,
            max_response_bytes: config.max_response_bytes,
        }))
    }

    /// Where to send the user's browser; `state` comes back on the callback.
    pub fn authorize_redirect(&self, state: &str) -> String {
        let mut url = self.authorize_url.clone();
        url.query_pairs_mut()
            .append_pair("response_type", "code")
            .append_pair("client_id", &self.client_id)
            .append_pair("redirect_uri", &self.redirect_uri)
            .append_pair("state", state);
        url.into()
    }

    /// Exchanges the authorization code for the user's profile.
    pub async fn login(&self, code: &str) -> Result<KakaoProfile, KakaoError> {
        let access_token = self.exchange(code).await?;
        self.profile(&access_token).await
    }

    async fn exchange(&self, code: &str) -> Result<String, KakaoError> {
        let form = {
            let mut form = url::form_urlencoded::Serializer::new(String::new());
            form.append_pair("grant_type", "authorization_code")
                .append_pair("client_id", &self.client_id)
                .append_pair("redirect_uri", &self.redirect_uri)
                .append_pair("code", code);
            if let Some(secret) = &self.client_secret {
                form.append_pair("client_secret", secret.expose());
            }
            form.finish()
        };
        let response = self
            .http
            .post(self.token_url.clone())
            .header(reqwest::header::CONTENT_TYPE, "application/x-www-form-urlencoded;charset=utf-8")
            .body(form)
            .send()
            .await
            .map_err(|err| KakaoError::Unavailable(err.without_url().to_string()))?;
        let status = response.status();
        let answer: TokenAnswer = read_json(response, self.max_response_bytes).await?;
        if let Some(error) = answer.error {
            let code = answer.error_code.unwrap_or_default();
            let description = answer.error_description.unwrap_or_default();
            return Err(KakaoError::Rejected(format!("{error} {code} {description}").trim().to_owned()));
        }
        match answer.access_token {
            Some(token) if status.is_success() && !token.is_empty() && token.len() <= 4096 => Ok(token),
            _ => Err(KakaoError::Unavailable(format!("token endpoint answered {status} without a token"))),
        }
    }

    async fn profile(&self, access_token: &str) -> Result<KakaoProfile, KakaoError> {
        let response = self
            .http
            .get(self.user_url.clone())
            .bearer_auth(access_token)
            .send()
            .await
            .map_err(|err| KakaoError::Unavailable(err.without_url().to_string()))?;
        let status = response.status();
        let answer: UserAnswer = read_json(response, self.max_response_bytes).await?;
        if let (Some(code), Some(msg)) = (answer.code, &answer.msg) {
            return Err(KakaoError::Rejected(format!("user endpoint: {msg} ({code})")));
        }
        let Some(id) = answer.id.filter(|_| status.is_success()) else {
            return Err(KakaoError::Unavailable(format!("user endpoint answered {status} without an id")));
        };
        let account = answer.kakao_account;
        let nickname = account
            .as_ref()
            .and_then(|account| account.profile.as_ref())
            .and_then(|profile| profile.nickname.clone())
            .or_else(|| answer.properties.and_then(|properties| properties.nickname));
        // Only a verified email may be attached to the account.
        let email = account
            .filter(|account| account.is_email_verified.unwrap_or(false))
            .and_then(|account| account.email);
        Ok(KakaoProfile { id: id.to_string(), nickname, email })
    }
}

async fn read_json<T: serde::de::DeserializeOwned>(
    response: reqwest::Response,
    max_bytes: usize,
) -> Result<T, KakaoError> {
    let body = read_capped(response, max_bytes, "kakao")
        .await
        .map_err(|err| KakaoError::Unavailable(err.to_string()))?;
    serde_json::from_slice(&body).map_err(|err| KakaoError::Unavailable(format!("unreadable answer: {err}")))
}

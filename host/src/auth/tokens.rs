//! Access tokens: HS256 JWTs with a pinned algorithm, a `kid` per signing key, header
//! `typ: at+jwt` (RFC 9068), `aud`/`iss`/`exp` validated and `nbf` when present. Refresh
//! tokens are opaque random strings (see [`super::sessions`]), so one can never pass for the
//! other.

use crate::config::AuthConfig;
use crate::db::{Database, now_ms};
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation, decode, decode_header, encode};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

pub const ACCESS_TOKEN_TYPE: &str = "at+jwt";

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AccessClaims {
    pub sub: String,
    pub aud: String,
    pub iss: String,
    pub iat: i64,
    pub exp: i64,
    pub jti: String,
    /// The session (refresh family) this token belongs to; logout revokes it.
    pub sid: String,
    pub role: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("the token has expired")]
    Expired,
    #[error("the token is not a valid access token")]
    Invalid,
}

struct SigningKey {
    kid: String,
    encoding: EncodingKey,
}

/// Tokens verified before, kept at most.
const MAX_VERIFIED: usize = 8192;

pub struct TokenService {
    signing: SigningKey,
    verifying: HashMap<String, DecodingKey>,
    validation: Validation,
    /// The claims of tokens already verified, by the token's exact text. A client sends the
    /// same token with every request of its lifetime, and verifying it again (its header and
    /// claims decoded from base64 and parsed as JSON twice over, and an HMAC) costs more than
    /// the rest of a cheap request. Only the expiry changes with time, and it is checked on every
    /// use; emptied when full, so bounded.
    verified: Mutex<HashMap<String, Arc<AccessClaims>>>,
    issuer: String,
    audience: String,
    access_ttl_secs: i64,
}

impl TokenService {
    /// Keys from the configuration, or the database-kept key shared by all instances.
    pub async fn from_config(config: &AuthConfig, db: &Database) -> anyhow::Result<Self> {
        let keys: Vec<(String, Vec<u8>)> = if config.jwt_keys.is_empty() {
            vec![shared_database_key(db).await?]
        } else {
            config
                .jwt_keys
                .iter()
                .map(|key| (key.kid.clone(), key.secret.expose().as_bytes().to_vec()))
                .collect()
        };
        Ok(Self::new(config, &keys))
    }

    /// `keys[0]` signs; all verify.
    pub fn new(config: &AuthConfig, keys: &[(String, Vec<u8>)]) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_audience(&[&config.audience]);
        validation.set_issuer(&[&config.issuer]);
        validation.set_required_spec_claims(&["exp", "aud", "iss", "sub"]);
        // A token is refused before its `nbf` as after its `exp`, with the same leeway for
        // clocks that differ between instances.
        validation.validate_nbf = true;
        validation.leeway = 5;
        let (kid, secret) = &keys[0];
        Self {
            signing: SigningKey { kid: kid.clone(), encoding: EncodingKey::from_secret(secret) },
            verifying: keys
                .iter()
                .map(|(kid, secret)| (kid.clone(), DecodingKey::from_secret(secret)))
                .collect(),
            validation,
            verified: Mutex::default(),
            issuer: config.issuer.clone(),
            audience: config.audience.clone(),
            access_ttl_secs: i64::try_from(config.access_ttl_secs).unwrap_or(900),
        }
    }

    pub fn access_ttl_secs(&self) -> i64 {
        self.access_ttl_secs
    }

    pub fn issue(
        &self,
        user_id: &str,
        role: &str,
        session_id: &str,
    ) -> anyhow::Result<(String, AccessClaims)> {
        let now = now_ms() / 1000;
        let claims = AccessClaims {
            sub: user_id.to_owned(),
            aud: self.audience.clone(),
            iss: self.issuer.clone(),
            iat: now,
            exp: now + self.access_ttl_secs,
            jti: uuid::Uuid::new_v4().simple().to_string(),
            sid: session_id.to_owned(),
            role: role.to_owned(),
        };
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some(self.signing.kid.clone());
        header.typ = Some(ACCESS_TOKEN_TYPE.into());
        let token = encode(&header, &claims, &self.signing.encoding)?;
        Ok((token, claims))
    }

    pub fn verify(&self, token: &str) -> Result<Arc<AccessClaims>, TokenError> {
        // Bounded before any parsing: a real access token is a few hundred bytes.
        if token.len() > 4096 {
            return Err(TokenError::Invalid);
        }
        let known = self.verified.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).get(token).cloned();
        if let Some(claims) = known {
            // As the first verification judged it, with the same leeway.
            let now = now_ms() / 1000;
            let leeway = i64::try_from(self.validation.leeway).unwrap_or(0);
            return if claims.exp < now - leeway { Err(TokenError::Expired) } else { Ok(claims) };
        }
        let claims = Arc::new(self.verify_afresh(token)?);
        let mut verified = self.verified.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if verified.len() >= MAX_VERIFIED {
            verified.clear();
        }
        verified.insert(token.to_owned(), claims.clone());
        Ok(claims)
    }

    fn verify_afresh(&self, token: &str) -> Result<AccessClaims, TokenError> {
        let header = decode_header(token).map_err(|_| TokenError::Invalid)?;
        if header.alg != Algorithm::HS256 || header.typ.as_deref() != Some(ACCESS_TOKEN_TYPE) {
            return Err(TokenError::Invalid);
        }
        let key = header.kid.as_deref().and_then(|kid| self.verifying.get(kid)).ok_or(TokenError::Invalid)?;
        decode::<AccessClaims>(token, key, &self.validation).map(|data| data.claims).map_err(|err| match err
            .kind()
        {
            ErrorKind::ExpiredSignature => TokenError::Expired,
            _ => TokenError::Invalid,
        })
    }
}

/// The signing key kept in the database when none is configured: the first instance to start
/// inserts one, every other instance (and every restart) reads the same.
async fn shared_database_key(db: &Database) -> anyhow::Result<(String, Vec<u8>)> {
    use base64::Engine as _;
    let candidate: [u8; 32] = rand::random();
    let encoded = base64::engine::general_purpose::STANDARD.encode(candidate);
    sqlx::query("insert into signing_keys (kid, secret, created_at) values ('db-1', $1, $2) on conflict (kid) do nothing")
        .bind(&encoded)
        .bind(now_ms())
        .execute(db.pool())
        .await?;
    let (secret,): (String,) =
        sqlx::query_as("select secret from signing_keys where kid = 'db-1'").fetch_one(db.pool()).await?;
    let bytes = base64::engine::general_purpose::STANDARD.decode(secret)?;
    Ok(("db-1".into(), bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn service() -> TokenService {
        TokenService::new(
            &AuthConfig::default(),
            &[("k1".into(), b"0123456789abcdef0123456789abcdef".to_vec())],
        )
    }

    #[test]
    fn a_remembered_token_is_still_refused_once_expired() {
        let tokens = service();
        let (token, _) = tokens.issue("user-1", "user", "session-1").expect("issue");
        let claims = tokens.verify(&token).expect("a fresh token verifies");
        assert_eq!(claims.sub, "user-1");
        assert!(tokens.verified.lock().expect("lock").contains_key(&token), "remembered");
        // The remembered claims as they will be once the token has lived past its leeway.
        let mut aged = (*claims).clone();
        aged.exp = now_ms() / 1000 - 6;
        tokens.verified.lock().expect("lock").insert(token.clone(), Arc::new(aged));
        assert_eq!(tokens.verify(&token).err(), Some(TokenError::Expired));
    }

    #[test]
    fn only_verified_tokens_are_remembered_and_the_memory_is_bounded() {
        let tokens = service();
        let other_key = TokenService::new(
            &AuthConfig::default(),
            &[("k1".into(), b"another secret of 32 bytes......".to_vec())],
        );
        let (forged, _) = other_key.issue("user-1", "user", "session-1").expect("issue");
        assert_eq!(tokens.verify(&forged).err(), Some(TokenError::Invalid));
        assert!(tokens.verified.lock().expect("lock").is_empty(), "a refused token is not remembered");
        for n in 0..MAX_VERIFIED + 10 {
            let (token, _) = tokens.issue(&format!("user-{n}"), "user", "session").expect("issue");
            tokens.verify(&token).expect("verifies");
        }
        assert!(tokens.verified.lock().expect("lock").len() <= MAX_VERIFIED);
    }
}

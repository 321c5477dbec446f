//! The user as the domain sees it, and as the API shows it.

use crate::language::Language;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    User,
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::User => "user",
            Self::Admin => "admin",
        }
    }

    pub fn parse(text: &str) -> Self {
        if text == "admin" { Self::Admin } else { Self::User }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: String,
    pub email: Option<String>,
    pub nickname: String,
    pub password_hash: Option<String>,
    pub kakao_id: Option<String>,
    pub role: Role,
    /// The language the user chose for missions and verdicts; `None` until they choose.
    pub language: Option<Language>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// What `/me` and the auth endpoints return about a user.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct UserView {
    pub id: String,
    pub email: Option<String>,
    pub nickname: String,
    pub role: Role,
    /// Whether the account can log in with a password (Kakao-only accounts cannot).
    pub has_password: bool,
    pub kakao_linked: bool,
    /// The language chosen for missions and verdicts; null until chosen, when the client's
    /// `Accept-Language` decides (Korean by default).
    pub language: Option<Language>,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: chrono::DateTime<chrono::Utc>,
}

impl From<&User> for UserView {
    fn from(user: &User) -> Self {
        Self {
            id: user.id.clone(),
            email: user.email.clone(),
            nickname: user.nickname.clone(),
            role: user.role,
            has_password: user.password_hash.is_some(),
            kakao_linked: user.kakao_id.is_some(),
            language: user.language,
            created_at: chrono::DateTime::from_timestamp_millis(user.created_at).unwrap_or_default(),
        }
    }
}

/// Normalises and checks an email address; returns the lowercase form stored and compared.
pub fn normalize_email(raw: &str) -> Result<String, &'static str> {
    let email = raw.trim().to_lowercase();
    if email.is_empty() || email.len() > 254 {
        return Err("must be 1 to 254 characters");
    }
    let Some((local, domain)) = email.split_once('@') else {
        return Err("must contain @");
    };
    let valid_domain = domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && domain.split('.').all(|label| !label.is_empty());
    if local.is_empty() || local.len() > 64 || !valid_domain || domain.contains('@') {
        return Err("is not an email address");
    }
    if email.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("must not contain spaces or control characters");
    }
    Ok(email)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_lowercased_and_checked() {
        assert_eq!(normalize_email("  Kim@Example.COM ").as_deref(), Ok("kim@example.com"));
        for bad in ["", "no-at.example.com", "a@b", "a@@b.com", "a@.com", "a b@c.com", "@x.com"] {
            assert!(normalize_email(bad).is_err(), "{bad} accepted");
        }
    }
}

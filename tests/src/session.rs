//! The one caller type of the tests: a user of the server and the tokens it holds.

use serde_json::Value;

/// A user and an access token: either signed up (with its password and refresh token) or
/// stored straight through the server's store (see [`crate::TestApp::user`]), which has
/// neither.
#[derive(Debug, Clone)]
pub struct Session {
    pub user_id: String,
    pub nickname: String,
    pub email: String,
    pub access: String,
    password: Option<String>,
    refresh: Option<String>,
}

impl Session {
    /// The session of a sign-up or login answer (`access_token`, `refresh_token`, `user`).
    pub fn from_tokens(body: &Value, email: String, password: String) -> Self {
        Self {
            user_id: body["user"]["id"].as_str().expect("user.id").to_owned(),
            nickname: body["user"]["nickname"].as_str().expect("user.nickname").to_owned(),
            email,
            access: body["access_token"].as_str().expect("access_token").to_owned(),
            password: Some(password),
            refresh: Some(body["refresh_token"].as_str().expect("refresh_token").to_owned()),
        }
    }

    /// A user stored without a password, holding only an access token.
    pub(crate) fn stored(user_id: String, nickname: String, email: String, access: String) -> Self {
        Self { user_id, nickname, email, access, password: None, refresh: None }
    }

    /// The password it signed up with.
    pub fn password(&self) -> &str {
        self.password.as_deref().expect("a stored user has no password: sign one up instead")
    }

    /// The refresh token of its sign-up or login.
    pub fn refresh(&self) -> &str {
        self.refresh.as_deref().expect("a stored user has no refresh token: sign one up instead")
    }
}

//! What the auth domain holds: the stores and services its rules use, and the smaller
//! [`Authenticator`] every authenticated route reaches through `FromRef`.

use super::kakao::KakaoClient;
use super::live_sessions::LiveSessions;
use super::password::Passwords;
use super::sessions::SessionStore;
use super::tokens::TokenService;
use crate::accounts::UserStore;
use crate::bus::EventBus;
use crate::config::{AuthConfig, RateLimitConfig};
use crate::state::StateStore;
use std::sync::Arc;

/// Proves callers: verifies access tokens, checks their session is still live, and asks the
/// database whether a caller is an admin. Cheap to clone.
#[derive(Clone)]
pub struct Authenticator {
    pub(super) tokens: Arc<TokenService>,
    pub(super) sessions: Arc<LiveSessions>,
    pub(super) users: Arc<dyn UserStore>,
}

impl Authenticator {
    pub fn new(tokens: Arc<TokenService>, sessions: Arc<LiveSessions>, users: Arc<dyn UserStore>) -> Self {
        Self { tokens, sessions, users }
    }

    /// A user's nickname as others see it (chat messages carry it); `None` once deleted.
    pub async fn nickname(&self, user_id: &str) -> anyhow::Result<Option<String>> {
        Ok(self.users.view(user_id).await?.map(|view| view.nickname))
    }
}

/// Everything sign-up, login, refresh, logout, Kakao and the account routes need.
pub struct AuthService {
    pub users: Arc<dyn UserStore>,
    pub sessions: Arc<dyn SessionStore>,
    pub tokens: Arc<TokenService>,
    pub passwords: Passwords,
    pub kakao: Option<KakaoClient>,
    /// Rate-limit windows and Kakao login states (shared by instances).
    pub state: Arc<dyn StateStore>,
    /// Which sessions are live; told when one ends.
    pub live_sessions: Arc<LiveSessions>,
    /// Account events (`account.signed_up`, `account.deleted`) and ended sessions go out here.
    pub bus: Arc<dyn EventBus>,
    pub config: AuthConfig,
    pub rate_limits: RateLimitConfig,
}

pub type AuthState = Arc<AuthService>;

//! What the auth domain holds: the stores and services its rules use, and the smaller
//! [`Authenticator`] every authenticated route reaches through `FromRef`.

use super::kakao::KakaoClient;
use super::password::Passwords;
use super::sessions::SessionStore;
use super::tokens::TokenService;
use crate::accounts::UserStore;
use crate::bus::EventBus;
use crate::config::{AuthConfig, RateLimitConfig};
use crate::state::StateStore;
use std::sync::Arc;

/// Proves callers: verifies access tokens and checks their session against the revocation
/// marks. Cheap to clone.
#[derive(Clone)]
pub struct Authenticator {
    pub(super) tokens: Arc<TokenService>,
    pub(super) revocations: Arc<dyn StateStore>,
}

impl Authenticator {
    pub fn new(tokens: Arc<TokenService>, revocations: Arc<dyn StateStore>) -> Self {
        Self { tokens, revocations }
    }
}

/// Everything sign-up, login, refresh, logout, Kakao and the account routes need.
pub struct AuthService {
    pub users: Arc<dyn UserStore>,
    pub sessions: Arc<dyn SessionStore>,
    pub tokens: Arc<TokenService>,
    pub passwords: Passwords,
    pub kakao: Option<KakaoClient>,
    /// Revocation marks, rate-limit windows and Kakao login states (shared by instances).
    pub state: Arc<dyn StateStore>,
    /// Account events (`account.signed_up`, `account.deleted`) go out here.
    pub bus: Arc<dyn EventBus>,
    pub config: AuthConfig,
    pub rate_limits: RateLimitConfig,
}

pub type AuthState = Arc<AuthService>;

//! `/me` answered from the state store: a user's profile (never their password hash) is kept
//! under `profile:<id>`, so the read every client makes on start costs a state-store read
//! rather than a database query. Shared by the instances of a deployment (Redis), so a change
//! made on one is seen on all.
//!
//! Every change through this store marks the profile "changed" for a moment, and a profile
//! read from the database is remembered only where nothing is (`put_if_absent`): a read that
//! raced a change cannot put the old profile back. A change made outside the server (the
//! `admin` command against an embedded deployment, whose state store is in the server's
//! memory) shows within `REMEMBER`; admin powers never wait for it (`AdminUser` reads the role
//! from the database).

use super::model::{Role, User, UserView};
use super::store::{NewUser, UserStore, UserStoreError};
use crate::language::Language;
use crate::state::StateStore;
use async_trait::async_trait;
use std::sync::Arc;
use std::time::Duration;

/// How long a profile read from the database is remembered.
const REMEMBER: Duration = Duration::from_secs(30);
/// How long a changed profile is read from the database only, so that reads which began before
/// the change finish without remembering what they saw.
const CHANGED_FOR: Duration = Duration::from_secs(5);
const CHANGED: &str = "changed";

pub struct CachedProfiles<S> {
    users: S,
    remembered: Arc<dyn StateStore>,
}

fn key(user_id: &str) -> String {
    format!("profile:{user_id}")
}

impl<S: UserStore> CachedProfiles<S> {
    pub fn new(users: S, remembered: Arc<dyn StateStore>) -> Self {
        Self { users, remembered }
    }

    /// A state store that cannot record a change fails the change's request rather than let a
    /// stale profile live on.
    async fn changed(&self, user_id: &str) -> Result<(), UserStoreError> {
        self.remembered
            .put(&key(user_id), CHANGED, CHANGED_FOR)
            .await
            .map_err(UserStoreError::CacheUnavailable)
    }

    async fn changed_if<T>(&self, user_id: &str, outcome: T) -> Result<T, UserStoreError> {
        self.changed(user_id).await?;
        Ok(outcome)
    }
}

#[async_trait]
impl<S: UserStore> UserStore for CachedProfiles<S> {
    async fn create(&self, user: NewUser) -> Result<User, UserStoreError> {
        self.users.create(user).await
    }

    async fn by_id(&self, id: &str) -> Result<Option<User>, UserStoreError> {
        self.users.by_id(id).await
    }

    async fn view(&self, id: &str) -> Result<Option<UserView>, UserStoreError> {
        let key = key(id);
        let remembered = match self.remembered.get_many(&[&key]).await {
            Ok(mut values) => values.pop().flatten(),
            Err(err) => {
                tracing::warn!(error = %err, "profile cache unreadable; asking the database");
                Some(CHANGED.to_owned())
            }
        };
        match remembered.as_deref() {
            Some(CHANGED) => return self.users.view(id).await,
            Some(json) => {
                if let Ok(view) = serde_json::from_str::<UserView>(json) {
                    return Ok(Some(view));
                }
            }
            None => {}
        }
        let view = self.users.view(id).await?;
        if let Some(view) = &view
            && let Ok(json) = serde_json::to_string(view)
            && let Err(err) = self.remembered.put_if_absent(&key, &json, REMEMBER).await
        {
            tracing::warn!(error = %err, "could not remember a profile");
        }
        Ok(view)
    }

    async fn by_email(&self, email: &str) -> Result<Option<User>, UserStoreError> {
        self.users.by_email(email).await
    }

    async fn by_kakao_id(&self, kakao_id: &str) -> Result<Option<User>, UserStoreError> {
        self.users.by_kakao_id(kakao_id).await
    }

    async fn set_nickname(
        &self,
        id: &str,
        nickname: &str,
        key: &str,
    ) -> Result<Option<User>, UserStoreError> {
        let updated = self.users.set_nickname(id, nickname, key).await?;
        self.changed_if(id, updated).await
    }

    async fn set_password_hash(&self, id: &str, hash: &str) -> Result<bool, UserStoreError> {
        let updated = self.users.set_password_hash(id, hash).await?;
        self.changed_if(id, updated).await
    }

    async fn set_language(
        &self,
        id: &str,
        language: Option<Language>,
    ) -> Result<Option<User>, UserStoreError> {
        let updated = self.users.set_language(id, language).await?;
        self.changed_if(id, updated).await
    }

    async fn set_role_by_email(&self, email: &str, role: Role) -> Result<bool, UserStoreError> {
        let updated = self.users.set_role_by_email(email, role).await?;
        if let Some(user) = self.users.by_email(email).await? {
            self.changed(&user.id).await?;
        }
        Ok(updated)
    }

    async fn delete(&self, id: &str) -> Result<Option<Vec<String>>, UserStoreError> {
        let deleted = self.users.delete(id).await?;
        self.changed_if(id, deleted).await
    }
}

//! The workers that turn queued verifications into decisions.
//!
//! Jobs live in the database, so they survive restarts and any instance's workers can take
//! them. A worker claims a job with a lease; if it dies, the lease runs out and another
//! worker takes the job again. Deciding is one conditional transaction, so a job run twice
//! (a lease that expired under a slow worker, a restart mid-way) still decides and credits
//! once.

use super::decided::after_decision;
use super::model::{Decision, Verification, VerificationState};
use super::state::Verifier;
use super::store::{Claimed, Decider, DecisionInput};
use super::verdict::PhotoFeatures;
use crate::language::Language;
use crate::plugins::calls::Target;
use crate::plugins::records::Purpose;
use crate::tasks::Tasks;
use crate::vision::ImageInput;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

/// The handle policies use for the photo under verification.
const PHOTO_HANDLE: u64 = 1;
const MAX_RETRY_DELAY: Duration = Duration::from_secs(60);

/// Wakes this instance's idle workers when a job is queued here; jobs queued elsewhere are
/// found by polling.
#[derive(Clone, Default)]
pub struct JobSignal(Arc<Notify>);

impl JobSignal {
    pub fn queued(&self) {
        self.0.notify_one();
    }
}

/// Starts the configured number of workers as work of `tasks`; when told to drain they take
/// no new job and finish the one in hand (its lease covers a crash if time runs out).
pub fn start(verifier: &Arc<Verifier>, tasks: &Tasks) {
    for index in 0..verifier.config.workers {
        let owner = format!("{}-{index}", uuid::Uuid::now_v7());
        let verifier = verifier.clone();
        tasks.spawn_work("verification worker", move |drain| run(verifier, owner, drain));
    }
}

async fn run(verifier: Arc<Verifier>, owner: String, drain: CancellationToken) {
    let config = &verifier.config;
    let poll = Duration::from_millis(config.poll_ms.max(10));
    let lease_ms = i64::try_from(config.lease_secs.saturating_mul(1000)).unwrap_or(i64::MAX);
    while !drain.is_cancelled() {
        match verifier.verifications.claim(&owner, lease_ms).await {
            Ok(Some(job)) => {
                process(&verifier, &owner, job).await;
                continue;
            }
            Ok(None) => {}
            Err(err) => tracing::warn!(error = %err, "claiming a verification job failed"),
        }
        tokio::select! {
            () = verifier.job_signal.0.notified() => {}
            () = tokio::time::sleep(poll) => {}
            () = drain.cancelled() => {}
        }
    }
}

#[tracing::instrument(skip_all, fields(verification = %job.verification_id, attempt = job.attempts))]
async fn process(verifier: &Arc<Verifier>, owner: &str, job: Claimed) {
    let id = job.verification_id.clone();
    match attempt(verifier, &job).await {
        Ok(()) => {}
        Err(err) if job.attempts >= verifier.config.max_job_attempts => {
            tracing::error!(error = ?err, "verification failed on its last attempt; sending it to review");
            let input = DecisionInput {
                decision: Decision::NeedsReview,
                confidence: None,
                reason: unchecked_reason(mission_language(verifier, &id).await),
                decided_by: "policy",
                policy_sha256: None,
                call_id: None,
            };
            match verifier.verifications.decide(&id, Decider::Policy, input).await {
                Ok(Some(decided)) => after_decision(verifier, &decided).await,
                Ok(None) => {}
                Err(err) => tracing::error!(error = ?err, "sending the verification to review failed"),
            }
        }
        Err(err) => {
            let delay = retry_delay(verifier.config.retry_backoff_ms, job.attempts);
            tracing::warn!(error = ?err, retry_in_ms = delay.as_millis() as u64, "verification attempt failed");
            let delay_ms = i64::try_from(delay.as_millis()).unwrap_or(i64::MAX);
            if let Err(err) =
                verifier.verifications.retry_later(&id, owner, delay_ms, &format!("{err:#}")).await
            {
                tracing::error!(error = ?err, "re-queueing the verification failed; its lease will expire");
            }
        }
    }
}

fn retry_delay(backoff_ms: u64, attempts: i64) -> Duration {
    let exponent = u32::try_from(attempts.saturating_sub(1)).unwrap_or(u32::MAX).min(16);
    Duration::from_millis(backoff_ms.saturating_mul(1 << exponent)).min(MAX_RETRY_DELAY)
}

/// One attempt: an error means "try again later"; a decision, even needs-review, is success.
async fn attempt(verifier: &Arc<Verifier>, job: &Claimed) -> anyhow::Result<()> {
    let id = &job.verification_id;
    let Some(verification) = verifier.verifications.get(id).await? else {
        // Deleted with its mission or account.
        return verifier.verifications.finish(id).await;
    };
    if verification.state != VerificationState::Queued && verification.state != VerificationState::Verifying {
        return verifier.verifications.finish(id).await;
    }
    let Some(mission) = verifier.missions.get(&verification.mission_id).await? else {
        return verifier.verifications.finish(id).await;
    };
    verifier.verifications.start(id).await?;
    let photo =
        verifier.files.get(&verification.normalised_key).await?.ok_or_else(|| {
            anyhow::anyhow!("the normalised photo {} is missing", verification.normalised_key)
        })?;
    let grader = verifier
        .vision
        .grader(HashMap::from([(PHOTO_HANDLE, ImageInput::new(photo.to_vec(), "image/jpeg"))]));
    // The verdict's reason is written in the mission's language.
    let run = verifier
        .plugins
        .verify(
            Target::Active,
            &mission.content,
            &features(&verification),
            mission.language,
            grader,
            Purpose::Live,
        )
        .await
        .map_err(|err| anyhow::anyhow!(err).context("resolving the active policy"))?;
    let (decision, confidence, reason) = match run.outcome {
        Ok(verified) => {
            let verdict = verified.verdict;
            (verdict.decision, Some(f64::from(verdict.confidence)), verdict.reason)
        }
        Err(err) => {
            // A policy that fails never approves; the photo waits for a person.
            tracing::warn!(kind = err.kind.as_str(), error = %err.message, "the verification policy failed");
            (Decision::NeedsReview, None, unchecked_reason(mission.language).into())
        }
    };
    let input = DecisionInput {
        decision,
        confidence,
        reason: &reason,
        decided_by: "policy",
        policy_sha256: Some(&run.sha256),
        call_id: Some(&run.call_id),
    };
    if let Some(decided) = verifier.verifications.decide(id, Decider::Policy, input).await? {
        after_decision(verifier, &decided).await;
    }
    Ok(())
}

/// What the user reads when no policy verdict could be had, in the mission's language.
fn unchecked_reason(language: Language) -> &'static str {
    match language {
        Language::Ko => "사진을 자동으로 확인하지 못했어요. 담당자가 확인할게요.",
        Language::En => "the photo could not be checked automatically; a reviewer will decide",
    }
}

/// The language of the verification's mission; Korean when it cannot be read.
async fn mission_language(verifier: &Verifier, verification_id: &str) -> Language {
    let Ok(Some(verification)) = verifier.verifications.get(verification_id).await else {
        return Language::default();
    };
    match verifier.missions.get(&verification.mission_id).await {
        Ok(Some(mission)) => mission.language,
        _ => Language::default(),
    }
}

fn features(verification: &Verification) -> PhotoFeatures {
    let photo = &verification.photo;
    PhotoFeatures {
        handle: PHOTO_HANDLE,
        width: photo.width,
        height: photo.height,
        capture_age_seconds: verification.capture_age_seconds(),
        gps_distance_m: photo.gps_distance_m.map(|d| d as f32),
        brightness: photo.brightness,
        perceptual_hash: photo.dhash,
        reused: photo.reused,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_delays_double_up_to_a_minute() {
        assert_eq!(retry_delay(1000, 1), Duration::from_secs(1));
        assert_eq!(retry_delay(1000, 2), Duration::from_secs(2));
        assert_eq!(retry_delay(1000, 4), Duration::from_secs(8));
        assert_eq!(retry_delay(1000, 40), MAX_RETRY_DELAY);
    }
}

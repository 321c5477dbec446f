//! What follows a decision once it is committed: the user hears about it, and an approval
//! reaches the ranking. Both are best effort: the decision and the ledger are the truth, the
//! notification can be read again by polling and the ranking rebuilt from the ledger.

use super::state::Verifier;
use super::store::Decided;

pub async fn after_decision(verifier: &Verifier, decided: &Decided) {
    let credited = decided.credit.as_ref().is_some_and(|credit| credit.newly_credited);
    let payload = serde_json::json!({
        "verification_id": decided.verification_id,
        "mission_id": decided.mission_id,
        "state": decided.state,
        "points": if credited { decided.points } else { 0 },
    });
    if let Err(err) = verifier.notifier.notify(&decided.user_id, "verification.decided", payload).await {
        tracing::warn!(error = ?err, user = %decided.user_id, "notifying the decision failed");
    }
    // The ranking and `points.credited` (the points service logs its own failures).
    if let Some(credit) = &decided.credit {
        verifier.points.settle(credit).await;
    }
}

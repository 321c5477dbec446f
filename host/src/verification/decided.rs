//! What follows a decision once it is committed: the user hears about it, and an approval
//! reaches the ranking. Both are best effort: the decision and the ledger are the truth, the
//! notification can be read again by polling and the ranking rebuilt from the ledger.

use super::store::Decided;
use crate::app::AppState;

pub async fn after_decision(app: &AppState, decided: &Decided) {
    if decided.new_total.is_some()
        && let Err(err) = app.points.after_credit(&decided.user_id).await
    {
        tracing::warn!(error = ?err, user = %decided.user_id, "updating the ranking failed; a rebuild will repair it");
    }
    let payload = serde_json::json!({
        "verification_id": decided.verification_id,
        "mission_id": decided.mission_id,
        "state": decided.state,
        "points": if decided.new_total.is_some() { decided.points } else { 0 },
    });
    if let Err(err) = app.notifier.notify(&decided.user_id, "verification.decided", payload).await {
        tracing::warn!(error = ?err, user = %decided.user_id, "notifying the decision failed");
    }
    if let Some(total) = decided.new_total {
        let payload = serde_json::json!({
            "verification_id": decided.verification_id,
            "points": decided.points,
            "total": total,
        });
        if let Err(err) = app.notifier.notify(&decided.user_id, "points.credited", payload).await {
            tracing::warn!(error = ?err, user = %decided.user_id, "notifying the credit failed");
        }
    }
}
